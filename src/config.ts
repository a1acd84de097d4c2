// Every setting Tessera reads from the environment, parsed once. The README's configuration table mirrors this file.
import path from 'node:path';
import { loadWebAuthnConfig, type WebAuthnConfig } from './crypto/webauthn.js';

export interface Config {
  port: number;
  host: string;
  nodeEnv: string;
  isProduction: boolean;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  redisUrl: string | undefined;
  publicOrigin: string;
  issuer: string;
  /** Pending (pre-MFA) logins expire after this. */
  loginFlowTtlSeconds: number;
  sessionIdleTimeoutSeconds: number;
  sessionAbsoluteTimeoutSeconds: number;
  /** SessionActivityRecorded at most once per this interval per session. */
  sessionActivityIntervalSeconds: number;
  reauthenticationTtlSeconds: number;
  adminMfaGraceSeconds: number;
  /** TOTP codes are accepted this many 30-second steps either side of now (clock drift, typing time). */
  totpWindow: number;
  mfaSupportedTypes: Array<'totp' | 'webauthn' | 'recovery_codes'>;
  passkeyLoginEnabled: boolean;
  passkeySignupEnabled: boolean;
  /** Relying party and allowed origins (WEBAUTHN_*); the origins default to PUBLIC_ORIGIN. */
  webauthn: WebAuthnConfig;
  trackSessionActivity: boolean;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  maxRequestBytes: number;
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty: the socket address is the client. */
  trustProxy: string[];
  /** Browser origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Prefix of the rate-limiter keys in Redis, so deployments (and test runs) sharing one Redis stay apart. */
  redisKeyPrefix: string;
  attempts: {
    /** Verifications per account per window, across every factor and path. */
    accountPoints: number;
    accountWindowSeconds: number;
    /** Verifications per client address (IPv6 by /64) per window. */
    ipPoints: number;
    ipWindowSeconds: number;
  };
  lockout: {
    /** Consecutive failures after which each further attempt waits 1, 2, 4, … seconds. */
    backoffAfter: number;
    backoffMaxSeconds: number;
    /** Consecutive failures that lock the account (UserLocked). */
    lockAfter: number;
    lockSeconds: number;
    /** Consecutive failures that lock the account until an administrator unlocks it; below NIST's cap of 100. */
    hardLimit: number;
  };
  smtpUrl: string | undefined;
  notificationFrom: string;
  /** Poll interval of the notification delivery worker. */
  notificationPollMs: number;
  /** Delivery attempts before a notification is dead-lettered (SecurityNotificationDeadLettered). */
  notificationMaxAttempts: number;
  /** Only the benchmark turns this off: builds the server without armor, CSRF, alias and body limits. */
  guards: boolean;
}

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function boolFrom(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw === '1' || raw.toLowerCase() === 'true';
}

const factorTypes = ['totp', 'webauthn', 'recovery_codes'] as const;

