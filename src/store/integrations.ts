// Integrations: one row per connected Entra tenant + app. The client secret is stored only as a
// vault envelope; this repository never sees plaintext.
//
// An integration removed with its data has the status 'removing' until the data is gone: from
// then on it is invisible (get, list) and no test outcome or edit brings it back, and its row is
// deleted last, so a purge cut short is found and finished (listRemoving).
import type { Kysely } from 'kysely';
import type { Database, IntegrationRow } from './schema.js';

export interface NewIntegration {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  cloud: string;
  customCloud?: Record<string, unknown> | null;
  secretEnvelope: string;
  settings: Record<string, unknown>;
  now: number;
}

export interface TestOutcome {
  status: 'connected' | 'failed';
  report: Record<string, unknown>;
  testedAt: number;
  secretExpiresAt: number | null;
}

const REMOVING = 'removing';

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
          custom_cloud: i.customCloud ? JSON.stringify(i.customCloud) : null,
          secret_envelope: i.secretEnvelope,
          settings: JSON.stringify(i.settings),
          created_at: i.now,
          updated_at: i.now,
        })
        .execute();
    },
    get: (id: string): Promise<IntegrationRow | undefined> =>
      db.selectFrom('integrations').selectAll().where('id', '=', id).where('status', '!=', REMOVING).executeTakeFirst(),
    list: (): Promise<IntegrationRow[]> =>
      db.selectFrom('integrations').selectAll().where('status', '!=', REMOVING).orderBy('name').orderBy('id').execute(),
    /** Any row for this tenant and app, one being removed included (it still holds the pair). */
    findByTenantApp: (tenantId: string, clientId: string): Promise<IntegrationRow | undefined> =>
      db
        .selectFrom('integrations')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .executeTakeFirst(),
    async update(id: string, patch: { name?: string; settings?: Record<string, unknown> }, now: number): Promise<void> {
      await db
        .updateTable('integrations')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.settings ? { settings: JSON.stringify(patch.settings) } : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .where('status', '!=', REMOVING)
        .execute();
    },
    async recordTest(id: string, o: TestOutcome): Promise<void> {
      await db
        .updateTable('integrations')
        .set({
          status: o.status,
          last_report: JSON.stringify(o.report),
          last_tested_at: o.testedAt,
          secret_expires_at: o.secretExpiresAt,
        })
        .where('id', '=', id)
        .where('status', '!=', REMOVING)
        .execute();
    },
    /** The first step of removing an integration with its data; false when it is gone or already being removed. */
    async markRemoving(id: string, now: number): Promise<boolean> {
      const r = await db
        .updateTable('integrations')
        .set({ status: REMOVING, updated_at: now })
        .where('id', '=', id)
        .where('status', '!=', REMOVING)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Integrations whose removal has begun and not finished, oldest first. */
    listRemoving: async (): Promise<string[]> =>
      (
        await db
          .selectFrom('integrations')
          .select('id')
          .where('status', '=', REMOVING)
          .orderBy('updated_at')
          .orderBy('id')
          .execute()
      ).map((r) => r.id),
    /** True when a row was removed. */
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('integrations').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** Every sealed value in this table, for key rotation. */
    listSecretEnvelopes: (): Promise<Array<{ id: string; secret_envelope: string }>> =>
      db.selectFrom('integrations').select(['id', 'secret_envelope']).execute(),
    async setSecretEnvelope(id: string, envelope: string, now: number): Promise<void> {
      await db
        .updateTable('integrations')
        .set({ secret_envelope: envelope, updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async setCustomCloud(id: string, customCloud: Record<string, unknown>, now: number): Promise<void> {
      await db
        .updateTable('integrations')
        .set({ custom_cloud: JSON.stringify(customCloud), updated_at: now })
        .where('id', '=', id)
        .execute();
    },
  };
}
export type IntegrationRepo = ReturnType<typeof createIntegrationRepo>;
