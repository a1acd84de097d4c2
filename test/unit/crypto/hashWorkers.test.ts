// The password hasher's threads (src/crypto/hashWorkers.ts): a thread that dies fails only the jobs it held, and the
// rest are computed by a thread started in its place; an answer that comes after close() refused its job is dropped.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createHashWorkers } from '../../../src/crypto/hashWorkers.js';

const dying = createRequire(import.meta.url).resolve('../../fixtures/dyingArgon2.cjs');
const options = { memoryCost: 1024, timeCost: 1, parallelism: 1, algorithm: 2 };

describe('password hash threads', () => {
  it('a thread that dies fails the jobs it held; the ones still waiting, and later ones, get a new thread', async () => {
    const threads = createHashWorkers(1, dying);
    try {
      const phc = await threads.run({ op: 'hash', password: 'correct horse battery staple', options });
      // One thread holds two jobs (the one it computes and the next); the third waits outside it.
      const held = [threads.run({ op: 'verify', phc, password: 'die' }), threads.run({ op: 'verify', phc, password: 'correct horse battery staple' })];
      const waiting = threads.run({ op: 'verify', phc, password: 'correct horse battery staple' });
      expect(threads.usage()).toEqual({ running: 1, waiting: 2 });
      const settled = await Promise.allSettled(held);
      expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/exited/);
      expect(await waiting).toBe(true);
      expect(await threads.run({ op: 'verify', phc, password: 'wrong horse battery staple' })).toBe(false);
      expect(threads.usage()).toEqual({ running: 0, waiting: 0 });
    } finally {
      await threads.close();
    }
  });

  it('an error in a job (a malformed hash) fails that job only, on a thread that lives on', async () => {
    const threads = createHashWorkers(1, dying);
    try {
      const phc = await threads.run({ op: 'hash', password: 'correct horse battery staple', options });
      await expect(threads.run({ op: 'verify', phc: '$argon2id$v=19$m=1024,t=1,p=1$AA$AAAA', password: 'x' })).rejects.toThrow();
      expect(await threads.run({ op: 'verify', phc, password: 'correct horse battery staple' })).toBe(true);
    } finally {
      await threads.close();
    }
  });

  it('an answer that arrives after close, its job already refused, is dropped', async () => {
    const threads = createHashWorkers(1, dying);
    const phc = await threads.run({ op: 'hash', password: 'correct horse battery staple', options });
    const job = threads.run({ op: 'verify', phc, password: 'correct horse battery staple' }).then(() => 'resolved', () => 'rejected');
    // The event loop held until the thread has surely answered: its answer waits in the port when close() refuses the job.
    const until = Date.now() + 300;
    while (Date.now() < until) { /* held */ }
    await threads.close();
    expect(await job).toBe('rejected');
    // Time for the late answer to be delivered (it used to throw, outside any test, on the job close() had taken).
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
