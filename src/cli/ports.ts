// Ports the server commands listen on: checked before anything starts (the demo), and a failed
// listen told as the setting or flag to change rather than a raw EADDRINUSE.
import { createServer } from 'node:net';
import { UsageError } from './run.js';

/** Where a port comes from, as the user changes it: "set IDSIGHT_PORT" or "pass --sim-port". */
export interface PortSource {
  host: string;
  port: number;
  /** The remedy's wording, e.g. "set IDSIGHT_PORT to a free port". */
  remedy: string;
  /** The setting of the listening address, named when the address itself is wrong. */
  hostSetting?: string;
}

/** A failed listen as one line naming what to change, or undefined for errors it cannot explain. */
export function listenProblem(err: unknown, source: PortSource): UsageError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new UsageError(`port ${source.port} is in use: ${source.remedy}`);
  if (code === 'EACCES')
    return new UsageError(
      `port ${source.port} needs privileges this process lacks: ${source.remedy.replace('a free port', 'a free port above 1023')}`,
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new UsageError(
      `cannot listen on ${source.host}: no such address on this machine` +
        `${source.hostSetting ? `: set ${source.hostSetting} to one of its addresses (127.0.0.1 by default)` : ''}`,
    );
  }
  return undefined;
}

/** Throws the UsageError of `listenProblem` when the port cannot be listened on now (port 0: any free port, never checked). */
export async function assertCanListen(source: PortSource): Promise<void> {
  if (source.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenProblem(err, source) ?? err));
    probe.listen({ host: source.host, port: source.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
