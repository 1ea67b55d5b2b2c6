// The Microsoft clouds idsight can connect to: where their token service and Microsoft Graph
// live (reference/graph-facts.md §1.1), and a "custom" cloud (the simulator, private test rigs)
// whose endpoints and CA bundle the administrator gives and we validate.
import { X509Certificate } from 'node:crypto';
import { ValidationError } from '../errors.js';

export type CloudName = 'global' | 'usgov' | 'usgov-dod' | 'china' | 'custom';

export interface CloudEndpoints {
  name: CloudName;
  /** https origin of the token service, no trailing slash: the authority is `${authorityHost}/${tenant}`. */
  authorityHost: string;
  /** https root of Microsoft Graph, no trailing slash, no version: the scope is `${graphUrl}/.default`. */
  graphUrl: string;
  /** PEM CA certificates to trust instead of the system roots (custom clouds only). */
  caPem?: string;
}

export const CLOUD_NAMES: readonly CloudName[] = ['global', 'usgov', 'usgov-dod', 'china', 'custom'];

/** Human names, for messages ("…signing in to the US Government cloud"). */
export const CLOUD_LABELS: Record<CloudName, string> = {
  global: 'Global (worldwide)',
  usgov: 'US Government (GCC High)',
  'usgov-dod': 'US Government DoD',
  china: 'China (21Vianet)',
  custom: 'custom',
};

/**
 * The national clouds. China: Microsoft's Graph docs name login.chinacloudapi.cn, its Entra docs
 * login.partner.microsoftonline.cn; MSAL lists both as aliases of one cloud and prefers the
 * latter, for which it also carries built-in endpoint metadata (no discovery call), so we use it.
 * GCC (not High) uses the global endpoints.
 */
const NATIONAL: Record<Exclude<CloudName, 'custom'>, Omit<CloudEndpoints, 'name'>> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us' },
  'usgov-dod': { authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://dod-graph.microsoft.us' },
  china: {
    authorityHost: 'https://login.partner.microsoftonline.cn',
    graphUrl: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

export interface CustomCloudInput {
  authorityHost: string;
  graphUrl: string;
  caPem?: string;
}

/**
 * The endpoints of a cloud. `custom` needs `custom` (https URLs without credentials, query or
 * fragment; an optional PEM bundle of CA certificates); the others refuse it. Throws
 * ValidationError naming the field at fault.
 */
export function resolveCloud(name: CloudName, custom?: CustomCloudInput): CloudEndpoints {
  if (!CLOUD_NAMES.includes(name)) {
    throw new ValidationError(`Unknown cloud "${String(name)}": use one of ${CLOUD_NAMES.join(', ')}.`, {
      field: 'cloud',
    });
  }
  if (name !== 'custom') {
    if (custom) {
      throw new ValidationError(
        `An authority host, Graph URL or CA certificate applies only to the custom cloud, not to "${name}", whose endpoints are fixed.`,
        { field: 'cloud' },
      );
    }
    return { name, ...NATIONAL[name] };
  }
  if (!custom)
    throw new ValidationError('The custom cloud needs an authority host and a Graph URL.', { field: 'cloud' });
  const authorityHost = httpsBase(custom.authorityHost, 'authorityHost', 'Authority host');
  const graphUrl = httpsBase(custom.graphUrl, 'graphUrl', 'Graph URL');
  const caPem = custom.caPem === undefined || custom.caPem.trim() === '' ? undefined : checkCaPem(custom.caPem);
  return { name, authorityHost, graphUrl, ...(caPem ? { caPem } : {}) };
}

/** An https URL to use as a base: parsed, no credentials/query/fragment, no trailing slash. */
function httpsBase(raw: string, field: string, label: string): string {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (!text) throw new ValidationError(`${label} is required for the custom cloud.`, { field });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`${label} "${printable(text)}" is not a URL: give it as https://host[:port].`, { field });
  }
  if (url.protocol !== 'https:') {
    throw new ValidationError(
      `${label} must use https (Microsoft's token service and MSAL accept nothing else), not ${url.protocol.replace(':', '')}.`,
      { field },
    );
  }
  if (url.username || url.password)
    throw new ValidationError(`${label} must not contain a user name or password.`, { field });
  if (url.search || url.hash)
    throw new ValidationError(`${label} must not have a query string or fragment.`, { field });
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Checks a PEM bundle holds only X.509 certificates (at least one); returns it normalised. */
function checkCaPem(pem: string): string {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    throw new ValidationError('The CA bundle is not PEM: expected one or more "-----BEGIN CERTIFICATE-----" blocks.', {
      field: 'caPem',
    });
  }
  const certs: string[] = [];
  for (const [block, kind] of blocks) {
    if (kind !== 'CERTIFICATE') {
      const hint = kind?.includes('PRIVATE KEY')
        ? ' That is a private key: never paste it; give the CA certificate instead.'
        : '';
      throw new ValidationError(`The CA bundle holds a "${kind}" block; only CERTIFICATE blocks are accepted.${hint}`, {
        field: 'caPem',
      });
    }
    try {
      new X509Certificate(block);
    } catch {
      throw new ValidationError(
        'The CA bundle holds a CERTIFICATE block that does not parse as an X.509 certificate.',
        { field: 'caPem' },
      );
    }
    certs.push(block);
  }
  return `${certs.join('\n')}\n`;
}

/** At most 200 printable characters of user input, for an error message. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
