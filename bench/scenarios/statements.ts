// SQL statements per request (issue 20 item 3), counted at the Queryable level (bench/statements.ts) with one request
// in flight at a time, so the count around a request is exactly what it ran (BEGIN and COMMIT included; the
// statements a transaction pipelines count one each). Requests over HTTP through GraphQL, as a client sends them:
// - a password login of an account without a second factor (to a session),
// - a password login that stops at the MFA step, and the MFA step with a TOTP code (the figure with a goal: ≤ 8),
// - a passkey login: the options request and the assertion,
// - a password login that stops at the MFA step, and the MFA step with a security key: the options and the assertion.
// Beside each count: the round trips they took (statements in one pipeline wait once) and the positions the request
// drew but did not use (gaps in the log, as a rolled-back append leaves).
// BENCH_STATEMENTS_LOG=1 prints the statements of the last request of each kind (the first 160 characters of each;
// BENCH_STATEMENTS_WIDTH=<n> for more).
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateTotpCode } from '../../src/crypto/totp.js';
import { manualClock } from '../../src/domain/shared/clock.js';
import { startServer } from '../../src/graphql/server.js';
import { createMemoryAttemptBudget } from '../../src/security/attempts.js';
import { createSoftAuthenticator } from '../../test/fixtures/softAuthenticator.js';
import { gql } from '../http.js';
import { countingDb } from '../statements.js';
import { median, type Measurement, type Scenario } from '../types.js';

const repeats = Number(process.env.BENCH_STATEMENTS_REPEATS ?? 10);
const T0 = Date.UTC(2026, 0, 1);
const ORIGIN = 'http://localhost:4000';
const PASSWORD = 'bench password 1234';
const SIGNUP = `mutation($i: CredentialsInput!) { signup(input: $i) { ... on AuthPayload { sessionToken deviceToken } ... on Error { code } } }`;
const LOGIN = `mutation($i: CredentialsInput!) { login(input: $i) { __typename ... on AuthPayload { sessionToken } ... on Error { code } } }`;
const MFA = `mutation($c: String!) { authenticateMfa(input: { code: $c }) { __typename ... on Error { code } } }`;
const BEGIN = `mutation($p: WebAuthnPurpose!) { beginWebAuthnAuthentication(input: { purpose: $p }) { ... on WebAuthnRequestOptions { requestOptions ceremonyToken } ... on Error { code } } }`;
const KEY_STEP = `mutation($c: JSON!) { authenticateWebAuthn(input: { credential: $c }) { __typename ... on Error { code } } }`;
const PASSKEY = `mutation($c: JSON!, $t: String) { loginWithPasskey(input: { credential: $c, ceremonyToken: $t }) { __typename ... on Error { code } } }`;

/** The goal for an MFA step (issue 20): a ratio with a ceiling of 1. */
const mfaStepGoal = 8;

