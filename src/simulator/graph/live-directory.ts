// Every route that reads or changes users takes the tenant's run-time directory from here, so
// that all of them see the same users: those deleted are gone, those added are there.
import type { Directory } from '../data/directory.js';
import type { SimTenant } from '../tenants.js';
import type { GraphContext } from './route.js';

/** What the routes need from the simulator: each tenant's directory. */
export interface DirectoryDeps {
  directory(tenant: SimTenant): Directory;
}

/** The tenant's directory, with purges of long-deleted users done as of now. */
export function liveDirectory(deps: DirectoryDeps, ctx: GraphContext): Directory {
  const dir = deps.directory(ctx.tenant);
  dir.tick(ctx.now);
  return dir;
}
