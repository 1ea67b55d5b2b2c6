// A simulated Microsoft Entra tenant: the token endpoint and a Microsoft Graph subset over
// HTTPS, generated deterministically from a seed (DESIGN §6). `startSimulator` is what
// `idsight simulate`, the demo, the tests and the benchmarks run.
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { createPostureOverlay } from './data/auth-methods.js';
import { directoryCache } from './data/directory.js';
import { buildIncidents } from './data/scenarios.js';
import { createSignInSource, type SignInSource } from './data/signins.js';
import { createFaultDice, updateFaults } from './faults.js';
import { registerGraph } from './graph/dispatch.js';
import { applicationRoutes } from './graph/apps.js';
import { auditRoute } from './graph/audits.js';
import { authMethodRoutes } from './graph/auth-methods.js';
import { deviceRoute } from './graph/devices.js';
import { GraphError, graphErrorBody, newRequestId } from './graph/errors.js';
import { directoryRoutes } from './graph/directory.js';
import { createTokenCodec } from './graph/odata.js';
import { organizationRoutes } from './graph/organization.js';
import { policyRoute } from './graph/policies.js';
import { registrationRoutes } from './graph/registration.js';
import { riskRoutes } from './graph/risk.js';
import { roleRoutes } from './graph/roles.js';
import type { GraphRoute } from './graph/route.js';
import { signInRoutes } from './graph/signins.js';
import { createThrottle, seededRandom } from './graph/throttle.js';
import { userWriteRoutes } from './graph/user-writes.js';
import { parseSimulatorOptions, type SimulatorOptionsInput } from './options.js';
import { createSimClock } from './sim-clock.js';
import { registerControl } from './control.js';
import { buildTenants, type SimTenant } from './tenants.js';
import { ensureTls } from './tls.js';
import type { SimState } from './state.js';
import { createTokenService } from './token.js';

export interface Simulator {
  /** https://host:port — the authority host and the Graph root. */
  url: string;
  caPath: string;
  ca: string;
  controlToken?: string;
  tenants: SimTenant[];
  state: SimState;
  /** The start-up line `idsight simulate` prints. */
  summary(): SimulatorSummary;
  close(): Promise<void>;
}

export interface SimulatorSummary {
  authorityHost: string;
  graphUrl: string;
  caCertificate: string;
  control?: { url: string; token: string };
  clock: { mode: 'real' | 'fixed'; now: string };
  tenants: Array<{
    name: string;
    tenantId: string;
    domains: string[];
    licence: string;
    intune: boolean;
    users: number;
    apps: Array<{
      state: string;
      displayName: string;
      clientId: string;
      roles: readonly string[];
      secrets: Array<{ keyId: string; displayName: string; hint: string; value: string; endDateTime: string }>;
    }>;
  }>;
}

