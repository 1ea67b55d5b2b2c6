// Directory roles: GET /roleManagement/directory/roleDefinitions and /roleAssignments (with
// $expand=principal,roleDefinition), /directoryRoles and /directoryRoles/{id}/members. Holders
// come from data/roles.ts and are read through the run-time directory: a deleted user holds no
// role, and a renamed one shows its new name.
import type { Directory, DirUser } from '../data/directory.js';
import { directoryRoles, roleAssignmentId, roleHolders, ROLES, type RoleKey } from '../data/roles.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { GraphError, notFound } from './errors.js';
import { directoryFilterError, type FilterSpec } from './filter-spec.js';
import { carried, listPage } from './list-page.js';
import { liveDirectory } from './live-directory.js';
import type { GraphRoute } from './route.js';
import { userItem } from './user-record.js';

type Json = Record<string, unknown>;

export function roleRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  const definitionSpec: FilterSpec = {
    id: { eq: true },
    templateId: { eq: true },
    displayName: { eq: true, startsWith: true },
    isBuiltIn: { eq: true },
  };
  const assignmentSpec: FilterSpec = {
    id: { eq: true },
    roleDefinitionId: { eq: true, in: true },
    principalId: { eq: true, in: true },
    directoryScopeId: { eq: true },
  };
  const directoryRoleSpec: FilterSpec = { id: { eq: true }, roleTemplateId: { eq: true }, displayName: { eq: true } };
  const keys = Object.keys(ROLES) as RoleKey[];
  /** A role holder as the directory has it now; undefined once deleted (a deleted user holds no role). */
  const holderNow = (dir: Directory, index: number): DirUser | undefined => {
    const u = dir.userAt(index);
    return u && !u.deleted ? u : undefined;
  };
  const userRef = (dir: Directory, u: DirUser): Json => {
    const p = dir.personOf(u);
    return {
      '@odata.type': '#microsoft.graph.user',
      id: p.id,
      accountEnabled: p.accountEnabled,
      displayName: p.displayName,
      mail: p.mail,
      userPrincipalName: p.userPrincipalName,
      userType: p.userType,
    };
  };
  const definition = (key: RoleKey): Json => {
    const r = ROLES[key];
    return {
      id: r.templateId,
      description: r.description,
      displayName: r.displayName,
      isBuiltIn: true,
      isEnabled: true,
      resourceScopes: ['/'],
      templateId: r.templateId,
      version: '1',
      rolePermissions: [{ allowedResourceActions: r.actions, condition: null, excludedResourceActions: [] }],
    };
  };
  return [
    {
      method: 'GET',
      path: '/roleManagement/directory/roleDefinitions',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) =>
        listPage(ctx, {
          entitySet: 'roleManagement/directory/roleDefinitions',
          count: keys.length,
          at: (i) => definition(keys[i]!),
          pageSize: 1000,
          maxPageSize: 1000,
          filterSpec: definitionSpec,
          filterError: directoryFilterError('UnifiedRoleDefinition'),
        }),
    },
    {
      method: 'GET',
      path: '/roleManagement/directory/roleAssignments',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => {
        const dir = liveDirectory(state, ctx);
        const expand = carried(ctx, '$expand');
        const expanded =
          expand
            ?.split(',')
            .map((e) => e.trim())
            .filter(Boolean) ?? [];
        for (const e of expanded) {
          if (e !== 'principal' && e !== 'roleDefinition')
            throw new GraphError(
              400,
              'BadRequest',
              `Parsing OData Select and Expand failed: Could not find a property named '${e}' on type 'microsoft.graph.unifiedRoleAssignment'.`,
            );
        }
        const holders = roleHolders(ctx.tenant, start);
        return listPage(ctx, {
          entitySet: 'roleManagement/directory/roleAssignments',
          count: holders.length,
          at: (i) => {
            const h = holders[i]!;
            const u = holderNow(dir, h.index);
            if (!u) return undefined;
            const templateId = ROLES[h.role].templateId;
            return {
              id: roleAssignmentId(templateId, u.person.id),
              principalId: u.person.id,
              directoryScopeId: '/',
              roleDefinitionId: templateId,
              ...(expanded.includes('principal') ? { principal: userRef(dir, u) } : {}),
              ...(expanded.includes('roleDefinition') ? { roleDefinition: definition(h.role) } : {}),
            };
          },
          pageSize: 1000,
          maxPageSize: 1000,
          filterSpec: assignmentSpec,
          filterError: directoryFilterError('UnifiedRoleAssignment'),
          ...(expand !== undefined
            ? { extra: expand, contextSuffix: `(${expanded.map((e) => `${e}()`).join(',')})` }
            : {}),
        });
      },
    },
    {
      method: 'GET',
      path: '/directoryRoles',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => {
        // a role once activated stays so when its members are deleted
        const roles = directoryRoles(ctx.tenant, start);
        // directoryRoles does not page (paging.md): every activated role in one response
        return listPage(ctx, {
          entitySet: 'directoryRoles',
          count: roles.length,
          at: (i) => ({
            id: roles[i]!.id,
            deletedDateTime: null,
            description: ROLES[roles[i]!.role].description,
            displayName: ROLES[roles[i]!.role].displayName,
            roleTemplateId: ROLES[roles[i]!.role].templateId,
          }),
          pageSize: 10_000,
          maxPageSize: 10_000,
          filterSpec: directoryRoleSpec,
          filterError: directoryFilterError('DirectoryRole'),
        });
      },
    },
    {
      method: 'GET',
      path: '/directoryRoles/:id/members',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => {
        const id = ctx.params.id!;
        const role = directoryRoles(ctx.tenant, start).find((r) => r.id === id.toLowerCase());
        if (!role) throw notFound(id);
        const dir = liveDirectory(state, ctx);
        return listPage(ctx, {
          entitySet: 'directoryObjects',
          count: role.members.length,
          // members as /groups/{id}/members lists users: the directory's record, default properties
          at: (i) => {
            const u = holderNow(dir, role.members[i]!);
            return u && userItem(dir, u, ctx.now, undefined);
          },
          pageSize: 10_000,
          maxPageSize: 10_000,
        });
      },
    },
  ];
}
