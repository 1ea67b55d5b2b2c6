// The export's contract, written once: the query the API takes, the CLI's flags go through and
// planExport reads (which adds the checks across fields: a window's order, types without a time).
import { z } from 'zod';
import { DATASETS } from '../../../store/datasets.js';
import { isoInstant } from '../../schemas.js';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const SIGN_IN_EXPORT_TYPES = ['signIns', 'nonInteractiveSignIns'] as const;
export const LINK_EXPORT_TYPES = ['groupMembers', 'appCredentials'] as const;
export const EXPORT_TYPES: readonly string[] = [
  ...SIGN_IN_EXPORT_TYPES,
  ...Object.keys(DATASETS),
  ...LINK_EXPORT_TYPES,
];
const known = `known types: ${EXPORT_TYPES.join(', ')}`;

export const exportQuery = z
  .object({
    type: z
      .string({ error: `say which records to export; ${known}` })
      .refine((t) => EXPORT_TYPES.includes(t), {
        error: (i) => `unknown export type ${JSON.stringify(i.input)}; ${known}`,
      })
      .describe(EXPORT_TYPES.join(', ')),
    since: isoInstant.optional().describe('from this time on (types with a time only)'),
    until: isoInstant.optional().describe('before this time (types with a time only)'),
    format: z
      .enum(EXPORT_FORMATS, { error: (i) => `unknown format ${JSON.stringify(i.input)}: use jsonl or csv` })
      .default('jsonl'),
    // a boolean from the CLI, a string in a query
    includeDeleted: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], {
        error: 'must be true or false',
      })
      .default(false)
      .describe('also records that have left the tenant'),
  })
  .strict();
/** An export request as read through the contract (by the route, or by the CLI from its flags). */
export type ExportQuery = z.output<typeof exportQuery>;