export function loadConfig(env: Env = process.env): Config {
  const port = intFrom(env, 'PORT', 4000);
  const nodeEnv = env.NODE_ENV ?? 'development';
  const supported = (env.MFA_SUPPORTED_TYPES ?? 'totp,webauthn,recovery_codes')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const type of supported) {
    if (!(factorTypes as readonly string[]).includes(type)) throw new Error(`MFA_SUPPORTED_TYPES: unknown type "${type}"`);
  }
  const publicOrigin = env.PUBLIC_ORIGIN ?? `http://localhost:${port}`;
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    nodeEnv,
    isProduction: nodeEnv === 'production',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    redisUrl: env.REDIS_URL || undefined,
    publicOrigin,
    issuer: env.TOTP_ISSUER ?? 'Tessera',
    loginFlowTtlSeconds: intFrom(env, 'LOGIN_FLOW_TTL_SECONDS', 600),
    sessionIdleTimeoutSeconds: intFrom(env, 'SESSION_IDLE_TIMEOUT_SECONDS', 3600),
    sessionAbsoluteTimeoutSeconds: intFrom(env, 'SESSION_ABSOLUTE_TIMEOUT_SECONDS', 86400),
    sessionActivityIntervalSeconds: intFrom(env, 'SESSION_ACTIVITY_INTERVAL_SECONDS', 300),
    reauthenticationTtlSeconds: intFrom(env, 'REAUTHENTICATION_TTL_SECONDS', 300),
    adminMfaGraceSeconds: intFrom(env, 'ADMIN_MFA_GRACE_SECONDS', 7 * 86400),
    totpWindow: intFrom(env, 'TOTP_WINDOW', 1),
    mfaSupportedTypes: supported as Config['mfaSupportedTypes'],
    passkeyLoginEnabled: boolFrom(env, 'PASSKEY_LOGIN_ENABLED', true),
    passkeySignupEnabled: boolFrom(env, 'PASSKEY_SIGNUP_ENABLED', false),
    webauthn: webauthnFrom(env, publicOrigin),
    trackSessionActivity: boolFrom(env, 'TRACK_SESSION_ACTIVITY', true),
    argon2: {
      memoryCost: intFrom(env, 'ARGON2_MEMORY_KIB', 19456),
      timeCost: intFrom(env, 'ARGON2_TIME_COST', 2),
      parallelism: intFrom(env, 'ARGON2_PARALLELISM', 1),
    },
    maxRequestBytes: intFrom(env, 'MAX_REQUEST_BYTES', 100 * 1024),
    trustProxy: listFrom(env, 'TRUST_PROXY'),
    corsOrigins: listFrom(env, 'CORS_ORIGINS'),
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'tessera',
    attempts: {
      accountPoints: intFrom(env, 'ATTEMPTS_PER_ACCOUNT', 10),
      accountWindowSeconds: intFrom(env, 'ATTEMPTS_ACCOUNT_WINDOW_SECONDS', 15 * 60),
      ipPoints: intFrom(env, 'ATTEMPTS_PER_IP', 100),
      ipWindowSeconds: intFrom(env, 'ATTEMPTS_IP_WINDOW_SECONDS', 15 * 60),
    },
    lockout: lockoutFrom(env),
    smtpUrl: env.SMTP_URL || undefined,
    notificationFrom: env.NOTIFICATION_FROM ?? 'Tessera <no-reply@localhost>',
    notificationPollMs: intFrom(env, 'NOTIFICATION_POLL_MS', 1000),
    notificationMaxAttempts: intFrom(env, 'NOTIFICATION_MAX_ATTEMPTS', 8),
    guards: true,
  };
}

/**
 * WEBAUTHN_RP_ID defaults to PUBLIC_ORIGIN's host and WEBAUTHN_ORIGINS to PUBLIC_ORIGIN (plus http://localhost:4000 on
 * localhost), so a deployment that sets only PUBLIC_ORIGIN gets a working, strict relying party.
 */
function webauthnFrom(env: Env, publicOrigin: string): WebAuthnConfig {
  const host = new URL(publicOrigin).hostname;
  const local = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  return loadWebAuthnConfig(
    { ...env, WEBAUTHN_RP_ID: env.WEBAUTHN_RP_ID || (local ? 'localhost' : host), WEBAUTHN_ORIGINS: env.WEBAUTHN_ORIGINS || (local ? '' : publicOrigin) },
    { defaultOrigin: publicOrigin.replace('127.0.0.1', 'localhost') },
  );
}

function listFrom(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function lockoutFrom(env: Env): Config['lockout'] {
  const lockout = {
    backoffAfter: intFrom(env, 'LOCKOUT_BACKOFF_AFTER', 5),
    backoffMaxSeconds: intFrom(env, 'LOCKOUT_BACKOFF_MAX_SECONDS', 60),
    lockAfter: intFrom(env, 'LOCKOUT_LOCK_AFTER', 10),
    lockSeconds: intFrom(env, 'LOCKOUT_LOCK_SECONDS', 15 * 60),
    hardLimit: intFrom(env, 'LOCKOUT_HARD_LIMIT', 50),
  };
  // The hard limit plus the attempts already in flight when it is reached (at most one account budget) must stay below
  // NIST SP 800-63B's cap of 100 consecutive failures.
  const budget = intFrom(env, 'ATTEMPTS_PER_ACCOUNT', 10);
  if (lockout.lockAfter < 1 || lockout.hardLimit < lockout.lockAfter || lockout.hardLimit + budget >= 100) {
    throw new Error('LOCKOUT_LOCK_AFTER ≤ LOCKOUT_HARD_LIMIT and LOCKOUT_HARD_LIMIT + ATTEMPTS_PER_ACCOUNT < 100 are required');
  }
  return lockout;
}