export async function startSimulator(input: SimulatorOptionsInput): Promise<Simulator> {
  const options = parseSimulatorOptions(input);
  const clock = createSimClock(options.clock);
  const start = clock.now();
  const tenants = buildTenants(options.seed, options.users, start, options.scenario);
  const tls = await ensureTls(options.stateDir, options.host);
  let faults = options.initialFaults;
  let url = '';

  const sources = new Map<string, SignInSource>();
  const incidentsByTenant = new Map<string, ReturnType<typeof buildIncidents>>();
  const incidentsOf = (tenant: SimTenant) => {
    let built = incidentsByTenant.get(tenant.id);
    if (!built) incidentsByTenant.set(tenant.id, (built = buildIncidents(tenant, start, options.days)));
    return built;
  };
  // Retry-After rounding draws from the seed: the same run meets the same early arrivals.
  const throttle = createThrottle({
    enabled: () => options.throttle === 'microsoft',
    scale: options.throttleScale,
    random: seededRandom(options.seed),
  });
  const state: SimState = {
    options,
    clock,
    start,
    tenants,
    get faults() {
      return faults;
    },
    setFaults(changes) {
      faults = updateFaults(faults, changes);
      return faults;
    },
    signIns(tenant) {
      let source = sources.get(tenant.id);
      if (!source) {
        source = createSignInSource({
          tenant,
          start,
          days: options.days,
          signinsPerUserDay: options.signinsPerUserDay,
          lateMinutes: () => faults.lateMinutes,
          republish: () => ({ rate: faults.republishRate, minutes: faults.republishMinutes }),
          incidents: incidentsOf(tenant).specs,
        });
        sources.set(tenant.id, source);
      }
      return source;
    },
    incidents: (tenant) => incidentsOf(tenant).incidents,
    incidentSignIns: (tenant) => incidentsOf(tenant).specs,
    writes: [],
    resetThrottle: () => throttle.reset(),
    posture: createPostureOverlay(),
    directory: directoryCache(start),
  };

  const tokens = await createTokenService({
    tenants,
    clock,
    baseUrl: () => url,
    settings: { lifetimeSeconds: () => faults.tokenLifetime },
  });
  const app: FastifyInstance = Fastify({
    https: { key: tls.key, cert: tls.cert },
    logger: false,
    bodyLimit: 1_048_576,
  });
  tokens.register(app);
  // Graph accepts a POST with a JSON content type and no body (revokeSignInSessions); Fastify's
  // default parser would refuse it before the route runs.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        new GraphError(
          400,
          'BadRequest',
          'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
        ),
        undefined,
      );
    }
  });
  const routes: GraphRoute[] = [
    ...signInRoutes((t) => state.signIns(t)),
    ...directoryRoutes(state),
    ...userWriteRoutes(state),
    ...authMethodRoutes(state),
    ...registrationRoutes(state),
    ...roleRoutes(state),
    ...applicationRoutes(state),
    ...riskRoutes(state),
    policyRoute(state),
    deviceRoute(state),
    ...organizationRoutes(state),
    auditRoute(state),
  ];
  const dice = createFaultDice(options.seed);
  registerGraph(app, routes, {
    tenants,
    clock,
    verify: (t) => tokens.verify(t),
    throttle,
    faults: () => faults,
    roll: () => dice(faults),
    // keyed by the seed: the same seed serves byte-identical pages, next links included
    pageTokens: createTokenCodec(createHash('sha256').update(`idsight simulator page tokens ${options.seed}`).digest()),
    graphRoot: () => url,
    onWrite: (call) => state.writes.push(call),
  });
  const controlToken = options.control ? (options.controlToken ?? randomBytes(24).toString('base64url')) : undefined;
  if (controlToken) registerControl(app, state, controlToken);

  // Errors outside a route's own handling (an unreadable body) in Graph's envelope.
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const client = err.statusCode !== undefined && err.statusCode < 500;
    const graphErr =
      err instanceof GraphError
        ? err
        : new GraphError(client ? err.statusCode! : 500, client ? 'BadRequest' : 'UnknownError', err.message);
    const id = newRequestId();
    return reply.code(graphErr.status).send(graphErrorBody(graphErr, clock.now(), id, id));
  });

  // Unknown Graph paths answer as Graph does; anything else is a plain 404.
  app.setNotFoundHandler((req, reply) => {
    const m = /^\/(v1\.0|beta)\/([^?]*)/.exec(req.url);
    const segment = m?.[2]?.split('/')[0];
    if (!m || !segment) return reply.code(404).send({ error: 'not_found' });
    const err = new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
    const id = newRequestId();
    return reply.code(400).send(graphErrorBody(err, clock.now(), id, id));
  });

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const hostPart = options.host.includes(':') ? `[${options.host}]` : options.host;
  url = `https://${hostPart}:${address.port}`;

  return {
    url,
    caPath: tls.caPath,
    ca: tls.ca,
    ...(controlToken ? { controlToken } : {}),
    tenants,
    state,
    summary: () => ({
      authorityHost: url,
      graphUrl: url,
      caCertificate: tls.caPath,
      ...(controlToken ? { control: { url: `${url}/_sim`, token: controlToken } } : {}),
      clock: { mode: clock.mode, now: new Date(clock.now()).toISOString() },
      tenants: tenants.map((t) => ({
        name: t.displayName,
        tenantId: t.id,
        domains: t.domains,
        licence: t.licence,
        intune: t.intune,
        users: t.userCount,
        apps: t.apps.map((a) => ({
          state: a.state,
          displayName: a.displayName,
          clientId: a.appId,
          roles: a.roles,
          secrets: a.secrets.map((s) => ({
            keyId: s.keyId,
            displayName: s.displayName,
            hint: s.hint,
            value: s.secretText,
            endDateTime: new Date(s.endDateTime).toISOString(),
          })),
        })),
      })),
    }),
    close: () => app.close(),
  };
}
