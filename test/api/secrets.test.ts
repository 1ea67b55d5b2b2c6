// A stored client secret never appears in the database files, the logs or any API response;
// and over TLS the session cookie is Secure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createIntegrationRepo } from '../../src/store/integrations.js';
import { integrationSecretAad } from '../../src/vault/service.js';
import { KEY_FILE_NAME } from '../../src/vault/keyring.js';
import { DIALECTS, skipReason, tempDir } from '../helpers/databases.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { ApiClient } from '../helpers/http.js';

const PW = 'correct horse battery staple';
const SECRET = `Qx8~idsight.leak-canary_${Date.now().toString(36)}`;

for (const dialect of DIALECTS) {
  describe(`client secrets stay secret (${dialect})`, { skip: skipReason(dialect) }, () => {
    let app: TestApp;
    before(async () => {
      app = await startApp(dialect);
      await app.ctx.auth.createUser({ email: 'admin@example.com', role: 'admin', password: PW });
      const id = 'c0ffee00-0000-4000-8000-000000000001';
      await createIntegrationRepo(app.ctx.db.kysely).insert({
        id,
        name: 'Contoso',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: '11111111-2222-3333-4444-555555555555',
        cloud: 'global',
        secretEnvelope: app.ctx.vault.encrypt(SECRET, integrationSecretAad(id)),
        settings: {},
        now: app.clock.now(),
      });
      // Something that does try to log a secret is redacted.
      app.ctx.log.info({ clientSecret: SECRET, integration: { secret: SECRET }, password: SECRET }, 'redaction check');
    });
    after(() => app.close());

    it('is stored only as an envelope that decrypts back to it', async () => {
      const row = await createIntegrationRepo(app.ctx.db.kysely).get('c0ffee00-0000-4000-8000-000000000001');
      assert.ok(row && !row.secretEnvelope.includes(SECRET));
      assert.equal(app.ctx.vault.decrypt(row.secretEnvelope, integrationSecretAad(row.id)), SECRET);
    });

    it('is not in the database', async () => {
      if (dialect === 'sqlite') {
        await sql`pragma wal_checkpoint(full)`.execute(app.ctx.db.kysely);
        const files = readdirSync(app.database.dataDir).filter((f) => f.startsWith('idsight.db'));
        assert.ok(files.includes('idsight.db'));
        for (const f of files) {
          const bytes = readFileSync(path.join(app.database.dataDir, f));
          assert.equal(bytes.indexOf(SECRET), -1, `${f} holds the secret`);
          assert.equal(bytes.indexOf(Buffer.from(SECRET).toString('base64')), -1, `${f} holds the secret in base64`);
        }
      } else {
        const tables = await sql<{
          table_name: string;
        }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(app.ctx.db.kysely);
        assert.ok(tables.rows.length >= 7);
        for (const { table_name } of tables.rows) {
          const dump = await sql<{
            t: string;
          }>`select coalesce(string_agg(row_to_json(x)::text, ''), '') as t from ${sql.table(table_name)} x`.execute(
            app.ctx.db.kysely,
          );
          assert.ok(!dump.rows[0]!.t.includes(SECRET), `${table_name} holds the secret`);
        }
      }
    });

    it('is not in any API response', async () => {
      const c = new ApiClient(app.url);
      const login = await c.login('admin@example.com', PW);
      assert.equal(login.status, 200);
      await c.post('/api/tokens', { name: 'probe' });
      let checked = 0;
      for (const p of [
        '/healthz',
        '/api/version',
        '/api/auth/me',
        '/api/users',
        '/api/tokens',
        '/api/audit?limit=500',
        '/api/openapi.json',
        '/api/integrations',
        '/api/nope',
      ]) {
        const res = await c.get(p);
        assert.ok(!res.text.includes(SECRET), `${p} returned the secret`);
        checked++;
      }
      assert.equal(checked, 9);
    });

    it('is not in the logs, nor is the master key', () => {
      const logs = app.logs();
      assert.match(logs, /redaction check/);
      assert.match(logs, /\[redacted\]/);
      assert.ok(!logs.includes(SECRET), 'a log line holds the secret');
      const key = readFileSync(path.join(app.database.dataDir, KEY_FILE_NAME), 'utf8').trim();
      assert.ok(!logs.includes(key), 'a log line holds the master key');
      assert.ok(!logs.includes(PW), 'a log line holds a password');
    });
  });
}

describe('served over TLS', () => {
  let app: TestApp;
  let ca: Buffer;
  before(async () => {
    const dir = tempDir('idsight-tls-');
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    app = await startApp('sqlite', { IDSIGHT_TLS_CERT_FILE: cert, IDSIGHT_TLS_KEY_FILE: key });
    await app.ctx.auth.createUser({ email: 'admin@example.com', role: 'admin', password: PW });
  });
  after(() => app.close());

  it('sets the session cookie Secure, HttpOnly and SameSite=Strict', async () => {
    assert.match(app.url, /^https:/);
    const body = JSON.stringify({ email: 'admin@example.com', password: PW });
    const { status, cookies, hsts } = await new Promise<{
      status: number;
      cookies: string[];
      hsts: string | undefined;
    }>((resolve, reject) => {
      const req = https.request(
        `${app.url}/api/auth/login`,
        {
          method: 'POST',
          ca,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              cookies: res.headers['set-cookie'] ?? [],
              hsts: res.headers['strict-transport-security'],
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 200);
    const session = cookies.find((c) => c.startsWith('idsight_session='));
    assert.ok(session);
    assert.match(session, /; Secure/i);
    assert.match(session, /HttpOnly/i);
    assert.match(session, /SameSite=Strict/i);
    const csrf = cookies.find((c) => c.startsWith('_csrf='));
    assert.ok(csrf && /; Secure/i.test(csrf), 'the CSRF secret cookie is Secure too');
    assert.match(hsts ?? '', /max-age=\d+/, 'HSTS over TLS');
  });
});
