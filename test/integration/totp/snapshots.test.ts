// Snapshots of the authenticators stream (issue 20 item 2): a request reads a bounded number of events however many
// TOTP logins the user made, and a snapshot is only a cache. Missing, stale, corrupt, copied from another user, or
// taken after an event the log does not hold, it is ignored and the state is folded from the log, so it never changes
// a decision (checked with the decision itself: a replayed code is still refused). Snapshots hold nothing in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseUser } from '../../../src/application/accountChanges.js';
import { authenticatorsFold, load } from '../../../src/application/commandHandler.js';
import { systemRequest } from '../../../src/application/request.js';
import { authenticatorsAggregate } from '../../../src/domain/authenticators/aggregate.js';
import type { AuthenticatorsState } from '../../../src/domain/authenticators/state.js';
import { createMemoryAttemptBudget } from '../../../src/security/attempts.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, fastArgon, pendingLogin, T0, userWithTotp, type TotpUser } from './helpers.js';

const history = 300;

describe('authenticators snapshots', () => {
  let server: TestServer;
  let user: TotpUser;
  let other: TotpUser;
  const stream = (u: TotpUser): string => `authenticators-${u.userId}`;

  /** The state folded from the whole log, without any snapshot: what every load must agree with. */
  async function fromLog(u: TotpUser): Promise<{ state: AuthenticatorsState; version: number }> {
    const events = await server.app.store.readStream(stream(u));
    return { state: events.reduce((s, e) => authenticatorsAggregate.evolve(s, e as never), authenticatorsAggregate.initialState), version: events.at(-1)!.version };
  }

  /** Waits for the snapshot a load wrote without waiting for it. */
  async function snapshotOf(u: TotpUser): Promise<{ version: number; head_hash: string; state: string; kind: string }> {
    for (let i = 0; i < 100; i++) {
      const [row] = await server.app.db.query<{ version: number; head_hash: string; state: string; kind: string }>(`select version, head_hash, state, kind from snapshots where stream_id = $1`, [stream(u)]);
      if (row) return row;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no snapshot written');
  }

  beforeAll(async () => {
    // The replays below are failures: a back-off far enough away that it does not answer them instead.
    server = await startTestServer({
      now: new Date(T0), env: { ...fastArgon, LOCKOUT_BACKOFF_AFTER: '40', LOCKOUT_LOCK_AFTER: '40' }, attempts: createMemoryAttemptBudget({ points: 1000 }),
    });
    server.clock.set(T0);
    user = await userWithTotp(server, 'snap@example.com');
    other = await userWithTotp(server, 'snap-other@example.com');
    // A long history of accepted codes, appended through the event store (the path every TOTP success takes), at old steps.
    const base = (await fromLog(user)).version;
    const at = new Date(T0 - 86400_000).toISOString();
    const events = Array.from({ length: history }, (_, i) => ({ type: 'TotpCodeAccepted', data: { userId: user.userId, step: 1000 + i, purpose: 'login', at } }));
    await server.app.store.append(stream(user), events, { expectedVersion: base, metadata: { actor: 'test' } });
  });
  afterAll(() => server.close());

  it('folds the whole log once, writes a sealed snapshot, then reads only the events after it', async () => {
    const first = await server.app.store.readFolded(stream(user), foldOfLoad(), undefined);
    expect(first.fromSnapshot).toBe(false);
    expect(first.eventsRead).toBeGreaterThan(history);
    const snapshot = await snapshotOf(user);
    expect(snapshot.version).toBe((await fromLog(user)).version);
    // Sealed: no email, no ciphertext of the TOTP secret, no recovery-code hash readable in the row.
    const logState = (await fromLog(user)).state;
    expect(snapshot.state).toMatch(/^v1\./);
    expect(snapshot.state).not.toContain('snap@example.com');
    expect(snapshot.state).not.toContain(logState.totp.secretCiphertext!);
    expect(snapshot.state).not.toContain(logState.recoveryCodes!.codeHashes[0]!);
    const second = await server.app.store.readFolded(stream(user), foldOfLoad(), undefined);
    expect(second.fromSnapshot).toBe(true);
    expect(second.eventsRead).toBe(0);
    expect(await load(server.app.store, authenticatorsAggregate, user.userId)).toEqual(await fromLog(user));
  });

  it('a successful MFA step after a long history reads a bounded number of events, and its code cannot be replayed', async () => {
    server.clock.set(T0 + 60_000);
    const code = await codeAt(user.secret, server.clock.now().getTime());
    expect((await (await pendingLogin(server, user.email)).gql(authenticateMfaMutation, { code })).data.authenticateMfa.__typename).toBe('AuthPayload');
    const after = await server.app.store.readFolded(stream(user), foldOfLoad(), undefined);
    expect(after.fromSnapshot).toBe(true);
    expect(after.eventsRead).toBeLessThanOrEqual(2);
    expect(await load(server.app.store, authenticatorsAggregate, user.userId)).toEqual(await fromLog(user));
  });

  // Each corruption, then the decision: the code accepted in the previous test, submitted again, is CODE_REPLAYED.
  const corruptions: Array<[string, (s: { version: number; head_hash: string; state: string }) => Promise<void>]> = [
    ['a garbled state', async () => {
      await server.app.db.query(`update snapshots set state = 'v1.garbage' where stream_id = $1`, [stream(user)]);
    }],
    ['an authentic state sealed for another version (a stale snapshot relabelled as current)', async (s) => {
      const stale = { ...(await fromLog(user)).state, totp: { ...(await fromLog(user)).state.totp, lastUsedStep: -1 } };
      const sealed = server.app.secrets.box.seal(JSON.stringify(stale), `snapshot|${(await snapshotOf(user)).kind}|${stream(user)}|${s.version - 1}|${s.head_hash}`);
      await server.app.db.query(`update snapshots set state = $2 where stream_id = $1`, [stream(user), sealed]);
    }],
    ['another user\'s snapshot copied over', async () => {
      await load(server.app.store, authenticatorsAggregate, other.userId);
      const theirs = await server.app.db.query<{ state: string }>(`select state from snapshots where stream_id = $1`, [stream(other)]);
      // (the other user's stream is short: without a snapshot of theirs, seal theirs as it would be)
      const sealed = theirs[0]?.state ?? server.app.secrets.box.seal(JSON.stringify((await fromLog(other)).state), `snapshot|x|${stream(other)}|1|h`);
      await server.app.db.query(`update snapshots set state = $2 where stream_id = $1`, [stream(user), sealed]);
    }],
    ['a snapshot taken after an event the log does not hold (a rolled-back append)', async (s) => {
      const bogus = { ...(await fromLog(user)).state, totp: { ...(await fromLog(user)).state.totp, lastUsedStep: -1 } };
      const kind = (await snapshotOf(user)).kind;
      const hash = 'f'.repeat(64);
      const sealed = server.app.secrets.box.seal(JSON.stringify(bogus), `snapshot|${kind}|${stream(user)}|${s.version}|${hash}`);
      await server.app.db.query(`update snapshots set state = $2, head_hash = $3 where stream_id = $1`, [stream(user), sealed, hash]);
    }],
    ['a snapshot of another fold (kind)', async (s) => {
      const bogus = { ...(await fromLog(user)).state, totp: { ...(await fromLog(user)).state.totp, lastUsedStep: -1 } };
      const sealed = server.app.secrets.box.seal(JSON.stringify(bogus), `snapshot|authenticators@0|${stream(user)}|${s.version}|${s.head_hash}`);
      await server.app.db.query(`update snapshots set state = $2, kind = 'authenticators@0' where stream_id = $1`, [stream(user), sealed]);
    }],
    ['no snapshot at all', async () => {
      await server.app.db.query(`delete from snapshots`);
    }],
  ];

  it.each(corruptions)('%s is ignored: the state is the log\'s, and a replayed code is still refused', async (_, corrupt) => {
    // A fresh, valid snapshot at the head first.
    await server.app.db.query(`delete from snapshots where stream_id = $1`, [stream(user)]);
    await server.app.store.readFolded(stream(user), { ...foldOfLoad(), snapshotEvery: 1 }, undefined);
    const current = await snapshotOf(user);
    await corrupt(current);
    expect(await load(server.app.store, authenticatorsAggregate, user.userId)).toEqual(await fromLog(user));
    const replayed = await codeAt(user.secret, T0 + 60_000);
    const res = await (await pendingLogin(server, user.email)).gql(authenticateMfaMutation, { code: replayed });
    expect(res.data.authenticateMfa.code).toBe('CODE_REPLAYED');
  });

  it('a snapshot behind the head (stale) is folded forward with the events after it', async () => {
    await server.app.db.query(`delete from snapshots where stream_id = $1`, [stream(user)]);
    await server.app.store.readFolded(stream(user), { ...foldOfLoad(), snapshotEvery: 1 }, undefined);
    const before = await snapshotOf(user);
    server.clock.set(T0 + 120_000);
    const code = await codeAt(user.secret, server.clock.now().getTime());
    expect((await (await pendingLogin(server, user.email)).gql(authenticateMfaMutation, { code })).data.authenticateMfa.__typename).toBe('AuthPayload');
    expect((await snapshotOf(user)).version).toBe(before.version);
    const loaded = await server.app.store.readFolded(stream(user), foldOfLoad(), undefined);
    expect(loaded.fromSnapshot).toBe(true);
    expect(loaded.eventsRead).toBeGreaterThan(0);
    expect(await load(server.app.store, authenticatorsAggregate, user.userId)).toEqual(await fromLog(user));
    expect((await (await pendingLogin(server, user.email)).gql(authenticateMfaMutation, { code })).data.authenticateMfa.code).toBe('CODE_REPLAYED');
  });

  // Last: it erases `other`. The erasure's own transaction loads the authenticators (to release the credential ids)
  // after UserDeleted is written: with a long tail and no snapshot, that load would write one back, unawaited, after
  // the inline step deleted them.
  it('erasing a user deletes their snapshot, and the erasure\'s own load of the stream writes none back', async () => {
    const base = (await fromLog(other)).version;
    const at = new Date(T0 - 86400_000).toISOString();
    const events = Array.from({ length: 40 }, (_, i) => ({ type: 'TotpCodeAccepted', data: { userId: other.userId, step: 2000 + i, purpose: 'login', at } }));
    await server.app.store.append(stream(other), events, { expectedVersion: base, metadata: { actor: 'test' } });
    await server.app.store.readFolded(stream(other), foldOfLoad(), undefined);
    await snapshotOf(other);
    // Another snapshot-worthy history after the snapshot, so every load in the erasure folds 32 events or more.
    const more = Array.from({ length: 40 }, (_, i) => ({ type: 'TotpCodeAccepted', data: { userId: other.userId, step: 3000 + i, purpose: 'login', at } }));
    await server.app.store.append(stream(other), more, { expectedVersion: base + 40, metadata: { actor: 'test' } });
    await eraseUser(server.app, 'admin-test', { userId: other.userId, reason: 'ticket SNAP-1' }, { ...systemRequest(), actor: 'admin-test' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await server.app.db.query(`select version from snapshots where stream_id = $1`, [stream(other)])).toEqual([]);
  });
});

/** The fold `load` uses for the authenticators (its kind must match for snapshots to be used). */
function foldOfLoad() {
  return authenticatorsFold();
}
