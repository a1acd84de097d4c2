// @vitest-environment happy-dom
// The README's useAuth() snippet, verbatim, in React components against the real server: `pendingFlow` is read after
// `await login(...)` from a value destructured before it, so it must be live (see packages/react).
import http from 'node:http';
import { act, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTesseraClient } from '../../packages/client/src/index.js';
import { TesseraProvider, useAuth } from '../../packages/react/src/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { oathtool } from '../integration/totp/helpers.js';
import { fastArgon } from '../integration/webauthn/helpers.js';

const PASSWORD = 'correct horse battery staple';
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** Node's HTTP, not happy-dom's fetch (which applies a browser's CORS rules from its own about:blank origin). */
const nodeFetch = ((url: string, init: RequestInit) => new Promise((resolve, reject) => {
  const body = String(init.body ?? '');
  const headers = { ...(init.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(body)) };
  const request = http.request(url, { method: init.method, headers }, (response) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => { text += chunk; });
    response.on('end', () => resolve({ json: async () => JSON.parse(text) }));
  });
  request.on('error', reject);
  request.end(body);
})) as unknown as typeof fetch;

describe('useAuth(): the issue\'s snippet runs verbatim', () => {
  let server: TestServer;
  let client: ReturnType<typeof createTesseraClient>;
  const done: string[] = [];
  beforeAll(async () => { server = await startTestServer({ env: fastArgon }); });
  afterAll(async () => server?.close());

  it('setupTotp → activateTotp; login → pendingFlow.id mfa_authenticate → router.push("/mfa/verify") → authenticateMfa', async () => {
    // Token mode: happy-dom is not a browser that keeps HttpOnly cookies across origins.
    client = createTesseraClient({ url: `${server.url}/graphql`, mode: 'token', fetch: nodeFetch });
    expect((await client.signup('snippet@example.com', PASSWORD)).ok).toBe(true);
    let secretSeen = '';
    const codeFor = async (secret: string): Promise<string> => oathtool(secret, server.clock.now().getTime());
    const pushed: string[] = [];
    const router = { push: (path: string) => { pushed.push(path); } };

    function Enrol() {
      const { setupTotp, activateTotp } = useAuth();
      useEffect(() => {
        void (async () => {
          const { totp_url, secret } = await setupTotp();
          secretSeen = secret!;
          expect(totp_url).toMatch(/^otpauth:\/\/totp\//);
          const code = await codeFor(secret!);
          await activateTotp(code);
          done.push('enrolled');
        })();
      }, []); // eslint-disable-line react-hooks/exhaustive-deps
      return null;
    }

    function Login(props: { email: string; password: string }) {
      const { login, pendingFlow, authenticateMfa, logout } = useAuth();
      useEffect(() => {
        void (async () => {
          await logout();
          const { email, password } = props;
          await login(email, password);
          if (pendingFlow?.id === "mfa_authenticate") router.push("/mfa/verify");
          server.clock.advance(30_000);
          const code = await codeFor(secretSeen);
          await authenticateMfa(code);
          done.push('logged in');
        })();
      }, []); // eslint-disable-line react-hooks/exhaustive-deps
      return null;
    }

    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    await act(async () => { root.render(<TesseraProvider client={client}><Enrol /></TesseraProvider>); });
    await expect.poll(() => done, { timeout: 10_000 }).toEqual(['enrolled']);
    await act(async () => { root.render(<TesseraProvider client={client}><Login email="snippet@example.com" password={PASSWORD} /></TesseraProvider>); });
    await expect.poll(() => done, { timeout: 10_000 }).toEqual(['enrolled', 'logged in']);
    expect(pushed).toEqual(['/mfa/verify']);
    const status = client.getStatus();
    expect(status.kind === 'authenticated' && status.authState.session?.aal).toBe(2);
    await act(async () => root.unmount());
  });

  it('keeps the newest authenticators when an older refresh answers last (a page\'s refresh on mount racing its action)', async () => {
    // The Security page back from /reauthenticate refreshes on mount while it retries the action that changes a factor:
    // the mount's answer, read before the change, arrives last. It must not overwrite the one read after the change.
    let holdNextMe = false;
    let staleAnswer = '';
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => { releaseHeld = resolve; });
    // The refresh's answer is read before the change is sent: sent side by side, the server could run the change first.
    let meRead!: () => void;
    const readBeforeChange = new Promise<void>((resolve) => { meRead = resolve; });
    const slowFirstMe = (async (url: string, init: RequestInit) => {
      const answer = await nodeFetch(url, init); // read now
      if (holdNextMe && String(init.body).includes('query Me')) {
        holdNextMe = false;
        staleAnswer = JSON.stringify(await answer.json());
        meRead();
        await held; // delivered after everything else
      }
      return answer;
    }) as typeof fetch;
    const racing = createTesseraClient({ url: `${server.url}/graphql`, mode: 'token', fetch: slowFirstMe, token: client.token });
    await racing.authState();
    const seen: string[][] = [];
    function Security() {
      const { refresh, deactivateTotp, authenticators } = useAuth();
      useEffect(() => { seen.push(authenticators.map((a) => a.type)); }, [authenticators]);
      useEffect(() => {
        void (async () => {
          holdNextMe = true;
          const mount = refresh();
          await readBeforeChange;
          expect((await deactivateTotp()).ok).toBe(true);
          releaseHeld();
          await mount;
          done.push('raced');
        })();
      }, []); // eslint-disable-line react-hooks/exhaustive-deps
      return null;
    }
    const container = document.createElement('div');
    document.body.append(container);
    const again = createRoot(container);
    await act(async () => { again.render(<TesseraProvider client={racing}><Security /></TesseraProvider>); });
    await expect.poll(() => done, { timeout: 10_000 }).toContain('raced');
    await act(async () => { await new Promise((resolve) => setTimeout(resolve, 50)); });
    expect(staleAnswer).toContain('"type":"TOTP"'); // the held answer was really read before the change
    expect(seen.at(-1)).not.toContain('TOTP');
    await act(async () => again.unmount());
  });
});
