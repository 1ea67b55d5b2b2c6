// The tenant's licences (subscribedSkus) and the organization resource: Office 365 for
// everyone, Entra ID P1 or P2 and Intune as the tenant is licensed, with Microsoft's product and
// service plan ids.
import { guidOf } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { personAt } from './people.js';
import { DAY, isoSeconds } from './time.js';

interface ServicePlan {
  id: string;
  name: string;
  /** The organization's assignedPlans service name. */
  service: string;
}
const PLANS = {
  exchangeFoundation: {
    id: '113feb6c-3fe4-4440-bddc-54d774bf0318',
    name: 'EXCHANGE_S_FOUNDATION',
    service: 'exchange',
  },
  exchangeP2: { id: 'efb87545-963c-4e0d-99df-69c6916d9eb0', name: 'EXCHANGE_S_ENTERPRISE', service: 'exchange' },
  exchangeP1: { id: '9aaf7827-d63c-4b61-89c3-182f06f82e5c', name: 'EXCHANGE_S_STANDARD', service: 'exchange' },
  sharepointP2: { id: '5dbe027f-2339-4123-9542-606e4d348a72', name: 'SHAREPOINTENTERPRISE', service: 'SharePoint' },
  sharepointP1: { id: 'c7699d2e-19aa-44de-8edf-1736da088ca1', name: 'SHAREPOINTSTANDARD', service: 'SharePoint' },
  teams: { id: '57ff2da0-773e-42df-b2af-ffb7a2317929', name: 'TEAMS1', service: 'TeamspaceAPI' },
  entraP1: { id: '41781fb2-bc02-4b7c-bd55-b576c07bb09d', name: 'AAD_PREMIUM', service: 'AADPremiumService' },
  entraP2: { id: 'eec0eb4f-6444-4f95-aba0-50c24d67f998', name: 'AAD_PREMIUM_P2', service: 'AADPremiumService' },
  mfa: { id: '8a256a2b-b617-496d-b51b-e76466e88db0', name: 'MFA_PREMIUM', service: 'MultiFactorService' },
  cloudAppDiscovery: { id: '932ad362-64a8-4783-9106-97849a1a30b9', name: 'ADALLOM_S_DISCOVERY', service: 'Adallom' },
  intune: { id: 'c1ec4a95-1f05-45b3-a911-aa3fa01094f5', name: 'INTUNE_A', service: 'SCO' },
} satisfies Record<string, ServicePlan>;

interface Sku {
  skuId: string;
  skuPartNumber: string;
  plans: ServicePlan[];
}
// Product ids and included service plans: "Product names and service plan identifiers for
// licensing" (Entra docs), abridged to the plans that matter here.
const SKUS = {
  office365E3: {
    skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
    skuPartNumber: 'ENTERPRISEPACK',
    plans: [PLANS.exchangeP2, PLANS.exchangeFoundation, PLANS.sharepointP2, PLANS.teams],
  },
  businessBasic: {
    skuId: '3b555118-da6a-4418-894f-7df1e2096870',
    skuPartNumber: 'O365_BUSINESS_ESSENTIALS',
    plans: [PLANS.exchangeP1, PLANS.sharepointP1, PLANS.teams],
  },
  entraP1: {
    skuId: '078d2b04-f1bd-4111-bbd4-b4b1b354cef4',
    skuPartNumber: 'AAD_PREMIUM',
    plans: [PLANS.entraP1, PLANS.cloudAppDiscovery, PLANS.exchangeFoundation, PLANS.mfa],
  },
  entraP2: {
    skuId: '84a661c4-e949-4bd2-a560-ed7766fcaf2b',
    skuPartNumber: 'AAD_PREMIUM_P2',
    plans: [PLANS.entraP1, PLANS.entraP2, PLANS.cloudAppDiscovery, PLANS.exchangeFoundation, PLANS.mfa],
  },
  intune: { skuId: '061f9ace-7d42-4136-88ac-31dc755f143f', skuPartNumber: 'INTUNE_A', plans: [PLANS.intune] },
} satisfies Record<string, Sku>;

