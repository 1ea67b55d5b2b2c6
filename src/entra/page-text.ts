// The verbatim text of each record on a collection page. Stores keep the whole Graph record as
// JSON; slicing it out of the page's bytes as received costs less than serialising the parsed
// record again (JSON.stringify) and keeps Graph's own bytes.
// Hand-written rather than a streaming JSON parser: the page was parsed already (JSON.parse, which
// validated it); this only finds where the items of one top-level array begin and end, and
// streaming parsers rebuild every value, which is the cost being avoided. It reads UTF-8 bytes:
// JSON's structure is ASCII, and no byte of a multi-byte character is below 0x80.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const isOpen = (c: number) => c === 0x7b || c === 0x5b; // { [
const isClose = (c: number) => c === 0x7d || c === 0x5d; // } ]
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Where each item of the array under `key` in the top-level object of `json` lies: [start, end)
 * byte offsets per item, in order; undefined when there is no such array. An item laid out over
 * whitespace (a pretty-printed page) gets [0, 0], as no item is empty: stored records are one
 * line each (JSON Lines exports rely on it). `json` must be valid JSON (parse it first).
 */
export function arrayItemSpans(json: Uint8Array, key: string): Uint32Array | undefined {
  const bytes = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const n = bytes.length;
  let depth = 0;
  let expectingKey = false; // in the top-level object, the next string is a member name
  let member = ''; // the top-level member being read
  let items: number[] | undefined;
  let inItems = false; // inside the array under `key`
  let itemStart = -1;
  let itemEnd = -1; // just past the current item's last byte
  let spaced = false; // the current item has whitespace between its tokens
  const push = () => {
    items!.push(spaced ? 0 : itemStart, spaced ? 0 : itemEnd);
    itemStart = -1;
    spaced = false;
  };
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (isSpace(c)) {
      if (inItems && depth > 2) spaced = true;
      continue;
    }
    if (inItems && depth === 2 && itemStart < 0 && c !== COMMA && !isClose(c)) itemStart = i;
    if (c === QUOTE) {
      const start = i;
      // to the closing quote: one not preceded by an odd number of backslashes
      for (;;) {
        i = bytes.indexOf(QUOTE, i + 1);
        let k = i - 1;
        while (bytes[k] === BACKSLASH) k--;
        if ((i - 1 - k) % 2 === 0) break;
      }
      if (depth === 1 && expectingKey) {
        member = bytes.toString('utf8', start + 1, i);
        if (member.includes('\\')) member = JSON.parse(`"${member}"`) as string; // "val\u0075e" is "value"
        expectingKey = false;
      }
    } else if (isOpen(c)) {
      depth++;
      if (depth === 1) expectingKey = c === 0x7b;
      else if (depth === 2 && c === 0x5b && member === key) {
        // a repeated member replaces the earlier one, as in JSON.parse
        items = [];
        inItems = true;
        continue;
      }
    } else if (isClose(c)) {
      if (inItems && depth === 2) {
        if (itemStart >= 0) push();
        inItems = false;
      }
      depth--;
    } else if (c === COMMA) {
      if (depth === 1) expectingKey = true;
      else if (inItems && depth === 2) push();
      continue;
    } else if (c === COLON) {
      continue;
    }
    itemEnd = i + 1;
  }
  return items && Uint32Array.from(items);
}

/** The text of each item of the array under `key` (see arrayItemSpans); undefined for an item laid out over whitespace. */
export function arrayItemTexts(json: Uint8Array, key: string): Array<string | undefined> | undefined {
  const spans = arrayItemSpans(json, key);
  return spans && spanTexts(json, spans);
}

/** The texts at `spans` (from arrayItemSpans) of `json`; undefined for [0, 0]. */
export function spanTexts(json: Uint8Array, spans: Uint32Array): Array<string | undefined> {
  const bytes = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  return Array.from({ length: spans.length / 2 }, (_, i) =>
    spans[2 * i + 1] === 0 ? undefined : bytes.toString('utf8', spans[2 * i], spans[2 * i + 1]),
  );
}
