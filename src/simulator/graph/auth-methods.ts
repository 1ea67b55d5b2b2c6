// A user's authentication methods: GET /users/{id}/authentication/methods, the typed
// collections (phoneMethods, microsoftAuthenticatorMethods…) and DELETE of one method, with the
// rules Microsoft documents for deleting (reference/graph-facts.md §5, "Reset MFA"). Deletions
// live in the simulator's posture overlay, so the registration report reflects them.
import { currentMethods, findPerson, METHOD_COLLECTIONS, overlayKey, preferredMethod, type AuthMethod, type MethodCollection } from '../data/posture.js';
import type { Person } from '../data/people.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../server.js';
import { GraphError, notFound } from './errors.js';
import { projectSelect, selectOf, type GraphContext, type GraphRoute } from './route.js';

const isCollection = (name: string): name is MethodCollection => Object.hasOwn(METHOD_COLLECTIONS, name);

/** Graph's answer to a path segment it does not know. */
const unknownSegment = (segment: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

/**
 * The authentication methods service writes its 400s with a lowercase code and repeats the
 * message in innerError (microsoft-graph-docs#14470, #18091).
 */
const methodsBadRequest = (message: string) => new GraphError(400, 'badRequest', message, {}, { message });

// "Cannot delete default method with other methods configured. Please change default method
// before deletion." — the live body for deleting the default method (microsoft-graph-docs#14470).
const DEFAULT_METHOD = 'Cannot delete default method with other methods configured. Please change default method before deletion.';
// The phone method docs state the rule ("A user can't have an alternateMobile number without a
// mobile number") but not the error: this text is chosen.
const ALTERNATE_NEEDS_MOBILE = "A user can't have an alternateMobile number without a mobile number. Delete the alternateMobile number first.";
// The password method has no DELETE (a password is reset, not removed); the answer is chosen.
const PASSWORD_NOT_DELETABLE = 'The password authentication method cannot be deleted. Use resetPassword to change it.';

export function authMethodRoutes(state: SimState): GraphRoute[] {
  const start = state.start;

  const userOf = (ctx: GraphContext): Person => {
    const id = ctx.params.id!;
    const p = findPerson(ctx.tenant, start, id);
    if (!p) throw notFound(id);
    return p;
  };
  const methodsOf = (ctx: GraphContext, p: Person) => currentMethods(ctx.tenant, p, start, state.posture);
  const collectionOf = (ctx: GraphContext): MethodCollection => {
    const name = ctx.params.collection!;
    if (!isCollection(name)) throw unknownSegment(name);
    return name;
  };
  const context = (ctx: GraphContext, p: Person, tail: string) => `${ctx.graphRoot}/${ctx.version}/$metadata#users('${p.id}')/authentication/${tail}`;
  const typed = (m: AuthMethod) => ({ '@odata.type': `#microsoft.graph.${METHOD_COLLECTIONS[m.collection]}`, ...m.record });
  const list = (ctx: GraphContext, p: Person, tail: string, items: Record<string, unknown>[]) => {
    const select = selectOf(ctx);
    const value = items.map((r) => projectSelect(r, select));
    return { body: { '@odata.context': context(ctx, p, tail), value }, records: value.length };
  };
  const findMethod = (ctx: GraphContext, p: Person, collection: MethodCollection) => {
    const methodId = ctx.params.methodId!;
    const m = methodsOf(ctx, p).methods.find((x) => x.collection === collection && x.id.toLowerCase() === methodId.toLowerCase());
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
        const p = userOf(ctx);
        return list(ctx, p, 'methods', methodsOf(ctx, p).methods.map(typed));
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/methods/:methodId',
      ...read,
      handle: (ctx) => {
        const p = userOf(ctx);
        const methodId = ctx.params.methodId!;
        const m = methodsOf(ctx, p).methods.find((x) => x.id.toLowerCase() === methodId.toLowerCase());
        if (!m) throw notFound(methodId);
        return { body: { '@odata.context': `${context(ctx, p, 'methods')}/$entity`, ...projectSelect(typed(m), selectOf(ctx)) }, records: 1 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/:collection',
      ...read,
      handle: (ctx) => {
        const collection = collectionOf(ctx);
        const p = userOf(ctx);
        return list(ctx, p, collection, methodsOf(ctx, p).methods.filter((m) => m.collection === collection).map((m) => m.record));
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/:collection/:methodId',
      ...read,
      handle: (ctx) => {
        const collection = collectionOf(ctx);
        const p = userOf(ctx);
        const m = findMethod(ctx, p, collection);
        return { body: { '@odata.context': `${context(ctx, p, collection)}/$entity`, ...projectSelect(m.record, selectOf(ctx)) }, records: 1 };
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
          Message: `No HTTP resource was found that matches the request URI 'https://mface.windowsazure.com/odata/users('${encodeURIComponent(ctx.params.id!)}')/authentication/methods('${ctx.params.methodId!}')'.`,
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
        const p = userOf(ctx);
        if (collection === 'passwordMethods') throw methodsBadRequest(PASSWORD_NOT_DELETABLE);
        const plan = methodsOf(ctx, p);
        const m = findMethod(ctx, p, collection);
        const others = plan.methods.filter((x) => x.collection !== 'passwordMethods' && x.id !== m.id);
        // "If the phone number is the user's default Azure multi-factor authentication (MFA)
        // authentication method, it can't be deleted" — while other methods remain; the last
        // method can go. Documented for phone methods only, so enforced for them only.
        if (m.phoneType && preferredMethod(plan)?.id === m.id && others.length > 0) throw methodsBadRequest(DEFAULT_METHOD);
        if (m.phoneType === 'mobile' && plan.methods.some((x) => x.phoneType === 'alternateMobile')) throw methodsBadRequest(ALTERNATE_NEEDS_MOBILE);
        const key = overlayKey(ctx.tenant, p);
        const deleted = state.posture.deletedMethods.get(key) ?? new Map<string, number>();
        deleted.set(m.id, ctx.now);
        state.posture.deletedMethods.set(key, deleted);
        return { status: 204 };
      },
    },
  ];
}
