// Text from a tenant reaches terminals through the CLI's tables and messages: its control
// characters show as escapes, so a display name cannot clear the screen or retitle the window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printTable, reportError, say } from '../src/cli/run.js';
import { visible } from '../src/validation.js';

/** What `fn` writes to standard output and standard error. */
function captured(fn: () => void): string {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stdout.write = process.stderr.write = ((chunk: string) => ((text += chunk), true)) as never;
  try {
    fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return text;
}

const HOSTILE = 'Eve\x1b]0;pwned\x07\x1b[2J\u202eevil\x9b\x00\r';

describe('text for terminals', () => {
  it('shows each control character as an escape, and keeps line breaks', () => {
    assert.equal(visible(HOSTILE), 'Eve\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil\\x9b\\x00\\x0d');
    assert.equal(visible('a\nb\r\nc\td'), 'a\nb\r\nc\\x09d');
  });

  it('tables, messages and errors of the CLI carry no control character', () => {
    const text = captured(() => {
      printTable([{ name: HOSTILE, error: `Graph said: ${HOSTILE}` }], ['name', 'error']);
      say(`${HOSTILE} said\n`);
      reportError(new Error(HOSTILE));
    });
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    assert.doesNotMatch(text, /[\x00\x07\x1b\x9b\u202e\r]/);
    assert.equal(text.split('\n').length, 5, 'header, row, message, error, and the end');
    assert.ok(text.includes('Eve\\x1b]0;pwned'), text);
  });
});