const scenario: Scenario = {
  name: 'statements',
  description: `SQL statements per login, MFA step (TOTP, security key) and passkey login (one request at a time, ${repeats} of each)`,
  ratios: [{ name: 'MFA step statements ÷ goal (8)', numerator: 'mfa_step_statements', denominator: 'mfa_step_statement_goal', floor: 0, ceiling: 1 }],
  async run(ctx) {
    const clock = manualClock(T0);
    const db = countingDb(ctx.openDb({ max: 8 }));
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', DATA_DIR: '.data/bench', WEBAUTHN_ORIGINS: ORIGIN });
    const app = await createApp({
      config, db, clock, attempts: createMemoryAttemptBudget({ points: 1_000_000, ipPoints: 1_000_000, anonymousWritesPerIp: 1_000_000 }),
      env: { TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}` },
    });
    const running = await startServer(app, { port: 0, host: '127.0.0.1' });
    const url = `${running.url}/graphql`;
    const verbose = process.env.BENCH_STATEMENTS_LOG === '1';
    const counts = new Map<string, number[]>();
    const roundTrips = new Map<string, number[]>();
    const unusedPositions = new Map<string, number[]>();
    const logs = new Map<string, string[]>();
    // Positions drawn and not used (gaps in the log): the sequence's advance less the events written, read on a
    // connection of its own so it is not counted.
    const probe = ctx.openDb({ max: 1 });
    const drawnAndWritten = async (): Promise<[number, number]> => {
      const [row] = await probe.query<{ drawn: number | null; written: number }>(
        `select pg_sequence_last_value(pg_get_serial_sequence('events', 'position')::regclass) as drawn, (select count(*) from events)::int as written`,
      );
      return [Number(row!.drawn ?? 0), row!.written];
    };
    const push = (map: Map<string, number[]>, name: string, value: number): void => { map.set(name, [...(map.get(name) ?? []), value]); };
    async function counted<T>(name: string, request: () => Promise<T>): Promise<T> {
      const [drawn, written] = await drawnAndWritten();
      db.log = [];
      const before = db.statements;
      const trips = db.roundTrips;
      const result = await request();
      push(counts, name, db.statements - before);
      push(roundTrips, name, db.roundTrips - trips);
      logs.set(name, db.log);
      db.log = null;
      const [drawnAfter, writtenAfter] = await drawnAndWritten();
      push(unusedPositions, name, drawnAfter - drawn - (writtenAfter - written));
      return result;
    }
    try {
      // Untimed setup, all through the API: a plain account, a TOTP account, a passkey account.
      const plain = await gql(url, null, SIGNUP, { i: { email: 'plain@bench.example', password: PASSWORD } });
      const totpSignup = await gql(url, null, SIGNUP, { i: { email: 'totp@bench.example', password: PASSWORD } });
      const setup = await gql(url, totpSignup.signup.sessionToken, `mutation { setupTotp { ... on TotpSetup { secret } ... on Error { code } } }`, {}, totpSignup.signup.deviceToken);
      const secret: string = setup.setupTotp.secret;
      const activated = await gql(url, totpSignup.signup.sessionToken, `mutation($c: String!) { activateTotp(input: { code: $c }) { __typename ... on Error { code } } }`, { c: await generateTotpCode({ secret, nowMs: clock.now().getTime() }) }, totpSignup.signup.deviceToken);
      if (activated.activateTotp.__typename !== 'ActivateTotpPayload') throw new Error(JSON.stringify(activated));
      const passkeySignup = await gql(url, null, SIGNUP, { i: { email: 'passkey@bench.example', password: PASSWORD } });
      const begun = await gql(url, passkeySignup.signup.sessionToken, `mutation { beginWebAuthnRegistration(input: { passwordless: true }) { ... on WebAuthnCreationOptions { creationOptions } ... on Error { code } } }`, {}, passkeySignup.signup.deviceToken);
      const key = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost' });
      const registered = await gql(url, passkeySignup.signup.sessionToken, `mutation($c: JSON!) { registerWebAuthn(input: { name: "bench", credential: $c }) { __typename ... on Error { code } } }`, { c: key.register(begun.beginWebAuthnRegistration.creationOptions) }, passkeySignup.signup.deviceToken);
      if (registered.registerWebAuthn.__typename !== 'RegisterWebAuthnPayload') throw new Error(JSON.stringify(registered));
      // A security key as the second factor (not passwordless): its login stops at the MFA step.
      const keySignup = await gql(url, null, SIGNUP, { i: { email: 'key@bench.example', password: PASSWORD } });
      const keyBegun = await gql(url, keySignup.signup.sessionToken, `mutation { beginWebAuthnRegistration(input: { passwordless: false }) { ... on WebAuthnCreationOptions { creationOptions } ... on Error { code } } }`, {}, keySignup.signup.deviceToken);
      const securityKey = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost' });
      const keyRegistered = await gql(url, keySignup.signup.sessionToken, `mutation($c: JSON!) { registerWebAuthn(input: { name: "bench key", credential: $c }) { __typename ... on Error { code } } }`, { c: securityKey.register(keyBegun.beginWebAuthnRegistration.creationOptions) }, keySignup.signup.deviceToken);
      if (keyRegistered.registerWebAuthn.__typename !== 'RegisterWebAuthnPayload') throw new Error(JSON.stringify(keyRegistered));

      for (let i = 0; i < repeats; i++) {
        clock.advance(30_000); // a new TOTP step each round, so no code is a replay
        const login = await counted('password_login_statements', () => gql(url, null, LOGIN, { i: { email: 'plain@bench.example', password: PASSWORD } }, plain.signup.deviceToken));
        if (login.login.__typename !== 'AuthPayload') throw new Error(JSON.stringify(login));
        const pending = await counted('password_login_to_mfa_statements', () => gql(url, null, LOGIN, { i: { email: 'totp@bench.example', password: PASSWORD } }, totpSignup.signup.deviceToken));
        const code = await generateTotpCode({ secret, nowMs: clock.now().getTime() });
        const step = await counted('mfa_step_statements', () => gql(url, pending.login.sessionToken, MFA, { c: code }, totpSignup.signup.deviceToken));
        if (step.authenticateMfa.__typename !== 'AuthPayload') throw new Error(JSON.stringify(step));
        const options = (await counted('passkey_options_statements', () => gql(url, null, BEGIN, { p: 'PASSKEY_LOGIN' }, passkeySignup.signup.deviceToken))).beginWebAuthnAuthentication;
        const passkey = await counted('passkey_login_statements', () => gql(url, null, PASSKEY, { c: key.assert(options.requestOptions), t: options.ceremonyToken }, passkeySignup.signup.deviceToken));
        if (passkey.loginWithPasskey.__typename !== 'AuthPayload') throw new Error(JSON.stringify(passkey));
        const keyPending = await gql(url, null, LOGIN, { i: { email: 'key@bench.example', password: PASSWORD } }, keySignup.signup.deviceToken);
        const keyOptions = (await counted('key_step_options_statements', () => gql(url, keyPending.login.sessionToken, BEGIN, { p: 'MFA' }, keySignup.signup.deviceToken))).beginWebAuthnAuthentication;
        const keyStep = await counted('key_step_statements', () => gql(url, keyPending.login.sessionToken, KEY_STEP, { c: securityKey.assert(keyOptions.requestOptions) }, keySignup.signup.deviceToken));
        if (keyStep.authenticateWebAuthn.__typename !== 'AuthPayload') throw new Error(JSON.stringify(keyStep));
      }
    } finally {
      await running.close();
    }
    const measurements: Measurement[] = [...counts].map(([metric, samples]) => ({ metric, value: median(samples), unit: 'statements (BEGIN/COMMIT included)', samples }));
    for (const [name, samples] of roundTrips) measurements.push({ metric: name.replace(/_statements$/, '_round_trips'), value: median(samples), unit: 'round trips to PostgreSQL', samples });
    for (const [name, samples] of unusedPositions) measurements.push({ metric: name.replace(/_statements$/, '_positions_unused'), value: median(samples), unit: 'positions drawn and not used (gaps)', samples });
    measurements.push({ metric: 'mfa_step_statement_goal', value: mfaStepGoal, unit: 'statements (issue 20 goal)' });
    const range = (samples: number[]): string => `${median(samples)} (min ${Math.min(...samples)}, max ${Math.max(...samples)})`;
    for (const [name, samples] of counts) ctx.log(`${name}: ${range(samples)}; round trips ${range(roundTrips.get(name)!)}; positions unused ${range(unusedPositions.get(name)!)}`);
    if (verbose) for (const [name, log] of logs) ctx.log(`${name}:\n    ${log.join('\n    ')}`);
    return measurements;
  },
};

export default scenario;
