// The directory as Microsoft Graph serves it (reference/graph-facts.md §3): users (users.ts),
// groups and their members (groups.ts) and delta queries (delta.ts), over each tenant's run-time
// directory (data/directory.ts).
import { deltaRoutes } from './delta.js';
import { groupRoutes } from './groups.js';
import type { DirectoryDeps } from './live-directory.js';
import type { GraphRoute } from './route.js';
import { userRoutes } from './users.js';

export function directoryRoutes(deps: DirectoryDeps): GraphRoute[] {
  return [...userRoutes(deps), ...groupRoutes(deps), ...deltaRoutes(deps)];
}
