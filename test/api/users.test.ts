// Dashboard user administration over real HTTP, signed in as an admin with the CSRF token, on
// SQLite and PostgreSQL: the happy paths, and every bad input answered with a specific 4xx that
// changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, skipReason } from '../helpers/databases.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { ApiClient, type ApiResponse } from '../helpers/http.js';

const PW = 'correct horse battery staple';
const ADMIN = 'admin@example.com';

interface PublicUser {
  id: string;
  email: string;
  role: string;
  createdAt: number;
  lastLoginAt: number | null;
}
interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Asserts the status and the {"error":{"code","message"}} shape, and that the message says what is wrong. */
function assertError(res: ApiResponse<unknown>, status: number, code: string, message: RegExp, what = ''): void {
  assert.equal(res.status, status, `${what} status (body: ${res.text})`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${what} content-type`);
  const body = res.body as ErrorBody;
  assert.equal(typeof body.error, 'object', `${what} has an error object`);
  assert.deepEqual(Object.keys(body).sort(), ['error'], `${what} only an error object`);
  assert.equal(body.error.code, code, `${what} error code (message: ${body.error.message})`);
  assert.equal(typeof body.error.message, 'string', `${what} message is text`);
  assert.match(body.error.message, message, `${what} message names the problem`);
  assertNoHashes(res);
}

function assertNoHashes(res: ApiResponse<unknown>): void {
  assert.ok(!res.text.includes('$argon2'), `response body holds no password hash: ${res.text.slice(0, 200)}`);
  assert.ok(!/password_?hash/i.test(res.text), 'response body names no password hash field');
}

for (const dialect of DIALECTS) {
  describe(`users API (${dialect})`, { skip: skipReason(dialect) }, () => {
    let app: TestApp;
    let admin: ApiClient;
    let adminId: string;

    /** Everything a bad request must leave alone: users (all columns), sessions and API tokens. */
    async function snapshot() {
      const k = app.ctx.db.kysely;
      return {
        users: await k.selectFrom('dashboard_users').selectAll().orderBy('id').execute(),
        sessions: await k.selectFrom('sessions').selectAll().orderBy('token_hash').execute(),
        tokens: await k.selectFrom('api_tokens').selectAll().orderBy('id').execute(),
      };
    }

    async function listed(): Promise<PublicUser[]> {
      const res = await admin.get<{ users: PublicUser[] }>('/api/users');
      assert.equal(res.status, 200);
      assertNoHashes(res);
      return res.body.users;
    }

    /** Runs the bad requests and asserts that neither the database nor the API listing changed. */
    async function changesNothing(fn: () => Promise<void>): Promise<void> {
      const before = await snapshot();
      const listBefore = await listed();
      await fn();
      assert.deepEqual(await snapshot(), before, 'the database is unchanged');
      assert.deepEqual(await listed(), listBefore, 'the user list is unchanged');
    }

    async function create(
      email: string,
      role: string,
      password?: string,
    ): Promise<{ user: PublicUser; generatedPassword?: string }> {
      const res = await admin.post<{ user: PublicUser; generatedPassword?: string }>(
        '/api/users',
        password === undefined ? { email, role } : { email, role, password },
      );
      assert.equal(res.status, 201, res.text);
      assertNoHashes(res);
      return res.body;
    }

    async function signedIn(email: string, password: string): Promise<ApiClient> {
      const c = new ApiClient(app.url);
      const res = await c.login(email, password);
      assert.equal(res.status, 200, `${email} signs in: ${res.text}`);
      return c;
    }

    before(async () => {
      app = await startApp(dialect);
      adminId = (await app.ctx.auth.createUser({ email: ADMIN, role: 'admin', password: PW })).user.id;
      admin = await signedIn(ADMIN, PW);
      assert.ok(admin.csrfToken);
    });
    after(() => app.close());

    it('lists users without their password hashes, which are stored as argon2id', async () => {
      const res = await admin.get<{ users: PublicUser[] }>('/api/users');
      assert.equal(res.status, 200);
      assertNoHashes(res);
      assert.equal(res.body.users.length, 1);
      const [me] = res.body.users;
      assert.equal(me?.id, adminId);
      assert.equal(me?.email, ADMIN);
      assert.equal(me?.role, 'admin');
      assert.deepEqual(Object.keys(me ?? {}).sort(), ['createdAt', 'email', 'id', 'lastLoginAt', 'role']);
      const row = await app.ctx.db.kysely
        .selectFrom('dashboard_users')
        .select('password_hash')
        .where('id', '=', adminId)
        .executeTakeFirstOrThrow();
      assert.ok(row.password_hash.startsWith('$argon2id$'), row.password_hash);
    });

    it('refuses to remove or demote the last admin, and changes nothing', async () => {
      assert.deepEqual(
        (await listed()).filter((u) => u.role === 'admin').map((u) => u.email),
        [ADMIN],
        'precondition: one admin',
      );
      await changesNothing(async () => {
        assertError(await admin.delete(`/api/users/${adminId}`), 409, 'conflict', /only admin/, 'DELETE last admin');
        for (const role of ['analyst', 'helpdesk']) {
          assertError(
            await admin.patch(`/api/users/${adminId}`, { role }),
            409,
            'conflict',
            /only admin/,
            `PATCH last admin to ${role}`,
          );
        }
      });
      // the admin's own session still works: nothing was ended
      assert.equal((await admin.get('/api/auth/me')).status, 200);

      // with a second admin, one of them may be demoted; then the other is the last again
      const second = await create('second-admin@example.com', 'admin', PW);
      const demoted = await admin.patch<{ user: PublicUser }>(`/api/users/${second.user.id}`, { role: 'analyst' });
      assert.equal(demoted.status, 200, demoted.text);
      assert.equal(demoted.body.user.role, 'analyst');
      await changesNothing(async () => {
        assertError(
          await admin.patch(`/api/users/${adminId}`, { role: 'analyst' }),
          409,
          'conflict',
          /only admin/,
          'PATCH last admin again',
        );
        assertError(
          await admin.delete(`/api/users/${adminId}`),
          409,
          'conflict',
          /only admin/,
          'DELETE last admin again',
        );
      });
      const removed = await admin.delete(`/api/users/${second.user.id}`);
      assert.equal(removed.status, 204);
    });

    it('creates a user with a given password, who can sign in with it', async () => {
      const res = await admin.post<{ user: PublicUser; generatedPassword?: string }>('/api/users', {
        email: '  Given@Example.com ',
        role: 'helpdesk',
        password: PW,
      });
      assert.equal(res.status, 201, res.text);
      assertNoHashes(res);
      assert.equal(res.body.user.email, 'given@example.com', 'email trimmed and lower-cased');
      assert.equal(res.body.user.role, 'helpdesk');
      assert.equal(res.body.user.lastLoginAt, null);
      assert.equal(res.body.generatedPassword, undefined, 'no generated password when one was given');
      assert.ok(!res.text.includes(PW), 'the password is not echoed');
      const row = await app.ctx.db.kysely
        .selectFrom('dashboard_users')
        .selectAll()
        .where('id', '=', res.body.user.id)
        .executeTakeFirstOrThrow();
      assert.ok(row.password_hash.startsWith('$argon2id$'), row.password_hash);
      assert.ok(!row.password_hash.includes(PW));

      const c = await signedIn('given@example.com', PW);
      const me = await c.get<{ user: PublicUser }>('/api/auth/me');
      assert.equal(me.body.user.id, res.body.user.id);
      assert.equal(me.body.user.role, 'helpdesk');
      assert.equal((await new ApiClient(app.url).login('given@example.com', 'some other password')).status, 401);
      assert.ok((await listed()).some((u) => u.id === res.body.user.id));
    });

    it('generates a password, shown once, when none is given; it signs in', async () => {
      const res = await admin.post<{ user: PublicUser; generatedPassword?: string }>('/api/users', {
        email: 'generated@example.com',
        role: 'analyst',
      });
      assert.equal(res.status, 201, res.text);
      assertNoHashes(res);
      const generated = res.body.generatedPassword;
      assert.equal(typeof generated, 'string');
      assert.ok(generated && generated.length >= 12, 'generated password meets the policy');
      const row = await app.ctx.db.kysely
        .selectFrom('dashboard_users')
        .select('password_hash')
        .where('id', '=', res.body.user.id)
        .executeTakeFirstOrThrow();
      assert.ok(row.password_hash.startsWith('$argon2id$'));
      assert.ok(!row.password_hash.includes(generated));

      const c = await signedIn('generated@example.com', generated);
      assert.equal((await c.get<{ user: PublicUser }>('/api/auth/me')).body.user.role, 'analyst');

      // shown once: not in the listing, not in the audit log
      const list = await admin.get('/api/users');
      assert.ok(!list.text.includes(generated));
      const audit = await admin.get<{ entries: Array<{ action: string; target: string | null }> }>(
        '/api/audit?limit=500',
      );
      assert.equal(audit.status, 200);
      assert.ok(
        audit.body.entries.some((e) => e.action === 'users.create' && e.target === res.body.user.id),
        'creation audited',
      );
      assert.ok(!audit.text.includes(generated), 'generated password not in the audit log');
    });

    it('rejects an invalid email with 400 naming the email, and changes nothing', async () => {
      await changesNothing(async () => {
        for (const email of ['not-an-email', 'two@@example.com', '', '   ', `${'x'.repeat(250)}@example.com`, 42]) {
          const res = await admin.post('/api/users', { email, role: 'analyst', password: PW });
          assertError(res, 400, 'validation_failed', /email/, `email ${JSON.stringify(email)}`);
        }
        assertError(
          await admin.post('/api/users', { role: 'analyst', password: PW }),
          400,
          'validation_failed',
          /email/,
          'missing email',
        );
      });
    });

    it('rejects a weak password with 400 naming the password, and changes nothing', async () => {
      await changesNothing(async () => {
        for (const password of ['short', 'elevenchars', '12345678901']) {
          const res = await admin.post('/api/users', { email: 'weak@example.com', role: 'analyst', password });
          assertError(res, 400, 'validation_failed', /password is too short.*12/, `password of ${password.length}`);
        }
        for (const password of ['password1234', 'qwertyuiopas', 'Password123!', '000000000000', 'abcdefghijkl']) {
          const res = await admin.post('/api/users', { email: 'weak@example.com', role: 'analyst', password });
          assertError(res, 400, 'validation_failed', /password is too easy to guess/, password);
        }
        assertError(
          await admin.post('/api/users', { email: 'weak@example.com', role: 'analyst', password: '\u0000'.repeat(12) }),
          400,
          'validation_failed',
          /password must not contain control characters/,
          'twelve NUL characters',
        );
        assertError(
          await admin.post('/api/users', { email: 'weak@example.com', role: 'analyst', password: ' '.repeat(12) }),
          400,
          'validation_failed',
          /password/,
          'blank password',
        );
        assertError(
          await admin.post('/api/users', { email: 'weak@example.com', role: 'analyst', password: 123456789012 }),
          400,
          'validation_failed',
          /password/,
          'numeric password',
        );
      });
      assert.equal((await new ApiClient(app.url).login('weak@example.com', 'elevenchars')).status, 401);
    });

    it('rejects an unknown role with 400 naming the roles, on create and on change, and changes nothing', async () => {
      const target = (await listed()).find((u) => u.email === 'given@example.com');
      assert.ok(target);
      await changesNothing(async () => {
        for (const role of ['superuser', 'Admin', '', null]) {
          assertError(
            await admin.post('/api/users', { email: 'role@example.com', role, password: PW }),
            400,
            'validation_failed',
            /role must be one of admin, helpdesk, analyst/,
            `create with role ${String(role)}`,
          );
          assertError(
            await admin.patch(`/api/users/${target.id}`, { role }),
            400,
            'validation_failed',
            /role must be one of admin, helpdesk, analyst/,
            `change to role ${String(role)}`,
          );
        }
        assertError(
          await admin.post('/api/users', { email: 'role@example.com', password: PW }),
          400,
          'validation_failed',
          /role/,
          'missing role',
        );
        assertError(
          await admin.patch(`/api/users/${target.id}`, {}),
          400,
          'validation_failed',
          /role/,
          'PATCH without role',
        );
      });
    });

    it('rejects a duplicate user with 409, whatever the case of the email, and changes nothing', async () => {
      await create('upper@example.com', 'analyst', PW);
      await changesNothing(async () => {
        for (const email of ['upper@example.com', 'Upper@Example.com', 'UPPER@EXAMPLE.COM', ' upper@example.com ']) {
          const res = await admin.post('/api/users', { email, role: 'admin', password: 'a different password 123' });
          assertError(res, 409, 'conflict', /upper@example\.com already exists/, `duplicate ${email}`);
        }
        // generated-password path too
        assertError(
          await admin.post('/api/users', { email: 'Upper@Example.com', role: 'helpdesk' }),
          409,
          'conflict',
          /already exists/,
          'duplicate, no password',
        );
      });
      // the original keeps its password and role
      const c = await signedIn('upper@example.com', PW);
      assert.equal((await c.get<{ user: PublicUser }>('/api/auth/me')).body.user.role, 'analyst');
    });

    it('rejects a malformed JSON body with 400 invalid_json, and changes nothing', async () => {
      const target = (await listed()).find((u) => u.email === 'given@example.com');
      assert.ok(target);
      const json = { 'content-type': 'application/json' };
      await changesNothing(async () => {
        for (const body of [
          '{"email": "bad@example.com", "role": "analyst"',
          "{email: 'bad@example.com'}",
          'not json at all',
          '{"email":"bad@example.com","role":"analyst",}',
        ]) {
          assertError(
            await admin.request('POST', '/api/users', { body, headers: json }),
            400,
            'invalid_json',
            /not valid JSON/,
            `POST ${body}`,
          );
        }
        assertError(
          await admin.request('PATCH', `/api/users/${target.id}`, { body: '{"role": admin}', headers: json }),
          400,
          'invalid_json',
          /not valid JSON/,
          'PATCH bad JSON',
        );
        assertError(
          await admin.request('POST', '/api/users', { body: '', headers: json }),
          400,
          'invalid_json',
          /empty/,
          'POST empty JSON',
        );
      });
    });

    it('rejects a body over 1 MiB with 413 payload_too_large, and changes nothing', async () => {
      await changesNothing(async () => {
        const big = JSON.stringify({
          email: 'big@example.com',
          role: 'analyst',
          password: PW,
          padding: 'x'.repeat(1024 * 1024),
        });
        assert.ok(Buffer.byteLength(big) > 1024 * 1024);
        const res = await admin.request('POST', '/api/users', {
          body: big,
          headers: { 'content-type': 'application/json' },
        });
        assertError(res, 413, 'payload_too_large', /body|large|limit/i, 'oversized body');
      });
    });

    it('rejects a body that is not JSON with 415 unsupported_media_type, and changes nothing', async () => {
      const target = (await listed()).find((u) => u.email === 'given@example.com');
      assert.ok(target);
      await changesNothing(async () => {
        for (const type of [
          'text/plain',
          'application/xml',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        ]) {
          const res = await admin.request('POST', '/api/users', {
            body: 'email=ct@example.com&role=admin',
            headers: { 'content-type': type },
          });
          assertError(res, 415, 'unsupported_media_type', /application\/json/, `POST as ${type}`);
        }
        const patch = await admin.request('PATCH', `/api/users/${target.id}`, {
          body: 'role=admin',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assertError(patch, 415, 'unsupported_media_type', /application\/json/, 'PATCH as form');
      });
    });

    it('answers a malformed URL and an over-long id with 400 in the standard error shape', async () => {
      await changesNothing(async () => {
        assertError(await admin.get('/api/users/%E0%A4%A'), 400, 'invalid_request', /url/i, 'bad percent-encoding');
        assertError(
          await admin.delete(`/api/users/${'a'.repeat(101)}`),
          400,
          'invalid_request',
          /param/i,
          'over-long id',
        );
      });
    });

    it('never lets two admins demote each other at once down to no admin', async () => {
      const other = await create('race-admin@example.com', 'admin', PW);
      const me = await app.ctx.auth.findUser(ADMIN);
      const results = await Promise.allSettled([
        app.ctx.auth.setRole(other.user.id, 'analyst'),
        app.ctx.auth.setRole(me.id, 'analyst'),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one demotion goes through');
      const rejected = results.find((r) => r.status === 'rejected');
      assert.match(String(rejected?.reason), /only admin/);
      const admins = (await app.ctx.auth.listUsers()).filter((u) => u.role === 'admin');
      assert.equal(admins.length, 1);
      // put things back for the other tests: the original admin stays admin, the other goes
      if (admins[0]!.id !== me.id) await app.ctx.auth.setRole(me.id, 'admin');
      await app.ctx.auth.removeUser(other.user.id);
      admin = new ApiClient(app.url);
      assert.equal((await admin.login(ADMIN, PW)).status, 200);
    });

    it('answers an unknown route with 404 not_found naming it, for GET and POST, and changes nothing', async () => {
      await changesNothing(async () => {
        for (const [method, path] of [
          ['GET', '/api/nope'],
          ['GET', '/api/users/x/y'],
          ['POST', '/api/nope'],
          ['POST', '/api/users/some-id'],
          ['POST', '/api/userz'],
        ] as const) {
          const res = await admin.request(
            method,
            path,
            method === 'POST' ? { json: { email: 'route@example.com', role: 'admin', password: PW } } : {},
          );
          assertError(
            res,
            404,
            'not_found',
            new RegExp(`no route ${method} ${path.replaceAll('/', '\\/')}$`),
            `${method} ${path}`,
          );
        }
        // also without signing in: an unknown route is not found, not unauthenticated
        assertError(
          await new ApiClient(app.url).get('/api/nope?x=1'),
          404,
          'not_found',
          /no route GET \/api\/nope$/,
          'anonymous GET',
        );
      });
    });

    it('answers PATCH and DELETE of an unknown user id with 404 naming the id, and changes nothing', async () => {
      const ghost = '00000000-0000-4000-8000-000000000000';
      await changesNothing(async () => {
        assertError(
          await admin.patch(`/api/users/${ghost}`, { role: 'analyst' }),
          404,
          'not_found',
          new RegExp(ghost),
          'PATCH unknown id',
        );
        assertError(
          await admin.delete(`/api/users/${ghost}`),
          404,
          'not_found',
          new RegExp(ghost),
          'DELETE unknown id',
        );
        assertError(
          await admin.delete('/api/users/not-even-a-uuid'),
          404,
          'not_found',
          /not-even-a-uuid/,
          'DELETE odd id',
        );
        // an email is not an id
        assertError(
          await admin.delete('/api/users/given@example.com'),
          404,
          'not_found',
          /given@example\.com/,
          'DELETE by email',
        );
      });
    });

    it('changing a role ends that user\u2019s sessions; the new role applies at the next sign-in', async () => {
      const { user } = await create('rolechange@example.com', 'analyst', PW);
      const c = await signedIn('rolechange@example.com', PW);
      const other = await signedIn('rolechange@example.com', PW);
      const oldCookie = c.cookie('idsight_session');
      assert.ok(oldCookie);
      assert.equal((await c.get('/api/auth/me')).status, 200);
      const bystander = await signedIn('given@example.com', PW);

      const res = await admin.patch<{ user: PublicUser }>(`/api/users/${user.id}`, { role: 'helpdesk' });
      assert.equal(res.status, 200, res.text);
      assertNoHashes(res);
      assert.equal(res.body.user.role, 'helpdesk');
      assert.equal(res.body.user.id, user.id);

      for (const client of [c, other]) {
        const me = await client.get('/api/auth/me');
        assertError(me, 401, 'unauthenticated', /sign in again/, 'old session after role change');
      }
      const replay = new ApiClient(app.url);
      replay.setCookie('idsight_session', oldCookie);
      assert.equal((await replay.get('/api/auth/me')).status, 401, 'the old cookie is dead');
      const left = await app.ctx.db.kysely
        .selectFrom('sessions')
        .select('token_hash')
        .where('user_id', '=', user.id)
        .execute();
      assert.equal(left.length, 0, 'no session rows left for the user');
      assert.equal((await bystander.get('/api/auth/me')).status, 200, 'other users keep their sessions');
      assert.equal((await admin.get('/api/auth/me')).status, 200, 'the admin keeps theirs');

      const again = await signedIn('rolechange@example.com', PW);
      assert.equal((await again.get<{ user: PublicUser }>('/api/auth/me')).body.user.role, 'helpdesk');
      assert.equal((await listed()).find((u) => u.id === user.id)?.role, 'helpdesk');

      // setting the same role again is a no-op that keeps the new session
      const same = await admin.patch<{ user: PublicUser }>(`/api/users/${user.id}`, { role: 'helpdesk' });
      assert.equal(same.status, 200);
      assert.equal((await again.get('/api/auth/me')).status, 200);
    });

    it('admins see every user’s sessions and tokens, and end them; others may not', async () => {
      const { user } = await create('watched@example.com', 'helpdesk', PW);
      const laptop = await signedIn('watched@example.com', PW);
      const phone = await signedIn('watched@example.com', PW);
      const made = await laptop.post<{ token: string; info: { id: string } }>('/api/tokens', { name: 'nightly' });
      assert.equal(made.status, 201, made.text);
      const bot = new ApiClient(app.url);
      bot.bearer = made.body.token;

      for (const path of [`/api/users/${user.id}/sessions`, `/api/users/${user.id}/tokens`])
        assertError(await bot.get(path), 403, 'forbidden', /admin/, `${path} for a help desk user`);
      const sessions = await admin.get<{ sessions: Array<Record<string, unknown>> }>(`/api/users/${user.id}/sessions`);
      assert.equal(sessions.status, 200);
      assert.equal(sessions.body.sessions.length, 2);
      assert.deepEqual(Object.keys(sessions.body.sessions[0]!).sort(), [
        'createdAt',
        'expiresAt',
        'ip',
        'lastSeenAt',
        'userAgent',
      ]);
      const tokens = await admin.get<{ tokens: Array<{ id: string; name: string }> }>(`/api/users/${user.id}/tokens`);
      assert.deepEqual(
        tokens.body.tokens.map((t) => t.name),
        ['nightly'],
      );
      assert.ok(!tokens.text.includes(made.body.token), 'never the token itself');

      const ended = await admin.delete<{ ended: number }>(`/api/users/${user.id}/sessions`);
      assert.equal(ended.status, 200);
      assert.equal(ended.body.ended, 2);
      for (const c of [laptop, phone]) assert.equal((await c.get('/api/auth/me')).status, 401);
      assert.equal((await bot.get('/api/auth/me')).status, 200, 'the token lives on until revoked');
      const revoked = await admin.delete(`/api/users/${user.id}/tokens/${made.body.info.id}`);
      assert.equal(revoked.status, 204, revoked.text);
      assert.equal((await bot.get('/api/auth/me')).status, 401);
      assertError(await admin.get('/api/users/no-such-user/tokens'), 404, 'not_found', /no dashboard user/, 'unknown');
      assertError(
        await admin.delete(`/api/users/${user.id}/tokens/${made.body.info.id}`),
        404,
        'not_found',
        /no API token/,
        'revoked twice',
      );
      const audit = await admin.get<{ entries: Array<{ action: string; target: string }> }>('/api/audit?limit=20');
      assert.ok(audit.body.entries.some((e) => e.action === 'users.end_sessions' && e.target === user.id));
      assert.ok(audit.body.entries.some((e) => e.action === 'tokens.revoke' && e.target === made.body.info.id));
    });

    it('removing a user ends their sessions and API tokens', async () => {
      const { user } = await create('leaver@example.com', 'analyst', PW);
      const c = await signedIn('leaver@example.com', PW);
      const token = await c.post<{ token: string; info: { id: string } }>('/api/tokens', { name: 'leaver script' });
      assert.equal(token.status, 201, token.text);
      const bot = new ApiClient(app.url);
      bot.bearer = token.body.token;
      assert.equal((await bot.get('/api/auth/me')).status, 200);
      const k = app.ctx.db.kysely;
      assert.equal((await k.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).execute()).length, 1);

      const res = await admin.delete(`/api/users/${user.id}`);
      assert.equal(res.status, 204, res.text);
      assert.equal(res.text, '');

      assertError(
        await c.get('/api/auth/me'),
        401,
        'unauthenticated',
        /sign in again|no longer exists/,
        'session of a removed user',
      );
      assertError(
        await bot.get('/api/auth/me'),
        401,
        'unauthenticated',
        /not valid|removed/,
        'token of a removed user',
      );
      assert.equal(
        (await k.selectFrom('sessions').select('token_hash').where('user_id', '=', user.id).execute()).length,
        0,
        'sessions gone',
      );
      assert.equal(
        (await k.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).execute()).length,
        0,
        'tokens gone',
      );
      assert.ok(!(await listed()).some((u) => u.id === user.id), 'not listed');
      assert.equal((await new ApiClient(app.url).login('leaver@example.com', PW)).status, 401, 'cannot sign in');
      assertError(await admin.delete(`/api/users/${user.id}`), 404, 'not_found', new RegExp(user.id), 'removing twice');

      const audit = await admin.get<{
        entries: Array<{
          action: string;
          target: string | null;
          outcome: string;
          detail: Record<string, unknown> | null;
        }>;
      }>('/api/audit?action=users.remove&limit=500');
      assert.ok(
        audit.body.entries.some(
          (e) => e.target === user.id && e.outcome === 'success' && e.detail?.email === 'leaver@example.com',
        ),
        'removal audited',
      );
    });

    it('never returns a password hash from any users endpoint', async () => {
      const created = await admin.post<{ user: PublicUser }>('/api/users', {
        email: 'hashcheck@example.com',
        role: 'analyst',
        password: PW,
      });
      const responses = [
        created,
        await admin.get('/api/users'),
        await admin.patch(`/api/users/${created.body.user.id}`, { role: 'helpdesk' }),
        await admin.delete(`/api/users/${created.body.user.id}`),
        await admin.get('/api/audit?limit=500'),
      ];
      for (const res of responses) {
        assert.ok(res.status < 300, res.text);
        assertNoHashes(res);
      }
      const rows = await app.ctx.db.kysely.selectFrom('dashboard_users').select(['email', 'password_hash']).execute();
      assert.ok(rows.length > 1);
      for (const r of rows)
        assert.ok(r.password_hash.startsWith('$argon2id$'), `${r.email}: ${r.password_hash.slice(0, 12)}`);
    });
  });
}
