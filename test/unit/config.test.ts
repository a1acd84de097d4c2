// Bad configuration is refused at start-up, every bad variable named with its reason (issue 11 item 12).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/index.js';

function problemsOf(env: Record<string, string>): Array<{ variable: string; problem: string }> {
  try {
    loadConfig({ NODE_ENV: 'test', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('loads the defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000, nodeEnv: 'development', totpWindow: 1, mfaSupportedTypes: ['totp', 'webauthn', 'recovery_codes'],
      passkeyLoginEnabled: true, passkeySignupEnabled: false, allauthCompatEnabled: true, publicOrigin: 'http://localhost:4000', notificationMaxAttempts: 8,
      lockout: { backoffAfter: 5, lockAfter: 10, hardLimit: 50 }, attempts: { accountPoints: 10, ipPoints: 100 },
    });
    expect(config.webauthn.rpId).toBe('localhost');
    expect(config.databasePoolSize).toBe(2 * availableParallelism() + 1);
  });

  it('opens the PostgreSQL pool at DATABASE_POOL_SIZE', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATABASE_POOL_SIZE: '3' });
    // postgres.js connects on the first query: the pool is opened here and closed without one.
    const db = await openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, dataDir: config.dataDir });
    try {
      expect(db.poolUsage?.()).toEqual({ max: 3, inFlight: 0 });
    } finally {
      await db.close();
    }
  });

  it('accepts values at the edges of their ranges and the spellings it documents', () => {
    expect(problemsOf({
      PORT: '0', TOTP_WINDOW: '10', PASSKEY_SIGNUP_ENABLED: 'TRUE', TRACK_SESSION_ACTIVITY: '0', ALLAUTH_COMPAT_ENABLED: 'false', MFA_SUPPORTED_TYPES: 'WebAuthn',
      PUBLIC_ORIGIN: 'https://auth.example.com/', CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8, ::1, fd00::/8', LOCKOUT_HARD_LIMIT: '89', DATABASE_URL: 'postgresql://u@db:5432/tessera',
      REDIS_URL: 'rediss://cache:6380', SMTP_URL: 'smtps://u:p@mail:465', ARGON2_MEMORY_KIB: '1024', LOG_LEVEL: 'debug',
    })).toEqual([]);
    expect(loadConfig({ PUBLIC_ORIGIN: 'https://auth.example.com/' }).publicOrigin).toBe('https://auth.example.com');
  });

  // Each row: the environment, and the variable the error must name.
  const refused: Array<[Record<string, string>, string, RegExp]> = [
    [{ TOTP_WINDOW: '11' }, 'TOTP_WINDOW', /0 to 10/],
    [{ TOTP_WINDOW: '-1' }, 'TOTP_WINDOW', /0 to 10/],
    [{ TOTP_WINDOW: 'one' }, 'TOTP_WINDOW', /integer/],
    [{ PORT: '65536' }, 'PORT', /0 to 65535/],
    [{ PORT: '4000.5' }, 'PORT', /integer/],
    [{ PORT: '4e3' }, 'PORT', /integer/],
    [{ LOGIN_FLOW_TTL_SECONDS: '0' }, 'LOGIN_FLOW_TTL_SECONDS', /30 to/],
    [{ SESSION_IDLE_TIMEOUT_SECONDS: '7200', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' }, 'SESSION_IDLE_TIMEOUT_SECONDS', /ABSOLUTE/],
    [{ SESSION_ACTIVITY_INTERVAL_SECONDS: '3600' }, 'SESSION_ACTIVITY_INTERVAL_SECONDS', /below SESSION_IDLE_TIMEOUT_SECONDS/],
    [{ REAUTHENTICATION_TTL_SECONDS: 'soon' }, 'REAUTHENTICATION_TTL_SECONDS', /integer/],
    [{ ADMIN_MFA_GRACE_SECONDS: '-5' }, 'ADMIN_MFA_GRACE_SECONDS', /integer/],
    [{ PASSKEY_LOGIN_ENABLED: 'yes' }, 'PASSKEY_LOGIN_ENABLED', /true or false/],
    [{ PASSKEY_SIGNUP_ENABLED: 'on' }, 'PASSKEY_SIGNUP_ENABLED', /true or false/],
    [{ TRACK_SESSION_ACTIVITY: 'maybe' }, 'TRACK_SESSION_ACTIVITY', /true or false/],
    [{ ALLAUTH_COMPAT_ENABLED: 'off' }, 'ALLAUTH_COMPAT_ENABLED', /true or false/],
    [{ WEBAUTHN_ALLOW_INSECURE_ORIGIN: 'yes' }, 'WEBAUTHN_ALLOW_INSECURE_ORIGIN', /true or false/],
    [{ MFA_SUPPORTED_TYPES: 'totp,sms' }, 'MFA_SUPPORTED_TYPES', /unknown type "sms"/],
    [{ MFA_SUPPORTED_TYPES: 'recovery_codes' }, 'MFA_SUPPORTED_TYPES', /totp or webauthn/],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV', /development, production, test/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of/],
    [{ DATABASE_URL: 'mysql://db/tessera' }, 'DATABASE_URL', /postgres/],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', /postgres/],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /redis/],
    [{ SMTP_URL: 'mail.example.com' }, 'SMTP_URL', /smtp/],
    [{ PUBLIC_ORIGIN: 'auth.example.com' }, 'PUBLIC_ORIGIN', /origin/],
    [{ PUBLIC_ORIGIN: 'https://auth.example.com/login' }, 'PUBLIC_ORIGIN', /no path/],
    [{ CORS_ORIGINS: 'https://app.example.com/' }, 'CORS_ORIGINS', /"https:\/\/app.example.com\/"/],
    [{ CORS_ORIGINS: 'https://app.example.com,*' }, 'CORS_ORIGINS', /"\*"/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', /CIDR/],
    [{ TRUST_PROXY: 'proxy.internal' }, 'TRUST_PROXY', /CIDR/],
    [{ WEBAUTHN_RP_ID: 'https://example.com' }, 'WEBAUTHN_RP_ID', /host name/],
    [{ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.org' }, 'WEBAUTHN_ORIGINS', /not on RP ID/],
    [{ PUBLIC_ORIGIN: 'http://auth.example.com' }, 'PUBLIC_ORIGIN', /plain http/],
    [{ ARGON2_MEMORY_KIB: '512' }, 'ARGON2_MEMORY_KIB', /1024 to/],
    [{ ARGON2_TIME_COST: '0' }, 'ARGON2_TIME_COST', /1 to/],
    [{ ARGON2_PARALLELISM: '0' }, 'ARGON2_PARALLELISM', /1 to 16/],
    [{ PASSWORD_HASH_CONCURRENCY: '0' }, 'PASSWORD_HASH_CONCURRENCY', /1 to 256/],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE', /1 to 1000/],
    [{ MAX_REQUEST_BYTES: '10' }, 'MAX_REQUEST_BYTES', /1024 to/],
    [{ ATTEMPTS_PER_ACCOUNT: '0' }, 'ATTEMPTS_PER_ACCOUNT', /1 to 99/],
    [{ ATTEMPTS_PER_IP: 'lots' }, 'ATTEMPTS_PER_IP', /integer/],
    [{ ATTEMPTS_ACCOUNT_WINDOW_SECONDS: '0' }, 'ATTEMPTS_ACCOUNT_WINDOW_SECONDS', /1 to/],
    [{ ATTEMPTS_IP_WINDOW_SECONDS: '0' }, 'ATTEMPTS_IP_WINDOW_SECONDS', /1 to/],
    [{ LOCKOUT_HARD_LIMIT: '100' }, 'LOCKOUT_HARD_LIMIT', /1 to 99/],
    [{ LOCKOUT_HARD_LIMIT: '95' }, 'LOCKOUT_HARD_LIMIT', /below 100/],
    [{ LOCKOUT_LOCK_AFTER: '20', LOCKOUT_HARD_LIMIT: '15' }, 'LOCKOUT_HARD_LIMIT', /at least LOCKOUT_LOCK_AFTER/],
    [{ LOCKOUT_LOCK_AFTER: '0' }, 'LOCKOUT_LOCK_AFTER', /1 to/],
    [{ LOCKOUT_BACKOFF_AFTER: '12' }, 'LOCKOUT_BACKOFF_AFTER', /LOCKOUT_LOCK_AFTER/],
    [{ LOCKOUT_BACKOFF_MAX_SECONDS: '0' }, 'LOCKOUT_BACKOFF_MAX_SECONDS', /1 to/],
    [{ LOCKOUT_LOCK_SECONDS: 'forever' }, 'LOCKOUT_LOCK_SECONDS', /integer/],
    [{ NOTIFICATION_FROM: 'Tessera' }, 'NOTIFICATION_FROM', /email address/],
    [{ NOTIFICATION_POLL_MS: '0' }, 'NOTIFICATION_POLL_MS', /10 to/],
    [{ NOTIFICATION_MAX_ATTEMPTS: '0' }, 'NOTIFICATION_MAX_ATTEMPTS', /1 to 100/],
    [{ REDIS_KEY_PREFIX: 'my prefix' }, 'REDIS_KEY_PREFIX', /spaces/],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN', /24 to 256/],
    [{ METRICS_TOKEN: 'a token with spaces in it, long enough' }, 'METRICS_TOKEN', /bearer token/],
    [{ ACCOUNT_EMAIL_VERIFICATION: 'required' }, 'ACCOUNT_EMAIL_VERIFICATION', /none, optional, mandatory/],
    [{ FRONTEND_URLS: 'account_reset=https://app.example.com/r' }, 'FRONTEND_URLS', /name=url/],
    [{ FRONTEND_URLS: 'account_compromised=https://app.example.com/x' }, 'FRONTEND_URLS', /\{key\}/],
    [{ FRONTEND_URLS: 'account_confirm_email=javascript:alert(1)' }, 'FRONTEND_URLS', /http\(s\) URL/],
  ];
  it.each(refused)('refuses %j, naming %s', (env, variable, reason) => {
    const problems = problemsOf(env);
    expect(problems.map((p) => p.variable)).toEqual([variable]);
    expect(problems[0]!.problem).toMatch(reason);
  });

  it('serves /metrics openly outside production, behind METRICS_TOKEN when set, and not at all in production without one', () => {
    const token = 'scrape-token-0123456789abcdef';
    expect(loadConfig({ NODE_ENV: 'development' }).metrics).toEqual({ enabled: true, token: undefined });
    expect(loadConfig({ NODE_ENV: 'test', METRICS_TOKEN: token }).metrics).toEqual({ enabled: true, token });
    expect(loadConfig({ NODE_ENV: 'production' }).metrics).toEqual({ enabled: false, token: undefined });
    expect(loadConfig({ NODE_ENV: 'production', METRICS_TOKEN: token }).metrics).toEqual({ enabled: true, token });
  });

  it('email verification is optional by default, and links in mail lead to the web app unless FRONTEND_URLS says otherwise', () => {
    const config = loadConfig({ PUBLIC_ORIGIN: 'https://auth.example.com' });
    expect(config.emailVerification).toBe('optional');
    expect(config.frontendUrls.account_reset_password_from_key).toBe('https://auth.example.com/password/reset/key/{key}');
    expect(config.frontendUrls.account_compromised).toBe('https://auth.example.com/account/compromised/{key}');
    const custom = loadConfig({
      ACCOUNT_EMAIL_VERIFICATION: 'mandatory',
      FRONTEND_URLS: 'account_reset_password_from_key=https://app.example.com/reset/{key}, account_confirm_email=https://app.example.com/verify',
    });
    expect(custom.emailVerification).toBe('mandatory');
    expect(custom.frontendUrls).toMatchObject({
      account_reset_password_from_key: 'https://app.example.com/reset/{key}', account_confirm_email: 'https://app.example.com/verify',
      account_compromised: 'http://localhost:4000/account/compromised/{key}',
    });
  });

  it('refuses passkey signup under mandatory verification: it would tell taken addresses apart', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', PASSKEY_SIGNUP_ENABLED: 'true', ACCOUNT_EMAIL_VERIFICATION: 'mandatory' })).toThrow(/PASSKEY_SIGNUP_ENABLED/);
    expect(loadConfig({ NODE_ENV: 'test', PASSKEY_SIGNUP_ENABLED: 'true', ACCOUNT_EMAIL_VERIFICATION: 'optional' }).passkeySignupEnabled).toBe(true);
  });

  it('names every bad variable in one error', () => {
    expect(() => loadConfig({ TOTP_WINDOW: '11', PORT: 'http', PASSKEY_LOGIN_ENABLED: 'yes' })).toThrow(ConfigError);
    expect(problemsOf({ TOTP_WINDOW: '11', PORT: 'http', PASSKEY_LOGIN_ENABLED: 'yes' }).map((p) => p.variable).sort())
      .toEqual(['PASSKEY_LOGIN_ENABLED', 'PORT', 'TOTP_WINDOW']);
  });
});

describe('tessera serve with bad configuration', () => {
  it('prints the problems and exits 1, without a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: { ...process.env, NODE_ENV: 'test', DATA_DIR: '.data/test', DATABASE_URL: '', TOTP_WINDOW: '11' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    expect(code).toBe(1);
    expect(output).toContain('invalid configuration');
    expect(output).toMatch(/TOTP_WINDOW: must be an integer from 0 to 10, got "11"/);
    expect(output).not.toMatch(/\n\s+at /); // no stack frames
  }, 30_000);
});
