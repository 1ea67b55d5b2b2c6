import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { APP_REGISTRATION_DOC } from '../../entra/errors.js';
import { permissionsToGrant } from '../../integrations/capabilities.js';
import { integrationInput, integrationPatch, type ReportView } from '../../api/routes/integrations/schema.js';
import { ConnectionFailedError, type IntegrationView } from '../../integrations/service.js';
import { parseInput } from '../../validation.js';
import {
  audited,
  printJson,
  printTable,
  readStdinLine,
  say,
  UsageError,
  withContext,
  withIntegration,
} from '../run.js';

/** The connectivity verdict and the capability table, as an administrator reads them. */
function printReport(report: ReportView): void {
  say(`${report.message}\n`);
  if (report.problem)
    say(`  ${report.problem.guidance}${report.problem.microsoftCode ? ` (${report.problem.microsoftCode})` : ''}\n`);
  if (report.capabilities.length === 0) return;
  say(`\nMode: ${report.mode}\n\n`);
  printTable(
    report.capabilities.map((c) => ({
      'data type': c.label,
      available: c.status === 'unknown' ? 'unknown' : c.available ? 'yes' : 'no',
      why: c.reason ?? '',
    })),
    ['data type', 'available', 'why'],
  );
  say('\n');
  printTable(
    // the actions themselves are not built yet: what the tenant granted is all there is to say
    report.actions.map((a) => ({
      remediation: a.label,
      'permission granted': a.enabled ? 'yes' : 'no',
      missing: a.missingPermissions.join(', '),
    })),
    ['remediation', 'permission granted', 'missing'],
  );
  if (report.ownSecret) {
    say(
      'unavailable' in report.ownSecret
        ? `\nClient secret expiry: unknown (${report.ownSecret.unavailable})\n`
        : `\nClient secret ${report.ownSecret.hint}… expires ${report.ownSecret.endDateTime.slice(0, 10)} (${report.ownSecret.daysLeft} days left)\n`,
    );
  }
}

/**
 * A change refused because the connection test failed: the report and what was kept (or, as
 * JSON, `outcome` with the report), exit code 1. Any other error is thrown on.
 */
function refused(err: unknown, outcome: Record<string, boolean>, kept: string, json: boolean | undefined): void {
  if (!(err instanceof ConnectionFailedError)) throw err;
  if (json) printJson({ ...outcome, report: err.report });
  else {
    printReport(err.report);
    say(`\n${kept}\n`);
  }
  process.exitCode = 1;
}

function printIntegration(i: IntegrationView): void {
  const endpoints = i.customCloud
    ? ` (authority ${i.customCloud.authorityHost}, Graph ${i.customCloud.graphUrl}${i.customCloud.hasCaCertificate ? ', own CA' : ''})`
    : '';
  say(
    `${i.name} (${i.id})\n  tenant ${i.tenantId}, app ${i.clientId}, cloud ${i.cloud}${endpoints}, status ${i.status}\n`,
  );
  if (i.secretDaysLeft !== null) say(`  client secret expires in ${i.secretDaysLeft} days\n`);
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ') || 'none';
  const signIns = Object.values(i.storedData.signIns).reduce((a, b) => a + b, 0);
  say(`  stored sign-ins: ${signIns} (${list(i.storedData.signIns)})\n`);
  say(`  stored records: ${list(i.storedData.records)}\n`);
  const on = Object.entries(i.settings.dataTypes)
    .filter(([, v]) => v)
    .map(([k]) => k);
  say(`  data types on: ${on.join(', ') || 'none'}\n`);
  const s = i.settings;
  say(
    `  event logs read up to now − ${s.lagMinutes} min, re-reading ${s.overlapMinutes} min; ` +
      `beta sign-in streams: ${s.signInEventTypes.join(', ') || 'none'}\n`,
  );
}

