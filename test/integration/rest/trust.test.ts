// allauth's mfa_trust over the REST facade (issue 13's contract): after the MFA step the browser may be trusted, and
// later password logins from it answer 200 at once, with no mfa_authenticate step; a new browser still gets the step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restBrowser, validatorFor } from '../../helpers/allauth.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { codeAt, fastArgon, PASSWORD, T0 } from '../totp/helpers.js';

describe('allauth headless: trust this browser', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, MFA_TRUST_ENABLED: 'true' }, now: new Date(T0) });
  });
  afterAll(() => server.close());

  it('POST /auth/2fa/trust after the MFA step: the next password login from this browser skips the step', async () => {
    const validator = await validatorFor(server);
    const email = 'trusting-rest@example.com';
    const browser = await restBrowser(server);
    expect((await browser.post('/auth/signup', { email, password: PASSWORD })).status).toBe(200);
    const secret = (await browser.get('/account/authenticators/totp')).body.meta.secret as string;
    expect((await browser.post('/account/authenticators/totp', { code: await codeAt(secret, server.clock.now().getTime()) })).status).toBe(200);
    expect((await browser.delete('/auth/session')).status).toBe(401);

    server.clock.advance(30_000);
    const pending = await browser.post('/auth/login', { email, password: PASSWORD });
    expect(pending.status).toBe(401);
    const done = await browser.post('/auth/2fa/authenticate', { code: await codeAt(secret, server.clock.now().getTime()) });
    expect(done.status).toBe(200);
    const trusted = await browser.post('/auth/2fa/trust', { trust: true });
    expect(trusted.status).toBe(200);
    validator.check('POST', `${server.url}/_allauth/browser/v1/auth/2fa/trust`, trusted.status, trusted.body);
    expect((await browser.delete('/auth/session')).status).toBe(401);

    const again = await browser.post('/auth/login', { email, password: PASSWORD });
    expect(again.status).toBe(200);
    expect(again.body.meta.is_authenticated).toBe(true);

    const stranger = await restBrowser(server);
    expect((await stranger.post('/auth/login', { email, password: PASSWORD })).status).toBe(401);
  });
});
