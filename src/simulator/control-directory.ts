// Control API for the directory (under /_sim/directory): change users and memberships the way an
// administrator would in the portal, so tests and demos can watch the changes arrive through
// Graph's delta queries. Each call answers with the resulting object.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Directory, DirUser, MemberRef } from './data/directory.js';
import { groupRecord } from './graph/groups.js';
import { userRecord } from './graph/user-record.js';
import type { SimState } from './state.js';
import { findTenant, type SimTenant } from './tenants.js';

const tenantQuery = z.object({ tenant: z.string().min(1) });

const newUser = z.object({
  tenant: z.string().min(1),
  displayName: z.string().min(1),
  userPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like name@domain'),
  userType: z.enum(['Member', 'Guest']).optional(),
  accountEnabled: z.boolean().optional(),
  givenName: z.string().nullable().optional(),
  surname: z.string().nullable().optional(),
  department: z.string().nullable().optional(),
  jobTitle: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
});

const notFound = (what: string) => Object.assign(new Error(`no ${what}`), { statusCode: 404 });

/** The tenant a control call names (its key, GUID or a domain); 404 when there is none. */
export function controlTenant(state: SimState, key: string): SimTenant {
  const tenant = state.tenants.find((t) => t.key === key) ?? findTenant(state.tenants, key);
  if (!tenant) throw notFound(`simulated tenant ${key}`);
  return tenant;
}

export function registerDirectoryControl(ctl: FastifyInstance, state: SimState): void {
  const directoryOf = (key: string): Directory => {
    const dir = state.directory(controlTenant(state, key));
    dir.tick(state.clock.now());
    return dir;
  };
  const userOf = (dir: Directory, id: string): DirUser => {
    const u = dir.findUser(id);
    if (!u || u.deleted?.hard) throw notFound(`user ${id}`);
    return u;
  };
  const groupOf = (dir: Directory, id: string) => {
    const g = dir.findGroup(id);
    if (!g) throw notFound(`group ${id}`);
    return g;
  };
  const show = (dir: Directory, u: DirUser) => userRecord(dir, u, state.clock.now());
  const showRef = (dir: Directory, ref: MemberRef) =>
    ref.type === 'user'
      ? { '@odata.type': '#microsoft.graph.user', ...show(dir, ref.user) }
      : { '@odata.type': '#microsoft.graph.group', ...groupRecord(dir, ref.group, state.clock.now()) };

  /** The tenant's groups with their nesting, to find ids without paging Graph. */
  ctl.get('/directory/groups', async (req) => {
    const dir = directoryOf(tenantQuery.parse(req.query).tenant);
    return {
      value: dir.groups.map((g) => ({
        id: g.id,
        displayName: g.displayName,
        kind: g.kind,
        nested: g.nested.map((i) => dir.groups[i]!.id),
      })),
    };
  });

  ctl.post('/directory/users', async (req, reply) => {
    const { tenant, ...input } = newUser.parse(req.body);
    const dir = directoryOf(tenant);
    const u = dir.addUser(input, state.clock.now());
    return reply.code(201).send(show(dir, u));
  });

  /** Soft delete by default (restorable for 30 days); ?hard=true deletes for good. */
  ctl.delete<{ Params: { id: string } }>('/directory/users/:id', async (req) => {
    const q = tenantQuery.extend({ hard: z.enum(['true', 'false']).default('false') }).parse(req.query);
    const dir = directoryOf(q.tenant);
    const u = userOf(dir, req.params.id);
    dir.deleteUser(u, q.hard === 'true', state.clock.now());
    return show(dir, u);
  });

  ctl.post<{ Params: { id: string } }>('/directory/users/:id/restore', async (req) => {
    const dir = directoryOf(tenantQuery.parse(req.body).tenant);
    const u = userOf(dir, req.params.id);
    dir.restoreUser(u, state.clock.now());
    return show(dir, u);
  });

  ctl.post<{ Params: { id: string } }>('/directory/groups/:id/members', async (req) => {
    const body = tenantQuery.extend({ id: z.string().min(1) }).parse(req.body);
    const dir = directoryOf(body.tenant);
    const g = groupOf(dir, req.params.id);
    const ref = dir.addMember(g, body.id, state.clock.now());
    return { group: groupRecord(dir, g, state.clock.now()), added: showRef(dir, ref) };
  });

  ctl.delete<{ Params: { id: string; memberId: string } }>('/directory/groups/:id/members/:memberId', async (req) => {
    const dir = directoryOf(tenantQuery.parse(req.query).tenant);
    const g = groupOf(dir, req.params.id);
    dir.removeMember(g, req.params.memberId, state.clock.now());
    return { group: groupRecord(dir, g, state.clock.now()), removed: { id: req.params.memberId.toLowerCase() } };
  });
}