interface SetFlags {
  name?: string;
  dataType?: string[];
  schedule?: string[];
  signInEventTypes?: string;
  lagMinutes?: string;
  overlapMinutes?: string;
  authorityHost?: string;
  graphUrl?: string;
  caFile?: string;
  json?: boolean;
}

/** `NAME=on|off` pairs for --data-type. */
function toggles(pairs: string[]): Record<string, boolean> {
  return Object.fromEntries(
    pairs.map((p) => {
      const m = /^([A-Za-z0-9_-]+)=(on|off)$/.exec(p);
      if (!m) throw new UsageError(`--data-type wants NAME=on or NAME=off, not "${p}"`);
      return [m[1]!, m[2] === 'on'];
    }),
  );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The PEM file --ca-file names, or a usage error saying what is wrong with it. */
function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'not readable (permission denied)'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : (err as Error).message;
    throw new UsageError(`--ca-file ${file}: ${why}; give the PEM file of the CA certificate(s) to trust`);
  }
}

export function registerIntegrationCommands(program: Command): void {
  const cmd = program
    .command('integrations')
    .description('Microsoft Entra ID integrations: permissions, add, test, list, show, set, reset-credentials, remove');

  cmd
    .command('permissions')
    .description(
      `the Microsoft Graph application permissions to grant the app idsight signs in as (${APP_REGISTRATION_DOC})`,
    )
    .option('--readwrite', 'add the permissions remediation needs')
    .option('--json', 'machine-readable output')
    .action((opts: { readwrite?: boolean; json?: boolean }) => {
      const list = permissionsToGrant(Boolean(opts.readwrite));
      if (opts.json) return printJson(list);
      say(
        'In the Entra admin center: App registrations → the app → API permissions → Add a permission → Microsoft Graph →\n' +
          `Application permissions; add these, then "Grant admin consent". Step by step: ${APP_REGISTRATION_DOC}\n\n`,
      );
      printTable(
        list.map((p) => ({ permission: p.permission, set: p.set, 'what it allows': p.allows.join('; ') })),
        ['permission', 'set', 'what it allows'],
      );
      if (!opts.readwrite) say('\nRemediation (read/write) needs more: idsight integrations permissions --readwrite\n');
    });

  cmd
    .command('add')
    .description('test credentials, then save them (the secret is read from standard input)')
    .requiredOption('--name <name>', 'a name for this tenant')
    .requiredOption('--tenant-id <id>', 'Directory (tenant) ID: a GUID or a domain')
    .requiredOption('--client-id <id>', 'Application (client) ID')
    .requiredOption('--secret-stdin', 'read the client secret value from the first line of standard input')
    .option('--cloud <cloud>', 'global, usgov, usgov-dod, china or custom', 'global')
    .option('--authority-host <url>', 'custom cloud: the token authority, e.g. https://127.0.0.1:8443')
    .option('--graph-url <url>', 'custom cloud: the Graph root')
    .option('--ca-file <pem>', 'custom cloud: CA certificate(s) to trust')
    .option('--save-untested', 'save even when the connectivity test fails')
    .option('--json', 'machine-readable output')
    .action(
      (opts: {
        name: string;
        tenantId: string;
        clientId: string;
        cloud: string;
        authorityHost?: string;
        graphUrl?: string;
        caFile?: string;
        saveUntested?: boolean;
        json?: boolean;
      }) =>
        withContext(async (ctx) => {
          if (opts.cloud === 'custom' && (!opts.authorityHost || !opts.graphUrl)) {
            throw new UsageError(
              '--cloud custom needs --authority-host and --graph-url (and --ca-file when its certificates come from a private CA)',
            );
          }
          const caPem = opts.caFile ? readCaFile(opts.caFile) : undefined;
          const clientSecret = await readStdinLine('client secret');
          const input = parseInput(integrationInput, {
            name: opts.name,
            tenantId: opts.tenantId,
            clientId: opts.clientId,
            clientSecret,
            cloud: opts.cloud,
            ...(opts.authorityHost ? { authorityHost: opts.authorityHost } : {}),
            ...(opts.graphUrl ? { graphUrl: opts.graphUrl } : {}),
            ...(caPem ? { caPem } : {}),
          });
          let result;
          try {
            result = await audited(
              ctx,
              'integrations.create',
              null,
              { name: input.name, cloud: input.cloud },
              () => ctx.integrations.add(input, { saveUntested: Boolean(opts.saveUntested) }),
              { tenantId: opts.tenantId, clientId: opts.clientId },
            );
          } catch (err) {
            return refused(err, { saved: false }, 'Not saved (use --save-untested to save anyway).', opts.json);
          }
          if (opts.json) return printJson({ saved: true, ...result });
          printReport(result.report);
          const { id, name } = result.integration;
          say(`\nSaved as "${name}" (${id}).\n`);
          if (!result.report.connected) {
            process.exitCode = 1;
            say(`When the problem above is fixed: idsight integrations test ${id}\n`);
            return;
          }
          say(
            `Next: collect now (the first run reads the last 30 days) with\n  idsight collect ${id}\n` +
              `or start the server, which collects on schedule: idsight serve (npm start). The run history: idsight runs ${id}\n`,
          );
        }),
    );

  cmd
    .command('test <integration>')
    .description('test a saved integration with its stored secret')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { json?: boolean }) =>
      withIntegration(ref, async (ctx, id) => {
        const report = await audited(ctx, 'integrations.retest', id, {}, () => ctx.integrations.retest(id));
        if (opts.json) printJson(report);
        else printReport(report);
        if (!report.connected) process.exitCode = 1;
      }),
    );

  cmd
    .command('list')
    .description('list integrations')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const list = await ctx.integrations.list();
        if (opts.json) return printJson(list);
        printTable(
          list.map((i) => ({
            name: i.name,
            id: i.id,
            tenant: i.tenantId,
            status: i.status,
            'secret days left': i.secretDaysLeft === null ? '' : String(i.secretDaysLeft),
          })),
          ['name', 'id', 'tenant', 'status', 'secret days left'],
        );
      }),
    );

  cmd
    .command('show <integration>')
    .description('show an integration, its capabilities and settings')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { json?: boolean }) =>
      withIntegration(ref, async (ctx, id) => {
        const i = await ctx.integrations.get(id);
        if (opts.json) return printJson(i);
        printIntegration(i);
        if (i.report) {
          say('\n');
          printReport(i.report);
        }
      }),
    );

  cmd
    .command('set <integration>')
    .description(
      "change the name, data types (--data-type NAME=on|off, repeatable), schedule (--schedule NAME=MINUTES), or a custom cloud's endpoints",
    )
    .option('--name <name>', 'new name')
    .option('--data-type <NAME=on|off>', 'turn a data type on or off', collect)
    .option('--schedule <NAME=MINUTES>', 'minutes between collections of a data type', collect)
    .option(
      '--sign-in-event-types <list>',
      'beta sign-in streams to collect: comma-separated nonInteractiveUser, servicePrincipal, managedIdentity (or "none")',
    )
    .option('--lag-minutes <n>', 'event logs are read up to now minus this (default 15)')
    .option('--overlap-minutes <n>', 'every run re-reads this much before where the last ended (default 15)')
    .option('--authority-host <url>', 'custom cloud: a new token authority (tested first, kept only if it connects)')
    .option('--graph-url <url>', 'custom cloud: a new Graph root (likewise)')
    .option('--ca-file <pem>', 'custom cloud: new CA certificate(s) to trust (likewise)')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: SetFlags) =>
      withIntegration(ref, async (ctx, id) => {
        const endpoints = {
          ...(opts.authorityHost ? { authorityHost: opts.authorityHost } : {}),
          ...(opts.graphUrl ? { graphUrl: opts.graphUrl } : {}),
          ...(opts.caFile ? { caPem: readCaFile(opts.caFile) } : {}),
        };
        const schedule = Object.fromEntries(
          (opts.schedule ?? []).map((p) => {
            const m = /^([A-Za-z0-9_-]+)=(\d+)$/.exec(p);
            if (!m) throw new UsageError(`--schedule wants NAME=MINUTES, not "${p}"`);
            return [m[1]!, Number(m[2])];
          }),
        );
        const eventTypes =
          opts.signInEventTypes === undefined
            ? undefined
            : opts.signInEventTypes === 'none'
              ? []
              : opts.signInEventTypes
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean);
        const minutes = (flag: string, v: string | undefined) => {
          if (v === undefined) return undefined;
          if (!/^\d+$/.test(v)) throw new UsageError(`${flag} wants a whole number of minutes, not "${v}"`);
          return Number(v);
        };
        const lagMinutes = minutes('--lag-minutes', opts.lagMinutes);
        const overlapMinutes = minutes('--overlap-minutes', opts.overlapMinutes);
        // the flags go through the API's own contract: the same bounds, the same messages
        const patch = parseInput(integrationPatch, {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          dataTypes: toggles(opts.dataType ?? []),
          schedule,
          ...(eventTypes ? { signInEventTypes: eventTypes } : {}),
          ...(lagMinutes !== undefined ? { lagMinutes } : {}),
          ...(overlapMinutes !== undefined ? { overlapMinutes } : {}),
        });
        const settingsChanged = [opts.name, opts.dataType, opts.schedule, eventTypes, lagMinutes, overlapMinutes].some(
          (v) => v !== undefined,
        );
        // every flag is checked before anything changes
        if (Object.keys(endpoints).length > 0) {
          try {
            const { report } = await audited(
              ctx,
              'integrations.set_endpoints',
              id,
              { caFile: opts.caFile ?? null },
              () => ctx.integrations.setEndpoints(id, endpoints),
              { authorityHost: opts.authorityHost, graphUrl: opts.graphUrl },
            );
            if (!opts.json) {
              printReport(report);
              say('\nThe new endpoints are in use.\n\n');
            }
          } catch (err) {
            return refused(err, { changed: false }, 'The integration keeps its old endpoints.', opts.json);
          }
        }
        const i =
          settingsChanged || Object.keys(endpoints).length === 0
            ? await audited(ctx, 'integrations.update', id, patch, () => ctx.integrations.update(id, patch))
            : await ctx.integrations.get(id);
        if (opts.json) return printJson(i);
        printIntegration(i);
      }),
    );

  cmd
    .command('reset-credentials <integration>')
    .description('replace the client secret: the new one is tested first and kept only if it connects')
    .requiredOption('--secret-stdin', 'read the new client secret value from the first line of standard input')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { json?: boolean }) =>
      withIntegration(ref, async (ctx, id) => {
        const secret = await readStdinLine('client secret');
        try {
          const result = await audited(ctx, 'integrations.reset_credentials', id, {}, () =>
            ctx.integrations.resetCredentials(id, secret),
          );
          if (opts.json) return printJson(result);
          printReport(result.report);
          say('\nThe new secret is in use.\n');
        } catch (err) {
          refused(err, { replaced: false }, 'The old secret stays in use.', opts.json);
        }
      }),
    );

  cmd
    .command('remove <integration>')
    .description('remove an integration (collection stops); --purge also deletes its collected data')
    .option('--purge', 'delete the data collected from this tenant')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { purge?: boolean; json?: boolean }) =>
      withIntegration(ref, async (ctx, id) => {
        const result = await audited(ctx, 'integrations.remove', id, { purge: Boolean(opts.purge) }, () =>
          ctx.integrations.remove(id, { purge: Boolean(opts.purge) }),
        );
        if (opts.json) return printJson(result);
        say(
          result.purged
            ? `removed; deleted ${result.purged.signIns} collected sign-ins and ${result.purged.otherRecords} other records\n`
            : `removed; its ${result.kept.signIns} collected sign-ins and ${result.kept.otherRecords} other records are kept\n`,
        );
      }),
    );
}
