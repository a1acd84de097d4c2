export * from './types.js';
export * from './errors.js';
export { EventStore, maxEventPayloadBytes, readAheadOf, toRecordedEvent, type ReadAheadRow, type AppendOptions, type AppendResult, type AppendEffects, type PlannedReactions, type ReactionPlanner, type EventStoreObserver, type Fold, type Folded, type SnapshotSealer } from './eventStore.js';
export { verifyChain, type ChainVerification } from './verifyChain.js';
export { withIdempotencyKey, IdempotencyConflictError } from './idempotency.js';
export { migrate, pendingMigrations } from './migrate.js';
