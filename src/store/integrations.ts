// Integrations: one row per connected Entra tenant + app. The client secret is stored only as a
// vault envelope; this repository never sees plaintext.
import type { Kysely } from 'kysely';
import type { Database, IntegrationRow } from './schema.js';

export interface NewIntegration {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  cloud: string;
  secretEnvelope: string;
  settings: Record<string, unknown>;
  now: number;
}

export function createIntegrationRepo(db: Kysely<Database>) {
  return {
    async insert(i: NewIntegration): Promise<void> {
      await db
        .insertInto('integrations')
        .values({
          id: i.id,
          name: i.name,
          tenant_id: i.tenantId,
          client_id: i.clientId,
          cloud: i.cloud,
          secret_envelope: i.secretEnvelope,
          settings: JSON.stringify(i.settings),
          created_at: i.now,
          updated_at: i.now,
        })
        .execute();
    },
    get: (id: string): Promise<IntegrationRow | undefined> => db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst(),
    list: (): Promise<IntegrationRow[]> => db.selectFrom('integrations').selectAll().orderBy('name').execute(),
    /** Every sealed value in this table, for key rotation. */
    listSecretEnvelopes: (): Promise<Array<{ id: string; secret_envelope: string }>> =>
      db.selectFrom('integrations').select(['id', 'secret_envelope']).execute(),
    async setSecretEnvelope(id: string, envelope: string, now: number): Promise<void> {
      await db.updateTable('integrations').set({ secret_envelope: envelope, updated_at: now }).where('id', '=', id).execute();
    },
  };
}
export type IntegrationRepo = ReturnType<typeof createIntegrationRepo>;
