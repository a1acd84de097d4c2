// The conversion of a log written before personal data was sealed (issue 14 item 0), run at start-up after the SQL
// migrations, once (recorded in code_migrations). It needs the keys, so it is code, not SQL.
//
// What it does, in one transaction under the migration lock, as the tables' owner:
// - gives every person a data key and seals each event's personal fields and metadata addresses under it;
// - renames the email-claim streams from `email-<sha256>` to `email-<keyed hash>`;
// - re-chains every stream it touched: the rewritten events get hash version 3, the later events of the stream keep
//   their hash version (their content is unchanged) with the new previous hash; stream heads follow;
// - the append-only trigger is disabled for this transaction only (the owner may: README "Running as a non-owner");
// - signed checkpoints that covered rewritten events no longer match: they are discarded with their leaves, and the
//   checkpointer signs the converted log from the start. An auditor who kept one of them sees the log forked at the
//   conversion, whose time code_migrations records (README: "Converting an existing log").
import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/index.js';
import { isSealedValue } from '../crypto/personalData.js';
import { streams } from '../domain/shared/streams.js';
import { eventColumns, toRecordedEvent } from '../eventstore/eventStore.js';
import { currentHashVersion, eventHash, genesisHash } from '../eventstore/hashChain.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { PersonalDataVault } from './personalDataVault.js';

export const conversionName = '013_personal_data_conversion';

export interface ConversionResult {
  events: number;
  streams: number;
  discardedCheckpoints: number;
}

