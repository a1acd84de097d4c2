// Every setting Tessera reads from the environment, parsed once. The README's configuration table mirrors this file.
import path from 'node:path';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseRootCertificates } from './crypto/webauthn/attestation.js';
import { loadWebAuthnConfig, WebAuthnConfigError, type WebAuthnConfig } from './crypto/webauthn/config.js';
import { normalizeAaguid, type AaguidPolicy } from './domain/authenticators/aaguidPolicy.js';

export interface Config {
  port: number;
  host: string;
  nodeEnv: string;
  isProduction: boolean;
  databaseUrl: string | undefined;
  /**
   * DATABASE_POOL_SIZE: PostgreSQL connections this instance keeps (default 2 × its CPU cores + 1). More connections
   * than PostgreSQL has cores to run them only take turns on those cores (MFA steps with PostgreSQL beside the service
   * on 2 cores: about a tenth fewer with 10 or 16 connections than with 4 or 6, docs/scaling.md).
   */
  databasePoolSize: number;
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
  /** Email one-time codes: how many digits (6–8) and how long before another may be sent. */
  emailCode: { digits: number; resendSeconds: number };
  /** Roles whose holders must have a strong second factor (TOTP or WebAuthn) once the grace period has run out. */
  mfaRequiredRoles: string[];
  /** TOTP codes are accepted this many 30-second steps either side of now (clock drift, typing time). */
  totpWindow: number;
  mfaSupportedTypes: Array<'totp' | 'webauthn' | 'recovery_codes' | 'email'>;
  passkeyLoginEnabled: boolean;
  /** "Trust this device" after an MFA step (allauth's MFA_TRUST_ENABLED), and for how long a trust lasts. */
  mfaTrust: { enabled: boolean; ageSeconds: number };
  passkeySignupEnabled: boolean;
  /** Relying party and allowed origins (WEBAUTHN_*); the origins default to PUBLIC_ORIGIN. */
  webauthn: WebAuthnConfig;
  /** WEBAUTHN_AAGUID_ALLOW / _BLOCK: enforced only with WEBAUTHN_ATTESTATION=direct (advisory otherwise). */
  aaguid: AaguidPolicy;
  trackSessionActivity: boolean;
  /** SERVE_WEB: serve the reference web app (web/dist) at `/`; off for teams with their own frontend. */
  serveWeb: boolean;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  /** PASSWORD_HASH_CONCURRENCY: hashes computed at once by this instance (default: its CPU cores); the rest queue. */
  passwordHashConcurrency: number;
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
    /** Anonymous writes (signups, passkey ceremonies begun) per client address per ip window: a budget of their own. */
    anonymousWritesPerIp: number;
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
  /** The allauth-headless-compatible REST facade under /_allauth/ (src/rest/). */
  allauthCompatEnabled: boolean;
  /** Owner connection for migrations (issue 14): the app itself then runs under a role that does not own the tables. */
  migrationDatabaseUrl: string | undefined;
  /** Asynchronous analysis projections and attack detection (issue 19). */
  analytics: {
    /** Poll interval of the analytics projector (it is also woken by every append). */
    pollMs: number;
    /** Events applied per transaction of the analytics projector. */
    batchSize: number;
    detection: DetectionThresholds;
  };
  audit: {
    /** A signed checkpoint once this many events wait below the horizon… */
    checkpointEvery: number;
    /** …or once this many seconds have passed since the last one while events arrive. */
    checkpointSeconds: number;
  };
  /**
   * GET /metrics (Prometheus): with METRICS_TOKEN set, served to `Authorization: Bearer <token>` only; without it,
   * served openly in development and test, and not at all (404) in production.
   */
  metrics: { enabled: boolean; token: string | undefined };
  /**
   * ACCOUNT_EMAIL_VERIFICATION (allauth's name): `none` sends no code; `optional` (default) sends one and lets the
   * account in meanwhile; `mandatory` lets nobody in until the address is verified, and signup does not reveal taken
   * addresses (allauth's ACCOUNT_PREVENT_ENUMERATION). An email change waits for its code under optional and mandatory.
   */
  emailVerification: 'none' | 'optional' | 'mandatory';
  /**
   * FRONTEND_URLS (allauth's HEADLESS_FRONTEND_URLS): the pages links in mails lead to. `{key}` is replaced by the key.
   * Defaults to the reference web app at PUBLIC_ORIGIN.
   */
  frontendUrls: Record<FrontendUrlName, string>;
  /** Only the benchmark turns this off: builds the server without armor, CSRF, alias and body limits. */
  guards: boolean;
}

