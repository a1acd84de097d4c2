import { hash as argon2Hash } from '@node-rs/argon2';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS } from '../../../src/crypto/commonPasswords.js';
import {
  checkPasswordPolicy,
  createPasswordHasher,
  DEFAULT_PASSWORD_HASH_PARAMS,
  passwordHashMetrics,
} from '../../../src/crypto/password.js';

const hasher = createPasswordHasher();
const execFileAsync = promisify(execFile);

describe('PasswordHasher', () => {
  it('hashes with argon2id and the OWASP parameters, and verifies', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(phc).not.toContain('correct horse');
    expect(await hasher.verify(phc, 'correct horse battery staple')).toEqual({ valid: true, needsRehash: false });
    expect(await hasher.verify(phc, 'correct horse battery stapler')).toEqual({ valid: false, needsRehash: false });
  });

  it('treats composed and decomposed forms of the same password alike (NFC)', async () => {
    const phc = await hasher.hash('caf\u00e9 au lait!');
    expect((await hasher.verify(phc, 'cafe\u0301 au lait!')).valid).toBe(true);
  });

  it('asks for a rehash when the stored hash is weaker than the configured parameters', async () => {
    const weak = await argon2Hash('correct horse battery staple', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(weak).toContain('m=4096,t=1,p=1');
    expect(await hasher.verify(weak, 'correct horse battery staple')).toEqual({ valid: true, needsRehash: true });
    // A wrong password never triggers a rehash: there is nothing to rehash.
    expect(await hasher.verify(weak, 'wrong password here')).toEqual({ valid: false, needsRehash: false });
    // A stronger hasher considers the default-parameter hashes weak too.
    const stronger = createPasswordHasher({ timeCost: 3 });
    const current = await hasher.hash('correct horse battery staple');
    expect(await stronger.verify(current, 'correct horse battery staple')).toEqual({ valid: true, needsRehash: true });
    expect(stronger.params).toEqual({ ...DEFAULT_PASSWORD_HASH_PARAMS, timeCost: 3 });
  });

  it('refuses a stored value that is not an argon2 PHC string', async () => {
    await expect(hasher.verify('plaintext-password', 'plaintext-password')).rejects.toThrow(/PHC/);
  });

  it('counts dummy verifications separately from real ones, and the dummy always fails', async () => {
    const before = { ...passwordHashMetrics };
    expect(await hasher.verifyDummy('any password at all')).toBe(false);
    expect(await hasher.verifyDummy('tessera dummy password for unknown accounts')).toBe(false);
    expect(passwordHashMetrics.dummyVerifications).toBe(before.dummyVerifications + 2);
    expect(passwordHashMetrics.verifications).toBe(before.verifications);

    const phc = await hasher.hash('correct horse battery staple');
    await hasher.verify(phc, 'nope nope nope');
    expect(passwordHashMetrics.verifications).toBe(before.verifications + 1);
  });
});

