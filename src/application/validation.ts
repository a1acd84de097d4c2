// Every input is checked with zod before a use case acts on it; a failure names the field and changes nothing. Both
// transports parse with these schemas; a use case that must count an attempt first (codes) parses after drawing it.
import { z } from 'zod';
import { DomainError } from '../domain/shared/errors.js';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'input';
  throw new DomainError('VALIDATION_FAILED', `${field}: ${issue.message}`, { field });
}

// Control characters have no place in an email, a name or a code; refusing them early keeps logs and events clean.
const noControlCharacters = (s: string): boolean => !/[\u0000-\u001f\u007f-\u009f]/.test(s);

// zod's default email pattern is ASCII-only, which made the NFC step dead code and refused internationalized
// addresses (RFC 6531). This one allows letters, marks and digits of any script, and still refuses spaces, quotes,
// invisible format characters (zero-width joiners, bidi overrides: not letters), dot runs and dotless domains.
const emailPattern =
  /^(?!\.)(?!.*\.\.)[\p{L}\p{M}\p{N}.!#$%&'*+/=?^_`{|}~-]{1,64}(?<!\.)@(?=.{1,253}$)(?:[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?\.)+[\p{L}\p{M}]{2,63}$/u;

export const emailSchema = z
  .string()
  .max(320)
  .transform((s) => s.trim().normalize('NFC').toLowerCase())
  .refine(noControlCharacters, 'must not contain control characters')
  .pipe(z.email({ pattern: emailPattern, message: 'must be an email address' }).max(254));

/** Length is checked by the password policy; this only stops absurd inputs before any hashing. */
export const passwordInputSchema = z.string().min(1, 'is required').max(1024, 'is too long');

export const nameSchema = z.string().trim().min(1).max(64).refine(noControlCharacters, 'must not contain control characters');

export const codeSchema = z.string().max(64, 'is too long').refine(noControlCharacters, 'must not contain control characters');

export const idSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'is not an id');
