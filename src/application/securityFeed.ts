// The live security feed (issue 14 item 7): every event after a cursor, once each, in commit order, as it commits.
// The log is the source of truth, read gap-safe by (transaction id, position) below the visible horizon (DESIGN.md §3),
// so an event that commits late with a lower position is never skipped; a cursor names the last event delivered, and a
// subscriber that reconnects with it resumes without loss or duplicates. LISTEN/NOTIFY (in-process on PGlite) only
// wakes the reader; it polls anyway each second, since the horizon can move without a new append.
import { logAppendedChannel } from '../eventstore/eventStore.js';
import { liveSchema } from '../projections/projector.js';
import type { AuditRow } from '../projections/audit.js';
import { DomainError } from '../domain/shared/errors.js';
import type { Deps } from './deps.js';

export interface FeedItem {
  cursor: string;
  event: AuditRow;
}

const batch = 500;

/**
 * A place in the feed: the last event delivered (transaction id, position), and, until the reader has passed every
 * transaction that was running when the subscription started, that start's snapshot: events already committed at the
 * start are not "after" it, even those the horizon had not passed yet.
 */
interface FeedCursor { txId: string; position: number; snapshot: string | null }

export function parseFeedCursor(cursor: string): FeedCursor {
  const match = /^(\d{1,20})\.(\d{1,18})(?:~(\d{1,20}:\d{1,20}:[\d,]{0,4000}))?$/.exec(cursor);
  if (!match) throw new DomainError('VALIDATION_FAILED', 'after: must be a cursor of an earlier event', { field: 'after' });
  return { txId: match[1]!, position: Number(match[2]), snapshot: match[3] ?? null };
}

function formatCursor(c: FeedCursor): string {
  return `${c.txId}.${c.position}${c.snapshot ? `~${c.snapshot}` : ''}`;
}

/**
 * Where a subscription starts: after `after`, or else after everything committed now, so it sees what commits from now
 * on. Resolved before the subscription is acknowledged, so "after its start" means after the client got its answer.
 */
export async function feedStart(deps: Pick<Deps, 'db'>, after: string | null): Promise<string> {
  if (after !== null) return formatCursor(parseFeedCursor(after));
  const [row] = await deps.db.query<{ xmin: string; snapshot: string }>(
    `select pg_snapshot_xmin(pg_current_snapshot())::text as xmin, pg_current_snapshot()::text as snapshot`,
  );
  // Nothing below xmin can be new; from xmin on, the snapshot says what had already committed.
  return formatCursor({ txId: String(BigInt(row!.xmin) - 1n), position: Number.MAX_SAFE_INTEGER, snapshot: row!.snapshot });
}

export async function* securityFeed(
  deps: Pick<Deps, 'db'>, options: { userId?: string; types?: string[]; after: string; pollMs?: number; signal?: AbortSignal },
): AsyncGenerator<FeedItem> {
  let cursor = parseFeedCursor(options.after);
  let wake: (() => void) | null = null;
  let woken = false;
  const unlisten = await deps.db.listen(logAppendedChannel, () => {
    woken = true;
    wake?.();
  });
  const onAbort = (): void => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    while (!options.signal?.aborted) {
      woken = false;
      const params: unknown[] = [cursor.txId, cursor.position, batch];
      const conditions = [`e.tx_id < pg_snapshot_xmin(pg_current_snapshot())`, `(e.tx_id, e.position) > ($1::xid8, $2::bigint)`];
      if (cursor.snapshot) conditions.push(`not pg_visible_in_snapshot(e.tx_id, $${params.push(cursor.snapshot)}::pg_snapshot)`);
      if (options.userId !== undefined) conditions.push(`a.user_id = $${params.push(options.userId)}`);
      if (options.types !== undefined) conditions.push(`a.type = any($${params.push(options.types)}::text[])`);
      // The horizon's events in commit order, those the subscriber may see and asked for.
      const rows = await deps.db.query<AuditRow & { tx_id: string; e_position: number }>(
        `select a.*, e.tx_id::text as tx_id, e.position as e_position from events e join ${liveSchema}.audit_events a on a.position = e.position
          where ${conditions.join(' and ')} order by e.tx_id, e.position limit $3`,
        params,
      );
      for (const row of rows) {
        // The start's snapshot matters until the cursor passes its xmax: every later transaction began after the start.
        const snapshot = cursor.snapshot && BigInt(row.tx_id) < BigInt(cursor.snapshot.split(':')[1]!) ? cursor.snapshot : null;
        cursor = { txId: row.tx_id, position: Number(row.e_position), snapshot };
        const { tx_id: _tx, e_position: _p, ...event } = row;
        yield { cursor: formatCursor(cursor), event: event as AuditRow };
      }
      if (rows.length === batch || woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (options.signal?.aborted) wake();
      });
      wake = null;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await unlisten().catch(() => {});
  }
}
