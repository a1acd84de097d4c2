// What use cases are given: the parts of the running service, each use case naming the few it needs (Pick<Deps, …>).
// The composition root (app.ts) builds one object that has them all.
import type { Config } from '../config.js';
import type { CodeDelivery } from './codeDelivery.js';
import type { DeviceTokens } from '../crypto/deviceTokens.js';
import type { PasswordHasher } from '../crypto/password.js';
import type { LoadedSecretKeys, SecretBox } from '../crypto/secretBox.js';
import type { CheckpointSigner } from '../crypto/auditSigning.js';
import type { PersonalDataVault } from './personalDataVault.js';
import type { Db } from '../db/index.js';
import type { Clock } from '../domain/shared/clock.js';
import type { EventStore } from '../eventstore/index.js';
import type { Logger } from '../logger.js';
import type { AttemptBudget } from '../security/attempts.js';
import type { UnknownAccountLedger } from '../security/unknownAccountLedger.js';

export interface Secrets {
  /** AES-256-GCM under the configured keys (TOTP seeds, recovery codes for display). */
  box: SecretBox;
  /** The keys, and keys derived from them (recovery-code HMACs). */
  keys: LoadedSecretKeys;
}

export interface Deps {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** For reading projections; writes go through the store. */
  db: Db;
  store: EventStore;
  passwords: PasswordHasher;
  /** The attempt budget, behind the lockout gate. */
  attempts: AttemptBudget;
  secrets: Secrets;
  /** Consecutive failures of emails without an account, so the lockout answers them as it answers real ones. */
  unknownAccounts: UnknownAccountLedger;
  /** Signs and checks the device cookie or token every transport reads. */
  deviceTokens: DeviceTokens;
  /** Personal data keys: sealing, opening, keyed hashes of emails and addresses, erasure (issue 14 item 0). */
  personalData: PersonalDataVault;
  /** Signs the audit checkpoints (Ed25519, AUDIT_SIGNING_KEY). */
  auditSigner: CheckpointSigner;
  /** Sends one-time codes (email now; SMS would be another implementation). */
  codeDelivery: CodeDelivery;
}

/** Enough to run a command: the log and the time. */
export type WriteDeps = Pick<Deps, 'store' | 'clock'>;
