// Integrations: one row per connected Entra tenant + app. The client secret is stored only as a
// vault envelope; this repository never sees plaintext.
//
// An integration removed with its data has the status 'removing' until the data is gone: from
// then on it is invisible (get, list) and no test outcome or edit brings it back, and its row is
// deleted last, so a purge cut short is found and finished (listRemoving).
import type { Kysely } from 'kysely';
import type { Database, IntegrationRow } from './schema.js';

/** A custom cloud's endpoints, and the CA its hosts are checked against. */
export interface CustomCloud {
  authorityHost: string;
  graphUrl: string;
  caPem?: string;
}

export interface NewIntegration {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  cloud: string;
  customCloud?: CustomCloud | null;
  secretEnvelope: string;
  settings: object;
  now: number;
}

export interface StoredIntegration {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  cloud: string;
  customCloud: CustomCloud | null;
  /** The client secret as a vault envelope. */
  secretEnvelope: string;
  /** As saved: the service lays them over its defaults. */
  settings: Record<string, unknown>;
  status: 'connected' | 'failed' | 'untested';
  /** The last connectivity report (no secret in it). */
  lastReport: Record<string, unknown> | null;
  lastTestedAt: Date | null;
  secretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const date = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));
const toIntegration = (r: IntegrationRow): StoredIntegration => ({
  id: r.id,
  name: r.name,
  tenantId: r.tenant_id,
  clientId: r.client_id,
  cloud: r.cloud,
  customCloud: r.custom_cloud ? (JSON.parse(r.custom_cloud) as CustomCloud) : null,
  secretEnvelope: r.secret_envelope,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  status: r.status as StoredIntegration['status'],
  lastReport: r.last_report ? (JSON.parse(r.last_report) as Record<string, unknown>) : null,
  lastTestedAt: date(r.last_tested_at),
  secretExpiresAt: date(r.secret_expires_at),
  createdAt: new Date(Number(r.created_at)),
  updatedAt: new Date(Number(r.updated_at)),
});

export interface TestOutcome {
  status: 'connected' | 'failed';
  report: object;
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
    async get(id: string): Promise<StoredIntegration | undefined> {
      const r = await db
        .selectFrom('integrations')
        .selectAll()
        .where('id', '=', id)
        .where('status', '!=', REMOVING)
        .executeTakeFirst();
      return r && toIntegration(r);
    },
    list: async (): Promise<StoredIntegration[]> =>
      (
        await db
          .selectFrom('integrations')
          .selectAll()
          .where('status', '!=', REMOVING)
          .orderBy('name')
          .orderBy('id')
          .execute()
      ).map(toIntegration),
    /** The integration holding this tenant and app, if any, and whether it is being removed (it still holds the pair). */
    async findByTenantApp(
      tenantId: string,
      clientId: string,
    ): Promise<{ id: string; name: string; removing: boolean } | undefined> {
      const r = await db
        .selectFrom('integrations')
        .select(['id', 'name', 'status'])
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return r && { id: r.id, name: r.name, removing: r.status === REMOVING };
    },
    async update(id: string, patch: { name?: string; settings?: object }, now: number): Promise<void> {
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
    listSecretEnvelopes: async (): Promise<Array<{ id: string; secretEnvelope: string }>> =>
      (await db.selectFrom('integrations').select(['id', 'secret_envelope']).execute()).map((r) => ({
        id: r.id,
        secretEnvelope: r.secret_envelope,
      })),
    async setSecretEnvelope(id: string, envelope: string, now: number): Promise<void> {
      await db
        .updateTable('integrations')
        .set({ secret_envelope: envelope, updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async setCustomCloud(id: string, customCloud: CustomCloud, now: number): Promise<void> {
      await db
        .updateTable('integrations')
        .set({ custom_cloud: JSON.stringify(customCloud), updated_at: now })
        .where('id', '=', id)
        .execute();
    },
  };
}
export type IntegrationRepo = ReturnType<typeof createIntegrationRepo>;
