// Graph records are kept byte for byte, but compactly (DESIGN §5): consecutive records of a page
// are joined by newlines (a stored record is always one line) and compressed together as a
// block. Brotli at quality 1 on blocks of a quarter page measured best on the simulator's
// sign-ins: about 150 bytes per interactive and 215 per non-interactive sign-in (2.1 and 3.1 KB
// as JSON) at 3–4 µs per record, where deflate gave 230/330 bytes at 6–8 µs. Larger blocks
// compress a little better but cost more to open for one record.
import { hash } from 'node:crypto';
import { brotliCompress, brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { promisify } from 'node:util';

/** Most records in a block. A page of 1,000 makes four blocks. */
export const BLOCK_RECORDS = 256;

const OPTIONS = {
  params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
};

/** Splits `n` records into runs of at most BLOCK_RECORDS, as even as can be: [start, end) pairs. */
export function blockRanges(n: number): Array<[number, number]> {
  const blocks = Math.ceil(n / BLOCK_RECORDS);
  return Array.from({ length: blocks }, (_, b) => [Math.floor((b * n) / blocks), Math.floor(((b + 1) * n) / blocks)]);
}

/** Compresses records given as their lines (one record each, joined by newlines; UTF-8 when bytes). */
export const compressBlock = (lines: string | Uint8Array): Buffer => brotliCompressSync(lines, OPTIONS);

const compressAsync = promisify(brotliCompress) as (buf: string | Uint8Array, o: typeof OPTIONS) => Promise<Buffer>;
/** The same, on libuv's thread pool: the caller's thread goes on meanwhile. */
export const compressBlockAsync = (lines: string | Uint8Array): Promise<Buffer> => compressAsync(lines, OPTIONS);

const NEWLINE = Buffer.from('\n');

/** The lines of records `indexes` of a batch (`spans` from recordSpans, in bytes): a view when they are consecutive. */
export function blockLines(records: Uint8Array, spans: Uint32Array, indexes: readonly number[]): Uint8Array {
  const first = indexes[0]!;
  const last = indexes[indexes.length - 1]!;
  if (last - first === indexes.length - 1) return records.subarray(spans[2 * first], spans[2 * last + 1]);
  return Buffer.concat(
    indexes.flatMap((i, k) => [...(k > 0 ? [NEWLINE] : []), records.subarray(spans[2 * i], spans[2 * i + 1])]),
  );
}

/** The records of a block, in the order they were stored. */
export function decompressBlock(data: Uint8Array): string[] {
  return brotliDecompressSync(data).toString('utf8').split('\n');
}

/**
 * A record's fingerprint: 48 bits of its SHA-256, a safe integer in JavaScript and either
 * database. Versions of a record are compared by it, so a re-read record that has not changed
 * is recognised without opening its block.
 */
export function digestOf(text: string | Uint8Array): number {
  return hash('sha256', text, 'buffer').readUIntBE(0, 6);
}
