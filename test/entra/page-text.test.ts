// Slicing each record's text out of a collection page: the slices must be exactly the items
// JSON.parse sees, whatever the strings inside them hold.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { arrayItemTexts } from '../../src/entra/page-text.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/microsoft/graph-v1');

/** The items' texts must parse to the page's items, and carry no surrounding whitespace. */
function assertItems(json: string, key = 'value'): string[] {
  const texts = arrayItemTexts(json, key);
  const parsed = (JSON.parse(json) as Record<string, unknown>)[key] as unknown[];
  assert.ok(texts, 'the array was found');
  assert.equal(texts.length, parsed.length);
  texts.forEach((t, i) => {
    assert.deepEqual(JSON.parse(t), parsed[i], `item ${i}`);
    assert.equal(t, t.trim(), `item ${i} has no surrounding whitespace`);
  });
  return texts;
}

describe('record texts of a collection page', () => {
  test("Microsoft's example pages (pretty-printed, nextLink and deltaLink annotations)", () => {
    const pages = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    let checked = 0;
    for (const file of pages) {
      const json = readFileSync(path.join(FIXTURES, file), 'utf8');
      const body = JSON.parse(json) as Record<string, unknown>;
      if (!Array.isArray(body.value)) {
        assert.equal(arrayItemTexts(json, 'value'), undefined, file);
        continue;
      }
      assertItems(json);
      checked++;
    }
    assert.ok(checked >= 15, `${checked} pages checked`);
  });

  test('compact pages are sliced to exactly what JSON.stringify writes', () => {
    const value = [{ id: 'a', n: 1 }, { id: 'b', nested: { value: [1, 2] } }];
    const json = JSON.stringify({ '@odata.nextLink': 'https://graph.microsoft.com/v1.0/x?$skiptoken=1', value, '@odata.count': 2 });
    assert.deepEqual(arrayItemTexts(json, 'value'), value.map((v) => JSON.stringify(v)));
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
    assertItems(JSON.stringify({ context: 'value', value }));
    assertItems(JSON.stringify({ value }, null, 2));
    assertItems(` \n { "x" : "value" , "value" : [ ${value.map((v) => JSON.stringify(v)).join(' ,\n ')} ] , "y" : [ 1 ] } `);
  });

  test('the top-level member only; a repeated member counts once, the last, as in JSON.parse', () => {
    assert.equal(arrayItemTexts(JSON.stringify({ outer: { value: [1, 2] } }), 'value'), undefined);
    assert.equal(arrayItemTexts(JSON.stringify({ value: 'not an array' }), 'value'), undefined);
    assert.equal(arrayItemTexts(JSON.stringify([{ value: [1] }]), 'value'), undefined);
    assert.deepEqual(arrayItemTexts('{"value":[1,2],"value":[{"id":"b"}]}', 'value'), ['{"id":"b"}']);
    assert.deepEqual(arrayItemTexts('{"value":[]}', 'value'), []);
    assert.deepEqual(arrayItemTexts('{"value":[ ]}', 'value'), []);
  });

  test('randomly built pages', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const chars = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'é', '\n', 'value'];
    const str = () => Array.from({ length: Math.floor(rand() * 8) }, () => chars[Math.floor(rand() * chars.length)]).join('');
    const build = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return [str(), Math.round(rand() * 1000) / 10, rand() < 0.5, null][Math.floor(rand() * 4)];
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => build(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [rand() < 0.2 ? 'value' : str(), build(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const value = Array.from({ length: Math.floor(rand() * 6) }, () => build(0));
      const page = { [str()]: build(1), value, [`${str()}x`]: build(1) };
      assertItems(JSON.stringify(page, null, rand() < 0.5 ? 0 : 1));
    }
  });
});
