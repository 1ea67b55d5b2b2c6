// Microsoft Entra ID integrations: add (tested first), list, show, edit, test, reset
// credentials, remove. Writes are for administrators; everyone signed in can read. The client
// secret goes in and never comes out: no response schema has a place for it.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../../context.js';
import { authErrors, errorSchema, idParams } from '../../schemas.js';
import {
  credentialsInput,
  endpointsInput,
  integrationInput,
  integrationPatch,
  integrationView,
  reportSchema,
  collectInput,
  runOutcome,
  runsQuery,
  runView,
  storedCounts,
} from './schema.js';

const admin = ['admin'] as const;

const saved = z.object({ integration: integrationView, report: reportSchema });

export const integrationRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/api/integrations/test',
      {
        config: { access: admin, audit: 'integrations.test' },
        schema: {
          body: credentialsInput,
          response: { 200: z.object({ report: reportSchema }), 400: errorSchema, ...authErrors },
        },
      },
      async (request) => {
        request.auditInput = { tenantId: request.body.tenantId, clientId: request.body.clientId };
        const report = await ctx.integrations.testUnsaved(request.body);
        request.auditDetail = { connected: report.connected };
        return { report };
      },
    );

    app.post(
      '/api/integrations',
      {
        config: { access: admin, audit: 'integrations.create' },
        schema: {
          body: integrationInput.extend({ saveUntested: z.boolean().optional() }),
          querystring: z.object({}).strict(),
          response: { 201: saved, 400: errorSchema, 409: errorSchema, 422: errorSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const { saveUntested, ...input } = request.body;
        request.auditDetail = { name: input.name, cloud: input.cloud ?? 'global' };
        request.auditInput = { tenantId: input.tenantId, clientId: input.clientId };
        const result = await ctx.integrations.add(input, { saveUntested: saveUntested ?? false });
        request.auditTarget = result.integration.id;
        request.auditDetail.connected = result.report.connected;
        return reply.status(201).send(result);
      },
    );

    app.get(
      '/api/integrations',
      {
        config: { access: 'authenticated' },
        schema: { response: { 200: z.object({ integrations: z.array(integrationView) }), ...authErrors } },
      },
      async () => ({
        integrations: await ctx.integrations.list(),
      }),
    );

    app.get(
      '/api/integrations/:id',
      {
        config: { access: 'authenticated' },
        schema: {
          params: idParams,
          response: { 200: z.object({ integration: integrationView }), 404: errorSchema, ...authErrors },
        },
      },
      async (request) => ({ integration: await ctx.integrations.get(request.params.id) }),
    );

    app.patch(
      '/api/integrations/:id',
      {
        config: { access: admin, audit: 'integrations.update' },
        schema: {
          params: idParams,
          body: integrationPatch,
          response: {
            200: z.object({ integration: integrationView }),
            400: errorSchema,
            404: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        request.auditDetail = { ...request.body };
        return { integration: await ctx.integrations.update(request.params.id, request.body) };
      },
    );

    app.post(
      '/api/integrations/:id/test',
      {
        config: { access: admin, audit: 'integrations.retest' },
        schema: {
          params: idParams,
          response: { 200: z.object({ report: reportSchema }), 404: errorSchema, ...authErrors },
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        const report = await ctx.integrations.retest(request.params.id);
        request.auditDetail = {
          connected: report.connected,
          ...(report.problem ? { problem: report.problem.code } : {}),
        };
        return { report };
      },
    );

    app.put(
      '/api/integrations/:id/credentials',
      {
        config: { access: admin, audit: 'integrations.reset_credentials' },
        schema: {
          params: idParams,
          body: z.object({ clientSecret: z.string().max(1024) }).strict(),
          response: { 200: saved, 400: errorSchema, 404: errorSchema, 422: errorSchema, ...authErrors },
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        return ctx.integrations.resetCredentials(request.params.id, request.body.clientSecret);
      },
    );

    app.put(
      '/api/integrations/:id/endpoints',
      {
        config: { access: admin, audit: 'integrations.set_endpoints' },
        schema: {
          params: idParams,
          body: endpointsInput,
          response: { 200: saved, 400: errorSchema, 404: errorSchema, 422: errorSchema, ...authErrors },
          description:
            "A custom cloud's new authority host, Graph URL or CA: tested with the stored secret, kept only if it connects (422 with the report otherwise).",
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        request.auditDetail = { caPem: request.body.caPem === undefined ? null : 'replaced' };
        request.auditInput = { authorityHost: request.body.authorityHost, graphUrl: request.body.graphUrl };
        return ctx.integrations.setEndpoints(request.params.id, request.body);
      },
    );

    app.post(
      '/api/integrations/:id/collect',
      {
        config: { access: admin, audit: 'integrations.collect', scope: 'collect' },
        schema: {
          params: idParams,
          querystring: z.object({ wait: z.enum(['true', 'false']).default('false') }).strict(),
          body: collectInput.optional(),
          response: {
            200: z.object({ outcomes: z.array(runOutcome) }),
            202: z
              .object({ accepted: z.literal(true) })
              .describe("the first data type's run has started; the run history shows progress and outcome"),
            400: errorSchema,
            404: errorSchema,
            409: errorSchema.describe('another run is collecting the (only) data type asked for'),
            503: errorSchema.describe('idsight is stopping and starts no collection now'),
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        request.auditTarget = request.params.id;
        const types = request.body?.types;
        request.auditDetail = { types: types ?? 'enabled' };
        await ctx.integrations.get(request.params.id); // 404 before anything starts
        let started!: () => void;
        const running = new Promise<void>((resolve) => (started = resolve));
        // Supervised like scheduled runs, so stopping idsight interrupts it cleanly.
        const run = ctx.supervisor.run(request.params.id, {
          ...(types ? { types } : {}),
          trigger: 'manual',
          onStart: () => started(),
        });
        if (request.query.wait === 'true') return { outcomes: await run };
        // Collect Now in the background; progress and outcome are in the run history.
        run.catch((err: unknown) => ctx.log.warn({ err, integration: request.params.id }, 'collection failed'));
        // Answered once the first run holds its lease, so a conflict (409) or a stop (503) is told
        // to the caller rather than only logged.
        await Promise.race([running, run]);
        return reply.status(202).send({ accepted: true });
      },
    );

    app.get(
      '/api/integrations/:id/runs',
      {
        config: { access: 'authenticated' },
        schema: {
          params: idParams,
          querystring: runsQuery,
          response: { 200: z.object({ runs: z.array(runView) }), 400: errorSchema, 404: errorSchema, ...authErrors },
        },
      },
      async (request) => ({ runs: await ctx.collector.runs(request.params.id, request.query.limit) }),
    );

    app.delete(
      '/api/integrations/:id',
      {
        config: { access: admin, audit: 'integrations.remove' },
        schema: {
          params: idParams,
          querystring: z.object({ purge: z.enum(['true', 'false']).default('false') }).strict(),
          response: {
            200: z.object({ removed: z.literal(true), purged: storedCounts.nullable(), kept: storedCounts }),
            404: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        const result = await ctx.integrations.remove(request.params.id, { purge: request.query.purge === 'true' });
        request.auditDetail = {
          purge: request.query.purge === 'true',
          ...(result.purged ? { purged: result.purged } : { kept: result.kept }),
        };
        return result;
      },
    );
  };
