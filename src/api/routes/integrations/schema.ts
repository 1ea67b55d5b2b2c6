// The integration resource's contract, written once: what the API takes and answers, what the
// service accepts (it parses every input with these) and what the CLI feeds its flags through.
// Bounds live here and nowhere else.
import { z } from 'zod';
import { DATA_TYPE_IDS } from '../../../integrations/capabilities.js';
import { nameText } from '../../../validation.js';
import { wholeQueryNumber } from '../../schemas.js';

export const CLOUDS = ['global', 'usgov', 'usgov-dod', 'china', 'custom'] as const;
export const SIGN_IN_EVENT_TYPES = ['nonInteractiveUser', 'servicePrincipal', 'managedIdentity'] as const;
export type SignInEventType = (typeof SIGN_IN_EVENT_TYPES)[number];

/** Credentials as an administrator types them: shapes here, meaning in validateCredentials. */
export const credentialsInput = z
  .object({
    tenantId: z.string().max(300),
    clientId: z.string().max(100),
    clientSecret: z.string().max(1024, 'the client secret is too long'),
    cloud: z.enum(CLOUDS).default('global'),
    authorityHost: z.string().trim().max(2048).optional(),
    graphUrl: z.string().trim().max(2048).optional(),
    caPem: z.string().max(65_536).optional(),
  })
  .strict();
export type CredentialsInput = z.input<typeof credentialsInput>;

export const integrationInput = credentialsInput.extend({
  name: nameText(100),
});
export type IntegrationInput = z.input<typeof integrationInput>;

/** A custom cloud's new endpoints or CA (each optional: the others stay). */
export const endpointsInput = credentialsInput.pick({ authorityHost: true, graphUrl: true, caPem: true }).strict();
export type EndpointsInput = z.input<typeof endpointsInput>;

const minutes = (from: number, to: number) => {
  const error = `must be a whole number of minutes from ${from} to ${to}`;
  return z.number({ error }).int(error).min(from, error).max(to, error);
};

/** Values per data type id; an unknown id is refused by name, with the known ones. */
const byDataType = <T extends z.ZodType>(value: T) =>
  z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record))
      if (!(DATA_TYPE_IDS as readonly string[]).includes(key))
        ctx.addIssue({ code: 'custom', path: [key], message: `unknown data type; known: ${DATA_TYPE_IDS.join(', ')}` });
  });

/**
 * What an administrator may change. Lag: Microsoft documents up to 2 h before some details of a
 * sign-in settle, and more only delays findings; schedules from 5 minutes to a week.
 */
export const integrationPatch = z
  .object({
    name: integrationInput.shape.name.optional(),
    dataTypes: byDataType(z.boolean()).optional(),
    schedule: byDataType(minutes(5, 7 * 24 * 60)).optional(),
    signInEventTypes: z
      .array(
        z.enum(SIGN_IN_EVENT_TYPES, { error: `unknown sign-in event type; known: ${SIGN_IN_EVENT_TYPES.join(', ')}` }),
      )
      .max(SIGN_IN_EVENT_TYPES.length * 2)
      .optional(),
    lagMinutes: minutes(0, 240).optional(),
    overlapMinutes: minutes(0, 1440).optional(),
  })
  .strict();
export type IntegrationPatch = z.input<typeof integrationPatch>;

const problemSchema = z.object({
  code: z.string(),
  microsoftCode: z.string().optional(),
  httpStatus: z.number().optional(),
  guidance: z.string(),
  field: z.enum(['tenantId', 'clientId', 'clientSecret']).optional().describe('the input at fault, when one is'),
});
export const reportSchema = z.object({
  connected: z.boolean(),
  message: z.string().describe('"Connected!" or the first blocking problem'),
  problem: problemSchema.optional(),
  tenantId: z.string().optional(),
  grantedRoles: z.array(z.string()),
  capabilities: z.array(
    z.object({
      dataType: z.string(),
      label: z.string(),
      available: z.boolean(),
      status: z
        .enum(['available', 'unavailable', 'unknown'])
        .describe('unknown: the test stopped (time limit, throttling) before this one answered'),
      reasonCode: z.string().optional(),
      reason: z.string().optional(),
      missingPermissions: z.array(z.string()).optional(),
      graphCode: z.string().optional(),
    }),
  ),
  mode: z.enum(['read-only', 'read-write']),
  actions: z.array(
    z.object({ action: z.string(), label: z.string(), enabled: z.boolean(), missingPermissions: z.array(z.string()) }),
  ),
  licences: z.array(
    z.object({ skuPartNumber: z.string(), skuId: z.string(), enabled: z.number(), consumed: z.number() }),
  ),
  ownSecret: z
    .union([
      z.object({
        keyId: z.string(),
        hint: z.string(),
        displayName: z.string().nullable(),
        endDateTime: z.string(),
        daysLeft: z.number(),
      }),
      z.object({ unavailable: z.string() }),
    ])
    .optional(),
  warnings: z.array(z.string()),
  checkedAt: z.string(),
  elapsedMs: z.number(),
});

