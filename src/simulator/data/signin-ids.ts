// Ids of generated sign-ins carry where the record lives (stream, hour, index), enciphered under
// the tenant's salt, so GET /auditLogs/signIns/{id} regenerates one record instead of scanning a
// month of them. The id stays a random-looking version-4 GUID. Any GUID deciphers to some
// coordinates, so a caller confirms a match by regenerating the record and comparing ids.
import { guidFrom, mix, type Rng } from '../random.js';

export interface SignInCoordinates {
  typeIdx: number;
  hour: number;
  index: number;
}

const ROUNDS = 4;
const round = (salt: number, r: number, half: number): number => mix(salt, 0x51d, r, half);

/**
 * The id of record `index` of stream `typeIdx` in `hour`. Draws four words from `rng` as
 * Rng.guid() does (so the record's later draws do not move) and keeps two of them; the other two
 * hold the enciphered coordinates in the GUID's first and last eight hex digits, which
 * guidFrom leaves as they are.
 */
export function signInId(salt: number, { typeIdx, hour, index }: SignInCoordinates, rng: Rng): string {
  rng.uint32();
  const b = rng.uint32();
  const c = rng.uint32();
  rng.uint32();
  let l = hour >>> 0;
  let r = ((typeIdx << 30) | index) >>> 0;
  for (let k = 0; k < ROUNDS; k++) [l, r] = [r, (l ^ round(salt, k, r)) >>> 0];
  return guidFrom(l, b, c, r);
}

const GUID = /^([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}([0-9a-f]{8})$/;

/** The coordinates an id deciphers to, or undefined when it is not a GUID. */
export function signInCoordinates(salt: number, id: string): SignInCoordinates | undefined {
  const m = GUID.exec(id);
  if (!m) return undefined;
  let l = parseInt(m[1]!, 16);
  let r = parseInt(m[2]!, 16);
  for (let k = ROUNDS - 1; k >= 0; k--) [l, r] = [(r ^ round(salt, k, l)) >>> 0, l];
  return { typeIdx: r >>> 30, hour: l, index: r & 0x3fffffff };
}
