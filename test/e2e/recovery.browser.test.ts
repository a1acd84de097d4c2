// The account-recovery pages of the reference web app (issue 17) in Debian Chromium, every code and link read from a
// local SMTP sink: reset by code (/password/reset), reset by link (/password/reset/key/:key), email verification
// (/email/verify) and "this wasn't me" (/account/compromised/:key), with axe-core on each. Screenshots go to docs/.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../../scripts/build-web.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../fixtures/browser.js';
import { codeIn, linkKeyIn, startMailSink, type MailSink } from '../helpers/mailSink.js';
import { signedUpUser, startTestServer, type TestServer } from '../helpers/server.js';
import { requireExecutable } from '../helpers/tools.js';
import { fastArgon } from '../integration/webauthn/helpers.js';

const docs = path.resolve(import.meta.dirname, '../../docs');

describe('the reference web app in Chromium: account recovery', () => {
  let server: TestServer;
  let browser: Browser;
  let mail: MailSink;
  let axeSource = '';
  const violations: Record<string, string[]> = {};

  const at = (p: Page, pathname: string) => p.waitForURL((url) => url.pathname === pathname, { timeout: 15_000 });
  const shot = (p: Page, name: string) => p.screenshot({ path: path.join(docs, `${name}.png`), fullPage: true });
  async function audit(p: Page, name: string): Promise<void> {
    await p.locator('h1').first().waitFor();
    await p.addScriptTag({ content: axeSource });
    violations[name] = await p.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
      const result = await axe.run();
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
    });
  }
  /** axe-core is injected as a script, which the app's CSP refuses: these pages are audited with CSP bypassed. */
  const newPage = async (): Promise<Page> => (await browser.newContext({ bypassCSP: true })).newPage();

  beforeAll(async () => {
    await ensureWebBuild({ log: () => {} });
    server = await startTestServer({ env: { ...fastArgon, ATTEMPTS_PER_IP: '100000' } });
    mail = await startMailSink(server);
    browser = await chromium.launch({ executablePath: requireExecutable(CHROMIUM_PATH, 'chromium'), headless: true, args: CHROMIUM_ARGS });
    axeSource = await readFile(path.resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await mail?.close();
    await server?.close();
  });

  it('resets a password with the mailed code, from the login page', async () => {
    await signedUpUser(server, 'forgetful@example.com');
    const p = await newPage();
    await p.goto(`${server.url}/login`);
    await p.getByRole('link', { name: 'Forgot your password?' }).click();
    await at(p, '/password/reset');
    await audit(p, '/password/reset');
    await shot(p, 'password-reset-request');
    await p.getByLabel('Email').fill('forgetful@example.com');
    await p.getByRole('button', { name: 'Send code' }).click();
    await p.getByRole('heading', { name: 'Enter the code' }).waitFor();
    const code = codeIn((await mail.to('forgetful@example.com')).find((m) => m.subject === 'Reset your password'));
    await p.getByLabel('Code from the mail').fill('WRONG234');
    await p.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await p.getByRole('button', { name: 'Set new password' }).click();
    await p.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
    await audit(p, '/password/reset (code, error)');
    await shot(p, 'password-reset-code');
    await p.getByLabel('Code from the mail').fill(code);
    await p.getByRole('button', { name: 'Set new password' }).click();
    await p.getByRole('heading', { name: 'Password reset' }).waitFor();
    await audit(p, '/password/reset (done)');
    await p.getByRole('link', { name: 'Sign in' }).click();
    await at(p, '/login');
    await p.getByLabel('Email').fill('forgetful@example.com');
    await p.getByLabel('Password').fill('a brand new passphrase');
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(p, '/');
  });

  it('resets a password with the mailed link', async () => {
    await signedUpUser(server, 'linked@example.com');
    await server.appClient().gql(`mutation { requestPasswordReset(input: { email: "linked@example.com" }) { __typename } }`);
    const key = linkKeyIn((await mail.to('linked@example.com')).find((m) => m.subject === 'Reset your password'), '/password/reset/key/');
    const p = await newPage();
    await p.goto(`${server.url}/password/reset/key/${encodeURIComponent(key)}`);
    await audit(p, '/password/reset/key/:key');
    await shot(p, 'password-reset-key');
    await p.getByLabel('New password', { exact: true }).fill('a linked new passphrase');
    await p.getByRole('button', { name: 'Set new password' }).click();
    await p.getByRole('heading', { name: 'Password reset' }).waitFor();
    const again = await newPage();
    await again.goto(`${server.url}/password/reset/key/${encodeURIComponent(key)}`);
    await again.getByLabel('New password', { exact: true }).fill('another linked passphrase');
    await again.getByRole('button', { name: 'Set new password' }).click();
    await again.getByRole('alert').filter({ hasText: 'not valid any more' }).waitFor();
  });

  it('confirms the address with the code mailed at signup', async () => {
    const p = await newPage();
    await p.goto(`${server.url}/signup`);
    await p.getByLabel('Email').fill('newcomer@example.com');
    await p.getByLabel('Password').fill('correct horse battery staple');
    await p.getByRole('button', { name: 'Create account' }).click();
    await at(p, '/mfa/setup');
    await p.goto(`${server.url}/email/verify`);
    await audit(p, '/email/verify');
    await shot(p, 'email-verify');
    const code = codeIn((await mail.to('newcomer@example.com')).find((m) => m.subject === 'Confirm your email address'));
    await p.getByLabel('Code from the mail').fill(code);
    await p.getByRole('button', { name: 'Confirm' }).click();
    await p.getByRole('status').filter({ hasText: 'confirmed' }).waitFor();
  });

  it('"this wasn\'t me" from a security notice secures the account', async () => {
    const user = await signedUpUser(server, 'notme@example.com');
    await user.gql(`mutation { changePassword(input: { currentPassword: "correct horse battery staple", newPassword: "an attacker's passphrase" }) { __typename } }`);
    const notice = (await mail.to('notme@example.com')).find((m) => m.subject === 'Your password was changed');
    const key = linkKeyIn(notice, '/account/compromised/');
    const p = await newPage();
    await p.goto(`${server.url}/account/compromised/${encodeURIComponent(key)}`);
    await audit(p, '/account/compromised/:key');
    await shot(p, 'account-compromised');
    await p.getByRole('button', { name: 'Secure my account' }).click();
    await p.getByRole('heading', { name: 'Your account is secured' }).waitFor();
    await audit(p, '/account/compromised/:key (done)');
    await shot(p, 'account-compromised-done');
    expect((await user.gql(`{ me { id } }`)).data.me).toBeNull();
  });

  it('axe-core: no serious or critical violation on the recovery pages', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(7);
    for (const [page, found] of Object.entries(violations)) expect({ page, found }).toEqual({ page, found: [] });
  });
});
