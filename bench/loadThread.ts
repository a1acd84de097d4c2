// The load generator's thread (bench/load.ts starts it): the timed clients of the login, MFA step, passkey, guards,
// REST and analytics scenarios, off the service's event loop. It answers one job at a time; see load.ts for what each
// job does.
import { parentPort } from 'node:worker_threads';
import { createSoftAuthenticator, type SoftAuthenticator } from '../test/fixtures/softAuthenticator.js';
import { appHeaders } from './http.js';
import { HttpConnection, postBytes } from './httpConnection.js';
import { signedIn, type LoadJob, type LoadResult } from './load.js';
import { concurrently } from './types.js';

/** A request's answer, which must have the status expected (200 unless said). */
async function answer(connection: HttpConnection, request: Buffer, expected = 200): Promise<string> {
  const { status, text } = await connection.request(request);
  if (status !== expected) throw new Error(`answered ${status}: ${text.slice(0, 300)}`);
  return text;
}

/**
 * `count` tasks on `concurrency` clients, each task timed; each client has a connection of its own, opened before
 * the clock starts and closed after it stops (the service closes idle ones between sections).
 */
async function timedTasks(url: string, count: number, concurrency: number, task: (i: number, connection: HttpConnection) => Promise<void>): Promise<LoadResult> {
  const connections = await Promise.all(Array.from({ length: concurrency }, () => HttpConnection.open(url)));
  try {
    const latencies = new Array<number>(count);
    const rate = await concurrently(count, concurrency, async (i, client) => {
      const sent = process.hrtime.bigint();
      await task(i, connections[client]!);
      latencies[i] = Number(process.hrtime.bigint() - sent) / 1e6;
    });
    return { rate, latencies };
  } finally {
    for (const connection of connections) connection.close();
  }
}

function expecting(answer: string, expect: string, what: string): void {
  if (!answer.includes(expect)) throw new Error(`${what}: ${answer.slice(0, 300)}`);
}

const BEGIN = `mutation($p: WebAuthnPurpose!) { beginWebAuthnAuthentication(input: { purpose: $p }) { ... on WebAuthnRequestOptions { requestOptions ceremonyToken } ... on Error { code } } }`;
const PASSKEY_LOGIN = `mutation($c: JSON!, $t: String) { loginWithPasskey(input: { credential: $c, ceremonyToken: $t }) { __typename ... on Error { code } } }`;
const WEBAUTHN_MFA = `mutation($c: JSON!) { authenticateWebAuthn(input: { credential: $c }) { __typename ... on Error { code } } }`;

/** The soft authenticators of the passkey scenario's users: created here, so that they sign here. */
const authenticators = new Map<string, SoftAuthenticator>();

async function run(job: LoadJob): Promise<unknown> {
  switch (job.kind) {
    case 'posts': {
      const requests = job.requests.map((r) => postBytes(job.url, r.headers, r.body));
      return timedTasks(job.url, requests.length, job.concurrency, async (i, connection) => {
        expecting(await answer(connection, requests[i]!), job.expect, `request ${i}`);
      });
    }
    case 'register':
      return job.users.map((user) => {
        const key = createSoftAuthenticator({ origin: job.origin, rpId: job.rpId });
        authenticators.set(user.name, key);
        return key.register(user.creationOptions as never);
      });
    case 'assertions':
      // Options, then the signed assertion: a passkey login (no token), or the MFA step of a pending login.
      return timedTasks(job.url, job.users.length, job.concurrency, async (i, connection) => {
        const user = job.users[i]!;
        const headers = appHeaders(user.token ?? null, user.device);
        const purpose = user.token ? 'MFA' : 'PASSKEY_LOGIN';
        const begun = JSON.parse(await answer(connection, postBytes(job.url, headers, JSON.stringify({ query: BEGIN, variables: { p: purpose } })))) as {
          data?: { beginWebAuthnAuthentication?: { requestOptions?: unknown; ceremonyToken?: string } };
        };
        const options = begun.data?.beginWebAuthnAuthentication;
        if (!options?.requestOptions) throw new Error(`beginWebAuthnAuthentication: ${JSON.stringify(begun)}`);
        const credential = authenticators.get(user.name)!.assert(options.requestOptions as never);
        const body = user.token
          ? { query: WEBAUTHN_MFA, variables: { c: credential } }
          : { query: PASSKEY_LOGIN, variables: { c: credential, t: options.ceremonyToken } };
        expecting(await answer(connection, postBytes(job.url, headers, JSON.stringify(body))), signedIn, `${purpose} of ${user.name}`);
      });
    case 'chains': {
      const token = new RegExp(job.token);
      const firsts = job.chains.map((c) => postBytes(c.first.url, c.first.headers, c.first.body));
      return timedTasks(job.url, job.chains.length, job.concurrency, async (i, connection) => {
        const chain = job.chains[i]!;
        const first = await answer(connection, firsts[i]!, chain.first.status);
        const handed = token.exec(first)?.[1];
        if (!handed) throw new Error(`chain ${i}: no token in ${first.slice(0, 300)}`);
        const headers = Object.fromEntries(Object.entries(chain.second.headers).map(([name, value]) => [name, value.replace('{token}', handed)]));
        expecting(await answer(connection, postBytes(chain.second.url, headers, chain.second.body), chain.second.status), job.expect, `chain ${i}`);
      });
    }
  }
}

parentPort!.on('message', (job: LoadJob) => {
  run(job).then(
    (value) => parentPort!.postMessage({ value }),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
