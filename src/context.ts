// Wires the services from the settings: the one place that builds them. The server, the CLI and
// the tests all start here; a test passes its own database, clock and log destination.
import { createAuditLog, type AuditLog } from './audit/log.js';
import { createAuthService, type AuthService } from './auth/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { createCollector, type Collector } from './collect/runner.js';
import { createSupervisor, type Supervisor } from './collect/supervisor.js';
import { createThrottleBudgets } from './entra/budget.js';
import { proxyLabel } from './entra/network.js';
import { createIntegrationService, type IntegrationService } from './integrations/service.js';
import { createLogger, type Logger } from './log.js';
import { openDb, type Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { createRepositories, type Repositories } from './store/repositories.js';
import type { ConversionProgress } from './store/signins-conversion.js';
import { openVault, type OpenVault } from './vault/service.js';

export interface Context {
  config: Config;
  db: Db;
  /** The repositories over db, built once here and handed to each service as the few it uses. */
  store: Repositories;
  clock: Clock;
  log: Logger;
  vault: OpenVault;
  auth: AuthService;
  audit: AuditLog;
  integrations: IntegrationService;
  collector: Collector;
  /** Runs collections so that stopping can interrupt them cleanly: the API, the schedule and the CLI start them here. */
  supervisor: Supervisor;
  /** Interrupts the collections in progress (waiting for their runs to be recorded), then closes the store. */
  close(): Promise<void>;
}

export async function openContext(
  config: Config,
  overrides: { db?: Db; clock?: Clock; log?: Logger } = {},
): Promise<Context> {
  const log = overrides.log ?? createLogger(config);
  const clock = overrides.clock ?? systemClock;
  const db = overrides.db ?? openDb({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
  try {
    const { applied, converted } = await migrate(db, { onConversion: conversionLog(log) });
    if (applied.length > 0) log.info({ applied, converted, database: db.location }, 'database migrated');
    const store = createRepositories(db);
    const vault = await openVault({ store, clock, masterKey: config.masterKey, dataDir: config.dataDir });
    const auth = createAuthService({ store, clock, settings: config });
    const audit = createAuditLog({ audit: store.audit, clock, fingerprintKey: vault.deriveKey('audit-input') });
    // one throttle budget registry per process: collectors and connectivity tests share it
    const budgets =
      config.graphPacing === 'microsoft' ? createThrottleBudgets({ scale: config.graphPacingScale }) : undefined;
    // every Microsoft endpoint (token service and Graph) through the outbound proxy, when one is set
    const proxy = config.httpsProxy ? { url: config.httpsProxy, noProxy: config.noProxy } : undefined;
    if (proxy)
      log.info(
        { proxy: proxyLabel(proxy.url), noProxy: proxy.noProxy || undefined },
        'Microsoft endpoints are reached through the outbound proxy',
      );
    const integrations = createIntegrationService({
      store,
      vault,
      clock,
      log,
      ...(budgets ? { budgets } : {}),
      ...(proxy ? { proxy } : {}),
    });
    const collector = createCollector({ store, clock, integrations, leaseMs: config.collectLeaseSeconds * 1000 });
    const supervisor = createSupervisor({ collector });
    const close = async () => {
      await supervisor.stop();
      await integrations.close();
      await db.close();
    };
    // integrations removed with their data whose purge a crash or a stop cut short are finished in the background
    void integrations
      .finishRemovals()
      .catch((err: unknown) =>
        log.error({ err }, 'finishing the removal of integrations failed; the next start tries again'),
      );
    return { config, db, store, clock, log, vault, auth, audit, integrations, collector, supervisor, close };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Logs a conversion's progress at its start, every ten seconds and at its end. */
function conversionLog(log: Logger): (p: ConversionProgress) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (p.converted > 0 && p.converted < p.total && now - last < 10_000) return;
    last = now;
    log.info(
      { converted: p.converted, total: p.total, percent: p.total ? Math.floor((p.converted / p.total) * 100) : 100 },
      'converting stored sign-ins to the compact store (resumes where it stopped if interrupted)',
    );
  };
}
