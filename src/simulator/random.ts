// Deterministic randomness: every simulated value is a pure function of the seed and the
// value's coordinates (tenant, hour, index…), so data is generated on demand — never stored —
// and the same seed always serves byte-identical pages.

/** A 32-bit hash of integer parts (murmur3's finaliser over a running state). */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // parts may exceed 32 bits (hours since the epoch, ms timestamps): fold the high word in
    h = fmix(h ^ (part >>> 0) ^ fmix(Math.floor(part / 4294967296) + 0x7f4a7c15));
  }
  return h;
}

function fmix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a string (FNV-1a), to turn names into hash parts. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small, fast PRNG (mulberry32) for drawing several values for one generated object. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uint32(): number {
    return Math.floor(this.next() * 4294967296);
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** Picks by weight: `items` pairs of [value, weight]. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [v, w] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items[items.length - 1]![0];
  }
  guid(): string {
    return guidFrom(this.uint32(), this.uint32(), this.uint32(), this.uint32());
  }
}

// Byte → two hex digits: GUIDs are made for every generated record, so this is hot.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex4 = (n: number): string => HEX[(n >>> 8) & 255]! + HEX[n & 255]!;

/** A version-4-shaped GUID from 128 bits. */
export function guidFrom(a: number, b: number, c: number, d: number): string {
  const b4 = (b & 0xffff0fff) | 0x00004000;
  const c4 = (c & 0x3fffffff) | 0x80000000;
  return `${hex4(a >>> 16)}${hex4(a)}-${hex4(b4 >>> 16)}-${hex4(b4)}-${hex4(c4 >>> 16)}-${hex4(c4)}${hex4(d >>> 16)}${hex4(d)}`;
}

/** A GUID that is a pure function of its parts. */
export function guidOf(...parts: number[]): string {
  return new Rng(mix(...parts)).guid();
}
