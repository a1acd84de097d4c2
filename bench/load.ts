// The load generator of the timed HTTP sections (password login, MFA step, passkey login, guards, REST, the analytics
// projector's load): a thread of its own (bench/loadThread.ts) that sends the requests over kept-alive sockets
// (bench/httpConnection.ts) and times them. A client of a real service is another program, not a guest on the
// service's event loop: run in the service's process, the bench's own requests and answers (node:http, JSON, the soft
// authenticators' signatures) took their share of the one thread that serves them. On its thread the client still
// shares the machine's two cores with the service and PostgreSQL, as a client on the same machine does.
import { Worker } from 'node:worker_threads';

export interface PreparedPost {
  /** Headers of the request (content-type included); content-length is added. */
  headers: Record<string, string>;
  /** The JSON body, already serialized. */
  body: string;
}

export interface LoadResult {
  /** Operations per second over the whole section. */
  rate: number;
  /** Each operation's latency, in milliseconds. */
  latencies: number[];
}

/** A passkey scenario's user, as the thread knows it: its soft authenticator is the thread's, under `name`. */
export interface PasskeyUser {
  name: string;
  device: string;
  /** A pending login's token: the assertion answers its MFA step. Absent: a passkey login. */
  token?: string;
}

/**
 * Two requests of one client, the second carrying a token the first's answer gave (a password login, then its MFA
 * step). Each has its own URL on the job's server and the status it must be answered with; in the second's headers,
 * `{token}` stands for the token.
 */
export interface ChainedPosts {
  first: PreparedPost & { url: string; status: number };
  second: PreparedPost & { url: string; status: number };
}

/** What an answer that signed someone in contains (the `expect` of `posts`): the payload's __typename. */
export const signedIn = '"__typename":"AuthPayload"';

export type LoadJob =
  | { kind: 'posts'; url: string; requests: readonly PreparedPost[]; concurrency: number; expect: string }
  | { kind: 'register'; origin: string; rpId: string; users: ReadonlyArray<{ name: string; creationOptions: unknown }> }
  | { kind: 'assertions'; url: string; users: readonly PasskeyUser[]; concurrency: number }
  | { kind: 'chains'; url: string; chains: readonly ChainedPosts[]; token: string; concurrency: number; expect: string };

export interface LoadGenerator {
  /**
   * Sends every request once, `concurrency` at a time; every answer must have status 200 and contain `expect` (the
   * section fails with the first that does not).
   */
  posts(url: string, requests: readonly PreparedPost[], concurrency: number, expect: string): Promise<LoadResult>;
  /** Creates a soft authenticator per user on the thread; returns each one's registration response. */
  register(origin: string, rpId: string, users: ReadonlyArray<{ name: string; creationOptions: unknown }>): Promise<unknown[]>;
  /** Each user's options then signed assertion (a passkey login, or the MFA step of its pending login), timed. */
  assertions(url: string, users: readonly PasskeyUser[], concurrency: number): Promise<LoadResult>;
  /**
   * Runs every chain once, `concurrency` at a time, each timed as a whole: the token is the first capture group of
   * `token` (a regular expression) in the first answer, and the second answer must contain `expect`.
   */
  chains(url: string, chains: readonly ChainedPosts[], token: string, concurrency: number, expect: string): Promise<LoadResult>;
  close(): Promise<void>;
}

// The thread runs TypeScript: the bench runs under tsx, whose loader a worker does not inherit, so the thread
// registers it before importing its module.
const bootstrap = (moduleUrl: string): string =>
  `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`;

export function startLoadGenerator(): LoadGenerator {
  const worker = new Worker(bootstrap(new URL('./loadThread.ts', import.meta.url).href), { eval: true });
  const ask = <T>(job: LoadJob): Promise<T> => new Promise<T>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    worker.once('error', onError);
    worker.once('message', (answer: { value?: T; error?: string }) => {
      worker.off('error', onError);
      if (answer.error !== undefined) reject(new Error(`load generator: ${answer.error}`));
      else resolve(answer.value as T);
    });
    worker.postMessage(job);
  });
  return {
    posts: (url, requests, concurrency, expect) => ask({ kind: 'posts', url, requests, concurrency, expect }),
    register: (origin, rpId, users) => ask({ kind: 'register', origin, rpId, users }),
    assertions: (url, users, concurrency) => ask({ kind: 'assertions', url, users, concurrency }),
    chains: (url, chains, token, concurrency, expect) => ask({ kind: 'chains', url, chains, token, concurrency, expect }),
    close: async () => { await worker.terminate(); },
  };
}
