// GET /api/integrations/:id/export: the stored records of one data type, streamed as JSON lines
// (the Graph records exactly as collected) or CSV (the typed columns) — see export/export.ts.
// Everyone signed in may read collected data, so everyone signed in may export it; an export of
// personal data is security-relevant, so each one is in the audit log (who, what, which window).
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Context } from '../../../context.js';
import { exportDetail, openExport } from '../../../export/export.js';
import { caller } from '../../policy.js';
import { authErrors, errorSchema, idParams } from '../../schemas.js';
import { exportQuery } from './schema.js';

export const exportRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/integrations/:id/export',
      {
        // A GET that changes nothing, audited all the same (the audit hook records any route that
        // names an action): the entry is written before the first byte of the body leaves.
        config: { access: 'authenticated', audit: 'integrations.export' },
        schema: {
          description:
            'Streams the stored records of one type: `jsonl` (application/x-ndjson, one Graph record per line, ' +
            'exactly as collected) or `csv` (text/csv, the typed columns, times in ISO 8601 UTC, ' +
            'formula-like cells prefixed with a quote). Sent as an attachment.',
          params: idParams,
          querystring: exportQuery,
          // No 200 schema, on purpose: the body is a stream of text, not JSON, and Fastify sends a
          // stream as it is without serialising it. Every other route declares its 200 (server.ts);
          // this is the one exception. The errors are JSON and keep their schemas.
          response: { 400: errorSchema, 404: errorSchema, ...authErrors },
        },
        // A refused request is audited with what it asked for (the handler, which never runs for
        // it, records the request as read): the query's own fields as input, which a refusal
        // keeps as their length and fingerprint only.
        preValidation: async (request) => {
          const raw = request.query as Record<string, unknown>;
          request.auditTarget = (request.params as { id?: string }).id?.slice(0, 100);
          request.auditInput = Object.fromEntries(
            Object.keys(exportQuery.shape)
              .filter((k) => typeof raw[k] === 'string')
              .map((k) => [k, (raw[k] as string).slice(0, 100)]),
          );
        },
      },
      async (request, reply) => {
        const q = request.query;
        const id = request.params.id;
        request.auditTarget = id;
        request.auditInput = undefined; // read through the contract: the detail below holds it
        request.auditDetail = exportDetail(q);
        // Every check (400, 404) happens here, before a header or a byte of the body is sent.
        const exp = await openExport(ctx, id, q);
        const who = caller(request);
        const detail = request.auditDetail;
        // The audit entry above says the export started. Should reading fail part-way, the
        // client sees the connection cut (the chunked body never ends properly), and a second
        // entry says it failed and after how many records.
        async function* body(): AsyncGenerator<string> {
          try {
            yield* exp.chunks;
          } catch (err) {
            request.log.error(
              { err, integration: id, type: exp.plan.type, records: exp.stats.records },
              'export failed part-way',
            );
            await ctx.audit
              .record({
                actor: { type: who.via === 'token' ? 'token' : 'user', id: who.user.id, label: who.user.email },
                action: 'integrations.export',
                target: id,
                ip: request.ip,
                outcome: 'failure',
                detail: {
                  ...detail,
                  records: exp.stats.records,
                  error: err instanceof Error ? err.message : String(err),
                },
              })
              .catch(() => undefined);
            throw err;
          }
        }
        return reply
          .header('content-type', exp.contentType)
          .header('content-disposition', `attachment; filename="${exp.filename}"`)
          .header('cache-control', 'no-store') // personal data: no copies in caches
          .send(Readable.from(body(), { objectMode: false }) as never); // typed for the JSON error replies only
      },
    );
  };
