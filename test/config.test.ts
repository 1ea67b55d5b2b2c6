// Settings: defaults, the settings file, and one precise line for every bad value.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, plainHttpProblem } from '../src/config.js';
import { tempDir } from './helpers/databases.js';

describe('configuration', () => {
  it('has safe defaults: SQLite in ./data, loopback, port 8080, 15-minute sessions', () => {
    const c = loadConfig({});
    assert.equal(c.dataDir, path.resolve('data'));
    assert.equal(c.sqlitePath, path.resolve('data', 'idsight.db'));
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.sessionIdleMinutes, 15);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.trustProxy, false);
  });

  it('reads every setting from the environment', () => {
    const c = loadConfig({
      IDSIGHT_DATA_DIR: '/var/lib/idsight',
      IDSIGHT_DATABASE_URL: 'postgres://u:p@db:5432/idsight',
      IDSIGHT_HOST: '0.0.0.0',
      IDSIGHT_PORT: '9443',
      IDSIGHT_LOG_LEVEL: 'debug',
      IDSIGHT_SESSION_IDLE_MINUTES: '30',
      IDSIGHT_TRUST_PROXY: '1',
    });
    assert.equal(c.sqlitePath, '/var/lib/idsight/idsight.db');
    assert.equal(c.databaseUrl, 'postgres://u:p@db:5432/idsight');
    assert.equal(c.port, 9443);
    assert.equal(c.sessionIdleMinutes, 30);
    assert.equal(c.trustProxy, 1, 'one proxy hop');
    assert.equal(loadConfig({ IDSIGHT_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, '10.0.0.0/8, 127.0.0.1');
    assert.equal(loadConfig({ IDSIGHT_TRUST_PROXY: 'false' }).trustProxy, false);
  });

  it("paces Graph at Microsoft's windows unless a scaled test rig asks for a scale", () => {
    assert.equal(loadConfig({}).graphPacingScale, 1);
    assert.equal(loadConfig({ IDSIGHT_GRAPH_PACING_SCALE: '0.25' }).graphPacingScale, 0.25);
    assert.equal(loadConfig({ IDSIGHT_GRAPH_PACING_SCALE: '1' }).graphPacingScale, 1);
  });

  for (const [env, value, message] of [
    ['IDSIGHT_PORT', 'abc', /^IDSIGHT_PORT: must be a whole number from 0 to 65535 \(got "abc"\)$/],
    ['IDSIGHT_PORT', '70000', /^IDSIGHT_PORT: must be a whole number from 0 to 65535/],
    ['IDSIGHT_PORT', '80.5', /^IDSIGHT_PORT: /],
    ['IDSIGHT_DATABASE_URL', 'mysql://x', /^IDSIGHT_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['IDSIGHT_LOG_LEVEL', 'loud', /^IDSIGHT_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/],
    [
      'IDSIGHT_SESSION_IDLE_MINUTES',
      '0',
      /^IDSIGHT_SESSION_IDLE_MINUTES: must be a whole number of minutes from 1 to 1440/,
    ],
    ['IDSIGHT_TRUST_PROXY', 'maybe', /^IDSIGHT_TRUST_PROXY: must be false, a number of proxy hops/],
    ['IDSIGHT_TRUST_PROXY', 'true', /^IDSIGHT_TRUST_PROXY: must be false, a number of proxy hops/],
    [
      'IDSIGHT_GRAPH_PACING_SCALE',
      '0',
      /^IDSIGHT_GRAPH_PACING_SCALE: must be a number greater than 0 and at most 1 \(got "0"\)$/,
    ],
    ['IDSIGHT_GRAPH_PACING_SCALE', '1.5', /^IDSIGHT_GRAPH_PACING_SCALE: must be a number greater than 0 and at most 1/],
    [
      'IDSIGHT_GRAPH_PACING_SCALE',
      'fast',
      /^IDSIGHT_GRAPH_PACING_SCALE: must be a number greater than 0 and at most 1/,
    ],
  ] as const) {
    it(`names ${env}=${value} and what is wrong with it, in one line`, () => {
      assert.throws(
        () => loadConfig({ [env]: value }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message) && !e.message.includes('\n'),
      );
    });
  }

  it('never echoes a malformed master key in its error', async () => {
    const { parseKeys } = await import('../src/vault/keyring.js');
    const attempt = 'my-precious-but-too-short-master-key';
    assert.throws(
      () => parseKeys(attempt, 'IDSIGHT_MASTER_KEY'),
      (e: unknown) =>
        e instanceof Error &&
        /^IDSIGHT_MASTER_KEY: key 1 is not a 256-bit key/.test(e.message) &&
        !e.message.includes(attempt),
    );
  });

  it('never echoes a database URL, which may carry a password', () => {
    assert.throws(
      () => loadConfig({ IDSIGHT_DATABASE_URL: 'postgress://idsight:s3cret@db/x' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^IDSIGHT_DATABASE_URL: must be a postgres/.test(e.message) &&
        !e.message.includes('s3cret'),
    );
  });

  it('wants the TLS certificate and key together', () => {
    assert.throws(
      () => loadConfig({ IDSIGHT_TLS_CERT_FILE: '/x.pem' }),
      /IDSIGHT_TLS_CERT_FILE and IDSIGHT_TLS_KEY_FILE must be set together/,
    );
  });

  it('reads a settings file, with the environment taking precedence', () => {
    const dir = tempDir();
    const file = path.join(dir, 'idsight.json');
    writeFileSync(file, JSON.stringify({ port: 9000, host: '127.0.0.2', sessionIdleMinutes: 5 }));
    const c = loadConfig({ IDSIGHT_CONFIG_FILE: file, IDSIGHT_PORT: '9001' });
    assert.equal(c.port, 9001);
    assert.equal(c.host, '127.0.0.2');
    assert.equal(c.sessionIdleMinutes, 5);
    writeFileSync(file, JSON.stringify({ prot: 9000 }));
    assert.throws(() => loadConfig({ IDSIGHT_CONFIG_FILE: file }), /IDSIGHT_CONFIG_FILE: unknown setting "prot"/);
    writeFileSync(file, '{not json');
    assert.throws(() => loadConfig({ IDSIGHT_CONFIG_FILE: file }), /is not a JSON object of settings/);
    assert.throws(() => loadConfig({ IDSIGHT_CONFIG_FILE: path.join(dir, 'missing.json') }), /cannot read .*ENOENT/);
  });
});

describe('plain HTTP beyond loopback', () => {
  it('is refused unless TLS, a TLS proxy or IDSIGHT_ALLOW_PLAIN_HTTP says how the traffic is protected', () => {
    const problem = (env: Record<string, string>) => plainHttpProblem(loadConfig(env));
    for (const host of ['127.0.0.1', '127.9.9.9', 'localhost', '::1'])
      assert.equal(problem({ IDSIGHT_HOST: host }), undefined, host);
    assert.match(
      problem({ IDSIGHT_HOST: '0.0.0.0' }) ?? '',
      /^IDSIGHT_HOST is 0\.0\.0\.0, reachable from other machines/,
    );
    assert.match(problem({ IDSIGHT_HOST: '10.1.2.3' }) ?? '', /would cross the network in clear/);
    assert.equal(problem({ IDSIGHT_HOST: '0.0.0.0', IDSIGHT_TRUST_PROXY: '1' }), undefined);
    assert.equal(problem({ IDSIGHT_HOST: '0.0.0.0', IDSIGHT_ALLOW_PLAIN_HTTP: 'true' }), undefined);
    assert.equal(
      problem({ IDSIGHT_HOST: '0.0.0.0', IDSIGHT_TLS_CERT_FILE: '/c.pem', IDSIGHT_TLS_KEY_FILE: '/k.pem' }),
      undefined,
    );
    assert.throws(
      () => loadConfig({ IDSIGHT_ALLOW_PLAIN_HTTP: 'yes' }),
      /IDSIGHT_ALLOW_PLAIN_HTTP: must be true or false/,
    );
  });
});
