// GraphiQL in a real Chromium with the network cut off at the origin: every request to another origin is aborted and
// recorded. The editor must render, run a query, load nothing from elsewhere, and trip no CSP violation.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../fixtures/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('GraphiQL, served from our own origin', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const offOrigin: string[] = [];
  const cspMessages: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    profile = await mkdtemp(join(tmpdir(), 'tessera-graphiql-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
    const origin = new URL(server.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('blob:') || url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
      offOrigin.push(url);
      return route.abort('blockedbyclient');
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => { if (/Content Security Policy|Content-Security-Policy/i.test(message.text())) cspMessages.push(message.text()); });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Violations the page reports as events, in case a console message is worded differently.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await server?.close();
  });

  it('renders the editor and runs a query with every other origin cut off, under the CSP', async () => {
    const response = await page.goto(`${server.url}/graphql`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 30_000 });
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor({ timeout: 30_000 });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ config { mfa { supportedTypes } } }');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 30_000 }).toContain('supportedTypes');
    const screenshot = join(tmpdir(), 'tessera-graphiql.png');
    await page.screenshot({ path: screenshot });
    console.log(`GraphiQL screenshot: ${screenshot}`);

    expect(offOrigin).toEqual([]);
    expect(cspMessages).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
