import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export function createVaultKeyRepo(db: Kysely<Database>) {
  return {
    list: () => db.selectFrom('vault_keys').selectAll().orderBy('created_at').execute(),
    async register(keyId: string, checkEnvelope: string, now: number): Promise<void> {
      await db
        .insertInto('vault_keys')
        .values({ key_id: keyId, check_envelope: checkEnvelope, created_at: now })
        .onConflict((oc) => oc.column('key_id').doNothing())
        .execute();
    },
    async retireAllBut(keyId: string): Promise<void> {
      await db.deleteFrom('vault_keys').where('key_id', '!=', keyId).execute();
    },
  };
}
export type VaultKeyRepo = ReturnType<typeof createVaultKeyRepo>;
