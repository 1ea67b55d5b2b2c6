// Every repository, built once per store (context.ts) and handed to each service as the few it
// uses. The repositories over plain tables also come bound to a write transaction, for changes
// that must land together (a demotion that keeps an admin, a key rotation).
import type { Kysely } from 'kysely';
import { createApiTokenRepo } from './api-tokens.js';
import { createAuditRepo } from './audit.js';
import { createCollectionRepo } from './collection.js';
import { createDashboardUserRepo } from './dashboard-users.js';
import { createDatasetRepo } from './datasets.js';
import type { Db } from './db.js';
import { createIntegrationRepo } from './integrations.js';
import type { Database } from './schema.js';
import { createSessionRepo } from './sessions.js';
import { createSignInRepo } from './signins.js';
import { writeTransaction } from './tx.js';
import { createVaultKeyRepo } from './vault-keys.js';

function tableRepositories(db: Db, k: Kysely<Database>) {
  return {
    users: createDashboardUserRepo(k, db.dialect),
    sessions: createSessionRepo(k),
    apiTokens: createApiTokenRepo(k),
    audit: createAuditRepo(k),
    vaultKeys: createVaultKeyRepo(k),
    integrations: createIntegrationRepo(k),
  };
}
export type TableRepositories = ReturnType<typeof tableRepositories>;

export function createRepositories(db: Db) {
  return {
    ...tableRepositories(db, db.kysely),
    // these three hold per-store state (caches, writer threads) and run their own transactions
    collection: createCollectionRepo(db),
    datasets: createDatasetRepo(db),
    signIns: createSignInRepo(db),
    /** Runs `fn` in one write transaction, with the table repositories bound to it. */
    transaction: <T>(fn: (repos: TableRepositories) => Promise<T>): Promise<T> =>
      writeTransaction(db, (trx) => fn(tableRepositories(db, trx))),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
