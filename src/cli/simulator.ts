// The simulated tenant started from a command's flags (`simulate`, `demo`): the flags go to the
// simulator's own schema as given, and what it refuses, or a port it cannot listen on, becomes a
// usage error naming the flag.
import type { Simulator } from '../simulator/server.js';
import { listenProblem, type PortSource } from './ports.js';
import { UsageError } from './run.js';

/** The simulator's options as flags give them (strings, unchecked); undefined ones are left out. */
export type SimulatorFlags = Record<string, string | boolean | undefined>;

export async function startSimulatorFromFlags(flags: SimulatorFlags, listen?: PortSource): Promise<Simulator> {
  // loaded on demand: the other commands never load the simulator
  const [{ startSimulator }, { SimulatorOptionError }] = await Promise.all([
    import('../simulator/server.js'),
    import('../simulator/options.js'),
  ]);
  const options = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  try {
    return await startSimulator(options as Parameters<typeof startSimulator>[0]);
  } catch (err) {
    if (err instanceof SimulatorOptionError) throw new UsageError(err.message);
    throw (listen && listenProblem(err, listen)) ?? err;
  }
}
