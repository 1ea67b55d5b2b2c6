// Integrations: the Entra tenants idsight is connected to. Adding, testing, editing, resetting
// credentials and removing — each validated, tested against Microsoft before it is trusted,
// and with the client secret sealed in the vault, bound to its row, never returned.
import { randomUUID } from 'node:crypto';
import {
  credentialsInput,
  endpointsInput,
  integrationInput,
  integrationPatch,
  SIGN_IN_EVENT_TYPES,
  type CredentialsInput,
  type EndpointsInput,
  type IntegrationInput,
  type IntegrationPatch,
  type IntegrationSettings,
  type IntegrationView,
} from '../api/routes/integrations/schema.js';
import type { Clock } from '../clock.js';
import { resolveCloud, type CloudEndpoints, type CloudName } from '../entra/clouds.js';
import type { ThrottleBudgets } from '../entra/budget.js';
import { createTokenSource, validateCredentials } from '../entra/credentials.js';
import { createGraphClient, type GraphClient } from '../entra/graph.js';
import { createEntraDispatcher, type OutboundProxy } from '../entra/network.js';
import { isGuid, secretLooksLikeId } from '../entra/errors.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { DATASETS, type DatasetRepo } from '../store/datasets.js';
import type { CustomCloud, IntegrationRepo, StoredIntegration } from '../store/integrations.js';
import type { SignInRepo } from '../store/signins.js';
import type { Vault } from '../vault/vault.js';
import { integrationSecretAad } from '../vault/service.js';
import { parseInput } from '../validation.js';
import { DATA_TYPES, type DataTypeId } from './capabilities.js';
import { testConnection, type ConnectionReport, type Credentials } from './connectivity.js';
import { createRemovals, type RemovalStore, type StoredCounts } from './removal.js';

export type { StoredCounts } from './removal.js';
export type { IntegrationSettings, IntegrationView } from '../api/routes/integrations/schema.js';

const DAY = 86_400_000;

/** The credentials checked field by field (validateCredentials), with the hint a GUID-shaped secret deserves. */
function checked(input: { tenantId: string; clientId: string; clientSecret: string }): {
  tenantId: string;
  clientId: string;
  clientSecret: string;
} {
  const c = validateCredentials(input);
  if (secretLooksLikeId(c.clientSecret)) {
    throw new ValidationError(
      'This looks like the client secret ID, not its value: copy the Value column, which Entra shows once, when the secret is created.',
      { field: 'clientSecret' },
    );
  }
  return c;
}

export const DEFAULT_LAG_MINUTES = 15;
export const DEFAULT_OVERLAP_MINUTES = 15;

/** Minutes between scheduled collections: sign-ins and audits every 15, the directory and risk hourly, posture data daily. */
const DEFAULT_SCHEDULE: Record<DataTypeId, number> = {
  signIns: 15,
  nonInteractiveSignIns: 15,
  directoryAudits: 15,
  users: 60,
  signInActivity: 60,
  groups: 60,
  mfaRegistration: 1440,
  // risk is security news: hourly, like the directory
  riskyUsers: 60,
  riskDetections: 60,
  conditionalAccess: 1440,
  applications: 1440,
  roleAssignments: 1440,
  managedDevices: 1440,
  licences: 1440,
};

/** A custom cloud as the integration row keeps it. */
const storedEndpoints = (cloud: CloudEndpoints): CustomCloud => ({
  authorityHost: cloud.authorityHost,
  graphUrl: cloud.graphUrl,
  ...(cloud.caPem ? { caPem: cloud.caPem } : {}),
});

function cloudOf(input: ReturnType<typeof credentialsInput.parse>): CloudEndpoints {
  if (input.cloud !== 'custom') {
    if (input.authorityHost || input.graphUrl || input.caPem)
      throw new ValidationError('authorityHost, graphUrl and caPem are for the custom cloud only');
    return resolveCloud(input.cloud);
  }
  if (!input.authorityHost || !input.graphUrl)
    throw new ValidationError('a custom cloud needs authorityHost and graphUrl');
  return resolveCloud('custom', {
    authorityHost: input.authorityHost,
    graphUrl: input.graphUrl,
    ...(input.caPem ? { caPem: input.caPem } : {}),
  });
}

/** A connectivity failure that stops a save: the report says what is wrong. */
export class ConnectionFailedError extends AppError {
  constructor(readonly report: ConnectionReport) {
    super('validation_failed', report.message, 422, { report });
  }
}

