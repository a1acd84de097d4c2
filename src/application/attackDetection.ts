// Attack detection over failure events (issue 19 item 4). It runs in the analytics projector's transaction, after a
// batch's attempts are in the `attempts` table (pseudonymized addresses, never in clear), and looks back one window
// (DETECT_WINDOW_SECONDS) from each touched subject's latest failure:
// - password spraying: one address or network (/24, /64) failing across many accounts, most of its attempts failing
//   (so 500 people behind one NAT, who mostly succeed, are not an attack however many of them mistype);
// - credential stuffing: many accounts failing from many addresses, each account only a few times, most attempts failing;
// - distributed guessing: one account failing from many networks;
// - MFA failures after a correct password (MfaFailed is only ever written after the password verified): a stolen password.
// Each detection is a SuspiciousActivityDetected event with its evidence, once per subject and window. The event is
// read back by the projector like any other, so a rebuild reproduces the detections table without detecting again.
import { randomUUID } from 'node:crypto';
import type { DetectionThresholds } from '../config.js';
import type { Queryable } from '../db/index.js';
import type { SuspiciousActivityDetected, SuspiciousActivityKind } from '../domain/detection/events.js';
import { streams } from '../domain/shared/streams.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { pseudonymOfEvent, type AddressPseudonymizer } from '../projections/analyticsStore.js';
import { networkOf, canonicalAddress } from '../crypto/pseudonyms.js';
import type { Deps } from './deps.js';
import { DomainError } from '../domain/shared/errors.js';
import { analyticsDataSchema } from '../projections/analyticsStore.js';

type DetectionDeps = Pick<Deps, 'store' | 'logger'> & { config: { analytics: { detection: DetectionThresholds } } };

/** At most this many addresses and accounts are named in one event; the counts cover all of them. */
const evidenceLimit = 100;
/** A subject's attempts count as an attack only when at least this share of them failed. */
const failureShareAtLeast = 0.5;

interface Candidate {
  kind: SuspiciousActivityKind;
  subject: string;
  end: string;
}

interface Evidence {
  accounts: string[];
  accountCount: number;
  addressCount: number;
  failures: number;
  successes: number;
  positions: number[];
}

