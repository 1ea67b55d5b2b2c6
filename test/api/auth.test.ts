// Sign-in, sessions, CSRF, API tokens and roles, over real HTTP, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, skipReason } from '../helpers/databases.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { ApiClient } from '../helpers/http.js';

const PW = 'correct horse battery staple';

for (const dialect of DIALECTS) {
  describe(`auth API (${dialect})`, { skip: skipReason(dialect) }, () => {
    let app: TestApp;
    before(async () => {
      app = await startApp(dialect);
      for (const [email, role] of [
        ['admin@example.com', 'admin'],
        ['help@example.com', 'helpdesk'],
        ['analyst@example.com', 'analyst'],
        ['idle@example.com', 'analyst'],
        ['spray@example.com', 'analyst'],
        ['csrf@example.com', 'admin'],
        ['busy@example.com', 'analyst'],
        ['relog@example.com', 'analyst'],
      ] as const) {
        await app.ctx.auth.createUser({ email, role, password: PW });
      }
    });
    after(() => app.close());

    it('answers /healthz without auth and everything else only with it', async () => {
      const c = new ApiClient(app.url);
      assert.deepEqual((await c.get('/healthz')).body, { status: 'ok' });
      for (const path of [
        '/api/version',
        '/api/auth/me',
        '/api/users',
        '/api/audit',
        '/api/tokens',
        '/api/openapi.json',
        '/api/docs',
        '/api/docs/json',
        '/api/docs/static/swagger-ui-bundle.js',
      ]) {
        const res = await c.get(path);
        assert.equal(res.status, 401, path);
        assert.equal((res.body as { error: { code: string } }).error.code, 'unauthenticated');
      }
    });

    it('signs in with a session cookie that is HttpOnly, SameSite=Strict and not Secure over plain HTTP', async () => {
      const c = new ApiClient(app.url);
      const res = await c.login('Admin@Example.com ', PW);
      assert.equal(res.status, 200);
      assert.equal(res.body.user.role, 'admin');
      const setCookie = res.headers.getSetCookie().find((s) => s.startsWith('idsight_session='));
      assert.ok(setCookie, 'session cookie set');
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Strict/i);
      assert.doesNotMatch(setCookie, /Secure/i);
      const me = await c.get<{ user: { email: string }; via: string; csrfToken: string }>('/api/auth/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.user.email, 'admin@example.com');
      assert.equal(me.body.via, 'session');
      assert.ok(me.body.csrfToken.length > 10);
      const version = await c.get<{ version: string; database: string }>('/api/version');
      assert.equal(version.body.database, dialect);
      // people's data is never cached; HSTS means nothing over plain HTTP and is not sent
      for (const path of ['/api/auth/me', '/api/users', '/api/tokens', '/api/audit']) {
        const res = await c.get(path);
        assert.equal(res.headers.get('cache-control'), 'no-store', path);
        assert.equal(res.headers.get('strict-transport-security'), null, path);
      }
      // the session row holds only a hash of the cookie value
      const rows = await app.ctx.db.kysely.selectFrom('sessions').select('token_hash').execute();
      assert.ok(!rows.some((r) => r.token_hash === c.cookie('idsight_session')));
    });

    it('serves a readable API reference at /api/docs to anyone signed in, from its own files', async () => {
      const c = new ApiClient(app.url);
      await c.login('analyst@example.com', PW);
      const page = await c.get('/api/docs');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.text, /swagger-ui/);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/, csp);
      assert.doesNotMatch(page.text, /https?:\/\/(?!127\.0\.0\.1)[^"' ]+\.js/, 'no script from elsewhere');
      const script = await c.get('/api/docs/static/swagger-ui-bundle.js');
      assert.equal(script.status, 200);
      const [doc, openapi] = await Promise.all([
        c.get<{ info: { title: string } }>('/api/docs/json'),
        c.get('/api/openapi.json'),
      ]);
      assert.equal(doc.body.info.title, 'idsight API');
      assert.deepEqual(doc.body, openapi.body, 'the same document');
    });

    it('gives the same error for an unknown email and a wrong password', async () => {
      const c = new ApiClient(app.url);
      const unknown = await c.login('nobody@example.com', PW);
      const wrong = await c.login('analyst@example.com', 'not the password at all');
      assert.equal(unknown.status, 401);
      assert.equal(wrong.status, 401);
      assert.deepEqual(unknown.body, wrong.body);
      assert.equal(c.cookie('idsight_session'), undefined);
    });

    it('rate-limits sign-in attempts against one account', async () => {
      const c = new ApiClient(app.url);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await c.login('spray@example.com', `wrong password ${i}`)).status);
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
      assert.equal(statuses[10], 429);
      const res = await c.login('spray@example.com', PW);
      assert.equal(res.status, 429, 'even the right password waits out the limit');
      assert.equal((res.body as unknown as { error: { code: string } }).error.code, 'rate_limited');
    });

    it('counts only failures against an account: successes never lock it, and a success clears the count', async () => {
      const c = new ApiClient(app.url);
      for (let i = 0; i < 12; i++)
        assert.equal((await c.login('busy@example.com', PW)).status, 200, `sign-in ${i + 1}`);
      for (let i = 0; i < 9; i++) assert.equal((await c.login('busy@example.com', 'wrong wrong wrong')).status, 401);
      assert.equal((await c.login('busy@example.com', PW)).status, 200);
      for (let i = 0; i < 9; i++)
        assert.equal((await c.login('busy@example.com', 'wrong wrong wrong')).status, 401, 'the count started again');
      assert.equal((await c.login('busy@example.com', 'wrong wrong wrong')).status, 401);
      const locked = await c.login('busy@example.com', PW);
      assert.equal(locked.status, 429);
      app.clock.advance(15 * 60_000);
      assert.equal((await c.login('busy@example.com', PW)).status, 200, 'the lock ends after 15 minutes');
    });

    it('signs in again from a browser that still holds a valid session, without a CSRF token', async () => {
      const c = new ApiClient(app.url);
      assert.equal((await c.login('relog@example.com', PW)).status, 200);
      const again = await c.request('POST', '/api/auth/login', {
        json: { email: 'relog@example.com', password: PW },
        csrf: false,
      });
      assert.equal(again.status, 200);
    });

    it('revokes a user’s API tokens and sessions when their password is reset', async () => {
      const user = await app.ctx.auth.findUser('relog@example.com');
      const { token } = await app.ctx.auth.createApiToken(user.id, { name: 'maybe stolen' }, 'cli');
      const bot = new ApiClient(app.url);
      bot.bearer = token;
      const browser = new ApiClient(app.url);
      await browser.login('relog@example.com', PW);
      assert.equal((await bot.get('/api/auth/me')).status, 200);
      const { tokensRevoked } = await app.ctx.auth.setPassword(user.id, `${PW} two`);
      assert.equal(tokensRevoked, 1);
      assert.equal((await bot.get('/api/auth/me')).status, 401);
      assert.equal((await browser.get('/api/auth/me')).status, 401);
      await app.ctx.auth.setPassword(user.id, PW);
    });

    it('rate-limits sign-in attempts from one address', async () => {
      const limited = await startApp(dialect, { IDSIGHT_LOGIN_LIMIT_PER_IP: '3' });
      try {
        const c = new ApiClient(limited.url);
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await c.login(`user${i}@example.com`, PW)).status);
        assert.deepEqual(statuses, [401, 401, 401, 429]);
      } finally {
        await limited.close();
      }
    });

    it('refuses a state change without the CSRF token, and changes nothing', async () => {
      const c = new ApiClient(app.url);
      await c.login('csrf@example.com', PW);
      const before = (await c.get<{ users: unknown[] }>('/api/users')).body.users.length;
      const noToken = await c.request('POST', '/api/users', {
        json: { email: 'new1@example.com', role: 'analyst' },
        csrf: false,
      });
      assert.equal(noToken.status, 403);
      assert.equal((noToken.body as { error: { code: string } }).error.code, 'csrf_invalid');
      const badToken = await c.request('POST', '/api/users', {
        json: { email: 'new1@example.com', role: 'analyst' },
        csrf: false,
        headers: { 'x-csrf-token': 'forged' },
      });
      assert.equal(badToken.status, 403);
      // a token from another session does not verify either
      const other = new ApiClient(app.url);
      await other.login('admin@example.com', PW);
      const foreign = await c.request('POST', '/api/users', {
        json: { email: 'new1@example.com', role: 'analyst' },
        csrf: false,
        headers: { 'x-csrf-token': other.csrfToken! },
      });
      assert.equal(foreign.status, 403);
      assert.equal((await c.get<{ users: unknown[] }>('/api/users')).body.users.length, before);
      const ok = await c.post('/api/users', { email: 'new1@example.com', role: 'analyst' });
      assert.equal(ok.status, 201);
    });

    it('rejects a tampered session cookie', async () => {
      const c = new ApiClient(app.url);
      await c.login('help@example.com', PW);
      const real = c.cookie('idsight_session')!;
      c.setCookie('idsight_session', real.slice(0, -2) + (real.endsWith('AA') ? 'BB' : 'AA'));
      const res = await c.get('/api/auth/me');
      assert.equal(res.status, 401);
      assert.match((res.body as { error: { message: string } }).error.message, /not valid/);
    });

    it('expires a session after 15 idle minutes, and keeps an active one alive', async () => {
      const c = new ApiClient(app.url);
      await c.login('idle@example.com', PW);
      app.clock.advance(14 * 60_000);
      assert.equal((await c.get('/api/auth/me')).status, 200);
      app.clock.advance(14 * 60_000); // 28 minutes after sign-in, 14 after the last request
      assert.equal((await c.get('/api/auth/me')).status, 200);
      app.clock.advance(15 * 60_000);
      const res = await c.get('/api/auth/me');
      assert.equal(res.status, 401);
      assert.match((res.body as { error: { message: string } }).error.message, /15 minutes without activity/);
      // the expired session is gone from the database, not just refused
      const left = await app.ctx.db.kysely
        .selectFrom('sessions')
        .innerJoin('dashboard_users', 'dashboard_users.id', 'sessions.user_id')
        .where('email', '=', 'idle@example.com')
        .selectAll()
        .execute();
      assert.equal(left.length, 0);
    });

    it('revokes the session on logout', async () => {
      const c = new ApiClient(app.url);
      await c.login('analyst@example.com', PW);
      const cookie = c.cookie('idsight_session')!;
      const out = await c.post('/api/auth/logout');
      assert.equal(out.status, 204);
      const replay = new ApiClient(app.url);
      replay.setCookie('idsight_session', cookie);
      assert.equal((await replay.get('/api/auth/me')).status, 401);
      // both cookies are cleared with the attributes they were set with, so every browser drops them
      for (const name of ['idsight_session', '_csrf']) {
        const cleared = out.headers.getSetCookie().find((h) => h.startsWith(`${name}=;`));
        assert.ok(cleared, `${name} cleared: ${out.headers.getSetCookie().join(' | ')}`);
        assert.match(cleared, /Path=\//);
        assert.match(cleared, /HttpOnly/i);
        assert.match(cleared, /SameSite=Strict/i);
        assert.match(cleared, /Expires=Thu, 01 Jan 1970/);
      }
    });

    it('a session creates tokens only within minutes of its password; a demotion revokes the tokens', async () => {
      const c = new ApiClient(app.url);
      await c.login('admin@example.com', PW);
      app.clock.advance(11 * 60_000);
      await c.get('/api/auth/me'); // still signed in (active within the idle limit)…
      app.clock.advance(5 * 60_000);
      const stale = await c.post<any>('/api/tokens', { name: 'later' });
      assert.equal(stale.status, 403, '…but its password is 16 minutes old');
      assert.match(stale.body.error.message, /needs a recent password: sign in again/);
      await c.login('admin@example.com', PW);
      assert.equal((await c.post('/api/tokens', { name: 'now' })).status, 201);

      const helper = await app.ctx.auth.createUser({ email: 'demoted@example.com', role: 'helpdesk' });
      const { token } = await app.ctx.auth.createApiToken(helper.user.id, { name: 'helpdesk script' }, 'cli');
      await app.ctx.auth.setRole(helper.user.id, 'analyst');
      await assert.rejects(app.ctx.auth.authenticateToken(token), /not valid/);
    });

    it('answers requests that Node refuses before routing (headers over 16 KB) in the API error format', async () => {
      const res = await new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
        const req = http.request(`${app.url}/api/auth/me`, { headers: { 'x-padding': 'a'.repeat(20_000) } }, (r) => {
          let body = '';
          r.setEncoding('utf8').on('data', (d: string) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'], body }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(res.status, 431);
      assert.match(res.type ?? '', /^application\/json/);
      assert.deepEqual(JSON.parse(res.body), {
        error: { code: 'invalid_request', message: 'the request headers are too large (16 KB at most)' },
      });
    });

    it('a new sign-in ends the session the browser already held', async () => {
      const c = new ApiClient(app.url);
      await c.login('analyst@example.com', PW);
      const first = c.cookie('idsight_session')!;
      await c.login('analyst@example.com', PW); // sends the first session's cookie
      assert.notEqual(c.cookie('idsight_session'), first);
      assert.equal((await c.get('/api/auth/me')).status, 200);
      const replay = new ApiClient(app.url);
      replay.setCookie('idsight_session', first);
      assert.equal((await replay.get('/api/auth/me')).status, 401);
    });

    it('enforces roles on the server: analysts and help desk cannot manage users or read the audit log', async () => {
      for (const email of ['analyst@example.com', 'help@example.com']) {
        const c = new ApiClient(app.url);
        await c.login(email, PW);
        for (const [method, path, json] of [
          ['GET', '/api/users', undefined],
          ['GET', '/api/audit', undefined],
          ['POST', '/api/users', { email: 'x@example.com', role: 'admin' }],
        ] as const) {
          const res = await c.request(method, path, json ? { json } : {});
          assert.equal(res.status, 403, `${email} ${method} ${path}`);
          assert.equal((res.body as { error: { code: string } }).error.code, 'forbidden');
        }
      }
      const users = await app.ctx.auth.listUsers();
      assert.ok(!users.some((u) => u.email === 'x@example.com'));
    });

    it('issues personal API tokens that are shown once, hashed at rest, work without CSRF and can be revoked', async () => {
      const c = new ApiClient(app.url);
      await c.login('admin@example.com', PW);
      const created = await c.post<{
        token: string;
        info: { id: string; prefix: string; expiresAt: number; scopes: string[] };
      }>('/api/tokens', { name: 'siem export', scopes: ['read', 'admin'] });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.info.scopes, ['read', 'admin']);
      assert.match(created.body.token, /^idst_/);
      // every token expires: 90 days by default, a year at most
      assert.equal(created.body.info.expiresAt, app.clock.now() + 90 * 86_400_000);
      const tooLong = await c.post<any>('/api/tokens', { name: 'forever', expiresInDays: 366 });
      assert.equal(tooLong.status, 400);
      assert.match(tooLong.body.error.message, /expiresInDays: must be a whole number of days from 1 to 365/);
      const bell = await c.post<any>('/api/tokens', { name: 'ring\x07' });
      assert.equal(bell.status, 400);
      assert.equal(bell.body.error.message, 'body.name: must not contain line breaks or control characters');
      assert.ok(created.body.token.startsWith(created.body.info.prefix));
      const stored = await app.ctx.db.kysely.selectFrom('api_tokens').selectAll().execute();
      assert.ok(!JSON.stringify(stored).includes(created.body.token), 'token stored only as a hash');
      const listed = await c.get<{ tokens: Array<Record<string, unknown>> }>('/api/tokens');
      assert.ok(!JSON.stringify(listed.body).includes(created.body.token), 'listing never shows the token');

      const bot = new ApiClient(app.url);
      bot.bearer = created.body.token;
      const me = await bot.get<{ via: string; user: { email: string } }>('/api/auth/me');
      assert.equal(me.body.via, 'token');
      assert.equal(me.body.user.email, 'admin@example.com');
      const made = await bot.post('/api/users', { email: 'bot-made@example.com', role: 'analyst' });
      assert.equal(made.status, 201, 'bearer tokens are not ambient credentials: no CSRF token needed');
      // scopes bound what a token does: read only by default, never beyond its owner's role
      const readOnly = await c.post<{ token: string; info: { scopes: string[] } }>('/api/tokens', { name: 'reader' });
      assert.deepEqual(readOnly.body.info.scopes, ['read']);
      const reader = new ApiClient(app.url);
      reader.bearer = readOnly.body.token;
      assert.equal((await reader.get('/api/users')).status, 200);
      const refused = await reader.post<any>('/api/users', { email: 'reader-made@example.com', role: 'analyst' });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /this API token lacks the admin scope \(it has read\)/);
      const analyst = new ApiClient(app.url);
      await analyst.login('analyst@example.com', PW);
      const beyond = await analyst.post<any>('/api/tokens', { name: 'ambitious', scopes: ['read', 'collect'] });
      assert.equal(beyond.status, 400);
      assert.match(beyond.body.error.message, /scopes: collect is beyond the analyst role, whose tokens may have read/);
      // a token cannot mint tokens (one stolen would outlive its own revocation)
      const minted = await bot.post<any>('/api/tokens', { name: 'child' });
      assert.equal(minted.status, 403);
      assert.match(minted.body.error.message, /an API token cannot create tokens/);

      assert.equal((await c.delete(`/api/tokens/${created.body.info.id}`)).status, 204);
      assert.equal((await bot.get('/api/auth/me')).status, 401);
      bot.bearer = 'idst_made-up';
      assert.equal((await bot.get('/api/auth/me')).status, 401);
      const malformed = await bot.request('GET', '/api/auth/me', { headers: { authorization: 'Basic abc' } });
      assert.equal(malformed.status, 401);
    });

    it('expires API tokens at their end date', async () => {
      const admin = await app.ctx.auth.findUser('admin@example.com');
      const { token } = await app.ctx.auth.createApiToken(admin.id, { name: 'short', expiresInDays: 1 }, 'cli');
      const bot = new ApiClient(app.url);
      bot.bearer = token;
      assert.equal((await bot.get('/api/auth/me')).status, 200);
      app.clock.advance(86_400_000);
      const res = await bot.get('/api/auth/me');
      assert.equal(res.status, 401);
      assert.match((res.body as { error: { message: string } }).error.message, /expired/);
    });

    it('writes every state-changing call to the audit log with who, what, where and the outcome', async () => {
      const c = new ApiClient(app.url);
      await c.login('admin@example.com', PW);
      await c.post('/api/users', { email: 'audited@example.com', role: 'helpdesk' });
      await c.request('POST', '/api/users', { json: { email: 'denied@example.com', role: 'analyst' }, csrf: false });
      const analyst = new ApiClient(app.url);
      await analyst.login('help@example.com', PW);
      await analyst.post('/api/users', { email: 'nope@example.com', role: 'admin' });
      await new ApiClient(app.url).login('admin@example.com', 'wrong wrong wrong');

      const res = await c.get<{
        entries: Array<{
          action: string;
          outcome: string;
          status: number;
          actor: { label: string | null; type: string };
          ip: string;
          detail: Record<string, unknown> | null;
          target: string | null;
        }>;
      }>('/api/audit?limit=50');
      assert.equal(res.status, 200);
      const entries = res.body.entries;
      const created = entries.find(
        (e) => e.action === 'users.create' && e.detail?.email === 'audited@example.com' && e.outcome === 'success',
      );
      assert.ok(created, 'creation recorded');
      assert.equal(created.actor.label, 'admin@example.com');
      assert.equal(created.ip, '127.0.0.1');
      assert.ok(created.target);
      assert.ok(
        entries.some(
          (e) =>
            e.action === 'users.create' &&
            e.outcome === 'denied' &&
            e.status === 403 &&
            e.actor.label === 'admin@example.com',
        ),
        'CSRF refusal recorded',
      );
      assert.ok(
        entries.some(
          (e) => e.action === 'users.create' && e.outcome === 'denied' && e.actor.label === 'help@example.com',
        ),
        'role refusal recorded',
      );
      assert.ok(
        entries.some(
          (e) =>
            e.action === 'auth.login' &&
            e.outcome === 'denied' &&
            e.actor.type === 'anonymous' &&
            e.detail?.email === 'admin@example.com',
        ),
        'failed sign-in recorded',
      );
      assert.ok(
        entries.some((e) => e.action === 'auth.login' && e.outcome === 'success'),
        'sign-in recorded',
      );
      assert.ok(!JSON.stringify(entries).includes(PW), 'no password in the audit log');

      const filtered = await c.get<{ entries: Array<{ action: string }> }>(
        '/api/audit?action=auth.login&outcome=denied',
      );
      assert.ok(filtered.body.entries.length > 0 && filtered.body.entries.every((e) => e.action === 'auth.login'));
      const page = await c.get<{ entries: Array<{ id: number }>; nextBefore: number }>('/api/audit?limit=2');
      assert.equal(page.body.entries.length, 2);
      const next = await c.get<{ entries: Array<{ id: number }> }>(`/api/audit?limit=2&before=${page.body.nextBefore}`);
      assert.ok(next.body.entries.every((e) => e.id < page.body.nextBefore));
      // a window by date, as export takes it: a date is midnight UTC
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const today = await c.get<{ entries: unknown[] }>(`/api/audit?since=${day(app.clock.now())}`);
      assert.equal(today.status, 200, JSON.stringify(today.body));
      assert.ok(today.body.entries.length > 0);
      const future = await c.get<{ entries: unknown[] }>(`/api/audit?since=${day(app.clock.now() + 86_400_000)}`);
      assert.deepEqual(future.body.entries, []);
    });

    it('never keeps rejected input verbatim: a password typed into the email field is a fingerprint', async () => {
      const typo = 'MySecret-Passw0rd!';
      const c = new ApiClient(app.url);
      assert.equal((await c.login(typo, PW)).status, 401);
      assert.equal((await c.login(typo, 'another')).status, 401);
      assert.equal((await c.login('admin@example.com', 'wrong password here')).status, 401);
      const admin = new ApiClient(app.url);
      await admin.login('admin@example.com', PW);
      const secretInClientId = 'Abc8Q~pastedTheSecretIntoTheClientIdField';
      const refused = await admin.post<any>('/api/integrations', {
        name: 'Typo',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: secretInClientId,
        clientSecret: 'Abc8Q~anotherSecretValueOfSomeLength000',
      });
      assert.equal(refused.status, 400);
      const entries = (await admin.get<{ entries: any[] }>('/api/audit?limit=50')).body.entries;
      const text = JSON.stringify(entries);
      assert.ok(!text.includes(typo) && !text.includes(secretInClientId), 'no rejected input verbatim');
      const failed = entries.filter((e) => e.action === 'auth.login' && e.outcome === 'denied');
      const typed = failed.filter((e) => e.detail?.email?.length === typo.length).map((e) => e.detail.email);
      assert.equal(typed.length, 2);
      assert.match(typed[0].fingerprint, /^[\w-]{12}$/);
      assert.equal(typed[0].fingerprint, typed[1].fingerprint, 'the same typing gives the same fingerprint');
      assert.ok(
        failed.some((e) => e.detail?.email === 'admin@example.com'),
        'an account that exists is named',
      );
      const create = entries.find((e) => e.action === 'integrations.create' && e.status === 400);
      assert.deepEqual(Object.keys(create.detail.clientId), ['length', 'fingerprint']);
      assert.equal(create.detail.name, 'Typo', 'what the contract accepted is kept');
    });

    it('tells the caller when an action could not be audited', async () => {
      const c = new ApiClient(app.url);
      await c.login('admin@example.com', PW);
      const { sql } = await import('kysely');
      await sql`alter table audit_log rename to audit_log_away`.execute(app.ctx.db.kysely);
      try {
        const res = await c.post('/api/tokens', { name: 'unaudited' });
        assert.equal(res.status, 500);
        assert.equal((res.body as { error: { code: string } }).error.code, 'audit_failed');
        assert.match(
          (res.body as { error: { message: string } }).error.message,
          /tokens\.create was processed \(status 201\)/,
        );
        assert.ok(!res.text.includes('idst_'), 'the token is not shown when its creation could not be audited');
      } finally {
        await sql`alter table audit_log_away rename to audit_log`.execute(app.ctx.db.kysely);
      }
      assert.match(app.logs(), /could not write the audit log/);
    });

    it('keeps the audit log append-only in the database itself', async () => {
      const k = app.ctx.db.kysely;
      await assert.rejects(k.updateTable('audit_log').set({ outcome: 'success' }).execute(), /append-only/);
      await assert.rejects(k.deleteFrom('audit_log').execute(), /append-only/);
    });
  });
}
