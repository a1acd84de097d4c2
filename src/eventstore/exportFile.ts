// The offline export (issue 14): JSON Lines an auditor verifies with nothing but the file and the public key.
// A whole-log export is verified exactly as the live log is (verifyLog.ts, over a file source); a filtered one by an
// inclusion proof per event against a signed checkpoint.
import { eventHash } from './hashChain.js';
import { eventLeaf, verifyInclusion } from './merkle.js';
import { checkCheckpointChain, verifySource, type AuditBreak, type AuditBreakKind, type KnownTreeHead, type LeafEntry, type LogSource } from './verifyLog.js';
import type { Checkpoint } from './checkpoints.js';
import type { EventMetadata, RecordedEvent } from './types.js';

export interface ExportedEvent {
  kind: 'event';
  position: number;
  txId: string;
  streamId: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recordedAt: string;
  prevHash: string;
  hash: string;
  hashVersion: number;
  leafIndex: number | null;
  proof?: { treeSize: number; hashes: string[] };
}

export type ExportLine =
  | { kind: 'header'; format: 'tessera-audit-export/v1'; exportedAt: string; keyId: string; filter: { userId: string | null; from: string | null; to: string | null } | null }
  | { kind: 'checkpoint'; seq: number; treeSize: number; root: string; at: string; previous: string; keyId: string; signature: string }
  | ExportedEvent
  | { kind: 'head'; streamId: string; version: number; hash: string }
  /** A leaf whose event the exporting database no longer holds. */
  | { kind: 'leaf'; leafIndex: number; position: number; streamId: string };

export function exportLine(line: ExportLine): string {
  return `${JSON.stringify(line)}\n`;
}

export interface ExportVerification {
  ok: boolean;
  lines: number;
  eventsChecked: number;
  checkpointsChecked: number;
  /** The first break, with the line (1-based) it shows on. */
  firstBreak: (AuditBreak & { line: number }) | null;
  breaks: Array<AuditBreak & { line: number }>;
}

function toEvent(e: ExportedEvent): RecordedEvent {
  return {
    position: e.position, txId: e.txId, streamId: e.streamId, version: e.version, type: e.type, data: e.data, metadata: e.metadata,
    recordedAt: new Date(e.recordedAt), prevHash: e.prevHash, hash: e.hash, hashVersion: e.hashVersion,
  };
}

/**
 * What an earlier export the auditor kept says of the log: every leaf's event (position and hash), and its last
 * checkpoint, which the log must still extend.
 */
export function earlierExport(text: string): { leaves: Map<number, { position: number; hash: string }>; knownTreeHead?: KnownTreeHead } {
  const leaves = new Map<number, { position: number; hash: string }>();
  let last: { treeSize: number; root: string } | undefined;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = JSON.parse(raw) as ExportLine;
    if (line.kind === 'event' && line.leafIndex !== null) leaves.set(line.leafIndex, { position: line.position, hash: line.hash });
    if (line.kind === 'checkpoint' && (!last || line.treeSize >= last.treeSize)) last = { treeSize: line.treeSize, root: line.root };
  }
  return { leaves, ...(last ? { knownTreeHead: last } : {}) };
}

