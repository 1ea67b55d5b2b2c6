// Slicing each record's text out of a collection page: the slices must be exactly the items
// JSON.parse sees, whatever the strings inside them hold.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { arrayItemSpans, arrayItemTexts as textsOfBytes } from '../../src/entra/page-text.js';

/** The scanner reads bytes (UTF-8), as a page arrives. */
const arrayItemTexts = (json: string, key: string) => textsOfBytes(Buffer.from(json), key);

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/microsoft/graph-v1');

/**
 * One text per item; each parses to the page's item and is one line without surrounding
 * whitespace. Items laid out over whitespace have none; on a compact page every item has one.
 */
function assertItems(json: string, compact: boolean, key = 'value'): Array<string | undefined> {
  const texts = arrayItemTexts(json, key);
  const parsed = (JSON.parse(json) as Record<string, unknown>)[key] as unknown[];
  assert.ok(texts, 'the array was found');
  assert.equal(texts.length, parsed.length);
  texts.forEach((t, i) => {
    if (t === undefined) return assert.ok(!compact, `item ${i} of a compact page has its text`);
    assert.deepEqual(JSON.parse(t), parsed[i], `item ${i}`);
    assert.ok(t === t.trim() && !t.includes('\n'), `item ${i} is one line without surrounding whitespace`);
  });
  return texts;
}

describe('record texts of a collection page', () => {
  test("Microsoft's example pages, pretty-printed and compact (nextLink and deltaLink annotations)", () => {
    const pages = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    let checked = 0;
    for (const file of pages) {
      const json = readFileSync(path.join(FIXTURES, file), 'utf8');
      const body = JSON.parse(json) as Record<string, unknown>;
      if (!Array.isArray(body.value)) {
        assert.equal(arrayItemTexts(json, 'value'), undefined, file);
        continue;
      }
      // pretty-printed, as Microsoft documents them: no object item has a one-line text
      const texts = assertItems(json, false);
      body.value.forEach(
        (item, i) =>
          item &&
          typeof item === 'object' &&
          Object.keys(item).length > 0 &&
          assert.equal(texts[i], undefined, `${file} item ${i}`),
      );
      // compact, as Graph answers: every item's text is exactly what JSON.stringify writes
      assert.deepEqual(
        assertItems(JSON.stringify(body), true),
        body.value.map((v) => JSON.stringify(v)),
        file,
      );
      checked++;
    }
    assert.ok(checked >= 15, `${checked} pages checked`);
  });

  test('compact pages are sliced to exactly what JSON.stringify writes', () => {
    const value = [
      { id: 'a', n: 1 },
      { id: 'b', nested: { value: [1, 2] } },
    ];
    const json = JSON.stringify({
      '@odata.nextLink': 'https://graph.microsoft.com/v1.0/x?$skiptoken=1',
      value,
      '@odata.count': 2,
    });
    assert.deepEqual(
      arrayItemTexts(json, 'value'),
      value.map((v) => JSON.stringify(v)),
    );
  });

  test('strings that look like structure, escapes and backslashes do not move the boundaries', () => {
    const value = [
      { name: 'a "quoted", [bracketed] {braced} name', path: 'C:\\dir\\', tail: '\\' },
      { text: '"value":[1,2]', esc: '\\"', unicode: 'Zoë 東京 \u2028', control: '\n\t' },
      'a string item, with a comma]',
      42,
      -1.5e-3,
      true,
      null,
      [],
      {},
      [[1, [2, { value: [3] }]], 'x'],
    ];
    assertItems(JSON.stringify({ context: 'value', value }), true);
    assertItems(JSON.stringify({ value }, null, 2), false);
    // whitespace between the items and around the page is not the items': all keep their text
    assertItems(
      ` \n { "x" : "value" , "value" : [ ${value.map((v) => JSON.stringify(v)).join(' ,\n ')} ] , "y" : [ 1 ] } `,
      true,
    );
  });

  test('spans are byte offsets into the UTF-8 page; an item over whitespace spans nothing', () => {
    const value = [{ city: 'Zürich', name: '東京 "x"' }, { a: [1, 2] }, 'é'];
    const page = Buffer.from(`{"@odata.context":"ü","value":[${JSON.stringify(value[0])},{ "a": [1, 2] },"é"]}`);
    const spans = arrayItemSpans(page, 'value')!;
    assert.equal(spans.length, 6);
    assert.deepEqual(JSON.parse(page.subarray(spans[0], spans[1]).toString('utf8')), value[0]);
    assert.deepEqual([spans[2], spans[3]], [0, 0]);
    assert.equal(page.subarray(spans[4], spans[5]).toString('utf8'), '"é"');
  });

  test('the top-level member only; a repeated member counts once, the last, as in JSON.parse', () => {
    assert.equal(arrayItemTexts(JSON.stringify({ outer: { value: [1, 2] } }), 'value'), undefined);
    assert.equal(arrayItemTexts(JSON.stringify({ value: 'not an array' }), 'value'), undefined);
    assert.equal(arrayItemTexts(JSON.stringify([{ value: [1] }]), 'value'), undefined);
    assert.deepEqual(arrayItemTexts('{"value":[1,2],"value":[{"id":"b"}]}', 'value'), ['{"id":"b"}']);
    assert.deepEqual(arrayItemTexts('{"value":[]}', 'value'), []);
    assert.deepEqual(arrayItemTexts('{"value":[ ]}', 'value'), []);
    // a member name is compared as JSON.parse reads it
    assert.deepEqual(arrayItemTexts('{"value":[1],"val\\u0075e":[{"id":"b"}]}', 'value'), ['{"id":"b"}']);
    assert.deepEqual(arrayItemTexts('{"val\\"ue":[1]}', 'value'), undefined);
  });

  test('randomly built pages', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const chars = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'é', '\n', 'value'];
    const str = () =>
      Array.from({ length: Math.floor(rand() * 8) }, () => chars[Math.floor(rand() * chars.length)]).join('');
    const build = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3)
        return [str(), Math.round(rand() * 1000) / 10, rand() < 0.5, null][Math.floor(rand() * 4)];
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => build(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 4) }, () => [rand() < 0.2 ? 'value' : str(), build(depth + 1)]),
      );
    };
    for (let i = 0; i < 300; i++) {
      const value = Array.from({ length: Math.floor(rand() * 6) }, () => build(0));
      const page = { [str()]: build(1), value, [`${str()}x`]: build(1) };
      const compact = rand() < 0.5;
      assertItems(JSON.stringify(page, null, compact ? 0 : 1), compact);
    }
  });
});
