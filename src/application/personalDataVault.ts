// The personal data vault (issue 14 item 0): per-person data keys in personal_data_keys (wrapped by the server keys),
// sealing at the event store's boundary, opening on read, and erasure by destroying a key.
//
// Keys are cached in-process (bounded, short TTL) so a login adds no round trip once its user's key is known; a key not
// cached is fetched in the append's own pipeline. After an erasure on one instance, another instance may go on using
// its cached copy of the key for up to `keyCacheTtlMs` (default 60 s): it can still read the person's data, and what it
// seals meanwhile is sealed under a key that no longer exists anywhere else (unreadable once that cache expires).
import type { Queryable } from '../db/index.js';
import {
  envelopeSubject, isSealedValue, newDataKey, openValue, sealValue, unwrapDataKey, wrapDataKey, type PersonalDataHashes,
} from '../crypto/personalData.js';
import type { SecretBox } from '../crypto/secretBox.js';
import type { PersonalFields } from '../domain/personalData.js';
import type { EventMetadata, EventSealer, NewEvent, RecordedEvent, SealedEvent, SealedFields } from '../eventstore/index.js';

interface CachedKey {
  /** Null: no key (the person was erased, or never had one). */
  key: Buffer | null;
  erased: boolean;
  expires: number;
  /**
   * Values sealed and opened under this key while it is cached (envelope → clear, `label\nclear` → envelope): a login
   * reads and writes the same address, user agent and email over and over, and each AES-GCM operation is a cipher set
   * up from scratch. They live and die with the cached key, so an erasure (which replaces the entry) and the key's
   * expiry forget them too. Reusing an envelope for the same value under the same key and label reveals only that the
   * two values are equal, which the keyed pseudonyms on every event already do.
   */
  opened: Map<string, string>;
  sealed: Map<string, string>;
}

/** Per cached key: enough for a person's few addresses, user agents and email, bounded against a flood of them. */
const valuesPerKey = 64;

function remembered(map: Map<string, string>, key: string, value: string): string {
  if (map.size >= valuesPerKey) map.clear();
  map.set(key, value);
  return value;
}

export interface PersonalDataVaultOptions {
  box: SecretBox;
  hashes: PersonalDataHashes;
  registry: Record<string, PersonalFields>;
  metadataFields: readonly string[];
  keyCacheSize?: number;
  keyCacheTtlMs?: number;
  now?: () => number;
}

interface KeyRow {
  subject_id: string;
  wrapped_key: string | null;
  erased_at: Date | string | null;
  [key: string]: unknown;
}