export function verifyExport(
  text: string,
  verifySignature: (statement: string, signature: string, keyId: string) => boolean,
  options: { knownTreeHead?: KnownTreeHead; earlierLeaves?: ReadonlyMap<number, { position: number; hash: string }> } = {},
): Promise<ExportVerification> {
  const lines: Array<{ line: number; value: ExportLine }> = [];
  const malformed: Array<AuditBreak & { line: number }> = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      lines.push({ line: i + 1, value: JSON.parse(raw) as ExportLine });
    } catch {
      malformed.push({ kind: 'EDITED', line: i + 1, detail: 'not a JSON line' });
    }
  });
  const header = lines.find((l) => l.value.kind === 'header')?.value as Extract<ExportLine, { kind: 'header' }> | undefined;
  const checkpointLines = lines.filter((l): l is { line: number; value: Extract<ExportLine, { kind: 'checkpoint' }> } => l.value.kind === 'checkpoint');
  const eventLines = lines.filter((l): l is { line: number; value: ExportedEvent } => l.value.kind === 'event');
  const checkpoints: Checkpoint[] = checkpointLines.map(({ value: c }) => ({ ...c, at: new Date(c.at) }));
  const lineOfPosition = new Map([...eventLines.map((l) => [l.value.position, l.line] as const),
    ...lines.filter((l) => l.value.kind === 'leaf').map((l) => [(l.value as { position: number }).position, l.line] as const)]);
  const lineOfSeq = new Map(checkpointLines.map((l) => [l.value.seq, l.line]));
  const leafLines = eventLines.filter((l) => l.value.leafIndex !== null);
  const lineOfLeaf = (leafIndex: number): number => leafLines.find((l) => l.value.leafIndex! >= leafIndex)?.line ?? (eventLines.at(-1)?.line ?? lines.length);
  const locate = (b: AuditBreak): AuditBreak & { line: number } => ({
    ...b,
    line: (b.position !== undefined ? lineOfPosition.get(b.position) : undefined)
      ?? (b.fromTreeSize !== undefined && b.checkpointSeq === undefined ? lineOfLeaf(b.fromTreeSize) : undefined)
      ?? (b.checkpointSeq !== undefined ? lineOfSeq.get(b.checkpointSeq) : undefined)
      ?? 1,
  });
  const finish = (breaks: AuditBreak[], eventsChecked: number): ExportVerification => {
    // The same order as the live verification (a position before a range); an unreadable line before everything.
    const located = [...malformed, ...breaks.map(locate)];
    return { ok: located.length === 0, lines: lines.length, eventsChecked, checkpointsChecked: checkpoints.length, firstBreak: located[0] ?? null, breaks: located };
  };

  if (header?.filter) return Promise.resolve(finish(verifyFiltered(eventLines.map((l) => l.value), checkpoints, verifySignature), eventLines.length));

  // A whole-log export: the same verification as the live log, over the file. The signed range ends at the last leaf's
  // (transaction id, position): an event without a leaf at or before it was written into signed history.
  const leafRows = lines.filter((l) => l.value.kind === 'leaf' || (l.value.kind === 'event' && l.value.leafIndex !== null));
  const lastLeaf = [...leafLines].reverse()[0]?.value;
  const inSignedRange = (e: ExportedEvent): boolean => lastLeaf !== undefined
    && (BigInt(e.txId) < BigInt(lastLeaf.txId) || (BigInt(e.txId) === BigInt(lastLeaf.txId) && e.position <= lastLeaf.position));
  const uncovered = eventLines.filter((l) => l.value.leafIndex === null);
  const source: LogSource = {
    checkpoints: async () => checkpoints,
    async *leaves() {
      yield leafRows.map(({ value: v }): LeafEntry => v.kind === 'leaf'
        ? { leafIndex: v.leafIndex, position: v.position, streamId: v.streamId, event: null }
        : { leafIndex: (v as ExportedEvent).leafIndex!, position: (v as ExportedEvent).position, streamId: (v as ExportedEvent).streamId, event: toEvent(v as ExportedEvent) });
    },
    async *eventsAfterCheckpoints() {
      yield uncovered.filter((l) => !inSignedRange(l.value)).map((l) => toEvent(l.value));
    },
    async uncoveredInSignedRange() {
      return uncovered.filter((l) => inSignedRange(l.value)).map((l) => ({ position: l.value.position, streamId: l.value.streamId, version: l.value.version }));
    },
    heads: async () => lines.filter((l) => l.value.kind === 'head').map((l) => l.value as Extract<ExportLine, { kind: 'head' }>),
    streamEvents: async (streamId) => eventLines.filter((l) => l.value.streamId === streamId).map((l) => toEvent(l.value)).sort((a, b) => a.version - b.version),
  };
  return verifySource(source, { verifySignature, knownTreeHead: options.knownTreeHead, earlierLeaves: options.earlierLeaves }).then((result) => finish(result.breaks, result.eventsChecked));
}

/** Each event: its hash recomputed, its link to the event before it in the file, its inclusion in a signed tree. */
function verifyFiltered(events: readonly ExportedEvent[], checkpoints: readonly Checkpoint[], verifySignature: (statement: string, signature: string, keyId: string) => boolean): AuditBreak[] {
  const breaks = checkCheckpointChain(checkpoints, { verifySignature });
  const bySize = new Map(checkpoints.map((c) => [c.treeSize, c]));
  const previousInStream = new Map<string, ExportedEvent>();
  for (const e of events) {
    const event = toEvent(e);
    const recomputed = eventHash(event);
    const at = { position: e.position, streamId: e.streamId, version: e.version };
    if (recomputed !== e.hash) {
      const swapped = events.some((o) => o.streamId === e.streamId && o.position !== e.position
        && eventHash({ ...toEvent(o), type: e.type, data: e.data, metadata: e.metadata, recordedAt: event.recordedAt }) === o.hash);
      breaks.push({ kind: swapped ? 'REORDERED' : 'EDITED', ...at, detail: 'the event no longer hashes to its recorded hash' });
      continue;
    }
    const before = previousInStream.get(e.streamId);
    previousInStream.set(e.streamId, e);
    if (before && before.version === e.version - 1 && e.prevHash !== before.hash) breaks.push({ kind: 'EDITED', ...at, detail: 'the event does not follow the one before it' });
    if (before && e.version <= before.version) breaks.push({ kind: 'REORDERED', ...at, detail: 'the stream\'s versions are out of order' });
    if (e.leafIndex === null) continue;
    const checkpoint = e.proof ? bySize.get(e.proof.treeSize) : undefined;
    const included = checkpoint && e.proof
      && verifyInclusion(eventLeaf(recomputed), e.leafIndex, checkpoint.treeSize, e.proof.hashes.map((h) => Buffer.from(h, 'hex')), Buffer.from(checkpoint.root, 'hex'));
    if (!included) breaks.push({ kind: 'EDITED', ...at, detail: 'the event is not the leaf its signed checkpoint includes' });
  }
  return breaks;
}

export type { AuditBreakKind };
