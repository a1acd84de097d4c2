// The threads that compute argon2 for the password hasher: `count` worker threads of their own, each computing one
// hash at a time (the library's synchronous calls) with the next one already handed to it, so a thread that finishes
// a hash starts the next at once instead of waiting for the event loop to start it. Measured on 2 cores (8 callers,
// m=19 MiB t=2): 167–185 verifies/s, against 145–164/s with the library's asynchronous calls taken in turns of 2 on
// libuv's pool (a finished turn waits for the event loop before the next starts) and 154–174/s with all of them on its
// four threads at once (four 19 MiB working sets evicting each other). libuv's own threads stay free for files, DNS
// and WebCrypto while a login flood is being hashed.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export type HashJob =
  | { op: 'verify'; phc: string; password: string }
  | { op: 'hash'; password: string; options: Record<string, number> };

export interface HashWorkers {
  run(job: Extract<HashJob, { op: 'verify' }>): Promise<boolean>;
  run(job: Extract<HashJob, { op: 'hash' }>): Promise<string>;
  /** Hashes computing now, and hashes waiting to start (handed to a busy thread, or not yet to any). */
  usage(): { running: number; waiting: number };
  /** Stops the threads; jobs still under way are refused. */
  close(): Promise<void>;
}

interface Pending {
  job: HashJob;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Thread {
  worker: Worker;
  /** Jobs handed to it, in order: the first is computing, a second waits inside the thread. */
  handed: Pending[];
}

// Evaluated in the thread, as CommonJS or as a module (the thread takes the process's --input-type), so it runs the same
// under tsx, Vitest and the built service: only dynamic imports. The library is loaded by the path this module
// resolves, the same copy the service would use. Messages that arrive before the listener wait in the port.
const threadSource = (library: string): string => `
(async () => {
  const { parentPort } = await import('node:worker_threads');
  const loaded = await import(${JSON.stringify(pathToFileURL(library).href)});
  const argon2 = loaded.default ?? loaded;
  parentPort.on('message', (job) => {
    try {
      parentPort.postMessage({ value: job.op === 'verify' ? argon2.verifySync(job.phc, job.password) : argon2.hashSync(job.password, job.options) });
    } catch (error) {
      parentPort.postMessage({ error: String(error && error.message || error) });
    }
  });
})();`;

/** Each thread holds at most this many jobs: the one it computes and the next. */
const handedPerThread = 2;

/** `library`: the module the threads load (tests: one that fails on demand); default @node-rs/argon2. */
export function createHashWorkers(count: number, library = createRequire(import.meta.url).resolve('@node-rs/argon2')): HashWorkers {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`password hash concurrency must be a positive integer, got ${count}`);
  const source = threadSource(library);
  // Started on first use (no threads for a process that never hashes), and again after one dies.
  const threads: Array<Thread | null> = Array.from({ length: count }, () => null);
  const waiting: Pending[] = [];
  let closed = false;

  const start = (slot: number): Thread => {
    const thread: Thread = { worker: new Worker(source, { eval: true }), handed: [] };
    // Referenced only while it holds a job (hand): an idle thread must not keep the process alive.
    thread.worker.unref();
    thread.worker.on('message', (answer: { value?: unknown; error?: string }) => {
      const done = thread.handed.shift();
      // An answer already on its way when close() (or the thread's loss) refused its job: nobody waits for it.
      if (!done) return;
      if (answer.error !== undefined) done.reject(new Error(answer.error));
      else done.resolve(answer.value);
      const next = waiting.shift();
      if (next) hand(thread, next);
      // Idle again: unreferenced (a busy thread keeps the process alive; a promise alone would not).
      else if (thread.handed.length === 0) thread.worker.unref();
    });
    const lost = (error: unknown): void => {
      if (threads[slot] !== thread) return;
      threads[slot] = null;
      for (const job of thread.handed.splice(0)) job.reject(error instanceof Error ? error : new Error(`password hash thread stopped: ${String(error)}`));
      // The jobs that were waiting go to the threads left, or to a new one in its place (none started for nothing).
      while (waiting.length > 0) {
        const next = freest();
        if (!next) break;
        hand(next, waiting.shift()!);
      }
    };
    thread.worker.on('error', lost);
    thread.worker.on('exit', (code) => lost(new Error(`password hash thread exited (${code})`)));
    threads[slot] = thread;
    return thread;
  };

  const hand = (thread: Thread, job: Pending): void => {
    if (thread.handed.length === 0) thread.worker.ref();
    thread.handed.push(job);
    thread.worker.postMessage(job.job);
  };

  /** The thread with the fewest jobs, if one can take another (an idle one first, so jobs spread before they queue). */
  const freest = (): Thread | undefined => {
    let best: Thread | undefined;
    for (let slot = 0; slot < count; slot++) {
      const thread = threads[slot] ?? start(slot);
      if (thread.handed.length < handedPerThread && (!best || thread.handed.length < best.handed.length)) best = thread;
      if (best?.handed.length === 0) break;
    }
    return best;
  };

  return {
    run(job: HashJob): Promise<never> {
      if (closed) return Promise.reject(new Error('the password hasher is closed'));
      return new Promise((resolve, reject) => {
        const pending: Pending = { job, resolve: resolve as (value: unknown) => void, reject };
        const thread = freest();
        if (thread) hand(thread, pending);
        else waiting.push(pending);
      });
    },
    usage() {
      let running = 0;
      let queued = waiting.length;
      for (const thread of threads) {
        if (!thread || thread.handed.length === 0) continue;
        running++;
        queued += thread.handed.length - 1;
      }
      return { running, waiting: queued };
    },
    async close() {
      closed = true;
      for (const job of waiting.splice(0)) job.reject(new Error('the password hasher is closed'));
      await Promise.all(threads.map((thread, slot) => {
        threads[slot] = null;
        if (!thread) return undefined;
        for (const job of thread.handed.splice(0)) job.reject(new Error('the password hasher is closed'));
        return thread.worker.terminate();
      }));
    },
  };
}