export async function detectAttacks(deps: DetectionDeps, tx: Queryable, events: readonly RecordedEvent[], schema: string, pseudonyms: AddressPseudonymizer): Promise<SuspiciousActivityDetected['data'][]> {
  const t = deps.config.analytics.detection;
  const candidates = new Map<string, Candidate>();
  const consider = (kind: SuspiciousActivityKind, subject: string, at: string): void => {
    const key = `${kind}\u0000${subject}`;
    const known = candidates.get(key);
    if (!known || known.end < at) candidates.set(key, { kind, subject, end: at });
  };
  for (const event of events) {
    if (event.type !== 'PasswordRejected' && event.type !== 'MfaFailed') continue;
    const at = new Date((event.data as { at: string }).at).toISOString();
    const userId = (event.data as { userId: string | null }).userId;
    if (event.type === 'MfaFailed') {
      if (userId) consider('mfa_failures_after_password', `account:${userId}`, at);
      continue;
    }
    const pseudonym = pseudonymOfEvent(event, pseudonyms);
    if (pseudonym) consider('password_spraying', `network:${pseudonym.network}`, at);
    if (userId) consider('distributed_guessing', `account:${userId}`, at);
    consider('credential_stuffing', 'everywhere', at);
  }
  const detected: SuspiciousActivityDetected['data'][] = [];
  for (const candidate of await plausible(tx, schema, [...candidates.values()], t)) {
    const windowStart = new Date(Date.parse(candidate.end) - t.windowSeconds * 1000).toISOString();
    const [already] = await tx.query(
      `select 1 from ${schema}.detections where kind = $1 and subject = $2 and window_end > $3 limit 1`,
      [candidate.kind, candidate.subject, windowStart],
    );
    if (already) continue;
    const evidence = await evidenceFor(tx, schema, candidate, windowStart, t);
    if (!evidence) continue;
    const addresses = await addressPseudonyms(deps, tx, evidence.positions, pseudonyms);
    const spraying = candidate.kind === 'password_spraying';
    const throttle = spraying && t.throttleSeconds > 0;
    const data: SuspiciousActivityDetected['data'] = {
      detectionId: randomUUID(), kind: candidate.kind, subject: candidate.subject, windowStart, windowEnd: candidate.end,
      addresses: addresses.slice(0, evidenceLimit), addressCount: evidence.addressCount,
      network: spraying ? candidate.subject.slice('network:'.length) : null,
      accounts: evidence.accounts.slice(0, evidenceLimit), accountCount: evidence.accountCount,
      failures: evidence.failures, successes: evidence.successes,
      throttledNetwork: throttle ? candidate.subject.slice('network:'.length) : null,
      throttledUntil: throttle ? new Date(Date.parse(candidate.end) + t.throttleSeconds * 1000).toISOString() : null,
      at: candidate.end,
    };
    // Recorded at once, so a later batch in this transaction's wake does not report the same attack again.
    await tx.query(
      `insert into ${schema}.detections (detection_id, kind, subject, window_start, window_end, accounts, addresses, failures, throttled_network, throttled_until)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [data.detectionId, data.kind, data.subject, data.windowStart, data.windowEnd, data.accountCount, data.addressCount, data.failures, data.throttledNetwork, data.throttledUntil],
    );
    await deps.store.append(streams.detection(data.detectionId), [{ type: 'SuspiciousActivityDetected', data: data as unknown as Record<string, unknown> }], {
      expectedVersion: 0, tx, now: new Date(candidate.end), metadata: { actor: 'system' },
    });
    deps.logger.warn({ kind: data.kind, detectionId: data.detectionId, accounts: data.accountCount, addresses: data.addressCount, failures: data.failures }, 'suspicious activity detected');
    detected.push(data);
  }
  return detected;
}

/**
 * One grouped query per kind over the widest window of the batch keeps only the subjects that may cross their
 * threshold, so a batch of thousands of failures costs a few queries, not a few per failure; the exact check follows.
 */
async function plausible(tx: Queryable, s: string, candidates: readonly Candidate[], t: DetectionThresholds): Promise<Candidate[]> {
  const kept: Candidate[] = [];
  const groups: Array<{ kind: SuspiciousActivityKind; prefix: string; column: string; where: string; having: string; threshold: number }> = [
    { kind: 'password_spraying', prefix: 'network:', column: 'network', where: `kind = 'password'`, having: 'count(distinct account)', threshold: t.sprayAccounts },
    { kind: 'distributed_guessing', prefix: 'account:', column: 'account', where: `kind = 'password'`, having: 'count(distinct network)', threshold: t.guessingAddresses },
    { kind: 'mfa_failures_after_password', prefix: 'account:', column: 'account', where: `kind = 'mfa'`, having: 'count(*)', threshold: t.mfaFailures },
  ];
  for (const group of groups) {
    const mine = candidates.filter((c) => c.kind === group.kind);
    if (mine.length === 0) continue;
    const ends = mine.map((c) => Date.parse(c.end));
    const rows = await tx.query<{ subject: string }>(
      `select ${group.column} as subject from ${s}.attempts
        where ${group.where} and outcome = 'failure' and ${group.column} = any($1::text[]) and at > $2 and at <= $3
        group by 1 having ${group.having} >= $4`,
      [mine.map((c) => c.subject.slice(group.prefix.length)), new Date(Math.min(...ends) - t.windowSeconds * 1000).toISOString(), new Date(Math.max(...ends)).toISOString(), group.threshold],
    );
    const passing = new Set(rows.map((r) => `${group.prefix}${r.subject}`));
    kept.push(...mine.filter((c) => passing.has(c.subject)));
  }
  kept.push(...candidates.filter((c) => c.kind === 'credential_stuffing'));
  return kept;
}

async function evidenceFor(tx: Queryable, s: string, c: Candidate, windowStart: string, t: DetectionThresholds): Promise<Evidence | null> {
  const window = [windowStart, c.end];
  const summarize = async (where: string, params: unknown[]): Promise<Evidence> => {
    const [row] = await tx.query<{ accounts: string[] | null; account_count: number; address_count: number; failures: number; successes: number; positions: string[] | null }>(
      `select array_agg(distinct account) filter (where outcome = 'failure') as accounts,
              count(distinct account) filter (where outcome = 'failure')::int as account_count,
              count(distinct address) filter (where outcome = 'failure')::int as address_count,
              count(*) filter (where outcome = 'failure')::int as failures,
              count(*) filter (where outcome = 'success')::int as successes,
              (array_agg(position order by position) filter (where outcome = 'failure'))[1:1000]::text[] as positions
         from ${s}.attempts where at > $1 and at <= $2 and ${where}`,
      [...window, ...params],
    );
    return {
      accounts: (row!.accounts ?? []).sort(), accountCount: row!.account_count, addressCount: row!.address_count,
      failures: row!.failures, successes: row!.successes, positions: (row!.positions ?? []).map(Number),
    };
  };
  const mostlyFailing = (e: Evidence): boolean => e.failures >= failureShareAtLeast * (e.failures + e.successes);
  switch (c.kind) {
    case 'password_spraying': {
      const e = await summarize(`kind = 'password' and network = $3`, [c.subject.slice('network:'.length)]);
      return e.accountCount >= t.sprayAccounts && mostlyFailing(e) ? e : null;
    }
    case 'distributed_guessing': {
      const account = c.subject.slice('account:'.length);
      const e = await summarize(`kind = 'password' and account = $3`, [account]);
      const [networks] = await tx.query<{ n: number }>(
        `select count(distinct network)::int as n from ${s}.attempts where at > $1 and at <= $2 and kind = 'password' and outcome = 'failure' and account = $3`,
        [...window, account],
      );
      return networks!.n >= t.guessingAddresses && mostlyFailing(e) ? e : null;
    }
    case 'mfa_failures_after_password': {
      const e = await summarize(`kind = 'mfa' and account = $3`, [c.subject.slice('account:'.length)]);
      return e.failures >= t.mfaFailures ? e : null;
    }
    case 'credential_stuffing': {
      // Accounts tried only a few times each: a list of stolen pairs, not a guessing attack on any one of them.
      const e = await summarize(
        `kind = 'password' and account in (
           select account from ${s}.attempts where at > $1 and at <= $2 and kind = 'password' and outcome = 'failure'
            group by account having count(*) <= $3)`,
        [t.stuffingMaxPerAccount],
      );
      const [all] = await tx.query<{ failures: number; successes: number }>(
        `select count(*) filter (where outcome = 'failure')::int as failures, count(*) filter (where outcome = 'success')::int as successes
           from ${s}.attempts where at > $1 and at <= $2 and kind = 'password'`,
        window,
      );
      const share = all!.failures >= failureShareAtLeast * (all!.failures + all!.successes);
      return e.accountCount >= t.stuffingAccounts && e.addressCount >= t.stuffingAddresses && share ? e : null;
    }
  }
}

/**
 * The addresses of the failures as their keyed pseudonyms (the events' metadata.ipHash): never in clear in the event,
 * which outlives every erasure; the security team matches them against the audit view's address filter.
 */
async function addressPseudonyms(deps: Pick<Deps, 'store'>, tx: Queryable, positions: readonly number[], pseudonyms: AddressPseudonymizer): Promise<string[]> {
  const events = await deps.store.readPositions(positions, tx);
  return [...new Set(events.map((e) => pseudonymOfEvent(e, pseudonyms)?.address).filter((a): a is string => typeof a === 'string'))].sort();
}

/**
 * The optional answer to a spray (DETECT_THROTTLE_SECONDS > 0, off by default): attempts from any address of the
 * offending /24 or /64 are refused with RATE_LIMITED until the detection's `throttledUntil`. The lookup is by the
 * network's pseudonym, so the range is never stored in clear.
 */
export function createRangeThrottle(deps: Pick<Deps, 'db' | 'clock'>, pseudonyms: AddressPseudonymizer): (clientAddress: string) => Promise<void> {
  return async (clientAddress) => {
    const pseudonym = pseudonyms.of(clientAddress);
    if (!pseudonym) return;
    const now = deps.clock.now();
    const [row] = await deps.db.query<{ until: Date | string | null }>(
      `select max(throttled_until) as until from ${analyticsDataSchema}.detections where throttled_network = $1 and throttled_until > $2`,
      [pseudonym.network, now.toISOString()],
    );
    if (!row?.until) return;
    throw new DomainError('RATE_LIMITED', undefined, { retryAfterSeconds: Math.max(1, Math.ceil((new Date(row.until).getTime() - now.getTime()) / 1000)) });
  };
}
