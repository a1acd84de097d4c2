// The reference web app (web/), served by Tessera itself at `/` under its real CSP, driven in Debian Chromium with a
// CDP virtual authenticator: the newcomer's journey (the QR code read from the page with zbarimg, codes from
// oathtool), passkeys from the button and through autofill, recovery codes, revocation from another browser,
// reauthentication before regenerating codes, and axe-core on every page. Screenshots of the main pages go to docs/.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../../scripts/build-web.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchBrowserWithAuthenticator, type VirtualAuthenticatorBrowser } from '../fixtures/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireExecutable, runTool } from '../helpers/tools.js';
import { fastArgon } from '../integration/webauthn/helpers.js';

const PASSWORD = 'correct horse battery staple';
const docs = path.resolve(import.meta.dirname, '../../docs');

/** Waits for the page to reach `pathname`; one that never gets there says where it is and what error it shows. */
async function at(p: Page, pathname: string): Promise<void> {
  try {
    await p.waitForURL((url) => url.pathname === pathname, { timeout: 15_000 });
  } catch (error) {
    const shown = (await p.getByRole('alert').allTextContents().catch(() => [])).filter((t) => t.trim() !== '');
    throw new Error(`never reached ${pathname}: still at ${new URL(p.url()).pathname}${shown.length > 0 ? `, showing "${shown.join(' / ')}"` : ''}`, { cause: error });
  }
}
const shot = (p: Page, name: string) => p.screenshot({ path: path.join(docs, `${name}.png`), fullPage: true });

