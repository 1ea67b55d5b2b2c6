// Requests without credentials cost an attacker nothing: they are counted and summed up in the
// audit log per address and minute, not written a row each, and past a limit refused at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS_DENIALS_PER_MINUTE } from '../../src/api/anonymous-denials.js';
import { startApp } from '../helpers/app.js';
import { ApiClient } from '../helpers/http.js';

describe('anonymous refusals', () => {
  it('3,000 anonymous DELETEs: 429 past the limit, one summary row in the audit log, not 3,000', async () => {
    const app = await startApp('sqlite');
    const stranger = new ApiClient(app.url);
    const statuses = new Map<number, number>();
    try {
      for (let i = 0; i < 3_000; i += 100) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, (_, j) => stranger.delete(`/api/users/someone-${i + j}`)),
        );
        for (const r of batch) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
      assert.deepEqual(
        Object.fromEntries(statuses),
        { 401: ANONYMOUS_DENIALS_PER_MINUTE, 429: 3_000 - ANONYMOUS_DENIALS_PER_MINUTE },
        'refused at once past the limit',
      );
      const during = await app.ctx.audit.list({ limit: 500 });
      assert.equal(during.filter((e) => e.actor.type === 'anonymous').length, 0, 'no row per request');
      await app.server.close(); // a stop writes the minute's summary
      const rows = (await app.ctx.audit.list({ limit: 500 })).filter((e) => e.actor.type === 'anonymous');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.action, 'anonymous.denied');
      assert.equal(rows[0]!.status, 429);
      const { from, to, ...counts } = rows[0]!.detail!;
      assert.ok(typeof from === 'string' && typeof to === 'string');
      assert.deepEqual(counts, {
        requests: 3_000,
        refusedAsTooMany: 3_000 - ANONYMOUS_DENIALS_PER_MINUTE,
        actions: { 'users.remove': 3_000 },
      });
    } finally {
      await app.close();
    }
  });
});