export function createIntegrationService(deps: {
  store: RemovalStore & {
    integrations: IntegrationRepo;
    signIns: Pick<SignInRepo, 'count' | 'countsPerEventType' | 'purge'>;
    datasets: Pick<DatasetRepo, 'counts' | 'purge'>;
  };
  vault: Vault;
  clock: Clock;
  test?: typeof testConnection;
  budgets?: ThrottleBudgets;
  /** The outbound proxy for Microsoft's endpoints (tests and collection alike). */
  proxy?: OutboundProxy;
  log?: Pick<Logger, 'info' | 'error'>;
}) {
  const { integrations: repo, signIns, datasets } = deps.store;
  const removals = createRemovals({ store: deps.store, clock: deps.clock, ...(deps.log ? { log: deps.log } : {}) });
  const test = deps.test ?? testConnection;
  /** Tests credentials within the integration's shared throttle budget, through the proxy if any. */
  const runTest = (creds: Credentials, opts: { clock: Clock }) => {
    const budget = deps.budgets?.for(creds.tenantId, creds.clientId);
    return test(creds, { ...opts, ...(budget ? { budget } : {}), ...(deps.proxy ? { proxy: deps.proxy } : {}) });
  };

  const credentialsOf = (i: StoredIntegration): Credentials => ({
    tenantId: i.tenantId,
    clientId: i.clientId,
    clientSecret: deps.vault.decrypt(i.secretEnvelope, integrationSecretAad(i.id)),
    cloud: resolveCloud(i.cloud as CloudName, i.customCloud ?? undefined),
  });

  /** Data types default to what the tenant offers; untested, everything is on. */
  function defaultSettings(report: ConnectionReport | null): IntegrationSettings {
    const available = new Map(report?.capabilities.map((c) => [c.dataType, c.available]) ?? []);
    return {
      dataTypes: Object.fromEntries(DATA_TYPES.map((d) => [d.id, available.get(d.id) ?? true])),
      schedule: Object.fromEntries(DATA_TYPES.map((d) => [d.id, DEFAULT_SCHEDULE[d.id]])),
      signInEventTypes: [...SIGN_IN_EVENT_TYPES],
      lagMinutes: DEFAULT_LAG_MINUTES,
      overlapMinutes: DEFAULT_OVERLAP_MINUTES,
    };
  }

  /** Stored settings over the defaults: data types added in later versions appear, on. */
  function settingsOf(i: StoredIntegration): IntegrationSettings {
    const stored = i.settings as Partial<IntegrationSettings>;
    const defaults = defaultSettings(null);
    return {
      dataTypes: { ...defaults.dataTypes, ...stored.dataTypes },
      schedule: { ...defaults.schedule, ...stored.schedule },
      signInEventTypes: stored.signInEventTypes ?? defaults.signInEventTypes,
      lagMinutes: stored.lagMinutes ?? defaults.lagMinutes,
      overlapMinutes: stored.overlapMinutes ?? defaults.overlapMinutes,
    };
  }

  const secretExpiry = (report: ConnectionReport): number | null =>
    report.ownSecret && 'endDateTime' in report.ownSecret ? Date.parse(report.ownSecret.endDateTime) : null;

  const reportOf = (i: StoredIntegration) => i.lastReport as ConnectionReport | null;

  async function view(i: StoredIntegration): Promise<IntegrationView> {
    const custom = i.customCloud;
    const now = deps.clock.now();
    return {
      id: i.id,
      name: i.name,
      tenantId: i.tenantId,
      clientId: i.clientId,
      cloud: i.cloud as CloudName,
      customCloud: custom
        ? { authorityHost: custom.authorityHost, graphUrl: custom.graphUrl, hasCaCertificate: Boolean(custom.caPem) }
        : null,
      status: i.status,
      lastTestedAt: i.lastTestedAt?.toISOString() ?? null,
      report: reportOf(i),
      settings: settingsOf(i),
      secretExpiresAt: i.secretExpiresAt?.toISOString() ?? null,
      secretDaysLeft: i.secretExpiresAt ? Math.floor((i.secretExpiresAt.getTime() - now) / DAY) : null,
      storedData: { signIns: await signIns.countsPerEventType(i.id), records: await datasets.counts(i.id) },
      createdAt: i.createdAt.toISOString(),
      updatedAt: i.updatedAt.toISOString(),
    };
  }

  async function mustGet(id: string): Promise<StoredIntegration> {
    const found = await repo.get(id);
    if (!found) throw new NotFoundError(`no integration ${id}`);
    return found;
  }

  async function recordTest(id: string, report: ConnectionReport): Promise<void> {
    await repo.recordTest(id, {
      status: report.connected ? 'connected' : 'failed',
      report,
      testedAt: deps.clock.now(),
      secretExpiresAt: secretExpiry(report),
    });
  }

  return {
    /** Tests credentials that are not saved. */
    async testUnsaved(input: CredentialsInput): Promise<ConnectionReport> {
      const c = parseInput(credentialsInput, input);
      return runTest({ ...checked(c), cloud: cloudOf(c) }, { clock: deps.clock });
    },

    /** Tests, then saves; a failed test saves nothing unless `saveUntested`. */
    async add(
      input: IntegrationInput,
      opts: { saveUntested?: boolean } = {},
    ): Promise<{ integration: IntegrationView; report: ConnectionReport }> {
      const { name, ...raw } = parseInput(integrationInput, input);
      const cloud = cloudOf(raw);
      const c = { ...checked(raw), cloud };
      const tenantKey = c.tenantId.toLowerCase();
      const existing = await repo.findByTenantApp(tenantKey, c.clientId);
      if (existing?.removing) {
        throw new ConflictError(
          `the integration for app ${c.clientId} in tenant ${c.tenantId} is still being removed ` +
            '(its collected data is being deleted); add it again once that has finished',
        );
      }
      if (existing) {
        throw new ConflictError(
          `app ${c.clientId} in tenant ${c.tenantId} is already connected as integration "${existing.name}" (${existing.id}): ` +
            `see it with \`idsight integrations show ${existing.id}\`, ` +
            'give it a new secret with `integrations reset-credentials`, ' +
            'or remove it with `integrations remove` before adding it again; ' +
            'a second integration of the same tenant needs another app registration',
          { integrationId: existing.id },
        );
      }
      const report = await runTest(c, { clock: deps.clock });
      if (!report.connected && !opts.saveUntested) throw new ConnectionFailedError(report);
      const id = randomUUID();
      const now = deps.clock.now();
      await repo.insert({
        id,
        name,
        tenantId: tenantKey,
        clientId: c.clientId,
        cloud: cloud.name,
        customCloud: cloud.name === 'custom' ? storedEndpoints(cloud) : null,
        secretEnvelope: deps.vault.encrypt(c.clientSecret, integrationSecretAad(id)),
        settings: defaultSettings(report.connected ? report : null),
        now,
      });
      await recordTest(id, report);
      return { integration: await view(await mustGet(id)), report };
    },

    list: async (): Promise<IntegrationView[]> => Promise.all((await repo.list()).map(view)),

    /** The id of the integration `ref` names: its id, or its name when no other integration has it. */
    async idOf(ref: string): Promise<string> {
      if (isGuid(ref)) return ref.toLowerCase();
      const named = (await repo.list()).filter((row) => row.name === ref);
      if (named.length === 1) return named[0]!.id;
      if (named.length === 0)
        throw new NotFoundError(
          `no integration is named "${ref}" (\`idsight integrations list\` shows their names and ids)`,
        );
      throw new ValidationError(
        `${named.length} integrations are named "${ref}": name one by its id (${named.map((row) => row.id).join(', ')})`,
      );
    },
    get: async (id: string): Promise<IntegrationView> => view(await mustGet(id)),

    /** Tests a saved integration with its stored secret and keeps the report. */
    async retest(id: string): Promise<ConnectionReport> {
      const row = await mustGet(id);
      const report = await runTest(credentialsOf(row), { clock: deps.clock });
      await recordTest(id, report);
      return report;
    },

    /** Name, data types and schedule. Turning on a data type the tenant does not offer is refused with the reason. */
    async update(id: string, input: IntegrationPatch): Promise<IntegrationView> {
      const patch = parseInput(integrationPatch, input);
      const row = await mustGet(id);
      const settings = settingsOf(row);
      const report = reportOf(row);
      for (const [dataType, on] of Object.entries(patch.dataTypes ?? {})) {
        const capability = report?.capabilities.find((c) => c.dataType === dataType);
        if (on && capability && !capability.available)
          throw new ValidationError(`${capability.label} cannot be turned on: ${capability.reason ?? 'unavailable'}`);
        settings.dataTypes[dataType] = on;
      }
      Object.assign(settings.schedule, patch.schedule);
      if (patch.signInEventTypes !== undefined)
        settings.signInEventTypes = SIGN_IN_EVENT_TYPES.filter((t) => patch.signInEventTypes!.includes(t));
      if (patch.lagMinutes !== undefined) settings.lagMinutes = patch.lagMinutes;
      if (patch.overlapMinutes !== undefined) settings.overlapMinutes = patch.overlapMinutes;
      await repo.update(
        id,
        {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          settings,
        },
        deps.clock.now(),
      );
      return view(await mustGet(id));
    },

    /** A new secret replaces the old one only after it connects; otherwise the old one stays. */
    async resetCredentials(
      id: string,
      secret: string,
    ): Promise<{ integration: IntegrationView; report: ConnectionReport }> {
      const row = await mustGet(id);
      const stored = credentialsOf(row);
      const { clientSecret } = checked({
        ...stored,
        clientSecret: parseInput(credentialsInput.shape.clientSecret, secret),
      });
      const report = await runTest({ ...stored, clientSecret }, { clock: deps.clock });
      if (!report.connected) throw new ConnectionFailedError(report);
      await repo.setSecretEnvelope(id, deps.vault.encrypt(clientSecret, integrationSecretAad(id)), deps.clock.now());
      await recordTest(id, report);
      return { integration: await view(await mustGet(id)), report };
    },

    /**
     * A custom cloud's endpoints or CA move (a simulator or test rig restarted elsewhere): the
     * integration is tested at the new place with its stored secret, and the change is kept only
     * if it connects. The national clouds' endpoints are fixed.
     */
    async setEndpoints(
      id: string,
      input: EndpointsInput,
    ): Promise<{ integration: IntegrationView; report: ConnectionReport }> {
      const change = parseInput(endpointsInput, input);
      const row = await mustGet(id);
      const stored = credentialsOf(row);
      if (stored.cloud.name !== 'custom')
        throw new ValidationError(
          `the endpoints of the ${stored.cloud.name} cloud are fixed: only a custom cloud's authority host, Graph URL and CA can change`,
        );
      const { authorityHost, graphUrl, caPem } = { ...stored.cloud, ...change };
      const cloud = resolveCloud('custom', { authorityHost, graphUrl, ...(caPem ? { caPem } : {}) });
      const report = await runTest({ ...stored, cloud }, { clock: deps.clock });
      if (!report.connected) throw new ConnectionFailedError(report);
      await repo.setCustomCloud(id, storedEndpoints(cloud), deps.clock.now());
      await recordTest(id, report);
      return { integration: await view(await mustGet(id)), report };
    },

    /**
     * A Graph session for collectors: the integration's own connection pool (its cloud's CA),
     * token source and client. Close it when done.
     */
    async openSession(id: string): Promise<{ graph: GraphClient; close(): Promise<void> }> {
      const row = await mustGet(id);
      const creds = credentialsOf(row);
      const dispatcher = createEntraDispatcher({
        ...(creds.cloud.caPem ? { ca: creds.cloud.caPem } : {}),
        ...(deps.proxy ? { proxy: deps.proxy } : {}),
      });
      const tokens = createTokenSource({
        tenantId: creds.tenantId,
        clientId: creds.clientId,
        clientSecret: creds.clientSecret,
        cloud: creds.cloud,
        dispatcher,
      });
      const budget = deps.budgets?.for(creds.tenantId, creds.clientId);
      const graph = createGraphClient({
        graphUrl: creds.cloud.graphUrl,
        dispatcher,
        tokens,
        maxAttempts: 8,
        ...(budget ? { budget } : {}),
      });
      return { graph, close: () => dispatcher.close() };
    },

    /**
     * Stops collecting; the collected data stays unless `purge`. With `purge` the integration
     * disappears at once and its data is deleted step by step (removal.ts): a removal cut short
     * is finished by finishRemovals at the next start.
     */
    async remove(
      id: string,
      opts: { purge?: boolean } = {},
    ): Promise<{ removed: true; purged: StoredCounts | null; kept: StoredCounts }> {
      await mustGet(id);
      if (opts.purge) {
        if (!(await repo.markRemoving(id, deps.clock.now()))) throw new NotFoundError(`no integration ${id}`);
        const { purged, done } = await removals.purge(id);
        // A run still holding its lease may store more: that is purged, and the row deleted, once it ends.
        if (!done)
          void removals
            .finishAll()
            .catch((err: unknown) =>
              deps.log?.error({ err, integrationId: id }, 'removing an integration failed; the next start finishes it'),
            );
        return { removed: true, purged, kept: { signIns: 0, otherRecords: 0 } };
      }
      await repo.remove(id);
      // as a purge counts them: the data sets' records, not memberships and credentials
      const counts = await datasets.counts(id);
      const otherRecords = Object.keys(DATASETS).reduce((n, name) => n + (counts[name] ?? 0), 0);
      return { removed: true, purged: null, kept: { signIns: await signIns.count(id), otherRecords } };
    },

    /** Finishes removals a crash or a stop cut short (in the background from openContext); resolves when none is left. */
    finishRemovals: (): Promise<void> => removals.finishAll(),

    /** Stops removal work between two batches (what is left is finished at the next start). */
    close: (): Promise<void> => removals.stop(),
  };
}
export type IntegrationService = ReturnType<typeof createIntegrationService>;
