// The real command line, spawned as a process (`node --import tsx src/cli/main.ts …`): output,
// exit codes (0 ok, 1 failure, 2 bad usage or configuration), one-line errors on stderr, and
// the audit trail of what it changed. Independent processes run concurrently to keep this quick.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { openContext, type Context } from '../src/context.js';
import { createLogger } from '../src/log.js';
import { VERSION } from '../src/version.js';
import { runIdsight, type CliRun } from './helpers/cli.js';
import { createTestDatabase, DIALECTS, skipReason, tempDir, type TestDatabase } from './helpers/databases.js';

const PW = 'correct horse battery staple';
const MIGRATIONS = [
  '0001_foundation',
  '0002_integration_state',
  '0003_collection',
  '0004_collection_sweep',
  '0005_datasets',
  '0006_collection_chains',
  '0007_compact_signins',
  '0008_compact_audits',
  '0009_stored_counts',
  '0010_token_limits',
];

type Run = CliRun;
const cli = runIdsight;

const show = (r: Run) => `exit ${String(r.code)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function assertOk(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: ${show(r)}`);
  assert.equal(r.stderr, '', `${what}: nothing on stderr`);
}

/** A failure: the exit code, and exactly one `idsight: …` line on stderr saying what is wrong. */
function assertFails(r: Run, code: number, message: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: ${show(r)}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assert.ok(r.stderr.endsWith('\n'));
  assert.match(lines[0]!, /^idsight: /, what);
  assert.match(lines[0]!, message, what);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
}

