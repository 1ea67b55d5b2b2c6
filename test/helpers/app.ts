// Boots the real application for a test: real database, real HTTP server on 127.0.0.1, a
// manual clock, and the log captured in memory so tests can read what was logged.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { manualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openContext, type Context } from '../../src/context.js';
import { createLogger } from '../../src/log.js';
import type { Dialect } from '../../src/store/db.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { ApiClient } from './http.js';

export interface TestApp {
  ctx: Context;
  server: FastifyInstance;
  url: string;
  clock: ReturnType<typeof manualClock>;
  database: TestDatabase;
  /** Everything logged so far, as text. */
  logs(): string;
  close(): Promise<void>;
}

export const T0 = Date.parse('2026-11-27T09:00:00Z');

/** The password of the dashboard users tests create. */
export const PW = 'correct horse battery staple';

/** A dashboard user of this role (email: <role>@example.com unless given), signed in to the app's API. */
export async function signedInUser(
  app: TestApp,
  role: 'admin' | 'helpdesk' | 'analyst',
  email = `${role}@example.com`,
): Promise<ApiClient> {
  await app.ctx.auth.createUser({ email, role, password: PW });
  const client = new ApiClient(app.url);
  const res = await client.login(email, PW);
  if (res.status !== 200) throw new Error(`${email} could not sign in: ${res.status} ${JSON.stringify(res.body)}`);
  return client;
}

export async function startApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const config: Config = loadConfig({
    IDSIGHT_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { IDSIGHT_DATABASE_URL: database.databaseUrl } : {}),
    IDSIGHT_LOG_LEVEL: 'debug',
    // tests sign in often from one address; the per-address limit has its own test
    IDSIGHT_LOGIN_LIMIT_PER_IP: '10000',
    // the simulated tenants of these tests do not throttle; pacing has its own tests
    IDSIGHT_GRAPH_PACING: 'off',
    ...env,
  });
  let captured = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      captured += chunk.toString('utf8');
      done();
    },
  });
  const log = createLogger({ logLevel: 'debug', logFormat: 'json' }, sink);
  const clock = manualClock(T0);
  const ctx = await openContext(config, { db: database.open(), clock, log });
  const server = await buildServer(ctx);
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    ctx,
    server,
    url: `${config.tlsCertFile ? 'https' : 'http'}://127.0.0.1:${port}`,
    clock,
    database,
    logs: () => captured,
    async close() {
      await server.close();
      await ctx.close();
      await database.drop();
    },
  };
}
