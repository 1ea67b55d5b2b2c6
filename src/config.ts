// One validated settings object, read from the environment and an optional JSON file.
// Everything downstream receives it as a parameter; nothing else reads process.env.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A whole number within bounds, from text; the message says the unit and the range. */
function wholeNumber(what: string, min: number, max: number) {
  const message = `must be a whole number ${what}from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
}

const PROXY_EXAMPLE =
  'http://proxy.example.com:3128, or http://user:password@proxy.example.com:3128 when it wants credentials';

/**
 * The outbound proxy's URL; host:port alone is taken as http://host:port, as curl does. The
 * value is never echoed in errors: it may carry a password.
 */
const proxyUrl = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`);
    } catch {
      return fail(`must be a proxy URL such as ${PROXY_EXAMPLE}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return fail(`must be an http:// or https:// proxy URL, not ${url.protocol}// (e.g. ${PROXY_EXAMPLE})`);
    if (!url.hostname) return fail(`must name the proxy's host (e.g. ${PROXY_EXAMPLE})`);
    if (url.pathname !== '/' || url.search || url.hash)
      return fail("must be the proxy's scheme, credentials, host and port only, without a path or query");
    try {
      decodeURIComponent(url.username);
      decodeURIComponent(url.password);
    } catch {
      return fail('has a user name or password that is not valid percent-encoding (write % as %25)');
    }
    return url.href;
  });

/**
 * Hosts reached without the proxy, in undici's conventions: host names and domain suffixes
 * (example.com and .example.com both match its subdomains), IP addresses, any of them with
 * :port, or * for all. Normalised for undici: comma-separated, lower case, IPv6 in brackets, and
 * a * anywhere means everything. Address ranges are refused rather than silently ignored.
 */
