// What the simulator's routes and its control API share, in a module of its own so that they
// need not import the server that builds it.
import type { PostureOverlay } from './data/auth-methods.js';
import type { Directory } from './data/directory.js';
import type { Incident } from './data/scenarios.js';
import type { SignInSource, SignInSpec } from './data/signins.js';
import type { Faults } from './faults.js';
import type { WriteCall } from './graph/dispatch.js';
import type { SimulatorOptions } from './options.js';
import type { SimClock } from './sim-clock.js';
import type { SimTenant } from './tenants.js';

/** Everything the routes and the control API share. */
export interface SimState {
  options: SimulatorOptions;
  clock: SimClock;
  start: number;
  tenants: SimTenant[];
  faults: Faults;
  setFaults(changes: Record<string, unknown>): Faults;
  signIns(tenant: SimTenant): SignInSource;
  /** The attack scenario's incidents (ground truth) and their sign-ins, built once per tenant. */
  incidents(tenant: SimTenant): Incident[];
  incidentSignIns(tenant: SimTenant): SignInSpec[];
  writes: WriteCall[];
  resetThrottle(): void;
  /** Authentication methods deleted through Graph (per tenant and user). */
  posture: PostureOverlay;
  /** Each tenant's users and groups with the changes made at run time. */
  directory(tenant: SimTenant): Directory;
}