export class PersonalDataVault implements EventSealer {
  readonly hashes: PersonalDataHashes;
  private readonly cache = new Map<string, CachedKey>();
  private readonly maxKeys: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PersonalDataVaultOptions) {
    this.hashes = options.hashes;
    this.maxKeys = options.keyCacheSize ?? 10_000;
    this.ttlMs = options.keyCacheTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The user whose key seals an event's personal data: the registry's subject field, else data.userId. */
  subjectOf(event: { type: string; data: Record<string, unknown> }): string | null {
    const field = this.options.registry[event.type]?.subject ?? 'userId';
    const subject = event.data[field];
    return typeof subject === 'string' && subject !== '' ? subject : null;
  }

  private cached(subject: string): CachedKey | undefined {
    const hit = this.cache.get(subject);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.cache.delete(subject);
      return undefined;
    }
    return hit;
  }

  private remember(subject: string, key: Buffer | null, erased: boolean): void {
    this.cache.delete(subject);
    this.cache.set(subject, { key, erased, expires: this.now() + this.ttlMs, opened: new Map(), sealed: new Map() });
    // Map keeps insertion order: the oldest entry goes first when the bound is reached.
    if (this.cache.size > this.maxKeys) this.cache.delete(this.cache.keys().next().value!);
  }

  private fromRow(row: KeyRow): void {
    const key = row.wrapped_key ? unwrapDataKey(this.options.box, row.subject_id, row.wrapped_key) : null;
    this.remember(row.subject_id, key, row.erased_at !== null && row.erased_at !== undefined);
  }

  /**
   * A key row read together with another query (password login's first read joins it): cached without a round trip
   * of its own. `undefined` (the join found no row) is not cached.
   */
  prime(subject: string, wrappedKey: string | null | undefined, erasedAt: Date | string | null = null): void {
    if (wrappedKey === undefined || (wrappedKey === null && erasedAt === null)) return;
    this.fromRow({ subject_id: subject, wrapped_key: wrappedKey, erased_at: erasedAt });
  }

  /** The keys of these subjects (cached, else one query); with `create`, a subject without a row gets a new key. */
  async keysFor(q: Queryable, subjects: Iterable<string>, create = false): Promise<Map<string, CachedKey>> {
    const found = new Map<string, CachedKey>();
    const missing: string[] = [];
    for (const subject of new Set(subjects)) {
      const hit = this.cached(subject);
      if (hit) found.set(subject, hit);
      else missing.push(subject);
    }
    if (missing.length === 0) return found;
    let rows: KeyRow[];
    if (create) {
      // One statement: insert a fresh key for every subject that has no row (an erased person keeps a row without a
      // key, so they never get a new one), and read the rows that were there.
      const wrapped = missing.map((s) => wrapDataKey(this.options.box, s, newDataKey()));
      rows = await q.query<KeyRow>(
        `with added as (
           insert into personal_data_keys (subject_id, wrapped_key, created_at)
           select s, w, now() from unnest($1::text[], $2::text[]) as x(s, w)
           on conflict (subject_id) do nothing
           returning subject_id, wrapped_key, erased_at)
         select * from added
         union all
         select subject_id, wrapped_key, erased_at from personal_data_keys where subject_id = any($1::text[])`,
        [missing, wrapped],
      );
      const seen = new Set(rows.map((r) => r.subject_id));
      // A row another transaction committed while the insert waited on it is invisible to that statement: read it.
      const late = missing.filter((s) => !seen.has(s));
      if (late.length > 0) rows.push(...(await q.query<KeyRow>(`select subject_id, wrapped_key, erased_at from personal_data_keys where subject_id = any($1::text[])`, [late])));
    } else {
      rows = await q.query<KeyRow>(`select subject_id, wrapped_key, erased_at from personal_data_keys where subject_id = any($1::text[])`, [missing]);
    }
    for (const row of rows) this.fromRow(row);
    for (const subject of missing) {
      if (!rows.some((r) => r.subject_id === subject)) this.remember(subject, null, false);
      found.set(subject, this.cached(subject)!);
    }
    return found;
  }

  /** A value sealed under a cached key, the envelope reused for the same label and value (see CachedKey). */
  private sealCached(entry: CachedKey, subject: string, label: string, value: string): string {
    const id = `${label}\n${value}`;
    const hit = entry.sealed.get(id);
    if (hit !== undefined) return hit;
    const sealed = remembered(entry.sealed, id, sealValue(entry.key!, subject, label, value));
    // What this instance seals it will soon read back (the next request of the same login): it opens without a cipher.
    remembered(entry.opened, sealed, value);
    return sealed;
  }

  /** An envelope opened under a cached key (see CachedKey); null when it does not open. */
  private openCached(entry: CachedKey, sealed: string): string | null {
    const hit = entry.opened.get(sealed);
    if (hit !== undefined) return hit;
    const clear = openValue(entry.key!, sealed);
    return clear === null ? null : remembered(entry.opened, sealed, clear);
  }

  /**
   * The stored forms of the events, and what a reader of them will see (`readable`: what unseal makes of the stored
   * form, by the same code, so an append hands its projections and reactors the events a rebuild will read back; the
   * values just sealed open from the cache).
   */
  async seal(tx: Queryable, events: readonly NewEvent[], metadata: EventMetadata): Promise<SealedEvent[]> {
    const subjects = events.map((e) => this.subjectOf(e));
    const wanted = subjects.filter((s): s is string => s !== null);
    const keys = wanted.length > 0 ? await this.keysFor(tx, wanted, true) : new Map<string, CachedKey>();
    // The events of one append share their metadata: its pseudonyms are computed once for all of them.
    const pseudonyms = this.pseudonymsOf(metadata);
    return events.map((event, index) => {
      const subject = subjects[index]!;
      const entry = subject === null ? undefined : keys.get(subject);
      const usable = entry?.key ? entry : undefined;
      const fields = this.options.registry[event.type]?.fields ?? [];
      let data = event.data;
      if (fields.length > 0) {
        data = { ...event.data };
        for (const field of fields) {
          const value = data[field];
          if (typeof value !== 'string' || isSealedValue(value)) continue;
          // No key (an erased person, an event with no user): the value is not written at all.
          data[field] = usable && subject ? this.sealCached(usable, subject, `${event.type}.${field}`, value) : null;
        }
      }
      const stored = { type: event.type, data, metadata: this.sealMetadata(metadata, pseudonyms, subject, usable) };
      const readable = subject === null ? { data, metadata: stored.metadata } : this.opened(stored, entry);
      return { event: { type: event.type, data }, metadata: stored.metadata, readable };
    });
  }

  /** Keyed pseudonyms of the metadata's clear address (and its network) and user agent. */
  private pseudonymsOf(metadata: EventMetadata): { ipHash?: string; networkHash?: string; userAgentHash?: string } {
    const { ip, userAgent } = metadata;
    const out: { ipHash?: string; networkHash?: string; userAgentHash?: string } = {};
    if (ip !== undefined && !isSealedValue(ip)) {
      out.ipHash = this.hashes.address(ip);
      const network = this.hashes.network(ip);
      if (network) out.networkHash = network;
    }
    if (userAgent !== undefined && !isSealedValue(userAgent)) out.userAgentHash = this.hashes.userAgent(userAgent);
    return out;
  }

  private sealMetadata(metadata: EventMetadata, pseudonyms: ReturnType<PersonalDataVault['pseudonymsOf']>, subject: string | null, entry: CachedKey | undefined): EventMetadata {
    const { ip, userAgent } = metadata;
    if (ip === undefined && userAgent === undefined) return metadata;
    const out: EventMetadata = { ...metadata };
    delete out.ip;
    delete out.userAgent;
    // Keyed pseudonyms of the address and of its network, on every event: what attack detection groups by.
    if (pseudonyms.ipHash) out.ipHash = pseudonyms.ipHash;
    if (pseudonyms.networkHash) out.networkHash = pseudonyms.networkHash;
    if (entry && subject) {
      if (ip !== undefined) out.ip = isSealedValue(ip) ? ip : this.sealCached(entry, subject, 'metadata.ip', ip);
      if (userAgent !== undefined) out.userAgent = isSealedValue(userAgent) ? userAgent : this.sealCached(entry, subject, 'metadata.userAgent', userAgent);
    } else if (pseudonyms.userAgentHash) {
      // Anonymous (no user, or an erased one): keyed pseudonyms only, enough to correlate attempts from one client.
      out.userAgentHash = pseudonyms.userAgentHash;
    }
    return out;
  }

  async unseal(q: Queryable, events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const subjects = new Set<string>();
    for (const event of events) {
      const subject = this.subjectOf(event);
      if (subject !== null) subjects.add(subject);
    }
    if (subjects.size === 0) return events;
    const keys = await this.keysFor(q, subjects);
    return events.map((event) => {
      const subject = this.subjectOf(event);
      return subject === null ? event : { ...event, ...this.opened(event, keys.get(subject)) };
    });
  }

  /** A stored event as readers see it: its envelopes opened (null once the key is gone), `personal` holding them. */
  private opened(event: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>, entry: CachedKey | undefined): Pick<RecordedEvent, 'data' | 'metadata' | 'personal'> {
    const key = entry?.key ?? null;
    const personal: SealedFields = { data: {}, metadata: {}, erased: entry?.erased ?? false };
    const fields = this.options.registry[event.type]?.fields ?? [];
    let data = event.data;
    for (const field of fields) {
      const value = data[field];
      if (!isSealedValue(value)) continue;
      if (data === event.data) data = { ...event.data };
      personal.data[field] = value;
      data[field] = key ? this.openCached(entry!, value) : null;
    }
    let metadata = event.metadata;
    for (const field of this.options.metadataFields) {
      const value = (metadata as Record<string, unknown>)[field];
      if (!isSealedValue(value)) continue;
      if (metadata === event.metadata) metadata = { ...event.metadata };
      personal.metadata[field] = value;
      (metadata as Record<string, unknown>)[field] = key ? this.openCached(entry!, value) ?? undefined : undefined;
    }
    // The lookup hash of an opened email (the users projection's email_hash): keyed, so a projector stays pure.
    if (typeof data.email === 'string' && personal.data.email) personal.hashes = { email: this.hashes.email(data.email) };
    return { data, metadata, personal };
  }

  /** One value sealed under a person's key (delivery state such as the outbox's recipient); null when they have none. */
  async sealFor(q: Queryable, subject: string, label: string, value: string): Promise<string | null> {
    const key = (await this.keysFor(q, [subject], true)).get(subject)?.key;
    return key ? sealValue(key, subject, label, value) : null;
  }

  /** Opens every envelope anywhere inside a value (projection rows copy envelopes): clear, or null once erased. */
  async openDeep<T>(q: Queryable, value: T): Promise<T> {
    const subjects = new Set<string>();
    collectSubjects(value, subjects);
    if (subjects.size === 0) return value;
    const keys = await this.keysFor(q, subjects);
    return replaceEnvelopes(value, (sealed) => {
      const entry = keys.get(envelopeSubject(sealed) ?? '');
      return entry?.key ? this.openCached(entry, sealed) : null;
    }) as T;
  }

  /** Whether each subject's key has been destroyed. */
  async erasedSubjects(q: Queryable, subjects: Iterable<string>): Promise<Set<string>> {
    const keys = await this.keysFor(q, subjects);
    return new Set([...keys].filter(([, k]) => k.erased).map(([s]) => s));
  }

  /**
   * Destroys a person's key, in the caller's transaction, after the event that records why (UserDeleted, UserErased).
   * The row stays without its key (a tombstone), so the person never gets a new key and readers can say "erased".
   */
  async destroyKey(tx: Queryable, subject: string, at: Date): Promise<void> {
    await tx.query(
      `insert into personal_data_keys (subject_id, wrapped_key, created_at, erased_at) values ($1, null, $2, $2)
       on conflict (subject_id) do update set wrapped_key = null, erased_at = coalesce(personal_data_keys.erased_at, excluded.erased_at)`,
      [subject, at.toISOString()],
    );
    this.remember(subject, null, true);
  }

  /** Forgets cached keys (tests, and an operator's erasure from another process). */
  forget(subject?: string): void {
    if (subject === undefined) this.cache.clear();
    else this.cache.delete(subject);
  }
}

function collectSubjects(value: unknown, into: Set<string>): void {
  if (isSealedValue(value)) {
    const subject = envelopeSubject(value);
    if (subject !== null) into.add(subject);
  } else if (Array.isArray(value)) for (const v of value) collectSubjects(v, into);
  else if (value !== null && typeof value === 'object' && !(value instanceof Date)) for (const v of Object.values(value)) collectSubjects(v, into);
}

function replaceEnvelopes(value: unknown, open: (sealed: string) => string | null): unknown {
  if (isSealedValue(value)) return open(value);
  if (Array.isArray(value)) return value.map((v) => replaceEnvelopes(v, open));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceEnvelopes(v, open)]));
  }
  return value;
}