/** Collected records, counted without scanning. */
export const storedCounts = z.object({ signIns: z.number(), otherRecords: z.number() });

/** A connectivity report as the API and the CLI show it. */
export type ReportView = z.infer<typeof reportSchema>;

export const integrationView = z.object({
  id: z.string(),
  name: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  cloud: z.enum(CLOUDS),
  customCloud: z.object({ authorityHost: z.string(), graphUrl: z.string(), hasCaCertificate: z.boolean() }).nullable(),
  status: z.enum(['connected', 'failed', 'untested']),
  lastTestedAt: z.string().nullable(),
  report: reportSchema.nullable(),
  settings: z.object({
    dataTypes: z.record(z.string(), z.boolean()),
    schedule: z.record(z.string(), z.number()),
    signInEventTypes: z.array(z.enum(SIGN_IN_EVENT_TYPES)),
    lagMinutes: z.number(),
    overlapMinutes: z.number(),
  }),
  secretExpiresAt: z.string().nullable(),
  secretDaysLeft: z.number().nullable(),
  storedData: z
    .object({
      signIns: z
        .record(z.string(), z.number())
        .describe(
          'sign-ins stored per event type: interactiveUser (the signIns data type); nonInteractiveUser, ' +
            'servicePrincipal and managedIdentity (nonInteractiveSignIns). Kept as they are stored.',
        ),
      records: z
        .record(z.string(), z.number())
        .describe(
          'records present per data set (users, groups, groupMembers, applications, appCredentials, …), ' +
            'as counted at the end of the last run that filled it',
        ),
    })
    .describe('what is stored; a data set never collected is absent'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type IntegrationView = z.infer<typeof integrationView>;
export type IntegrationSettings = IntegrationView['settings'];

/** Collect Now: the data types to collect (default: every enabled one). */
export const collectInput = z.object({ types: z.array(z.string().max(50)).max(20).optional() }).strict();

export const runsQuery = z
  .object({
    limit: wholeQueryNumber(500).default(50),
  })
  .strict();

/** A collection run as the run history shows it. */
export const runView = z.object({
  id: z.string(),
  dataType: z.string(),
  trigger: z.string(),
  status: z
    .string()
    .describe(
      'running, succeeded, failed, skipped, interrupted (idsight was stopped during the run; the next run ' +
        'resumes where it stopped) or abandoned (its process ended without recording it: killed, crashed)',
    ),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  stats: z
    .record(z.string(), z.unknown())
    .describe(
      'counts so far: fetched, inserted, updated, unchanged, pages; event logs also chains, chainsDone, spanMs, coveredMs, from, to',
    ),
  error: z.string().nullable().describe('what went wrong or, for an interrupted run, why it stopped'),
  guidance: z.string().nullable().describe('what to do about it, in a sentence'),
  progress: z
    .object({
      fetched: z.number(),
      pages: z.number(),
      chainsDone: z.number().nullable(),
      chains: z.number().nullable(),
      percent: z.number().nullable(),
      etaSeconds: z.number().nullable(),
      leaseUntil: z.string(),
    })
    .nullable()
    .describe(
      'while running: counts so far, chains of pages done, percent of the time span stored and an ETA; null once the run ended',
    ),
});
export type RunView = z.infer<typeof runView>;
export type RunProgress = NonNullable<RunView['progress']>;

/** How a run that was waited for ended. */
export const runOutcome = z.object({
  runId: z.string().nullable(),
  dataType: z.string(),
  status: z
    .enum(['succeeded', 'failed', 'skipped', 'interrupted'])
    .describe('interrupted: idsight was stopped during the run; the next run resumes where it stopped'),
  stats: z.record(z.string(), z.unknown()),
  error: z.string().optional(),
  guidance: z.string().optional(),
});
export type RunOutcome = z.infer<typeof runOutcome>;
