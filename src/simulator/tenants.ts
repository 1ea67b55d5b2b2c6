// The simulated tenants and their app registrations: fixed shapes (which licence, which app
// state) with ids, secrets and dates drawn from the seed, so every run with one seed offers the
// same credentials.
import { READ_ONLY_PERMISSIONS, READ_WRITE_PERMISSIONS } from './permissions.js';
import { DAY } from './data/time.js';
import { guidOf, hashString, mix, Rng } from './random.js';

export type Licence = 'free' | 'p1' | 'p2';
export type Scenario = 'default' | 'quiet' | 'attacks';

export interface SimSecret {
  keyId: string;
  displayName: string;
  /** The first three characters of the secret, as Entra shows it. */
  hint: string;
  secretText: string;
  startDateTime: number;
  endDateTime: number;
}

export type AppState = 'readwrite' | 'readonly' | 'noconsent' | 'noaudit' | 'expired';

export interface SimApp {
  state: AppState;
  displayName: string;
  /** Application (client) id. */
  appId: string;
  /** Object id of the application object (what /applications returns as id). */
  objectId: string;
  servicePrincipalId: string;
  /** Application permissions with admin consent: the token's `roles`. */
  roles: readonly string[];
  secrets: SimSecret[];
}

export interface SimTenant {
  key: 'contoso' | 'fabrikam' | 'tailspin';
  id: string;
  displayName: string;
  /** The tenant's initial domain (x.onmicrosoft.com); `domains` lists it and the verified ones. */
  initialDomain: string;
  domains: string[];
  licence: Licence;
  intune: boolean;
  userCount: number;
  /** Retention of sign-in and audit logs in days: 30 on P1/P2, 7 on Free. */
  retentionDays: number;
  /** Hash part that makes this tenant's generated data its own. */
  salt: number;
  scenario: Scenario;
  /** Global Administrators among the first users (the attacks scenario has too many). */
  globalAdmins: number;
  apps: SimApp[];
}

const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-';

/** A secret value shaped like Entra's: three characters, "8Q~", then 34 more. */
function secretText(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 37; i++) s += SECRET_CHARS[rng.int(i < 3 ? 62 : SECRET_CHARS.length)];
  return `${s.slice(0, 3)}8Q~${s.slice(3)}`;
}

interface AppPlan {
  state: AppState;
  displayName: string;
  roles: readonly string[];
  /** Secrets as [display name, days from now it was created, days from now it ends]. */
  secrets: Array<[string, number, number]>;
}

const APP_PLANS: AppPlan[] = [
  {
    state: 'readwrite',
    displayName: 'idsight data integration (read/write)',
    roles: READ_WRITE_PERMISSIONS,
    secrets: [
      ['idsight', -20, 710],
      ['idsight (previous)', -300, 45],
    ],
  },
  {
    state: 'readonly',
    displayName: 'idsight data integration',
    roles: READ_ONLY_PERMISSIONS,
    secrets: [
      ['idsight', -100, 265],
      ['old', -700, 60],
    ],
  },
  { state: 'noconsent', displayName: 'idsight (consent pending)', roles: [], secrets: [['idsight', -2, 180]] },
  {
    state: 'noaudit',
    displayName: 'idsight (no audit log permission)',
    roles: READ_ONLY_PERMISSIONS.filter((p) => p !== 'AuditLog.Read.All'),
    secrets: [['idsight', -30, 150]],
  },
  {
    state: 'expired',
    displayName: 'idsight (expired secret)',
    roles: READ_ONLY_PERMISSIONS,
    secrets: [['idsight', -400, -5]],
  },
];

interface TenantPlan {
  key: SimTenant['key'];
  displayName: string;
  domain: string;
  licence: Licence;
  intune: boolean;
  /** Share of `--users` this tenant gets. */
  userShare: number;
}

const TENANT_PLANS: TenantPlan[] = [
  { key: 'contoso', displayName: 'Contoso', domain: 'contoso', licence: 'p2', intune: true, userShare: 1 },
  { key: 'fabrikam', displayName: 'Fabrikam', domain: 'fabrikam', licence: 'p1', intune: false, userShare: 0.2 },
  {
    key: 'tailspin',
    displayName: 'Tailspin Toys',
    domain: 'tailspintoys',
    licence: 'free',
    intune: false,
    userShare: 0.05,
  },
];

export function buildTenants(seed: number, users: number, start: number, scenario: Scenario = 'default'): SimTenant[] {
  return TENANT_PLANS.map((plan) => {
    const salt = mix(seed, hashString(plan.key));
    const apps = APP_PLANS.map((app, a): SimApp => {
      const rng = new Rng(mix(salt, 1000 + a));
      return {
        state: app.state,
        displayName: app.displayName,
        appId: rng.guid(),
        objectId: rng.guid(),
        servicePrincipalId: rng.guid(),
        roles: app.roles,
        secrets: app.secrets.map(([displayName, from, to]) => {
          const text = secretText(rng);
          return {
            keyId: rng.guid(),
            displayName,
            hint: text.slice(0, 3),
            secretText: text,
            startDateTime: start + from * DAY,
            endDateTime: start + to * DAY,
          };
        }),
      };
    });
    return {
      key: plan.key,
      id: guidOf(salt, 1),
      displayName: plan.displayName,
      initialDomain: `${plan.domain}.onmicrosoft.com`,
      domains: [`${plan.domain}.onmicrosoft.com`, `${plan.domain}.example`],
      licence: plan.licence,
      intune: plan.intune,
      userCount: Math.max(12, Math.round(users * plan.userShare)),
      retentionDays: plan.licence === 'free' ? 7 : 30,
      salt,
      scenario,
      globalAdmins: scenario === 'attacks' && plan.key === 'contoso' ? 12 : 4,
      apps,
    };
  });
}

/** Finds a tenant by GUID or by one of its domain names (case-insensitive), as the token endpoint does. */
export function findTenant(tenants: readonly SimTenant[], idOrDomain: string): SimTenant | undefined {
  const key = idOrDomain.toLowerCase();
  return tenants.find((t) => t.id === key || t.domains.includes(key));
}
