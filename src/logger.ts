import { pino, type Logger } from 'pino';

// Anything that could carry a secret is censored before it reaches a log line, whatever the call site passed.
const redactedPaths = [
  'password', '*.password', '*.currentPassword', '*.newPassword', 'token', '*.token', '*.sessionToken',
  'secret', '*.secret', '*.code', 'code', '*.codes', 'req.headers.authorization', 'req.headers.cookie',
  'headers.authorization', 'headers.cookie', '*.credential', 'variables',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'tessera' } });
}

/**
 * An accident (a bug, the database gone) in one log line, with the request's correlation id. Only what explains the
 * failure: a driver's error object can carry the statement's parameters.
 */
export function logAccident(logger: Logger, error: unknown, requestId: string | undefined): void {
  const e = (error ?? {}) as { name?: string; message?: string; code?: unknown; stack?: string };
  logger.error({ err: { name: e.name, message: e.message, code: e.code, stack: e.stack }, requestId }, 'unexpected error');
}

export type { Logger };