describe('PasswordHasher concurrency', () => {
  const fast = { memoryCost: 1024, timeCost: 1 };

  it('computes at most `concurrency` hashes at once; the others wait and start in arrival order', async () => {
    const one = createPasswordHasher(fast, { concurrency: 1 });
    const phc = await one.hash('correct horse battery staple');
    const finished: number[] = [];
    const observed: Array<{ running: number; waiting: number }> = [];
    const verifications = [0, 1, 2, 3].map((i) =>
      one.verify(phc, i === 2 ? 'wrong horse battery staple' : 'correct horse battery staple').then((result) => {
        observed.push(one.usage());
        finished.push(i);
        return result.valid;
      }),
    );
    expect(one.usage()).toEqual({ running: 1, waiting: 3 });
    expect(await Promise.all(verifications)).toEqual([true, true, false, true]);
    // One at a time: each finished with exactly the later arrivals still waiting, and in the order they came.
    expect(finished).toEqual([0, 1, 2, 3]);
    expect(observed.map((u) => u.waiting)).toEqual([2, 1, 0, 0]);
    expect(observed.every((u) => u.running <= 1)).toBe(true);
    expect(one.usage()).toEqual({ running: 0, waiting: 0 });
  });

  it('lets `concurrency` hashes run side by side, and frees the slot of one that throws', async () => {
    const two = createPasswordHasher(fast, { concurrency: 2 });
    const phc = await two.hash('correct horse battery staple');
    const work = [two.verify(phc, 'correct horse battery staple'), two.verifyDummy('x'), two.hash('another password here')];
    expect(two.usage()).toEqual({ running: 2, waiting: 1 });
    await Promise.all(work);
    // argon2 refuses a salt of one byte: the hash throws, and its slot comes back.
    const broken = '$argon2id$v=19$m=1024,t=1,p=1$AA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    await expect(two.verify(broken, 'correct horse battery staple')).rejects.toThrow();
    expect(two.usage()).toEqual({ running: 0, waiting: 0 });
    expect((await two.verify(phc, 'correct horse battery staple')).valid).toBe(true);
  });

  it('hashes on threads of its own: the event loop stays free while they compute', async () => {
    const one = createPasswordHasher({ memoryCost: 19456, timeCost: 2 }, { concurrency: 1 });
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    await one.hash('correct horse battery staple');
    clearInterval(timer);
    await one.close();
    // A hash of 19 MiB takes several milliseconds; on the event loop no timer could fire meanwhile.
    expect(ticks).toBeGreaterThan(1);
  });

  it('refuses work once closed, and what was waiting', async () => {
    const one = createPasswordHasher(fast, { concurrency: 1 });
    const phc = await one.hash('correct horse battery staple');
    const queued = [one.verify(phc, 'correct horse battery staple'), one.verify(phc, 'correct horse battery staple'), one.verify(phc, 'correct horse battery staple')];
    const settled = Promise.allSettled(queued);
    await one.close();
    expect((await settled).every((r) => r.status === 'rejected')).toBe(true);
    await expect(one.verify(phc, 'correct horse battery staple')).rejects.toThrow(/closed/);
  });

  it('an idle hasher does not keep the process alive, a busy one does (a CLI that hashes and exits)', async () => {
    // A child process that hashes once and then has nothing left to do must exit on its own, with the hash printed.
    const script = `import { createPasswordHasher } from './src/crypto/password.ts';
      const hasher = createPasswordHasher({ memoryCost: 65536, timeCost: 3 }, { concurrency: 2 });
      // The first hash starts the threads; once they are idle (unreferenced), a second one must still be waited for.
      await hasher.hash('a first password');
      setTimeout(() => hasher.hash('correct horse battery staple').then((phc) => console.log(phc.slice(0, 9))), 50);`;
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), timeout: 20_000 });
    expect(stdout.trim()).toBe('$argon2id');
  });

  it('refuses a concurrency that is not a positive integer', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) expect(() => createPasswordHasher(fast, { concurrency })).toThrow(RangeError);
  });
});

describe('checkPasswordPolicy', () => {
  it.each<[string, string, string | null]>([
    ['7 characters', 'abcdefg', 'TOO_SHORT'],
    ['8 characters', 'kq7!vmzp', null],
    ['8 code points that are 16 UTF-16 units', '😀😁😂🤣😃😄😅😆', null],
    ['7 characters plus a combining mark that NFC merges', 'abcdef' + 'e\u0301', 'TOO_SHORT'],
    ['256 characters', 'x'.repeat(255) + 'y', null],
    ['257 characters', 'x'.repeat(256) + 'y', 'TOO_LONG'],
    ['a common password', 'password123', 'TOO_COMMON'],
    ['a common password in other case', 'PassWord123', 'TOO_COMMON'],
    ['a long passphrase with no composition', 'correct horse battery staple', null],
  ])('%s → %s', (_name, password, expected) => {
    expect(checkPasswordPolicy(password)).toBe(expected);
  });

  it('refuses a megabyte as TOO_LONG without any hashing', () => {
    const before = { ...passwordHashMetrics };
    expect(checkPasswordPolicy('a'.repeat(1024 * 1024))).toBe('TOO_LONG');
    expect(passwordHashMetrics).toEqual(before);
  });

  it('embeds about ten thousand lower-case common passwords', () => {
    expect(COMMON_PASSWORDS.length).toBe(10_000);
    expect(new Set(COMMON_PASSWORDS).size).toBe(COMMON_PASSWORDS.length);
    for (const entry of COMMON_PASSWORDS) expect(entry).toBe(entry.toLowerCase());
    expect(checkPasswordPolicy(COMMON_PASSWORDS[COMMON_PASSWORDS.length - 1] as string)).toBe('TOO_COMMON');
  });
});
