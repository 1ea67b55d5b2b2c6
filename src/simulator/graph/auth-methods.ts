// A user's authentication methods: GET /users/{id}/authentication/methods, the typed
// collections (phoneMethods, microsoftAuthenticatorMethods…) and DELETE of one method, with the
// rules Microsoft documents for deleting (reference/graph-facts.md §5, "Reset MFA"). Deletions
// live in the simulator's posture overlay, so the registration report reflects them. Users are
// those of the run-time directory: a deleted user's methods are 404, an added user has a password.
import {
  currentMethods,
  METHOD_COLLECTIONS,
  overlayKey,
  preferredMethod,
  type AuthMethod,
  type MethodCollection,
} from '../data/auth-methods.js';
import type { DirUser } from '../data/directory.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { GraphError, notFound } from './errors.js';
import { liveDirectory } from './live-directory.js';
import { projectSelect, selectOf, type GraphContext, type GraphRoute } from './route.js';

const isCollection = (name: string): name is MethodCollection => Object.hasOwn(METHOD_COLLECTIONS, name);

/** Graph's answer to a path segment it does not know. */
const unknownSegment = (segment: string) =>
  new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

/**
 * The authentication methods service writes its 400s with a lowercase code and repeats the
 * message in innerError (microsoft-graph-docs#14470, #18091).
 */
const methodsBadRequest = (message: string) => new GraphError(400, 'badRequest', message, {}, { message });

// "Cannot delete default method with other methods configured. Please change default method
// before deletion." — the live body for deleting the default method (microsoft-graph-docs#14470).
const DEFAULT_METHOD =
  'Cannot delete default method with other methods configured. Please change default method before deletion.';
// The phone method docs state the rule ("A user can't have an alternateMobile number without a
// mobile number") but not the error: this text is chosen.
const ALTERNATE_NEEDS_MOBILE =
  "A user can't have an alternateMobile number without a mobile number. Delete the alternateMobile number first.";
// The password method has no DELETE (a password is reset, not removed); the answer is chosen.
const PASSWORD_NOT_DELETABLE = 'The password authentication method cannot be deleted. Use resetPassword to change it.';

