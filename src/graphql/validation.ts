// Every input is checked with zod at the edge; a failure names the field and changes nothing.
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

export const emailSchema = z
  .string()
  .max(320)
  .transform((s) => s.trim().normalize('NFC').toLowerCase())
  .refine(noControlCharacters, 'must not contain control characters')
  .pipe(z.email({ message: 'must be an email address' }).max(254));

/** Length is checked by the password policy; this only stops absurd inputs before any hashing. */
export const passwordInputSchema = z.string().min(1, 'is required').max(1024, 'is too long');

export const nameSchema = z.string().trim().min(1).max(64).refine(noControlCharacters, 'must not contain control characters');

export const codeSchema = z.string().max(64, 'is too long').refine(noControlCharacters, 'must not contain control characters');

export const idSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'is not an id');
