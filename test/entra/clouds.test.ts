// Clouds: Microsoft's fixed endpoints per national cloud, and the validation of a custom cloud
// (https only, a parseable URL, a CA bundle of real certificates).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import selfsigned from 'selfsigned';
import { resolveCloud, type CloudName } from '../../src/entra/clouds.js';
import { ValidationError } from '../../src/errors.js';

/** A ValidationError whose message matches and whose details name the field. */
const invalid = (re: RegExp, field: string) => (err: unknown) => {
  assert.ok(err instanceof ValidationError, String(err));
  assert.match(err.message, re);
  assert.deepEqual(err.details, { field });
  return true;
};

let caPem: string;
before(async () => {
  const made = await selfsigned.generate([{ name: 'commonName', value: 'test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }],
  });
  caPem = made.cert;
});

describe('national clouds', () => {
  test("each has Microsoft's authority host and Graph root (graph-facts §1.1)", () => {
    const expected: Record<Exclude<CloudName, 'custom'>, [string, string]> = {
      global: ['https://login.microsoftonline.com', 'https://graph.microsoft.com'],
      usgov: ['https://login.microsoftonline.us', 'https://graph.microsoft.us'],
      'usgov-dod': ['https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'],
      china: ['https://login.partner.microsoftonline.cn', 'https://microsoftgraph.chinacloudapi.cn'],
    };
    for (const [name, [authorityHost, graphUrl]] of Object.entries(expected)) {
      assert.deepEqual(resolveCloud(name as CloudName), { name, authorityHost, graphUrl });
    }
  });

  test('custom endpoints are refused for a national cloud, and unknown names are refused', () => {
    assert.throws(
      () => resolveCloud('global', { authorityHost: 'https://x.example', graphUrl: 'https://x.example' }),
      invalid(/only to the custom cloud/, 'cloud'),
    );
    assert.throws(
      () => resolveCloud('germany' as CloudName),
      invalid(/Unknown cloud "germany": use one of global, usgov, usgov-dod, china, custom/, 'cloud'),
    );
  });
});

describe('custom cloud', () => {
  test('https URLs are kept as base URLs without a trailing slash, with the CA bundle', () => {
    const cloud = resolveCloud('custom', {
      authorityHost: ' https://127.0.0.1:8443/ ',
      graphUrl: 'https://graph.rig.example/',
      caPem,
    });
    assert.equal(cloud.name, 'custom');
    assert.equal(cloud.authorityHost, 'https://127.0.0.1:8443');
    assert.equal(cloud.graphUrl, 'https://graph.rig.example');
    assert.match(cloud.caPem!, /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n$/);
  });

  test('without a CA bundle the system roots are used (no caPem)', () => {
    const cloud = resolveCloud('custom', {
      authorityHost: 'https://login.rig.example',
      graphUrl: 'https://graph.rig.example',
      caPem: '  ',
    });
    assert.equal('caPem' in cloud, false);
  });

  test('the endpoints are required', () => {
    assert.throws(() => resolveCloud('custom'), invalid(/needs an authority host and a Graph URL/, 'cloud'));
    assert.throws(
      () => resolveCloud('custom', { authorityHost: '', graphUrl: 'https://g.example' }),
      invalid(/^Authority host is required/, 'authorityHost'),
    );
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'https://l.example', graphUrl: ' ' }),
      invalid(/^Graph URL is required/, 'graphUrl'),
    );
  });

  test('http is refused: MSAL and Microsoft accept only https', () => {
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'http://127.0.0.1:8443', graphUrl: 'https://g.example' }),
      invalid(/Authority host must use https .* not http\./, 'authorityHost'),
    );
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'https://l.example', graphUrl: 'ftp://g.example' }),
      invalid(/Graph URL must use https .* not ftp\./, 'graphUrl'),
    );
  });

  test('unparseable URLs, credentials, queries and fragments are refused', () => {
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'login.example', graphUrl: 'https://g.example' }),
      invalid(/Authority host "login.example" is not a URL: give it as https:\/\/host\[:port\]/, 'authorityHost'),
    );
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'https://user:pw@l.example', graphUrl: 'https://g.example' }),
      invalid(/must not contain a user name or password/, 'authorityHost'),
    );
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'https://l.example', graphUrl: 'https://g.example/?x=1' }),
      invalid(/Graph URL must not have a query string or fragment/, 'graphUrl'),
    );
    assert.throws(
      () => resolveCloud('custom', { authorityHost: 'https://l.example#top', graphUrl: 'https://g.example' }),
      invalid(/query string or fragment/, 'authorityHost'),
    );
  });

  test('the CA bundle must be PEM certificates, not keys or garbage', () => {
    const cloud = (pem: string) =>
      resolveCloud('custom', { authorityHost: 'https://l.example', graphUrl: 'https://g.example', caPem: pem });
    assert.throws(
      () => cloud('not a certificate'),
      invalid(/not PEM: expected one or more "-----BEGIN CERTIFICATE-----" blocks/, 'caPem'),
    );
    assert.throws(
      () =>
        cloud(
          '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
        ),
      invalid(/holds a "PRIVATE KEY" block; only CERTIFICATE blocks are accepted\. That is a private key/, 'caPem'),
    );
    assert.throws(
      () => cloud('-----BEGIN CERTIFICATE-----\nTUlJQm9vb29v\n-----END CERTIFICATE-----\n'),
      invalid(/does not parse as an X\.509 certificate/, 'caPem'),
    );
    // a bundle of two certificates is kept whole
    assert.equal(cloud(`${caPem}\n${caPem}`).caPem!.match(/BEGIN CERTIFICATE/g)!.length, 2);
  });
});
