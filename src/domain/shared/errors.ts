// Every expected failure has one stable, greppable code (DESIGN.md §6). One meaning per code.
export const errorCodes = [
  'INVALID_CREDENTIALS',
  'INVALID_CODE',
  'CODE_REPLAYED',
  'RATE_LIMITED',
  'ACCOUNT_LOCKED',
  'REAUTHENTICATION_REQUIRED',
  'MFA_REQUIRED',
  'NOT_AUTHENTICATED',
  'FLOW_EXPIRED',
  'FLOW_NOT_PENDING',
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'FORBIDDEN',
  'EMAIL_TAKEN',
  'WEAK_PASSWORD',
  'ALREADY_AUTHENTICATED',
  'ALREADY_EXISTS',
  'NO_SECOND_FACTOR',
  'LAST_SIGN_IN_METHOD',
  'TOTP_NOT_PENDING',
  'TOTP_ALREADY_ACTIVE',
  'TOTP_NOT_ACTIVE',
  'LAST_FACTOR_REQUIRED',
  'CHALLENGE_INVALID',
  'WEBAUTHN_VERIFICATION_FAILED',
  'CREDENTIAL_ALREADY_REGISTERED',
  'CLONE_SUSPECTED',
  'FEATURE_DISABLED',
  'CODE_EXPIRED',
  'EMAIL_CODE_NOT_PENDING',
  'FACTOR_NOT_ALLOWED',
  'AUTHENTICATOR_NOT_ALLOWED',
  'INVALID_KEY',
  'PASSWORD_RESET_REQUIRED',
  'FACTOR_SUSPENDED',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** An expected failure: becomes a union member of the mutation's result, never a 500. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message ?? defaultMessages[code] ?? code);
    this.name = 'DomainError';
  }
}

const defaultMessages: Partial<Record<ErrorCode, string>> = {
  INVALID_CREDENTIALS: 'The email or password is not correct.',
  INVALID_CODE: 'The code is not correct.',
  CODE_REPLAYED: 'This code was already used. Wait for the next one.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  ACCOUNT_LOCKED: 'This account is temporarily locked.',
  REAUTHENTICATION_REQUIRED: 'Confirm it is you before making this change.',
  MFA_REQUIRED: 'This needs a session verified with a second factor.',
  NOT_AUTHENTICATED: 'Sign in first.',
  FLOW_EXPIRED: 'This sign-in attempt expired. Start again.',
  FLOW_NOT_PENDING: 'There is no sign-in step waiting for this.',
  NOT_FOUND: 'Not found.',
  FORBIDDEN: 'Not allowed.',
  EMAIL_TAKEN: 'This email cannot be used.',
  LAST_FACTOR_REQUIRED: 'This account must keep at least one strong second factor (TOTP or a security key).',
  FEATURE_DISABLED: 'This feature is turned off.',
  AUTHENTICATOR_NOT_ALLOWED: 'This security key is not accepted here.',
  CODE_EXPIRED: 'This code has expired. Ask for a new one.',
  EMAIL_CODE_NOT_PENDING: 'No email code is waiting to be confirmed by this session.',
  FACTOR_NOT_ALLOWED: 'This sign-in method cannot be used now: the password was just reset by email. Use another factor.',
  ALREADY_AUTHENTICATED: 'Already signed in.',
  ALREADY_EXISTS: 'This already exists.',
  NO_SECOND_FACTOR: 'Set up a second factor first.',
  LAST_SIGN_IN_METHOD: 'This is the only way into the account: add another before removing it.',
  INVALID_KEY: 'This link is not valid, has expired, or was already used.',
  PASSWORD_RESET_REQUIRED: 'Reset your password by email before you sign in again.',
  FACTOR_SUSPENDED: 'This sign-in method is suspended. Use another one, or ask an administrator.',
};

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
