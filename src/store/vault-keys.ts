// The master keys a database's secrets are sealed with, each with a check value that proves a
// configured key is the one registered.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface VaultKey {
  keyId: string;
  checkEnvelope: string;
  createdAt: Date;
}

export function createVaultKeyRepo(db: Kysely<Database>) {
  return {
    list: async (): Promise<VaultKey[]> =>
      (await db.selectFrom('vault_keys').selectAll().orderBy('created_at').execute()).map((r) => ({
        keyId: r.key_id,
        checkEnvelope: r.check_envelope,
        createdAt: new Date(Number(r.created_at)),
      })),
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