describe('idsight CLI', { concurrency: true }, () => {
  const scratch: string[] = [];
  const scratchEnv = () => {
    const dir = tempDir('idsight-cli-');
    scratch.push(dir);
    return { IDSIGHT_DATA_DIR: dir };
  };
  after(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('prints its version, as text and as JSON', async () => {
    const [text, json] = await Promise.all([cli(['version'], scratchEnv()), cli(['version', '--json'], scratchEnv())]);
    assertOk(text, 'version');
    assert.equal(text.stdout, `idsight ${VERSION}\n`);
    assertOk(json, 'version --json');
    assert.deepEqual(JSON.parse(json.stdout), { name: 'idsight', version: VERSION, node: process.versions.node });
  });

  it('integrations permissions lists what the registration doc lists: the read-only set, and with --readwrite the remediation permissions', async () => {
    const [text, readOnly, readWrite] = await Promise.all([
      cli(['integrations', 'permissions'], scratchEnv()),
      cli(['integrations', 'permissions', '--json'], scratchEnv()),
      cli(['integrations', 'permissions', '--readwrite', '--json'], scratchEnv()),
    ]);
    for (const [r, what] of [
      [text, 'text'],
      [readOnly, 'read-only'],
      [readWrite, 'read/write'],
    ] as const)
      assertOk(r, what);
    type Use = { permission: string; set: string; allows: string[] };
    const ro = JSON.parse(readOnly.stdout) as Use[];
    const rw = JSON.parse(readWrite.stdout) as Use[];
    assert.ok(ro.every((p) => p.set === 'read-only' && p.allows.length > 0));
    assert.ok(
      ro.some(
        (p) =>
          p.permission === 'AuditLog.Read.All' && p.allows.includes('Interactive sign-ins (needs Entra ID P1 or P2)'),
      ),
      readOnly.stdout,
    );
    assert.deepEqual(
      rw.filter((p) => p.set === 'read-write').map((p) => p.permission),
      ['User.ReadWrite.All', 'UserAuthenticationMethod.ReadWrite.All'],
    );
    assert.deepEqual(rw.find((p) => p.permission === 'User.ReadWrite.All')!.allows, [
      'Update User Type',
      'Delete Guest User',
      'User Log out',
    ]);
    assert.match(text.stdout, /docs\/entra-app-registration\.md/);
    for (const p of ro)
      assert.match(text.stdout, new RegExp(`^${p.permission.replaceAll('.', '\\.')} +read-only `, 'm'));
    // the doc a newcomer follows names exactly these permissions in its two tables
    const doc = readFileSync(new URL('../docs/entra-app-registration.md', import.meta.url), 'utf8');
    const tabled = [...doc.matchAll(/^\| `([A-Z][A-Za-z]*\.[A-Za-z.]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(tabled.sort(), rw.map((p) => p.permission).sort());
  });

  it('keys generate prints a new 256-bit key as 44 base64 characters, and nothing else', async () => {
    const env = scratchEnv();
    const r = await cli(['keys', 'generate'], env);
    assertOk(r, 'keys generate');
    assert.match(r.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    const key = r.stdout.trimEnd();
    assert.equal(key.length, 44);
    assert.equal(Buffer.from(key, 'base64').length, 32);
    assert.notEqual(key, Buffer.alloc(32).toString('base64'));
  });

  it('exits 2 on an unknown command, naming it', async () => {
    const r = await cli(['frobnicate'], scratchEnv());
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.equal(r.stdout, '');
  });

  it('exits 2 with one stderr line naming IDSIGHT_PORT when it is not a port number', async () => {
    const r = await cli(['serve'], { ...scratchEnv(), IDSIGHT_PORT: 'abc' });
    assertFails(r, 2, /IDSIGHT_PORT/, 'serve with IDSIGHT_PORT=abc');
    assert.match(r.stderr, /^idsight: IDSIGHT_PORT: .*whole number.*"abc"/);
  });

  it('refuses to serve plain HTTP beyond loopback, before opening anything, unless told how it is protected', async () => {
    const env = { ...scratchEnv(), IDSIGHT_HOST: '0.0.0.0', IDSIGHT_PORT: '0' };
    const r = await cli(['serve'], env);
    assertFails(r, 2, /IDSIGHT_HOST is 0\.0\.0\.0, reachable from other machines/, 'serve on 0.0.0.0');
    assert.match(r.stderr, /IDSIGHT_TLS_CERT_FILE.*IDSIGHT_TRUST_PROXY.*IDSIGHT_ALLOW_PLAIN_HTTP=true/);
    assert.ok(!existsSync(path.join(env.IDSIGHT_DATA_DIR, 'idsight.db')), 'nothing was opened');
    const demo = await cli(['demo'], env);
    assertFails(demo, 2, /IDSIGHT_HOST is 0\.0\.0\.0/, 'demo on 0.0.0.0');
  });

  for (const dialect of DIALECTS) {
    // The whole flow runs on SQLite; PostgreSQL repeats the commands whose work depends on the
    // database (migration locking, creating, changing and removing users) and skips the rest.
    const full = dialect === 'sqlite';

    describe(
      `users, tokens, migrations and the audit log (${dialect})`,
      { skip: skipReason(dialect), concurrency: false },
      () => {
        let database: TestDatabase;
        let env: Record<string, string>;
        let ctx: Context | undefined;
        let adminId: string;
        let adminPassword: string;
        let token: string | undefined;
        let stdinUserId: string;

        /** The application as a library, on the same data, to check what the CLI did. */
        async function library(): Promise<Context> {
          ctx ??= await openContext(loadConfig(env), { log: createLogger({ logLevel: 'silent', logFormat: 'json' }) });
          return ctx;
        }

        before(async () => {
          database = await createTestDatabase(dialect);
          env = envFor(database);
        });
        after(async () => {
          await ctx?.close();
          await database.drop();
        });

        it('two db migrate processes started at once on a fresh database migrate it once', async () => {
          const runs = await Promise.all([
            cli(['db', 'migrate', '--json'], env),
            cli(['db', 'migrate', '--json'], env),
          ]);
          const applied: string[] = [];
          for (const r of runs) {
            assertOk(r, 'concurrent db migrate');
            const out = JSON.parse(r.stdout) as { database: string; applied: string[]; total: number };
            assert.equal(out.database, dialect);
            assert.equal(out.total, MIGRATIONS.length);
            applied.push(...out.applied);
          }
          assert.deepEqual(applied, MIGRATIONS, 'each migration applied by exactly one of them');
          const db = database.open();
          try {
            const rows = await sql<{ name: string }>`select name from idsight_migrations order by name`.execute(
              db.kysely,
            );
            assert.deepEqual(
              rows.rows.map((r) => r.name),
              MIGRATIONS,
            );
            assert.deepEqual(
              await db.kysely.selectFrom('dashboard_users').selectAll().execute(),
              [],
              'the schema is there, empty',
            );
          } finally {
            await db.close();
          }
        });

        it('users add without a password prints a generated one, once, that signs in', async () => {
          const r = await cli(['users', 'add', '--email', 'Admin@Example.com', '--role', 'admin'], env);
          assertOk(r, 'users add');
          const m = /^added admin@example\.com \(admin\), id (\S+)\npassword \(shown once\): (\S+)\n$/.exec(r.stdout);
          assert.ok(m, r.stdout);
          adminId = m[1]!;
          adminPassword = m[2]!;
          assert.ok(adminPassword.length >= 12);
          assert.equal(r.stdout.split(adminPassword).length, 2, 'the password appears once');
          const lib = await library();
          const login = await lib.auth.login({
            email: 'admin@example.com',
            password: adminPassword,
            ip: null,
            userAgent: null,
          });
          assert.equal(login.user.id, adminId);
          assert.equal(login.user.role, 'admin');
          const row = await lib.db.kysely
            .selectFrom('dashboard_users')
            .select('password_hash')
            .where('id', '=', adminId)
            .executeTakeFirstOrThrow();
          assert.ok(row.password_hash.startsWith('$argon2id$'), row.password_hash);
        });

        it('users add --password-stdin, tokens create, and refusals of bad input and of removing the last admin', async () => {
          const [[stdinUser, lastAdmin], [tokenRun, badRole, badEmail, weak]] = await Promise.all([
            Promise.all([
              cli(
                ['users', 'add', '--email', 'stdin@example.com', '--role', 'analyst', '--password-stdin', '--json'],
                env,
                `${PW}\n`,
              ),
              cli(['users', 'remove', 'admin@example.com'], env),
            ]),
            // Token creation and bad usage (refused before the database matters) run on SQLite only.
            Promise.all(
              full
                ? [
                    cli(['tokens', 'create', '--email', 'admin@example.com', '--name', 'ci export'], env),
                    cli(['users', 'add', '--email', 'role@example.com', '--role', 'superuser'], env),
                    cli(['users', 'add', '--email', 'not-an-email', '--role', 'analyst'], env),
                    cli(
                      ['users', 'add', '--email', 'weak@example.com', '--role', 'analyst', '--password-stdin'],
                      env,
                      'short\n',
                    ),
                  ]
                : [],
            ),
          ]);

          assertOk(stdinUser, 'users add --password-stdin');
          const created = JSON.parse(stdinUser.stdout) as {
            user: { id: string; email: string; role: string };
            generatedPassword?: string;
          };
          assert.equal(created.user.email, 'stdin@example.com');
          assert.equal(created.user.role, 'analyst');
          assert.equal(created.generatedPassword, undefined, 'no generated password when one came from stdin');
          assert.ok(!stdinUser.stdout.includes(PW) && !stdinUser.stdout.includes('$argon2'));
          stdinUserId = created.user.id;
          const lib = await library();
          const login = await lib.auth.login({ email: 'stdin@example.com', password: PW, ip: null, userAgent: null });
          assert.equal(login.user.id, stdinUserId, 'signs in with the password read from stdin');

          assertFails(
            lastAdmin,
            1,
            /cannot remove admin@example\.com: it is the only admin/,
            'removing the last admin',
          );
          assert.deepEqual((await lib.auth.findUser('admin@example.com')).role, 'admin');

          if (!full) return;
          assertFails(badRole!, 2, /role must be one of admin, helpdesk, analyst/, 'invalid role');
          assertFails(badEmail!, 2, /email is not a valid address/, 'invalid email');
          assertFails(weak!, 2, /password is too short: use at least 12 characters/, 'weak password');
          await assert.rejects(
            lib.auth.login({ email: 'weak@example.com', password: 'short', ip: null, userAgent: null }),
            /incorrect/,
          );

          assertOk(tokenRun!, 'tokens create');
          assertFails(
            await cli(
              ['tokens', 'create', '--email', 'admin@example.com', '--name', 'x', '--expires-days', '1.5'],
              env,
            ),
            2,
            /--expires-days: must be a whole number of days from 1 to 365$/,
            'fractional expiry',
          );
          assertFails(
            await cli(
              ['tokens', 'create', '--email', 'admin@example.com', '--name', 'x', '--scopes', 'read,root'],
              env,
            ),
            2,
            /--scopes: must be some of read, collect, triage, remediate, admin/,
            'unknown scope',
          );
          const t = /^token for admin@example\.com \(shown once\): (idst_[A-Za-z0-9_-]{43})\n$/.exec(tokenRun!.stdout);
          assert.ok(t, tokenRun!.stdout);
          token = t[1]!;
          const viaToken = await lib.auth.authenticateToken(token);
          assert.equal(viaToken.user.id, adminId);
          assert.equal(viaToken.via, 'token');
          const stored = await lib.db.kysely.selectFrom('api_tokens').selectAll().execute();
          assert.equal(stored.length, 1);
          assert.ok(!JSON.stringify(stored).includes(token), 'the token is stored only as a hash');
        });

        it('users set-role changes the role and ends the user\u2019s sessions', async () => {
          const lib = await library();
          const before = await lib.db.kysely
            .selectFrom('sessions')
            .select('token_hash')
            .where('user_id', '=', stdinUserId)
            .execute();
          assert.ok(before.length > 0, 'precondition: the user has a session');
          const r = await cli(['users', 'set-role', 'stdin@example.com', 'helpdesk'], env);
          assertOk(r, 'users set-role');
          assert.equal(r.stdout, 'stdin@example.com is now helpdesk\n');
          const after = await lib.db.kysely
            .selectFrom('sessions')
            .select('token_hash')
            .where('user_id', '=', stdinUserId)
            .execute();
          assert.equal(after.length, 0);
          assert.equal((await lib.auth.findUser(stdinUserId)).role, 'helpdesk');
        });

        // (on PostgreSQL the listing is checked through the library, in the next test)
        if (full)
          it('users list --json is valid JSON with the users, and the refused commands changed nothing', async () => {
            const r = await cli(['users', 'list', '--json'], env);
            assertOk(r, 'users list --json');
            const list = JSON.parse(r.stdout) as Array<{
              id: string;
              email: string;
              role: string;
              createdAt: number;
              lastLoginAt: number | null;
            }>;
            assert.deepEqual(
              list.map((u) => [u.id, u.email, u.role]),
              [
                [adminId, 'admin@example.com', 'admin'],
                [stdinUserId, 'stdin@example.com', 'helpdesk'],
              ],
            );
            for (const u of list) {
              assert.deepEqual(Object.keys(u).sort(), ['createdAt', 'email', 'id', 'lastLoginAt', 'role']);
              assert.equal(typeof u.createdAt, 'number');
            }
            assert.ok(
              !r.stdout.includes('$argon2') && !r.stdout.includes(adminPassword),
              'no hashes or passwords in the listing',
            );
          });

        it('users remove ends the user\u2019s sessions and API tokens; db migrate again changes nothing', async () => {
          const lib = await library();
          const { token: userToken } = await lib.auth.createApiToken(stdinUserId, { name: 'soon gone' }, 'cli');
          await lib.auth.login({ email: 'stdin@example.com', password: PW, ip: null, userAgent: null });
          const [removed, migrateAgain] = await Promise.all([
            cli(['users', 'remove', 'stdin@example.com'], env),
            ...(full ? [cli(['db', 'migrate', '--json'], env)] : []),
          ]);
          assertOk(removed!, 'users remove');
          assert.equal(removed!.stdout, 'removed stdin@example.com\n');
          if (migrateAgain) {
            assertOk(migrateAgain, 'second db migrate');
            assert.deepEqual((JSON.parse(migrateAgain.stdout) as { applied: string[] }).applied, []);
          }

          assert.deepEqual(
            (await lib.auth.listUsers()).map((u) => u.email),
            ['admin@example.com'],
          );
          await assert.rejects(lib.auth.authenticateToken(userToken), /not valid/);
          const k = lib.db.kysely;
          assert.equal(
            (await k.selectFrom('sessions').select('token_hash').where('user_id', '=', stdinUserId).execute()).length,
            0,
          );
          assert.equal(
            (await k.selectFrom('api_tokens').select('id').where('user_id', '=', stdinUserId).execute()).length,
            0,
          );
          // the admin's token is untouched
          if (token) assert.equal((await lib.auth.authenticateToken(token)).user.id, adminId);
        });

        it('records every CLI change in the audit log with actor type cli, and no secrets', async () => {
          const lib = await library();
          const entries = (await lib.audit.list({ limit: 500 })).filter((e) => e.actor.type === 'cli');
          const summary = entries.map((e) => [e.action, e.target, e.outcome]).reverse();
          assert.deepEqual(
            summary.filter(([action]) => action !== 'tokens.create'),
            [
              ['users.create', adminId, 'success'],
              ['users.create', stdinUserId, 'success'],
              ['users.set_role', stdinUserId, 'success'],
              ['users.remove', stdinUserId, 'success'],
            ],
          );
          const tokenEntries = entries.filter((e) => e.action === 'tokens.create');
          assert.equal(tokenEntries.length, full ? 1 : 0);
          if (full) {
            assert.equal(tokenEntries[0]?.detail?.email, 'admin@example.com');
            assert.equal(tokenEntries[0]?.detail?.name, 'ci export');
          }
          for (const e of entries) {
            assert.equal(e.actor.id, null);
            assert.match(e.actor.label ?? '', /.+@.+/, 'the label says who and where');
          }
          assert.equal(entries.find((e) => e.action === 'users.set_role')?.detail?.role, 'helpdesk');
          assert.equal(entries.find((e) => e.action === 'users.remove')?.detail?.email, 'stdin@example.com');
          const text = JSON.stringify(await lib.audit.list({ limit: 500 }));
          for (const secret of [PW, adminPassword, ...(token ? [token] : []), '$argon2'])
            assert.ok(!text.includes(secret), 'no secret in the audit log');
        });

        it('idsight audit reads the log newest first, filtered, with ISO times; bad filters exit 2 naming the flag', async () => {
          const all = await cli(['audit', '--json'], env);
          assertOk(all, 'audit');
          const entries = JSON.parse(all.stdout) as Array<{ id: number; at: string; action: string; outcome: string }>;
          const stored = (await (await library()).audit.list({ limit: 50 })).map((e) => [e.id, e.action]);
          assert.deepEqual(
            entries.map((e) => [e.id, e.action]),
            stored,
            'what the log holds, newest first',
          );
          assert.ok(
            entries.every((e) => new Date(e.at).toISOString() === e.at),
            'times in ISO 8601',
          );
          const removals = JSON.parse(
            (await cli(['audit', '--action', 'users.remove', '--outcome', 'success', '--json'], env)).stdout,
          ) as typeof entries;
          assert.deepEqual(
            removals.map((e) => e.action),
            ['users.remove'],
          );
          const page = JSON.parse(
            (await cli(['audit', '--limit', '2', '--before', String(entries[0]!.id), '--json'], env)).stdout,
          ) as typeof entries;
          assert.deepEqual(
            page.map((e) => e.id),
            entries.slice(1, 3).map((e) => e.id),
          );
          const future = JSON.parse(
            (await cli(['audit', '--since', '2999-01-01', '--json'], env)).stdout,
          ) as typeof entries;
          assert.deepEqual(future, []);
          const text = await cli(['audit', '--action', 'users.set_role'], env);
          assertOk(text, 'audit as a table');
          assert.match(
            text.stdout,
            /^ID +AT +ACTOR +ACTION +TARGET +OUTCOME +DETAIL\n\d+ +\d{4}-\d\d-\d\dT[\d:.]+Z +cli \S+@\S+ +users\.set_role /,
          );
          assertFails(
            await cli(['audit', '--outcome', 'maybe'], env),
            2,
            /--outcome: must be one of success, failure, denied/,
            'bad outcome',
          );
          assertFails(
            await cli(['audit', '--since', 'yesterday'], env),
            2,
            /--since: "yesterday" is not an ISO 8601 timestamp: write e\.g\. 2026-11-20 \(midnight UTC\)/,
            'bad since',
          );
          assertFails(
            await cli(['audit', '--limit', '0'], env),
            2,
            /--limit: must be a whole number from 1 to 500/,
            'bad limit',
          );
        });

        it('users reset-password prints a new password once: it signs in, the old one no longer does, and the log says so', async () => {
          const r = await cli(['users', 'reset-password', 'admin@example.com'], env);
          assertOk(r, 'reset-password');
          const m =
            /^new password for admin@example\.com \(shown once\): (\S+)\nsessions ended, \d+ API token\(s\) revoked\n$/.exec(
              r.stdout,
            );
          assert.ok(m, r.stdout);
          const lib = await library();
          assert.equal(
            (await lib.auth.login({ email: 'admin@example.com', password: m[1]!, ip: null, userAgent: null })).user.id,
            adminId,
          );
          await assert.rejects(
            lib.auth.login({ email: 'admin@example.com', password: adminPassword, ip: null, userAgent: null }),
          );
          const [entry] = await lib.audit.list({ limit: 1 });
          assert.deepEqual(
            [entry!.action, entry!.target, entry!.outcome],
            ['users.reset_password', adminId, 'success'],
          );
          assert.ok(!JSON.stringify(entry).includes(m[1]!), 'the new password is not in the log');
          assertFails(
            await cli(['users', 'reset-password', 'nobody@example.com'], env),
            1,
            /nobody@example\.com/,
            'unknown user',
          );
        });

        it('users sessions, sign-out, tokens and revoke-token show and end what acts as a user', async () => {
          const lib = await library();
          const password = 'a long and private passphrase';
          await lib.auth.setPassword(adminId, password);
          await lib.auth.login({ email: 'admin@example.com', password, ip: '192.0.2.7', userAgent: 'curl/8' });
          const { token, info } = await lib.auth.createApiToken(adminId, { name: 'cli listed' }, 'cli');
          const sessions = await cli(['users', 'sessions', 'admin@example.com'], env);
          assertOk(sessions, 'users sessions');
          assert.match(sessions.stdout, /^SIGNED IN +LAST SEEN +IP +USER AGENT\n\S+ +\S+ +192\.0\.2\.7 +curl\/8\n$/);
          const tokens = await cli(['users', 'tokens', 'admin@example.com', '--json'], env);
          assertOk(tokens, 'users tokens');
          assert.deepEqual(
            (JSON.parse(tokens.stdout) as Array<{ id: string }>).map((t) => t.id),
            [info.id],
          );
          assert.ok(!tokens.stdout.includes(token));
          const out = await cli(['users', 'sign-out', 'admin@example.com'], env);
          assert.equal(out.stdout, '1 session(s) of admin@example.com ended\n');
          assert.deepEqual(await lib.auth.listSessions(adminId), []);
          const revoked = await cli(['users', 'revoke-token', 'admin@example.com', info.id], env);
          assertOk(revoked, 'revoke-token');
          await assert.rejects(lib.auth.authenticateToken(token), /not valid/);
          assertFails(
            await cli(['users', 'revoke-token', 'admin@example.com', info.id], env),
            1,
            /no API token/,
            'revoked twice',
          );
        });
      },
    );
  }
});

function envFor(database: TestDatabase): Record<string, string> {
  return {
    IDSIGHT_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { IDSIGHT_DATABASE_URL: database.databaseUrl } : {}),
  };
}
