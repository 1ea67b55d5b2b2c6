// idsight's files hold personal data and secrets: the data folder is its owner's alone (0700) and
// each file in it 0600, whatever the umask; a file that others may read is refused by name rather
// than used (someone loosened it, or an older version made it so).
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/** A file or folder of idsight's that other users may read or write. */
export class UnsafeFileError extends Error {}

/** The folder, made with its missing parents, 0700 (a folder that exists keeps its mode). */
export function ensurePrivateDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // mkdir's mode passes through the umask
}

/** Creates the file empty and 0600 unless it exists. */
export function ensurePrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
    chmodSync(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Refuses a file that exists and that the group or others may use, saying how to fix it. */
export function assertPrivate(file: string, what: string): void {
  if (!existsSync(file)) return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new UnsafeFileError(
      `${what} ${file} is readable by other users (mode ${mode.toString(8)}): run chmod 600 on it ` +
        '(and chmod 700 on its folder) before starting idsight',
    );
}
