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

export type { Logger };
