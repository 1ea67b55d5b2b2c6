// Graph records are kept byte for byte, but compactly (DESIGN §5): consecutive records of a page
// are joined by newlines (a stored record is always one line) and compressed together as a
// block. Brotli at quality 1 on blocks of a quarter page measured best on the simulator's
// sign-ins: about 150 bytes per interactive and 215 per non-interactive sign-in (2.1 and 3.1 KB
// as JSON) at 3–4 µs per record, where deflate gave 230/330 bytes at 6–8 µs. Larger blocks
// compress a little better but cost more to open for one record.
import { createHash } from 'node:crypto';
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

const joined = (texts: readonly string[]): Buffer => {
  for (const t of texts) if (t.includes('\n')) throw new Error('internal error: a stored record must be one line');
  return Buffer.from(texts.join('\n'), 'utf8');
};

export const compressBlock = (texts: readonly string[]): Buffer => brotliCompressSync(joined(texts), OPTIONS);

const compressAsync = promisify(brotliCompress) as (buf: Buffer, o: typeof OPTIONS) => Promise<Buffer>;
/** The same, on libuv's thread pool: the caller's thread goes on meanwhile. */
export const compressBlockAsync = (texts: readonly string[]): Promise<Buffer> => compressAsync(joined(texts), OPTIONS);

/** The records of a block, in the order they were stored. */
export function decompressBlock(data: Uint8Array): string[] {
  return brotliDecompressSync(data).toString('utf8').split('\n');
}

/**
 * A record's fingerprint: 48 bits of its SHA-256, a safe integer in JavaScript and either
 * database. Versions of a record are compared by it, so a re-read record that has not changed
 * is recognised without opening its block.
 */
export function digestOf(text: string): number {
  return createHash('sha256').update(text).digest().readUIntBE(0, 6);
}