type Env = Record<string, string | undefined>;

export const frontendUrlNames = ['account_confirm_email', 'account_reset_password', 'account_reset_password_from_key', 'account_compromised'] as const;
export type FrontendUrlName = (typeof frontendUrlNames)[number];
/** The pages that take a key in their URL. */
const keyedFrontendUrls: readonly FrontendUrlName[] = ['account_reset_password_from_key', 'account_compromised'];

export interface ConfigProblem {
  variable: string;
  problem: string;
}

/**
 * Every bad setting at once, each named with the reason, so an operator fixes the environment in one pass. Thrown by
 * loadConfig: a value out of range must stop the start-up, not surface later as a 500 on every request it touches.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const factorTypes = ['totp', 'webauthn', 'recovery_codes', 'email'] as const;
/** Offered when MFA_SUPPORTED_TYPES is unset: email codes (the weaker factor) are off by default. */
const defaultFactorTypes = ['totp', 'webauthn', 'recovery_codes'] as const;
/** The roles MFA_REQUIRED_ROLES may name (the same list as the domain's known roles). */
const privilegedRoles = ['admin', 'auditor', 'analyst'] as const;
const nodeEnvs = ['development', 'production', 'test'];
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const day = 86400;

/** Reads the environment, collecting every problem instead of stopping at the first; a bad value yields its default. */
class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  /** Unset and empty are the same: the default applies. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  refuse(variable: string, problem: string): void {
    this.problems.push({ variable, problem });
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.refuse(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.refuse(name, `must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf(name: string, allowed: readonly string[], fallback: string): string {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (allowed.includes(raw)) return raw;
    this.refuse(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  }

  /** A URL with one of `protocols` (e.g. 'postgres:'), or undefined when unset. */
  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (!URL.canParse(raw) || !protocols.includes(new URL(raw).protocol)) {
      this.refuse(name, `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);
      return undefined;
    }
    return raw;
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  }
}

/** An http(s) URL with nothing after the host and port: the origin it names is `new URL(value).origin`. */
function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
}

/** An address or a CIDR, as the client address resolver reads TRUST_PROXY. */
function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address!);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** Thresholds of attack detection over failure events (application/attackDetection.ts), within one sliding window. */
export interface DetectionThresholds {
  windowSeconds: number;
  /** Password spraying: distinct accounts failing from one address or one /24 (IPv4) or /64 (IPv6). */
  sprayAccounts: number;
  /** Credential stuffing: distinct accounts failing, from at least this many addresses, none more than the per-account rate. */
  stuffingAccounts: number;
  stuffingAddresses: number;
  stuffingMaxPerAccount: number;
  /** Distributed guessing: distinct addresses (not in one /24 or /64) failing on one account. */
  guessingAddresses: number;
  /** MFA failures after a correct password on one account (a stolen password). */
  mfaFailures: number;
  /** 0: detect only. Otherwise refuse attempts from the offending range for this long (off by default). */
  throttleSeconds: number;
}

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const port = read.int('PORT', 4000, 0, 65535);
  const nodeEnv = read.oneOf('NODE_ENV', nodeEnvs, 'development');

  const supported = read.list('MFA_SUPPORTED_TYPES').map((type) => type.toLowerCase());
  const unknown = supported.filter((type) => !(factorTypes as readonly string[]).includes(type));
  if (unknown.length > 0) read.refuse('MFA_SUPPORTED_TYPES', `unknown type ${unknown.map((t) => `"${t}"`).join(', ')} (known: ${factorTypes.join(', ')})`);
  else if (supported.length > 0 && !supported.some((type) => type === 'totp' || type === 'webauthn')) {
    read.refuse('MFA_SUPPORTED_TYPES', 'recovery_codes and email come with a strong second factor: list totp or webauthn too');
  }

  const requiredRolesRaw = read.raw('MFA_REQUIRED_ROLES');
  const mfaRequiredRoles = requiredRolesRaw === undefined ? [...privilegedRoles] : read.list('MFA_REQUIRED_ROLES').map((r) => r.toLowerCase());
  const unknownRoles = mfaRequiredRoles.filter((role) => !(privilegedRoles as readonly string[]).includes(role));
  if (unknownRoles.length > 0) read.refuse('MFA_REQUIRED_ROLES', `unknown role ${unknownRoles.map((r) => `"${r}"`).join(', ')} (known: ${privilegedRoles.join(', ')})`);

  const publicOriginRaw = read.raw('PUBLIC_ORIGIN') ?? `http://localhost:${port}`;
  const publicOrigin = isOrigin(publicOriginRaw) ? new URL(publicOriginRaw).origin : `http://localhost:${port}`;
  if (!isOrigin(publicOriginRaw)) read.refuse('PUBLIC_ORIGIN', `must be an http(s) origin (scheme://host[:port], no path), got "${publicOriginRaw}"`);

  const trustProxy = read.list('TRUST_PROXY');
  const badProxies = trustProxy.filter((entry) => !isAddressOrCidr(entry));
  if (badProxies.length > 0) read.refuse('TRUST_PROXY', `not an address or CIDR: ${badProxies.map((e) => `"${e}"`).join(', ')}`);
  const corsOrigins = read.list('CORS_ORIGINS');
  // Compared as strings with the Origin header, so each must be spelled exactly as browsers send it.
  const badOrigins = corsOrigins.filter((origin) => !isOrigin(origin) || new URL(origin).origin !== origin);
  if (badOrigins.length > 0) read.refuse('CORS_ORIGINS', `not an origin as browsers send it (scheme://host[:port], lower case, no slash or path): ${badOrigins.map((o) => `"${o}"`).join(', ')}`);

  const sessionIdleTimeoutSeconds = read.int('SESSION_IDLE_TIMEOUT_SECONDS', 3600, 60, 30 * day);
  const sessionAbsoluteTimeoutSeconds = read.int('SESSION_ABSOLUTE_TIMEOUT_SECONDS', day, 60, 365 * day);
  const sessionActivityIntervalSeconds = read.int('SESSION_ACTIVITY_INTERVAL_SECONDS', 300, 0, 30 * day);
  if (sessionIdleTimeoutSeconds > sessionAbsoluteTimeoutSeconds) {
    read.refuse('SESSION_IDLE_TIMEOUT_SECONDS', `must not exceed SESSION_ABSOLUTE_TIMEOUT_SECONDS (${sessionAbsoluteTimeoutSeconds})`);
  }
  // Activity is what keeps a session from going idle: recorded less often than the idle timeout, a session in use expires.
  if (sessionActivityIntervalSeconds >= sessionIdleTimeoutSeconds) {
    read.refuse('SESSION_ACTIVITY_INTERVAL_SECONDS', `must be below SESSION_IDLE_TIMEOUT_SECONDS (${sessionIdleTimeoutSeconds}), or sessions in use expire as idle`);
  }

  const accountPoints = read.int('ATTEMPTS_PER_ACCOUNT', 10, 1, 99);
  const argon2Parallelism = read.int('ARGON2_PARALLELISM', 1, 1, 16);
  const argon2 = {
    // argon2 itself refuses less than 8 KiB per lane; below 1 MiB a hash is no obstacle at all.
    memoryCost: read.int('ARGON2_MEMORY_KIB', 19456, Math.max(1024, 8 * argon2Parallelism), 4 * 1024 * 1024),
    timeCost: read.int('ARGON2_TIME_COST', 2, 1, 32),
    parallelism: argon2Parallelism,
  };
  const passwordHashConcurrency = read.int('PASSWORD_HASH_CONCURRENCY', availableParallelism(), 1, 256);

  const metricsToken = read.raw('METRICS_TOKEN');
  // A scraper's token travels in a header on every scrape; a short one would be guessed, and one with spaces or
  // quotes cannot be sent as a bearer token at all.
  if (metricsToken !== undefined && !/^[A-Za-z0-9._~+/=-]{24,256}$/.test(metricsToken)) {
    read.refuse('METRICS_TOKEN', 'must be 24 to 256 characters of A-Z a-z 0-9 . _ ~ + / = - (a bearer token)');
  }
  const metricsTokenValid = metricsToken !== undefined && /^[A-Za-z0-9._~+/=-]{24,256}$/.test(metricsToken);

  const config: Config = {
    port,
    host: read.string('HOST', '127.0.0.1'),
    nodeEnv,
    isProduction: nodeEnv === 'production',
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: read.int('DATABASE_POOL_SIZE', 2 * availableParallelism() + 1, 1, 1000),
    dataDir: path.resolve(read.string('DATA_DIR', './data')),
    logLevel: read.oneOf('LOG_LEVEL', logLevels, nodeEnv === 'test' ? 'silent' : 'info'),
    redisUrl: read.url('REDIS_URL', ['redis:', 'rediss:']),
    publicOrigin,
    issuer: read.string('TOTP_ISSUER', 'Tessera'),
    loginFlowTtlSeconds: read.int('LOGIN_FLOW_TTL_SECONDS', 600, 30, day),
    sessionIdleTimeoutSeconds,
    sessionAbsoluteTimeoutSeconds,
    sessionActivityIntervalSeconds,
    reauthenticationTtlSeconds: read.int('REAUTHENTICATION_TTL_SECONDS', 300, 1, day),
    adminMfaGraceSeconds: read.int('ADMIN_MFA_GRACE_SECONDS', 7 * day, 0, 365 * day),
    emailCode: { digits: read.int('EMAIL_CODE_DIGITS', 6, 6, 8), resendSeconds: read.int('EMAIL_CODE_RESEND_SECONDS', 60, 10, 3600) },
    mfaRequiredRoles: unknownRoles.length > 0 ? [...privilegedRoles] : mfaRequiredRoles,
    // crypto/totp.ts refuses a wider window (each extra step is another valid code): refuse it here, at start-up.
    totpWindow: read.int('TOTP_WINDOW', 1, 0, 10),
    mfaSupportedTypes: (supported.length > 0 && unknown.length === 0 ? supported : [...defaultFactorTypes]) as Config['mfaSupportedTypes'],
    passkeyLoginEnabled: read.bool('PASSKEY_LOGIN_ENABLED', true),
    mfaTrust: { enabled: read.bool('MFA_TRUST_ENABLED', false), ageSeconds: read.int('MFA_TRUST_COOKIE_AGE_SECONDS', 14 * day, 60, 400 * day) },
    passkeySignupEnabled: read.bool('PASSKEY_SIGNUP_ENABLED', false),
    webauthn: { ...webauthnFrom(read, publicOrigin), ...attestationFrom(read) },
    aaguid: aaguidPolicyFrom(read),
    trackSessionActivity: read.bool('TRACK_SESSION_ACTIVITY', true),
    serveWeb: read.bool('SERVE_WEB', true),
    argon2,
    passwordHashConcurrency,
    maxRequestBytes: read.int('MAX_REQUEST_BYTES', 100 * 1024, 1024, 100 * 1024 * 1024),
    trustProxy,
    corsOrigins,
    redisKeyPrefix: read.string('REDIS_KEY_PREFIX', 'tessera'),
    attempts: {
      accountPoints,
      accountWindowSeconds: read.int('ATTEMPTS_ACCOUNT_WINDOW_SECONDS', 15 * 60, 1, day),
      ipPoints: read.int('ATTEMPTS_PER_IP', 100, 1, 1_000_000),
      ipWindowSeconds: read.int('ATTEMPTS_IP_WINDOW_SECONDS', 15 * 60, 1, day),
      anonymousWritesPerIp: read.int('ANONYMOUS_WRITES_PER_IP', 1000, 1, 10_000_000),
    },
    lockout: lockoutFrom(read, accountPoints),
    smtpUrl: read.url('SMTP_URL', ['smtp:', 'smtps:']),
    notificationFrom: read.string('NOTIFICATION_FROM', 'Tessera <no-reply@localhost>'),
    notificationPollMs: read.int('NOTIFICATION_POLL_MS', 1000, 10, 3_600_000),
    notificationMaxAttempts: read.int('NOTIFICATION_MAX_ATTEMPTS', 8, 1, 100),
    allauthCompatEnabled: read.bool('ALLAUTH_COMPAT_ENABLED', true),
    migrationDatabaseUrl: read.url('MIGRATION_DATABASE_URL', ['postgres:', 'postgresql:']),
    analytics: {
      pollMs: read.int('ANALYTICS_POLL_MS', 1000, 10, 3_600_000),
      batchSize: read.int('ANALYTICS_BATCH_SIZE', 2000, 1, 100_000),
      detection: {
        windowSeconds: read.int('DETECT_WINDOW_SECONDS', 3600, 60, day),
        sprayAccounts: read.int('DETECT_SPRAY_ACCOUNTS', 20, 2, 1_000_000),
        stuffingAccounts: read.int('DETECT_STUFFING_ACCOUNTS', 50, 2, 1_000_000),
        stuffingAddresses: read.int('DETECT_STUFFING_ADDRESSES', 20, 2, 1_000_000),
        stuffingMaxPerAccount: read.int('DETECT_STUFFING_MAX_PER_ACCOUNT', 3, 1, 1000),
        guessingAddresses: read.int('DETECT_GUESSING_ADDRESSES', 10, 2, 1_000_000),
        mfaFailures: read.int('DETECT_MFA_FAILURES', 5, 2, 1000),
        throttleSeconds: read.int('DETECT_THROTTLE_SECONDS', 0, 0, day),
      },
    },
    audit: {
      checkpointEvery: read.int('AUDIT_CHECKPOINT_EVERY', 1000, 1, 1_000_000),
      checkpointSeconds: read.int('AUDIT_CHECKPOINT_SECONDS', 60, 1, day),
    },
    metrics: { enabled: metricsTokenValid || nodeEnv !== 'production', token: metricsTokenValid ? metricsToken : undefined },
    emailVerification: read.oneOf('ACCOUNT_EMAIL_VERIFICATION', ['none', 'optional', 'mandatory'], 'optional') as Config['emailVerification'],
    frontendUrls: frontendUrlsFrom(read, publicOrigin),
    guards: true,
  };
  // Passkey signup does not prove the address with a code yet, and tells a taken address apart at once: under mandatory
  // verification (which promises signup without enumeration) it would reveal who has an account. Refused together.
  if (config.passkeySignupEnabled && config.emailVerification === 'mandatory') {
    read.refuse('PASSKEY_SIGNUP_ENABLED', 'cannot be true with ACCOUNT_EMAIL_VERIFICATION=mandatory (passkey signup does not verify the address by code yet, and would reveal taken addresses)');
  }
  if (!config.notificationFrom.includes('@')) read.refuse('NOTIFICATION_FROM', `must contain an email address, got "${config.notificationFrom}"`);
  if (/\s/.test(config.redisKeyPrefix)) read.refuse('REDIS_KEY_PREFIX', 'must not contain spaces');
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/**
 * WEBAUTHN_RP_ID defaults to PUBLIC_ORIGIN's host and WEBAUTHN_ORIGINS to PUBLIC_ORIGIN (plus http://localhost:4000 on
 * localhost), so a deployment that sets only PUBLIC_ORIGIN gets a working, strict relying party.
 */
function webauthnFrom(read: EnvReader, publicOrigin: string): WebAuthnConfig {
  const host = new URL(publicOrigin).hostname;
  const local = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  const rpId = read.raw('WEBAUTHN_RP_ID');
  const origins = read.raw('WEBAUTHN_ORIGINS');
  const allowInsecureOrigin = read.bool('WEBAUTHN_ALLOW_INSECURE_ORIGIN', false);
  const fallback: WebAuthnConfig = { rpId: 'localhost', rpName: 'Tessera', origins: [publicOrigin], allowInsecureOrigin };
  try {
    return loadWebAuthnConfig(
      {
        WEBAUTHN_RP_ID: rpId ?? (local ? 'localhost' : host), WEBAUTHN_ORIGINS: origins ?? (local ? '' : publicOrigin),
        WEBAUTHN_RP_NAME: read.raw('WEBAUTHN_RP_NAME'), WEBAUTHN_ALLOW_INSECURE_ORIGIN: String(allowInsecureOrigin),
      },
      { defaultOrigin: publicOrigin.replace('127.0.0.1', 'localhost') },
    );
  } catch (error) {
    if (!(error instanceof WebAuthnConfigError)) throw error;
    // Name the variable the operator set: the RP ID, the origin list, or PUBLIC_ORIGIN both default from.
    const variable = error.message.startsWith('WEBAUTHN_RP_ID') ? (rpId ? 'WEBAUTHN_RP_ID' : 'PUBLIC_ORIGIN') : origins ? 'WEBAUTHN_ORIGINS' : 'PUBLIC_ORIGIN';
    read.refuse(variable, error.message);
    return fallback;
  }
}

/** WEBAUTHN_ATTESTATION (none|direct) and WEBAUTHN_ATTESTATION_ROOTS (a file of PEM root certificates). */
function attestationFrom(read: EnvReader): Pick<WebAuthnConfig, 'attestation' | 'attestationRoots'> {
  const attestation = read.oneOf('WEBAUTHN_ATTESTATION', ['none', 'direct'], 'none') as 'none' | 'direct';
  const file = read.raw('WEBAUTHN_ATTESTATION_ROOTS');
  let roots: string[] = [];
  if (file !== undefined) {
    try {
      const pem = readFileSync(file, 'utf8');
      if (parseRootCertificates(pem).length === 0) read.refuse('WEBAUTHN_ATTESTATION_ROOTS', `no PEM certificate in ${file}`);
      else roots = [pem];
    } catch (error) {
      read.refuse('WEBAUTHN_ATTESTATION_ROOTS', `cannot read certificates from ${file}: ${(error as Error).message}`);
    }
  }
  if (attestation === 'direct' && file === undefined) read.refuse('WEBAUTHN_ATTESTATION_ROOTS', 'is required with WEBAUTHN_ATTESTATION=direct (the roots attestations are verified against)');
  return { attestation, attestationRoots: roots };
}

function aaguidPolicyFrom(read: EnvReader): AaguidPolicy {
  const list = (name: string): string[] => {
    const entries = read.list(name);
    const bad = entries.filter((e) => normalizeAaguid(e) === null);
    if (bad.length > 0) read.refuse(name, `not an AAGUID (32 hex digits, dashes optional): ${bad.map((b) => `"${b}"`).join(', ')}`);
    return entries.map((e) => normalizeAaguid(e)).filter((e): e is string => e !== null);
  };
  return { enforced: read.raw('WEBAUTHN_ATTESTATION') === 'direct', allow: list('WEBAUTHN_AAGUID_ALLOW'), block: list('WEBAUTHN_AAGUID_BLOCK') };
}

/**
 * FRONTEND_URLS: `name=url` pairs separated by commas, e.g.
 * `account_reset_password_from_key=https://app.example.com/reset/{key},account_compromised=https://app.example.com/x/{key}`.
 * Names not given keep the reference web app's page.
 */
function frontendUrlsFrom(read: EnvReader, publicOrigin: string): Record<FrontendUrlName, string> {
  const urls: Record<FrontendUrlName, string> = {
    account_confirm_email: `${publicOrigin}/email/verify`,
    account_reset_password: `${publicOrigin}/password/reset`,
    account_reset_password_from_key: `${publicOrigin}/password/reset/key/{key}`,
    account_compromised: `${publicOrigin}/account/compromised/{key}`,
  };
  for (const entry of read.list('FRONTEND_URLS')) {
    const at = entry.indexOf('=');
    const name = entry.slice(0, at).trim() as FrontendUrlName;
    const url = entry.slice(at + 1).trim();
    if (at <= 0 || !(frontendUrlNames as readonly string[]).includes(name)) {
      read.refuse('FRONTEND_URLS', `"${entry}": expected name=url with a name among ${frontendUrlNames.join(', ')}`);
      continue;
    }
    const parsed = URL.canParse(url.replace('{key}', 'key')) ? new URL(url.replace('{key}', 'key')) : null;
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      read.refuse('FRONTEND_URLS', `${name}: must be an http(s) URL, got "${url}"`);
      continue;
    }
    if (keyedFrontendUrls.includes(name) && !url.includes('{key}')) {
      read.refuse('FRONTEND_URLS', `${name}: must contain {key}, where the key goes`);
      continue;
    }
    urls[name] = url;
  }
  return urls;
}

function lockoutFrom(read: EnvReader, accountPoints: number): Config['lockout'] {
  const lockout = {
    backoffAfter: read.int('LOCKOUT_BACKOFF_AFTER', 5, 1, 99),
    backoffMaxSeconds: read.int('LOCKOUT_BACKOFF_MAX_SECONDS', 60, 1, day),
    lockAfter: read.int('LOCKOUT_LOCK_AFTER', 10, 1, 99),
    lockSeconds: read.int('LOCKOUT_LOCK_SECONDS', 15 * 60, 1, 30 * day),
    hardLimit: read.int('LOCKOUT_HARD_LIMIT', 50, 1, 99),
  };
  if (lockout.backoffAfter > lockout.lockAfter) read.refuse('LOCKOUT_BACKOFF_AFTER', `must not exceed LOCKOUT_LOCK_AFTER (${lockout.lockAfter}): back-off comes before the lock`);
  if (lockout.hardLimit < lockout.lockAfter) read.refuse('LOCKOUT_HARD_LIMIT', `must be at least LOCKOUT_LOCK_AFTER (${lockout.lockAfter})`);
  // The hard limit plus the attempts already in flight when it is reached (at most one account budget) must stay below
  // NIST SP 800-63B's cap of 100 consecutive failures.
  if (lockout.hardLimit + accountPoints >= 100) {
    read.refuse('LOCKOUT_HARD_LIMIT', `plus ATTEMPTS_PER_ACCOUNT (${accountPoints}) must stay below 100 (NIST SP 800-63B), got ${lockout.hardLimit}`);
  }
  return lockout;
}
