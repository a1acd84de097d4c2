// Attack detection over failure events (issue 19): one stream per detection (`detection-<id>`), written by the
// analytics projector when failures in a window cross a threshold (application/attackDetection.ts).
import type { DomainEvent } from '../shared/decider.js';

export type SuspiciousActivityKind = 'password_spraying' | 'credential_stuffing' | 'distributed_guessing' | 'mfa_failures_after_password';

/**
 * The evidence: the window, the addresses as their keyed pseudonyms (the events' metadata.ipHash, never in clear: the
 * event outlives every erasure; at most 100, `addressCount` counts all),
 * the accounts (user ids; `unknown:<flowId>` for an email without an account; at most 100), and the counts.
 * `subject` is the keyed pseudonym (or user id) the detection is about, so the same attack is reported once per window.
 * `network`: the pseudonym of the /24 or /64 of a spraying address (metadata.networkHash); `throttledNetwork`/`throttledUntil`: the range refused meanwhile,
 * when DETECT_THROTTLE_SECONDS is set (its pseudonym, never the range in clear).
 */
export type SuspiciousActivityDetected = DomainEvent<'SuspiciousActivityDetected', {
  detectionId: string;
  kind: SuspiciousActivityKind;
  subject: string;
  windowStart: string;
  windowEnd: string;
  addresses: string[];
  addressCount: number;
  network: string | null;
  accounts: string[];
  accountCount: number;
  failures: number;
  successes: number;
  throttledNetwork: string | null;
  throttledUntil: string | null;
  at: string;
}>;

export type DetectionEvent = SuspiciousActivityDetected;

export const detectionEventTypes = ['SuspiciousActivityDetected'] as const satisfies readonly DetectionEvent['type'][];
