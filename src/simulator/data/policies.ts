// The tenant's conditional-access policies: shared by the policies endpoint and by sign-ins,
// whose appliedConditionalAccessPolicies name them.
import { guidOf } from '../random.js';
import type { SimTenant } from '../tenants.js';

export interface CaPolicyPlan {
  id: string;
  displayName: string;
  state: 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';
  /** What it applies to, in the simulator's terms. */
  target: 'admins' | 'legacyAuth' | 'azureManagement';
  grant: 'mfa' | 'block' | 'compliantDevice';
}

export function caPolicyPlans(tenant: SimTenant): CaPolicyPlan[] {
  if (tenant.licence === 'free') return []; // conditional access needs P1
  const plans: CaPolicyPlan[] = [
    {
      id: guidOf(tenant.salt, 30, 1),
      displayName: 'Require MFA for administrators',
      state: 'enabled',
      target: 'admins',
      grant: 'mfa',
    },
    {
      id: guidOf(tenant.salt, 30, 2),
      displayName: 'Block legacy authentication',
      state: 'enabled',
      target: 'legacyAuth',
      grant: 'block',
    },
    {
      id: guidOf(tenant.salt, 30, 3),
      displayName: 'Require compliant device for Azure management',
      state: 'enabledForReportingButNotEnforced',
      target: 'azureManagement',
      grant: 'compliantDevice',
    },
  ];
  // Posture problem of the attack scenario: nothing blocks legacy authentication.
  return tenant.scenario === 'attacks' ? plans.filter((p) => p.target !== 'legacyAuth') : plans;
}
