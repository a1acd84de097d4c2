import { describe, expect, it } from 'vitest';
import { loadWebAuthnConfig, WebAuthnConfigError } from '../../../src/crypto/webauthn/config.js';

describe('loadWebAuthnConfig', () => {
  it('defaults to localhost, Tessera and http://localhost:4000 plus the server origin', () => {
    expect(loadWebAuthnConfig({}, { defaultOrigin: 'http://localhost:4123' })).toEqual({
      rpId: 'localhost',
      rpName: 'Tessera',
      origins: ['http://localhost:4000', 'http://localhost:4123'],
      allowInsecureOrigin: false,
    });
    expect(loadWebAuthnConfig({}).origins).toEqual(['http://localhost:4000']);
  });

  it('reads an explicit origin list for a real domain, normalising trailing slashes', () => {
    const config = loadWebAuthnConfig({
      WEBAUTHN_RP_ID: 'example.com',
      WEBAUTHN_RP_NAME: 'Example',
      WEBAUTHN_ORIGINS: 'https://example.com/, https://login.example.com:8443',
    });
    expect(config).toMatchObject({
      rpId: 'example.com',
      rpName: 'Example',
      origins: ['https://example.com', 'https://login.example.com:8443'],
    });
  });

  it('accepts plain http on loopback hosts, which browsers treat as secure contexts', () => {
    expect(loadWebAuthnConfig({ WEBAUTHN_ORIGINS: 'http://localhost:5173' }).origins).toEqual(['http://localhost:5173']);
  });

  it('refuses a plain-http origin on a real host unless the insecure flag is set', () => {
    const env = { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'http://example.com' };
    expect(() => loadWebAuthnConfig(env)).toThrow(WebAuthnConfigError);
    expect(() => loadWebAuthnConfig(env)).toThrow(/plain http/);
    expect(() => loadWebAuthnConfig({ ...env, WEBAUTHN_ALLOW_INSECURE_ORIGIN: 'false' })).toThrow(/plain http/);
    expect(loadWebAuthnConfig({ ...env, WEBAUTHN_ALLOW_INSECURE_ORIGIN: 'true' }).origins).toEqual(['http://example.com']);
    expect(loadWebAuthnConfig({ ...env, WEBAUTHN_ALLOW_INSECURE_ORIGIN: '1' }).allowInsecureOrigin).toBe(true);
  });

  it('refuses an origin that is not the RP ID or one of its subdomains', () => {
    const base = { WEBAUTHN_RP_ID: 'example.com' };
    expect(() => loadWebAuthnConfig({ ...base, WEBAUTHN_ORIGINS: 'https://example.org' })).toThrow(/not on RP ID/);
    // A suffix match without the dot would let notexample.com pass.
    expect(() => loadWebAuthnConfig({ ...base, WEBAUTHN_ORIGINS: 'https://notexample.com' })).toThrow(/not on RP ID/);
    // The default localhost origin is not under a real RP ID either, so a deployment must list its origins.
    expect(() => loadWebAuthnConfig(base)).toThrow(/not on RP ID/);
    expect(loadWebAuthnConfig({ ...base, WEBAUTHN_ORIGINS: 'https://a.b.example.com' }).origins).toEqual([
      'https://a.b.example.com',
    ]);
  });

  it('refuses an RP ID written as a URL and origins that are not bare origins', () => {
    expect(() => loadWebAuthnConfig({ WEBAUTHN_RP_ID: 'https://example.com' })).toThrow(/not a host name/);
    expect(() => loadWebAuthnConfig({ WEBAUTHN_ORIGINS: 'http://localhost:4000/login' })).toThrow(/no path/);
    expect(() => loadWebAuthnConfig({ WEBAUTHN_ORIGINS: 'localhost:4000' })).toThrow(WebAuthnConfigError);
    expect(() => loadWebAuthnConfig({ WEBAUTHN_ORIGINS: 'ftp://localhost' })).toThrow(/https/);
  });
});