/** The tenant's subscriptions: Office 365 for everyone, Entra premium and Intune by licence. */
function tenantSkus(tenant: SimTenant): Sku[] {
  if (tenant.licence === 'free') return [SKUS.businessBasic]; // no Entra premium plan at all
  return [
    SKUS.office365E3,
    tenant.licence === 'p2' ? SKUS.entraP2 : SKUS.entraP1,
    ...(tenant.intune ? [SKUS.intune] : []),
  ];
}

/** The ids of the tenant's subscriptions, in /subscribedSkus order (users' assignedLicenses). */
export const tenantSkuIds = (tenant: SimTenant): string[] => tenantSkus(tenant).map((s) => s.skuId);

/** Members of the generated directory (licences consumed), counted once per tenant. */
const memberCounts = new WeakMap<SimTenant, number>();
function memberCount(tenant: SimTenant, start: number): number {
  let members = memberCounts.get(tenant);
  if (members === undefined) {
    members = 0;
    for (let i = 0; i < tenant.userCount; i++) if (personAt(tenant, i, start).userType === 'Member') members++;
    memberCounts.set(tenant, members);
  }
  return members;
}

export function renderSubscribedSkus(tenant: SimTenant, start: number): Record<string, unknown>[] {
  const members = memberCount(tenant, start);
  return tenantSkus(tenant).map((sku, k) => {
    const consumed = sku.skuPartNumber === 'INTUNE_A' ? Math.round(members * 0.8) : members;
    return {
      accountName: tenant.displayName,
      accountId: tenant.id,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: consumed,
      id: `${tenant.id}_${sku.skuId}`,
      prepaidUnits: { enabled: Math.ceil((consumed + 5) / 25) * 25, lockedOut: 0, suspended: 0, warning: 0 },
      servicePlans: sku.plans.map((p) => ({
        servicePlanId: p.id,
        servicePlanName: p.name,
        provisioningStatus: 'Success',
        appliesTo: p === PLANS.exchangeFoundation ? 'Company' : 'User',
      })),
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      subscriptionIds: [guidOf(tenant.salt, 95, k)],
    };
  });
}

/** When the tenant was created: before its oldest user. */
export const tenantCreated = (tenant: SimTenant, start: number): number => start - (1600 + (tenant.salt % 200)) * DAY;

export function renderOrganization(tenant: SimTenant, start: number): Record<string, unknown> {
  const created = tenantCreated(tenant, start);
  const assigned = new Map<string, ServicePlan>();
  for (const sku of tenantSkus(tenant)) for (const p of sku.plans) assigned.set(p.id, p);
  const services = [...new Set([...assigned.values()].map((p) => p.service))];
  const customDomain = tenant.domains[1];
  return {
    id: tenant.id,
    deletedDateTime: null,
    businessPhones: ['425-555-0100'],
    city: 'Redmond',
    country: 'United States',
    countryLetterCode: 'US',
    createdDateTime: isoSeconds(created),
    defaultUsageLocation: 'US',
    displayName: tenant.displayName,
    marketingNotificationEmails: [],
    onPremisesLastSyncDateTime: isoSeconds(start - 23 * 60_000),
    onPremisesSyncEnabled: true,
    partnerTenantType: null,
    postalCode: '98052',
    preferredLanguage: 'en',
    securityComplianceNotificationMails: [],
    securityComplianceNotificationPhones: [],
    state: 'WA',
    street: '1 Microsoft Way',
    technicalNotificationMails: [`admin@${customDomain ?? tenant.initialDomain}`],
    tenantType: 'AAD',
    assignedPlans: [...assigned.values()].map((p) => ({
      assignedDateTime: isoSeconds(created + 2 * DAY),
      capabilityStatus: 'Enabled',
      service: p.service,
      servicePlanId: p.id,
    })),
    privacyProfile: { contactEmail: '', statementUrl: '' },
    provisionedPlans: services.map((service) => ({
      capabilityStatus: 'Enabled',
      provisioningStatus: 'Success',
      service,
    })),
    verifiedDomains: tenant.domains.map((name) => ({
      capabilities:
        name === tenant.initialDomain
          ? 'Email, OfficeCommunicationsOnline'
          : 'Email, OfficeCommunicationsOnline, OrgIdAuthentication',
      isDefault: name === (customDomain ?? tenant.initialDomain),
      isInitial: name === tenant.initialDomain,
      name,
      type: 'Managed',
    })),
  };
}
