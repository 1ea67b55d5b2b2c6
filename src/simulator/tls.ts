// The simulator's HTTPS identity: a CA kept in the state directory (so clients configured to
// trust it keep working across restarts) and a server certificate it signs for the host names
// the simulator answers on.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import selfsigned from 'selfsigned';
import { DAY } from './data/time.js';

export interface SimulatorTls {
  caPath: string;
  ca: string;
  key: string;
  cert: string;
}

const YEAR = 365 * DAY;

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function ensureTls(stateDir: string, host: string): Promise<SimulatorTls> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const caPath = path.join(stateDir, 'ca.pem');
  const caKeyPath = path.join(stateDir, 'ca-key.pem');
  let ca = await readIfExists(caPath);
  let caKey = await readIfExists(caKeyPath);
  if (!ca || !caKey) {
    const made = await selfsigned.generate([{ name: 'commonName', value: 'idsight simulator CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 10 * YEAR),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    ca = made.cert;
    caKey = made.private;
    await writeFile(caKeyPath, caKey, { mode: 0o600 });
    await chmod(caKeyPath, 0o600);
    await writeFile(caPath, ca, { mode: 0o644 });
  }
  // The server certificate is cheap to make: a fresh one each start names the current host.
  const names = new Set(['localhost', '127.0.0.1', '::1', host]);
  const server = await selfsigned.generate([{ name: 'commonName', value: host }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + YEAR),
    ca: { key: caKey, cert: ca },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names].map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  return { caPath, ca, key: server.private, cert: server.cert };
}
