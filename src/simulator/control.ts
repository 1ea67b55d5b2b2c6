// The control API under /_sim/: not Graph. Ground truth for tests and detection measurements,
// the log of write calls, the simulated clock, and the fault knobs. Served only when the
// simulator is started with control enabled, behind the bearer token printed at start.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EVENT_TYPES, visibleAt } from './data/signins.js';
import { DAY, HOUR } from './data/time.js';
import { controlTenant, registerDirectoryControl } from './control-directory.js';
import type { SimState } from './state.js';

const windowQuery = z.object({
  tenant: z.string().min(1),
  since: z.string().datetime({ offset: true }),
  until: z.string().datetime({ offset: true }),
  eventType: z.enum(EVENT_TYPES).default('interactiveUser'),
  ids: z.enum(['true', 'false']).default('false'),
});

export function registerControl(app: FastifyInstance, state: SimState, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  app.register(
    async (ctl) => {
      ctl.addHook('onRequest', async (req, reply) => {
        const given = Buffer.from(req.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return reply.code(401).send({ error: 'the control API needs the bearer token printed at start' });
        }
      });
      ctl.setErrorHandler((err, _req, reply) => {
        const status = (err as { statusCode?: number }).statusCode ?? 400;
        return reply
          .code(status >= 400 && status < 600 ? status : 400)
          .send({ error: err instanceof Error ? err.message : String(err) });
      });
      registerDirectoryControl(ctl, state);
      ctl.get('/clock', async () => ({ now: new Date(state.clock.now()).toISOString(), mode: state.clock.mode }));
      ctl.post('/clock/advance', async (req) => {
        const body = z
          .object({
            seconds: z
              .number()
              .positive()
              .max((366 * DAY) / 1000),
          })
          .parse(req.body);
        state.clock.advance(body.seconds * 1000);
        return { now: new Date(state.clock.now()).toISOString() };
      });

      ctl.get('/faults', async () => state.faults);
      ctl.patch('/faults', async (req) => state.setFaults(z.record(z.string(), z.unknown()).parse(req.body)));
      ctl.post('/throttle/reset', async () => {
        state.resetThrottle();
        return { reset: true };
      });

      ctl.get('/writes', async () => ({ value: state.writes }));

      ctl.get('/truth/incidents', async (req) => {
        const q = z.object({ tenant: z.string().min(1) }).parse(req.query);
        return { value: state.incidents(controlTenant(state, q.tenant)) };
      });

      // The exact sign-ins Graph would return for a window [since, until) at the current
      // simulated time (late arrivals not yet visible are not counted).
      ctl.get('/truth/signins', async (req) => {
        const q = windowQuery.parse(req.query);
        const tenant = controlTenant(state, q.tenant);
        const source = state.signIns(tenant);
        const now = state.clock.now();
        const retentionStart = now - tenant.retentionDays * DAY;
        const since = Math.max(Date.parse(q.since), retentionStart, source.dataStart);
        const until = Math.min(Date.parse(q.until), now + 1);
        const ids: string[] = [];
        let count = 0;
        for (let hour = Math.floor(since / HOUR); hour * HOUR < until; hour++) {
          const bucket = source.hourBucket(hour, [q.eventType]);
          for (let p = 0; p < bucket.times.length; p++) {
            const time = bucket.times[p]!;
            if (time < since || time >= until) continue;
            const spec = source.spec(hour, bucket.refs[p]!, time);
            if (!visibleAt(spec, now)) continue;
            count++;
            if (q.ids === 'true') ids.push(spec.id);
          }
        }
        return {
          tenant: tenant.id,
          eventType: q.eventType,
          since: new Date(since).toISOString(),
          until: new Date(until).toISOString(),
          count,
          ...(q.ids === 'true' ? { ids } : {}),
        };
      });
    },
    { prefix: '/_sim' },
  );
}