export function authMethodRoutes(state: SimState): GraphRoute[] {
  const start = state.start;

  /** The user a /users/{id | userPrincipalName} segment names; deleted users have no methods to show. */
  const userOf = (ctx: GraphContext): DirUser => {
    const id = ctx.params.id!;
    const u = liveDirectory(state, ctx).findUser(id);
    if (!u || u.deleted) throw notFound(id);
    return u;
  };
  const methodsOf = (ctx: GraphContext, u: DirUser) => currentMethods(ctx.tenant, u, start, state.posture);
  const collectionOf = (ctx: GraphContext): MethodCollection => {
    const name = ctx.params.collection!;
    if (!isCollection(name)) throw unknownSegment(name);
    return name;
  };
  const context = (ctx: GraphContext, u: DirUser, tail: string) =>
    `${ctx.graphRoot}/${ctx.version}/$metadata#users('${u.person.id}')/authentication/${tail}`;
  const typed = (m: AuthMethod) => ({
    '@odata.type': `#microsoft.graph.${METHOD_COLLECTIONS[m.collection]}`,
    ...m.record,
  });
  const list = (ctx: GraphContext, u: DirUser, tail: string, items: Record<string, unknown>[]) => {
    const select = selectOf(ctx);
    const value = items.map((r) => projectSelect(r, select));
    return { body: { '@odata.context': context(ctx, u, tail), value }, records: value.length };
  };
  const findMethod = (ctx: GraphContext, u: DirUser, collection: MethodCollection) => {
    const methodId = ctx.params.methodId!;
    const m = methodsOf(ctx, u).methods.find(
      (x) => x.collection === collection && x.id.toLowerCase() === methodId.toLowerCase(),
    );
    if (!m) throw notFound(methodId); // unknown method of a known user: the directory's 404 (chosen)
    return m;
  };

  const read = { accepts: ACCEPTS.authMethods, family: 'directory' as const };
  return [
    {
      method: 'GET',
      path: '/users/:id/authentication/methods',
      ...read,
      handle: (ctx) => {
        const u = userOf(ctx);
        return list(ctx, u, 'methods', methodsOf(ctx, u).methods.map(typed));
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/methods/:methodId',
      ...read,
      handle: (ctx) => {
        const u = userOf(ctx);
        const methodId = ctx.params.methodId!;
        const m = methodsOf(ctx, u).methods.find((x) => x.id.toLowerCase() === methodId.toLowerCase());
        if (!m) throw notFound(methodId);
        return {
          body: {
            '@odata.context': `${context(ctx, u, 'methods')}/$entity`,
            ...projectSelect(typed(m), selectOf(ctx)),
          },
          records: 1,
        };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/:collection',
      ...read,
      handle: (ctx) => {
        const collection = collectionOf(ctx);
        const u = userOf(ctx);
        return list(
          ctx,
          u,
          collection,
          methodsOf(ctx, u)
            .methods.filter((m) => m.collection === collection)
            .map((m) => m.record),
        );
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/:collection/:methodId',
      ...read,
      handle: (ctx) => {
        const collection = collectionOf(ctx);
        const u = userOf(ctx);
        const m = findMethod(ctx, u, collection);
        return {
          body: {
            '@odata.context': `${context(ctx, u, collection)}/$entity`,
            ...projectSelect(m.record, selectOf(ctx)),
          },
          records: 1,
        };
      },
    },
    {
      // Methods are deleted at their typed path only. The generic path reaches the MFA service,
      // which has no such route (msgraph-sdk-powershell#937, microsoft-graph-docs-contrib#1267:
      // "No HTTP resource was found that matches the request URI …"); the status is not shown
      // there: 404, as ASP.NET Web API answers an unmatched route (chosen).
      method: 'DELETE',
      path: '/users/:id/authentication/methods/:methodId',
      accepts: ACCEPTS.deleteAuthMethod,
      family: 'directory',
      handle: (ctx) => {
        const detail = {
          Message:
            "No HTTP resource was found that matches the request URI 'https://mface.windowsazure.com/odata/" +
            `users('${encodeURIComponent(ctx.params.id!)}')/authentication/methods('${ctx.params.methodId!}')'.`,
          MessageDetail: "No type was found that matches the controller named 'users'.",
        };
        throw new GraphError(404, 'UnknownError', JSON.stringify(detail));
      },
    },
    {
      method: 'DELETE',
      path: '/users/:id/authentication/:collection/:methodId',
      accepts: ACCEPTS.deleteAuthMethod,
      family: 'directory',
      handle: (ctx) => {
        const collection = collectionOf(ctx);
        const u = userOf(ctx);
        if (collection === 'passwordMethods') throw methodsBadRequest(PASSWORD_NOT_DELETABLE);
        const plan = methodsOf(ctx, u);
        const m = findMethod(ctx, u, collection);
        const others = plan.methods.filter((x) => x.collection !== 'passwordMethods' && x.id !== m.id);
        // "If the phone number is the user's default Azure multi-factor authentication (MFA)
        // authentication method, it can't be deleted" — while other methods remain; the last
        // method can go. Documented for phone methods only, so enforced for them only.
        if (m.phoneType && preferredMethod(plan)?.id === m.id && others.length > 0)
          throw methodsBadRequest(DEFAULT_METHOD);
        if (m.phoneType === 'mobile' && plan.methods.some((x) => x.phoneType === 'alternateMobile'))
          throw methodsBadRequest(ALTERNATE_NEEDS_MOBILE);
        const key = overlayKey(ctx.tenant, u.person);
        const deleted = state.posture.deletedMethods.get(key) ?? new Map<string, number>();
        deleted.set(m.id, ctx.now);
        state.posture.deletedMethods.set(key, deleted);
        return { status: 204 };
      },
    },
  ];
}