describe('the reference web app in Chromium', () => {
  let server: TestServer;
  let browser: VirtualAuthenticatorBrowser;
  let page: Page;
  let work: string;
  const cspViolations: string[] = [];
  /** The newcomer's TOTP secret and recovery codes, for the later steps. */
  let secret = '';
  let recoveryCodes: string[] = [];

  const totpCode = async (): Promise<string> =>
    (await runTool('oathtool', ['--totp', '-b', `--now=${server.clock.now().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, secret])).trim();

  async function logIn(p: Page, email: string): Promise<void> {
    await p.goto(`${server.url}/login`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  async function logOut(p: Page): Promise<void> {
    await p.getByRole('button', { name: 'Log out' }).click();
    await at(p, '/login');
  }

  beforeAll(async () => {
    // CI runs `npm ci` (whose postinstall builds) then `npm test`; this makes sure of it either way (cached by hash).
    await ensureWebBuild({ log: () => {} });
    server = await startTestServer({ env: { ...fastArgon, WEBAUTHN_RP_ID: 'localhost' } });
    work = await mkdtemp(path.join(tmpdir(), 'tessera-web-'));
    browser = await launchBrowserWithAuthenticator(`${server.url}/login`);
    page = browser.page;
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text()); });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves the app at / and its routes (SPA fallback) under the strict CSP; API paths and missing files stay 404', async () => {
    const home = await fetch(`${server.url}/settings/security`, { headers: { accept: 'text/html' } });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await home.text()).toContain('<div id="root">');
    expect((await fetch(`${server.url}/assets/missing.js`, { headers: { accept: 'text/html' } })).status).toBe(404);
    expect((await fetch(`${server.url}/nope`, { headers: { accept: 'application/json' } })).status).toBe(404);
    const html = await (await fetch(`${server.url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    expect((await fetch(`${server.url}${script}`)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/style=/);
  });

  it('a newcomer signs up, sets up TOTP from the QR code on the page, sees recovery codes once, logs out, logs in with a code to AAL2', async () => {
    await page.goto(`${server.url}/`);
    await at(page, '/login');
    await shot(page, 'login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await at(page, '/signup');
    await shot(page, 'signup');
    await page.getByLabel('Email').fill('newcomer@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await at(page, '/mfa/setup');

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByTestId('totp-qr');
    await qr.waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid=totp-qr]') as HTMLImageElement | null)?.complete);
    const qrFile = path.join(work, 'qr.png');
    await qr.screenshot({ path: qrFile });
    const decoded = (await runTool('zbarimg', ['--raw', '-q', qrFile])).trim();
    expect(decoded).toMatch(/^otpauth:\/\/totp\/.*newcomer%40example\.com/);
    secret = new URL(decoded).searchParams.get('secret')!;
    expect((await page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '')).toBe(secret);
    await shot(page, 'mfa-setup');

    await page.getByLabel('Code from the app').fill(await totpCode());
    await page.getByRole('button', { name: 'Activate' }).click();
    const codes = page.getByTestId('recovery-codes').locator('code');
    await codes.first().waitFor();
    recoveryCodes = await codes.allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('authenticator app is set up');
    await shot(page, 'recovery-codes');
    // Shown once: a reload shows the setup page without them.
    await page.reload();
    await page.getByText('An authenticator app is already set up.').waitFor();
    expect(await page.getByTestId('recovery-codes').count()).toBe(0);

    await page.getByRole('link', { name: 'Continue to your account' }).click();
    await at(page, '/');
    await logOut(page);
    await logIn(page, 'newcomer@example.com');
    await at(page, '/mfa/verify');
    await shot(page, 'mfa-verify');
    server.clock.advance(30_000);
    await page.getByLabel('Code from your authenticator app').fill(await totpCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await at(page, '/');
    await expect.poll(() => page.getByTestId('aal').textContent()).toBe('AAL2');
    expect(await page.getByTestId('methods').textContent()).toContain('Authenticator app');
    await shot(page, 'home');
  });

  it('logs in with a recovery code; the unused count drops on /settings/security', async () => {
    await logOut(page);
    await logIn(page, 'newcomer@example.com');
    await at(page, '/mfa/verify');
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await at(page, '/');
    await page.getByRole('link', { name: 'Security' }).click();
    await at(page, '/settings/security');
    await expect.poll(() => page.getByTestId('recovery-unused').textContent()).toBe('9 of 10 codes unused.');
    await shot(page, 'security');
  });

  it('regenerating recovery codes asks for reauthentication first, then regenerates', async () => {
    server.clock.advance(10 * 60_000); // the login is no longer recent
    await page.getByRole('button', { name: 'Regenerate codes' }).click();
    await at(page, '/reauthenticate');
    await shot(page, 'reauthenticate');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Confirm with password' }).click();
    await at(page, '/settings/security');
    const codes = page.getByTestId('recovery-codes').locator('code');
    await codes.first().waitFor();
    const fresh = await codes.allTextContents();
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(recoveryCodes[1]);
    await expect.poll(() => page.getByTestId('recovery-unused').textContent()).toBe('10 of 10 codes unused.');
  });

  it('a second browser, revoked from the first, is sent to /login on its next action', async () => {
    const other = await chromium.launch({ executablePath: requireExecutable(CHROMIUM_PATH, 'chromium'), headless: true, args: CHROMIUM_ARGS });
    try {
      const second = await (await other.newContext()).newPage();
      await logIn(second, 'newcomer@example.com');
      await at(second, '/mfa/verify');
      server.clock.advance(30_000);
      await second.getByLabel('Code from your authenticator app').fill(await totpCode());
      await second.getByRole('button', { name: 'Verify' }).click();
      await at(second, '/');

      await page.reload();
      const rows = page.getByTestId('session-row');
      await expect.poll(() => rows.count()).toBe(2);
      await page.getByRole('button', { name: /^Revoke/ }).click();
      await expect.poll(() => rows.count()).toBe(1);

      await second.getByRole('link', { name: 'Security' }).click();
      await at(second, '/login');
    } finally {
      await other.close();
    }
  });

  it('registers a passkey, then logs in with it from the button and through autofill', async () => {
    await logOut(page);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('passkey@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await at(page, '/mfa/setup');
    await page.getByLabel('Name (optional)').fill('Laptop passkey');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Passkey “Laptop passkey” added');
    await page.getByTestId('recovery-codes').waitFor();

    // From the button. Chromium's virtual authenticator answers a conditional (autofill) request by itself, standing in
    // for the person who picks the passkey from the list; so that the button is what signs in here, the passkey is
    // taken out of the authenticator while /login starts its autofill request, and put back before the click. The
    // button's modal ceremony replaces the waiting autofill one (WebAuthnAbortService).
    const { authenticatorId, cdp } = browser;
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    // The passkey goes back only once /login's autofill request is really waiting in the browser (it first asks the
    // server for options): put back earlier, the autofill request would find it and sign in before the click.
    await page.evaluate(() => {
      const w = window as unknown as { autofillWaiting?: boolean; getWrapped?: boolean };
      if (!w.getWrapped) {
        const get = navigator.credentials.get.bind(navigator.credentials);
        navigator.credentials.get = (options) => {
          if (options?.mediation === 'conditional') w.autofillWaiting = true;
          return get(options);
        };
        w.getWrapped = true;
      }
      w.autofillWaiting = false;
    });
    await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
    await logOut(page);
    await expect.poll(() => page.evaluate(() => (window as unknown as { autofillWaiting?: boolean }).autofillWaiting)).toBe(true);
    await page.getByLabel('Email').focus();
    for (const credential of credentials) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await at(page, '/');
    await expect.poll(() => page.getByTestId('methods').textContent()).toContain('Passkey');

    // Through autofill: nothing is clicked; /login's conditional-mediation request (on the `username webauthn` field)
    // is answered with the passkey and the app signs in.
    await logOut(page);
    await at(page, '/');
    await expect.poll(() => page.getByTestId('aal').textContent()).toBe('AAL2');
    expect(await page.getByTestId('methods').textContent()).toContain('Passkey');
  });

  it('no page broke the Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });

  // axe-core needs its source injected as a script, which the app's CSP (script-src 'self') rightly refuses. This one
  // context, used for nothing else, is opened with playwright's `bypassCSP: true` so the audit can run.
  it('axe-core: no serious or critical violation on any page', async () => {
    const axeSource = await readFile(path.resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');
    const axeBrowser: Browser = await chromium.launch({ executablePath: requireExecutable(CHROMIUM_PATH, 'chromium'), headless: true, args: CHROMIUM_ARGS });
    const results: Record<string, string[]> = {};
    try {
      const context = await axeBrowser.newContext({ bypassCSP: true });
      const p = await context.newPage();
      async function audit(name: string): Promise<void> {
        await p.locator('h1').first().waitFor();
        await p.addScriptTag({ content: axeSource });
        const violations = await p.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
          const result = await axe.run();
          return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
        });
        results[name] = violations;
      }
      await p.goto(`${server.url}/login`);
      await audit('/login');
      await p.goto(`${server.url}/signup`);
      await audit('/signup');
      await p.getByLabel('Email').fill('axe@example.com');
      await p.getByLabel('Password').fill(PASSWORD);
      await p.getByRole('button', { name: 'Create account' }).click();
      await at(p, '/mfa/setup');
      await p.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await p.getByTestId('totp-qr').waitFor();
      const axeSecret = (await p.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
      await audit('/mfa/setup');
      const code = (await runTool('oathtool', ['--totp', '-b', `--now=${server.clock.now().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, axeSecret])).trim();
      await p.getByLabel('Code from the app').fill(code);
      await p.getByRole('button', { name: 'Activate' }).click();
      await p.getByTestId('recovery-codes').waitFor();
      await audit('/mfa/setup (recovery codes)');
      await p.goto(`${server.url}/`);
      await audit('/');
      await p.goto(`${server.url}/settings/security`);
      await p.getByTestId('recovery-unused').waitFor();
      await audit('/settings/security');
      await p.goto(`${server.url}/reauthenticate`);
      await audit('/reauthenticate');
      await p.getByRole('button', { name: 'Log out' }).click();
      await at(p, '/login');
      await p.getByLabel('Email').fill('axe@example.com');
      await p.getByLabel('Password').fill(PASSWORD);
      await p.getByRole('button', { name: 'Sign in', exact: true }).click();
      await at(p, '/mfa/verify');
      await audit('/mfa/verify');
      await p.getByLabel('Code from your authenticator app').fill('000000');
      await p.getByRole('button', { name: 'Verify' }).click();
      await p.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
      await audit('/mfa/verify (error)');
    } finally {
      await axeBrowser.close();
    }
    expect(results).toEqual({
      '/login': [], '/signup': [], '/mfa/setup': [], '/mfa/setup (recovery codes)': [], '/': [], '/settings/security': [],
      '/reauthenticate': [], '/mfa/verify': [], '/mfa/verify (error)': [],
    });
  });
});

// "Trust this device" (MFA_TRUST_ENABLED=true): asked after the MFA step, it lets the next password login from this
// browser skip the step; /settings/security lists the devices and revokes the trust; sign out everywhere.
describe('the reference web app in Chromium: trusted devices', () => {
  let server: TestServer;
  let browser: Browser;
  const cspViolations: string[] = [];
  const secrets = new Map<string, string>();

  const totpCode = async (email: string): Promise<string> => {
    server.clock.advance(30_000); // a fresh time step: a code is accepted once
    return (await runTool('oathtool', ['--totp', '-b', `--now=${server.clock.now().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, secrets.get(email)!])).trim();
  };

  async function logIn(p: Page, email: string): Promise<void> {
    await p.goto(`${server.url}/login`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  async function logOut(p: Page): Promise<void> {
    await p.getByRole('button', { name: 'Log out' }).click();
    await at(p, '/login');
  }
  /** Signup and an authenticator app (the secret as printed on the page), then logged out. */
  async function signUpWithTotp(p: Page, email: string): Promise<void> {
    await p.goto(`${server.url}/signup`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Create account' }).click();
    await at(p, '/mfa/setup');
    await p.getByRole('button', { name: 'Set up an authenticator app' }).click();
    secrets.set(email, (await p.getByTestId('totp-secret').textContent())!.replace(/\s/g, ''));
    await p.getByLabel('Code from the app').fill(await totpCode(email));
    await p.getByRole('button', { name: 'Activate' }).click();
    await p.getByTestId('recovery-codes').waitFor();
    await p.getByRole('link', { name: 'Continue to your account' }).click();
    await at(p, '/');
    await logOut(p);
  }
  /** Password, then the code: the page asks "Trust this device for 14 days?". */
  async function logInToTrustQuestion(p: Page, email: string): Promise<void> {
    await logIn(p, email);
    await at(p, '/mfa/verify');
    await p.getByLabel('Code from your authenticator app').fill(await totpCode(email));
    await p.getByRole('button', { name: 'Verify' }).click();
    await p.getByRole('heading', { name: 'Trust this device for 14 days?' }).waitFor();
  }

  beforeAll(async () => {
    await ensureWebBuild({ log: () => {} });
    server = await startTestServer({ env: { ...fastArgon, MFA_TRUST_ENABLED: 'true' } });
    browser = await chromium.launch({ executablePath: requireExecutable(CHROMIUM_PATH, 'chromium'), headless: true, args: CHROMIUM_ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('TOTP login → "trust" → the next password login lands on / without the MFA step; trusted on /settings/security; revoked; asked again; sign out everywhere', async () => {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text()); });
    await signUpWithTotp(page, 'trusting@example.com');

    await logInToTrustQuestion(page, 'trusting@example.com');
    expect(new URL(page.url()).pathname).toBe('/mfa/verify');
    await shot(page, 'mfa-trust');
    await page.getByRole('button', { name: 'Trust this device' }).click();
    await at(page, '/');
    await expect.poll(() => page.getByTestId('aal').textContent()).toBe('AAL2');

    // The password alone, straight to /: AAL1 through the trusted device.
    await logOut(page);
    await logIn(page, 'trusting@example.com');
    await at(page, '/');
    await expect.poll(() => page.getByTestId('aal').textContent()).toBe('AAL1');
    expect(await page.getByTestId('methods').textContent()).toContain('Trusted device');

    await page.getByRole('link', { name: 'Security' }).click();
    await at(page, '/settings/security');
    const device = page.getByTestId('device-row');
    await expect.poll(() => device.count()).toBe(1);
    expect(await device.textContent()).toContain('This device');
    expect(await device.getByTestId('device-trust').textContent()).toMatch(/^Trusted /);
    // The session names its device.
    const deviceName = (await device.locator('td').first().textContent())!.replace('This device', '');
    expect(await page.getByTestId('session-row').locator('td').first().textContent()).toBe(`${deviceName}This session`);
    await shot(page, 'security-devices');

    await page.getByRole('button', { name: /^Revoke trust/ }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('is no longer trusted');
    await expect.poll(() => device.getByTestId('device-trust').textContent()).toBe('Not trusted');
    expect(await page.getByRole('button', { name: /^Revoke trust/ }).count()).toBe(0);

    // Asked for the code again; "Not now" goes on without trusting.
    await logOut(page);
    await logInToTrustQuestion(page, 'trusting@example.com');
    await page.getByRole('button', { name: 'Not now' }).click();
    await at(page, '/');
    await expect.poll(() => page.getByTestId('aal').textContent()).toBe('AAL2');
    await logOut(page);
    await logIn(page, 'trusting@example.com');
    await at(page, '/mfa/verify');
    await page.getByLabel('Code from your authenticator app').fill(await totpCode('trusting@example.com'));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Trust this device for 14 days?' }).waitFor();
    await page.getByRole('button', { name: 'Trust this device' }).click();
    await at(page, '/');
    // The home page has its state before the next click (a click while it is still rendering can be lost).
    await expect.poll(() => page.getByTestId('aal').textContent()).toBe('AAL2');

    // Sign out everywhere: this browser too, and the trust ends (the next login asks for the code).
    await page.getByRole('link', { name: 'Security' }).click();
    await at(page, '/settings/security');
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
    await at(page, '/login');
    await logIn(page, 'trusting@example.com');
    await at(page, '/mfa/verify');
    expect(cspViolations).toEqual([]);
  });

  it('axe-core: no serious or critical violation on the trust question and the devices section', async () => {
    const axeSource = await readFile(path.resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');
    const p = await (await browser.newContext({ bypassCSP: true })).newPage();
    const results: Record<string, string[]> = {};
    async function audit(name: string): Promise<void> {
      await p.locator('h1').first().waitFor();
      await p.addScriptTag({ content: axeSource });
      results[name] = await p.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
        const result = await axe.run();
        return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
      });
    }
    await signUpWithTotp(p, 'axe-trust@example.com');
    await logInToTrustQuestion(p, 'axe-trust@example.com');
    await audit('/mfa/verify (trust this device?)');
    await p.getByRole('button', { name: 'Trust this device' }).click();
    await at(p, '/');
    await p.goto(`${server.url}/settings/security`);
    await p.getByTestId('device-row').getByText('Trusted').waitFor();
    await audit('/settings/security (trusted device)');
    await p.getByRole('button', { name: 'Sign out everywhere' }).click();
    await p.getByRole('button', { name: 'Yes, sign out everywhere' }).waitFor();
    await audit('/settings/security (sign out everywhere?)');
    await p.getByRole('button', { name: /^Revoke trust/ }).click();
    await p.getByRole('status').filter({ hasText: 'no longer trusted' }).waitFor();
    await audit('/settings/security (trust revoked)');
    expect(results).toEqual({
      '/mfa/verify (trust this device?)': [], '/settings/security (trusted device)': [],
      '/settings/security (sign out everywhere?)': [], '/settings/security (trust revoked)': [],
    });
  });
});

// /analytics: an analyst at AAL2 reads the charts of the scripted 10-day history (the series test's scenario), under
// the real CSP; axe-core finds no serious or critical violation; others are not offered the page.
describe('the reference web app in Chromium: analytics', () => {
  let server: TestServer;
  let browser: Browser;
  const cspViolations: string[] = [];
  let secret = '';
  let projector: { stop(): Promise<void> } | undefined;
  const totpCode = async (): Promise<string> => {
    server.clock.advance(30_000);
    return (await runTool('oathtool', ['--totp', '-b', `--now=${server.clock.now().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, secret])).trim();
  };

  /** Signs the analyst in with password and code (AAL2), then opens /analytics on the scenario's ten days. */
  async function openAnalytics(p: Page): Promise<void> {
    await p.goto(`${server.url}/login`);
    await p.getByLabel('Email').fill('analyst@example.com');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(p, '/mfa/verify');
    await p.getByLabel('Code from your authenticator app').fill(await totpCode());
    await p.getByRole('button', { name: 'Verify' }).click();
    await at(p, '/');
    await p.getByRole('link', { name: 'Analytics' }).click();
    await at(p, '/analytics');
    await p.getByLabel('From', { exact: true }).fill('2026-03-02');
    await p.getByLabel('To', { exact: true }).fill('2026-03-11');
    // The analysis tables are asynchronous: the analyst's own login may not be counted yet; ask again until it is.
    await expect.poll(async () => {
      await p.getByRole('button', { name: 'Show' }).click();
      await p.getByRole('button', { name: 'Show' }).waitFor();
      return p.getByTestId('lag').textContent();
    }, { timeout: 20_000 }).toBe('Up to date with the log.');
    expect(await p.getByTestId('totals').textContent()).toContain('Logins51');
  }

  beforeAll(async () => {
    await ensureWebBuild({ log: () => {} });
    server = await startTestServer({ env: { ...fastArgon, ANALYTICS_POLL_MS: '100' }, now: new Date(Date.UTC(2026, 2, 2)) });
    const { runScenario } = await import('../integration/analytics/scenario.js');
    const { startAnalyticsProjector } = await import('../../src/application/analytics.js');
    await runScenario(server.app, server.clock);
    server.clock.set(Date.UTC(2026, 2, 22));
    browser = await chromium.launch({ executablePath: requireExecutable(CHROMIUM_PATH, 'chromium'), headless: true, args: CHROMIUM_ARGS });
    // The analyst: signup and an authenticator app in the browser, the role granted by an administrator.
    const p = await (await browser.newContext()).newPage();
    await p.goto(`${server.url}/signup`);
    await p.getByLabel('Email').fill('analyst@example.com');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Create account' }).click();
    await at(p, '/mfa/setup');
    await p.getByRole('button', { name: 'Set up an authenticator app' }).click();
    secret = (await p.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
    await p.getByLabel('Code from the app').fill(await totpCode());
    await p.getByRole('button', { name: 'Activate' }).click();
    await p.getByTestId('recovery-codes').waitFor();
    // Not an analyst yet: no link to the page.
    await p.getByRole('link', { name: 'Continue to your account' }).click();
    await at(p, '/');
    expect(await p.getByRole('link', { name: 'Analytics' }).count()).toBe(0);
    await p.getByRole('button', { name: 'Log out' }).click();
    await at(p, '/login');
    const { grantRole } = await import('../../src/application/roles.js');
    const [user] = await server.app.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [server.app.personalData.hashes.email('analyst@example.com')]);
    await grantRole(server.app, user!.user_id, 'analyst', { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' });
    // As `tessera serve` does: the analysis projector in the background.
    projector = startAnalyticsProjector(server.app);
  }, 180_000);
  afterAll(async () => {
    await projector?.stop();
    await browser?.close();
    await server?.close();
  });

  it('an analyst at AAL2 sees the charts and the totals of the range; the page keeps the CSP', async () => {
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    p.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text()); });
    await openAnalytics(p);
    expect(await p.getByTestId('totals').textContent()).toContain('Failures22');
    expect(await p.getByTestId('totals').textContent()).toContain('Signups50');
    // Five charts, each drawn (SVG bars or lines) with its numbers in a table.
    await expect.poll(() => p.locator('.chart-area .recharts-wrapper').count()).toBe(5);
    expect(await p.locator('.recharts-bar-rectangle').count()).toBeGreaterThan(20);
    await p.getByText('Show the numbers').first().click();
    const rows = p.locator('figure').first().locator('tbody tr');
    expect(await rows.count()).toBe(10);
    await p.screenshot({ path: path.join(docs, 'analytics.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  });

  it('axe-core: no serious or critical violation on /analytics', async () => {
    const axeSource = await readFile(path.resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');
    const p = await (await browser.newContext({ bypassCSP: true })).newPage();
    await openAnalytics(p);
    await p.getByText('Show the numbers').first().click();
    await p.addScriptTag({ content: axeSource });
    const violations = await p.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
      const result = await axe.run();
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
    });
    expect(violations).toEqual([]);
  });
});