export async function convertPersonalData(db: Db, vault: PersonalDataVault): Promise<ConversionResult> {
  const none = { events: 0, streams: 0, discardedCheckpoints: 0 };
  const [done] = await db.query(`select 1 from code_migrations where name = $1`, [conversionName]);
  if (done) return none;
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(7316001)`);
    const [again] = await tx.query(`select 1 from code_migrations where name = $1`, [conversionName]);
    if (again) return none;
    const result = await convertIn(tx, vault);
    await tx.query(`insert into code_migrations (name) values ($1)`, [conversionName]);
    return result;
  });
}

const legacyEmailHash = (email: string): string => createHash('sha256').update(email).digest('hex').slice(0, 40);

async function convertIn(tx: Queryable, vault: PersonalDataVault): Promise<ConversionResult> {
  const rows = await tx.query<Record<string, unknown>>(`select ${eventColumns} from events where hash_version < 3 limit 1`);
  if (rows.length === 0) return { events: 0, streams: 0, discardedCheckpoints: 0 };
  const all = (await tx.query<Record<string, unknown>>(`select ${eventColumns} from events order by stream_id, version`)).map((r) => toRecordedEvent(r as never));
  // The legacy email-claim stream of every address the log names, and its new keyed id.
  const renamed = new Map<string, string>();
  for (const event of all) {
    for (const field of ['email', 'previousEmail']) {
      const email = event.data[field];
      if ((event.type === 'UserRegistered' || event.type === 'EmailChanged') && typeof email === 'string' && !isSealedValue(email)) {
        renamed.set(streams.emailClaim(legacyEmailHash(email)), streams.emailClaim(vault.hashes.email(email)));
      }
    }
  }
  await tx.query(`alter table events disable trigger events_append_only`);
  let converted = 0;
  let touchedStreams = 0;
  let current: string | null = null;
  let prevHash = genesisHash;
  let chainChanged = false;
  const finishStream = async (streamId: string, last: RecordedEvent | undefined, newId: string): Promise<void> => {
    if (!chainChanged || !last) return;
    touchedStreams++;
    if (newId !== streamId) await tx.query(`delete from streams where stream_id = $1`, [streamId]);
    await tx.query(
      `insert into streams (stream_id, version, head_hash) values ($1, $2, $3)
       on conflict (stream_id) do update set version = excluded.version, head_hash = excluded.head_hash`,
      [newId, last.version, prevHash],
    );
  };
  let lastOfStream: RecordedEvent | undefined;
  for (const event of all) {
    if (event.streamId !== current) {
      if (current !== null) await finishStream(current, lastOfStream, renamed.get(current) ?? current);
      current = event.streamId;
      prevHash = genesisHash;
      chainChanged = renamed.has(current);
    }
    lastOfStream = event;
    const streamId = renamed.get(event.streamId) ?? event.streamId;
    const [sealed] = await vault.seal(tx, [{ type: event.type, data: event.data }], event.metadata);
    const contentChanged = JSON.stringify(sealed!.event.data) !== JSON.stringify(event.data) || JSON.stringify(sealed!.metadata) !== JSON.stringify(event.metadata);
    if (!contentChanged && !chainChanged && event.prevHash === prevHash) {
      prevHash = event.hash;
      continue;
    }
    chainChanged = true;
    const hashVersion = contentChanged || streamId !== event.streamId ? currentHashVersion : event.hashVersion;
    const hash = eventHash({
      prevHash, streamId, version: event.version, type: event.type, data: sealed!.event.data, metadata: sealed!.metadata,
      recordedAt: event.recordedAt, position: event.position, hashVersion,
    });
    await tx.query(
      `update events set stream_id = $2, data = $3::text::jsonb, metadata = $4::text::jsonb, prev_hash = $5, hash = $6, hash_version = $7 where position = $1`,
      [event.position, streamId, JSON.stringify(sealed!.event.data), JSON.stringify(sealed!.metadata), prevHash, hash, hashVersion],
    );
    if (contentChanged) converted++;
    prevHash = hash;
  }
  if (current !== null) await finishStream(current, lastOfStream, renamed.get(current) ?? current);
  await tx.query(`alter table events enable trigger events_append_only`);
  let discarded = 0;
  if (converted > 0 || touchedStreams > 0) {
    const [count] = await tx.query<{ n: number }>(`select count(*)::int as n from audit_checkpoints`);
    discarded = count?.n ?? 0;
    if (discarded > 0) {
      await tx.query(`alter table audit_checkpoints disable trigger audit_checkpoints_append_only`);
      await tx.query(`alter table audit_leaves disable trigger audit_leaves_append_only`);
      await tx.query(`delete from audit_checkpoints`);
      await tx.query(`delete from audit_leaves`);
      await tx.query(`alter table audit_checkpoints enable trigger audit_checkpoints_append_only`);
      await tx.query(`alter table audit_leaves enable trigger audit_leaves_append_only`);
    }
  }
  // Delivery state: unsent addresses sealed under their owner's key; pending passkey signups start again.
  const outbox = await tx.query<{ id: number; user_id: string; recipient: string }>(`select id, user_id, recipient from notification_outbox where recipient is not null`);
  for (const row of outbox) {
    if (isSealedValue(row.recipient)) continue;
    await tx.query(`update notification_outbox set recipient = $2 where id = $1`, [row.id, await vault.sealFor(tx, row.user_id, 'outbox.recipient', row.recipient)]);
  }
  await tx.query(`delete from webauthn_challenges where email is not null`);
  return { events: converted, streams: touchedStreams, discardedCheckpoints: discarded };
}

/**
 * Erasure survives a restored backup: every person whose UserDeleted or UserErased is in the log loses their key again
 * at start-up (a backup taken before the erasure still holds it). Returns how many keys it destroyed.
 */
export async function replayErasures(db: Db, vault: PersonalDataVault): Promise<number> {
  const rows = await db.query<{ subject_id: string }>(
    `select k.subject_id from personal_data_keys k
      where k.wrapped_key is not null
        and exists (select 1 from events e where e.stream_id = 'user-' || k.subject_id and e.type in ('UserDeleted', 'UserErased'))`,
  );
  for (const row of rows) await db.transaction((tx) => vault.destroyKey(tx, row.subject_id, new Date()));
  return rows.length;
}