const noProxyList = z.string().transform((v, ctx) => {
  const entries = v.split(/[\s,]+/).filter(Boolean);
  if (entries.includes('*')) return '*';
  const out: string[] = [];
  for (const entry of entries) {
    const e = isIP(entry) === 6 ? `[${entry.toLowerCase()}]` : entry.toLowerCase();
    const m = /^(?:\*?\.)?(\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)(?::(\d{1,5}))?$/.exec(e);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    if (!m || (port !== undefined && (port < 1 || port > 65535))) {
      const what = e.includes('/')
        ? 'an address range, which NO_PROXY cannot express'
        : 'not a host name, domain suffix, IP address or host:port';
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is ${what}: list host names, domain suffixes (.example.com), IP addresses, host:port, or * for every host`,
      });
      return z.NEVER;
    }
    out.push(e);
  }
  return out.join(',');
});

/** Each setting: its environment variable, its key in the settings file, and its schema. */
const settings = {
  dataDir: { env: 'IDSIGHT_DATA_DIR', schema: z.string().min(1, 'must not be empty').default('./data') },
  databaseUrl: {
    env: 'IDSIGHT_DATABASE_URL',
    schema: z
      .string()
      .refine(
        (v) => /^postgres(ql)?:\/\/.+/.test(v),
        'must be a postgres:// or postgresql:// URL (leave unset for the embedded SQLite store)',
      )
      .optional(),
  },
  host: { env: 'IDSIGHT_HOST', schema: z.string().min(1, 'must not be empty').default('127.0.0.1') },
  port: {
    env: 'IDSIGHT_PORT',
    schema: wholeNumber('', 0, 65535).default(8080),
  },
  masterKey: {
    env: 'IDSIGHT_MASTER_KEY',
    // Validated for shape by the keyring, which can say precisely what is wrong with it.
    schema: z.string().min(1, 'must not be empty when set').optional(),
  },
  logLevel: {
    env: 'IDSIGHT_LOG_LEVEL',
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  },
  logFormat: {
    env: 'IDSIGHT_LOG_FORMAT',
    schema: z.enum(['auto', 'json', 'pretty'], { error: 'must be auto, json or pretty' }).default('auto'),
  },
  sessionIdleMinutes: {
    env: 'IDSIGHT_SESSION_IDLE_MINUTES',
    schema: wholeNumber('of minutes ', 1, 1440).default(15),
  },
  sessionMaxHours: {
    env: 'IDSIGHT_SESSION_MAX_HOURS',
    schema: wholeNumber('of hours ', 1, 720).default(12),
  },
  graphPacing: {
    env: 'IDSIGHT_GRAPH_PACING',
    // Pace every integration's Graph requests to Microsoft's documented limits, one budget per
    // tenant, app and API family; "off" only for rigs that do not throttle (the simulator with
    // --throttle off, benchmarks).
    schema: z.enum(['microsoft', 'off'], { error: 'must be microsoft or off' }).default('microsoft'),
  },
  graphPacingScale: {
    env: 'IDSIGHT_GRAPH_PACING_SCALE',
    // Multiplies the windows of that pacing (0.25: 5 requests per 2.5 s instead of 10 s), for test
    // rigs whose throttle is scaled, such as the simulator's --throttle-scale. 1 for Microsoft.
    schema: z.coerce
      .number({ error: 'must be a number greater than 0 and at most 1' })
      .gt(0, 'must be a number greater than 0 and at most 1')
      .max(1, 'must be a number greater than 0 and at most 1')
      .default(1),
  },
  collectLeaseSeconds: {
    env: 'IDSIGHT_COLLECT_LEASE_SECONDS',
    // How long a collection run keeps its data type to itself without progress: a crashed
    // process's run is taken over after this.
    schema: wholeNumber('of seconds ', 2, 3600).default(120),
  },
  loginLimitPerIp: {
    env: 'IDSIGHT_LOGIN_LIMIT_PER_IP',
    schema: wholeNumber('of sign-in attempts per minute ', 1, 100000).default(30),
  },
  loginLimitPerAccount: {
    env: 'IDSIGHT_LOGIN_LIMIT_PER_ACCOUNT',
    schema: wholeNumber('of failed sign-in attempts per 15 minutes ', 1, 100000).default(10),
  },
  allowPlainHttp: {
    env: 'IDSIGHT_ALLOW_PLAIN_HTTP',
    schema: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((v) => v === 'true')
      .default(false),
  },
  tlsCertFile: { env: 'IDSIGHT_TLS_CERT_FILE', schema: z.string().min(1).optional() },
  tlsKeyFile: { env: 'IDSIGHT_TLS_KEY_FILE', schema: z.string().min(1).optional() },
  trustProxy: {
    env: 'IDSIGHT_TRUST_PROXY',
    // Which X-Forwarded-* headers to believe: none (false), the last N hops, or only those set by
    // the listed proxy addresses/CIDRs. "Trust everyone" is not offered: anyone reaching the
    // port could then pick their own address for the audit log and the sign-in rate limit.
    schema: z
      .string()
      .trim()
      .refine(
        (v) =>
          v === 'false' || /^[1-9]\d?$/.test(v) || v.split(',').every((p) => isIP(p.trim().split('/')[0] ?? '') !== 0),
        {
          message:
            'must be false, a number of proxy hops (1-99), or a comma-separated list of proxy addresses or CIDRs',
        },
      )
      .transform((v): false | number | string => (v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
      .default(false),
  },
  // The outbound proxy for every Microsoft endpoint (token service and Graph), under the names
  // enterprises already set; the lower-case spelling wins when both are set, as in curl and undici.
  httpsProxy: { env: 'HTTPS_PROXY', alias: 'https_proxy', schema: proxyUrl.optional() },
  noProxy: { env: 'NO_PROXY', alias: 'no_proxy', schema: noProxyList.default('') },
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> } & {
  /** Absolute path of the data directory. */
  dataDir: string;
  /** Where the embedded SQLite database lives when databaseUrl is unset. */
  sqlitePath: string;
};

/** A configuration problem: the message is one line naming the setting and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Reads settings from `env` and, when IDSIGHT_CONFIG_FILE names one, from a JSON file whose keys
 * are the setting names (dataDir, port, …). Environment variables win over the file.
 */
export function loadConfig(env: Env = process.env): Config {
  const file = readConfigFile(env.IDSIGHT_CONFIG_FILE);
  const raw: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const [key, setting] of Object.entries(settings)) {
    const name = envName(setting, env);
    names[key] = name;
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
    else if (file[key] !== undefined)
      raw[key] = typeof file[key] === 'number' || typeof file[key] === 'boolean' ? String(file[key]) : file[key];
  }
  const unknownKeys = Object.keys(file).filter((k) => !(k in settings));
  if (unknownKeys.length > 0) {
    throw new ConfigError(
      `IDSIGHT_CONFIG_FILE: unknown setting ${JSON.stringify(unknownKeys[0])} (known: ${Object.keys(settings).join(', ')})`,
    );
  }

  const out: Record<string, unknown> = {};
  for (const [key, { schema }] of Object.entries(settings)) {
    const name = names[key]!;
    const parsed = (schema as z.ZodType).safeParse(raw[key]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // The master key and URLs that may carry a password (database, proxy) are never echoed.
      const shown =
        key === 'masterKey' || key === 'databaseUrl' || key === 'httpsProxy'
          ? ''
          : ` (got ${JSON.stringify(raw[key])})`;
      throw new ConfigError(`${name}: ${issue?.message ?? 'invalid value'}${shown}`);
    }
    out[key] = parsed.data;
  }
  if (Boolean(out.tlsCertFile) !== Boolean(out.tlsKeyFile)) {
    throw new ConfigError('IDSIGHT_TLS_CERT_FILE and IDSIGHT_TLS_KEY_FILE must be set together');
  }
  const dataDir = path.resolve(out.dataDir as string);
  return { ...(out as Config), dataDir, sqlitePath: path.join(dataDir, 'idsight.db') };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/**
 * Why serving with these settings would send passwords and session cookies over the network in
 * clear: a listening address other than loopback, without TLS here or a TLS proxy in front.
 */
export function plainHttpProblem(config: Pick<Config, 'host' | 'tlsCertFile' | 'trustProxy' | 'allowPlainHttp'>) {
  if (LOOPBACK.test(config.host) || config.tlsCertFile || config.trustProxy !== false || config.allowPlainHttp)
    return undefined;
  return (
    `IDSIGHT_HOST is ${config.host}, reachable from other machines, and idsight would serve plain HTTP there: ` +
    'passwords and session cookies would cross the network in clear. Set IDSIGHT_TLS_CERT_FILE and ' +
    'IDSIGHT_TLS_KEY_FILE, or serve behind a TLS proxy and set IDSIGHT_TRUST_PROXY, ' +
    'or set IDSIGHT_ALLOW_PLAIN_HTTP=true to accept it'
  );
}

/** The variable a setting is read from: its lower-case alias (https_proxy) when that is set. */
function envName(setting: { env: string; alias?: string }, env: Env): string {
  return setting.alias && env[setting.alias] ? setting.alias : setting.env;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `IDSIGHT_CONFIG_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new ConfigError(`IDSIGHT_CONFIG_FILE: ${file} is not a JSON object of settings`);
}
