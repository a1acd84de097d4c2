// One attempt budget per account, shared by every way in (DESIGN.md §7). Every verification of a secret asks it first
// and reports its outcome, so password, TOTP, recovery code, WebAuthn, passkey and reauthentication draw on one budget.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../domain/shared/errors.js';

export interface AttemptBudget {
  /** Throws RATE_LIMITED when the account has no attempts left; otherwise reserves one. */
  consume(accountKey: string): Promise<void>;
  /** A successful verification gives the reserved attempt back. */
  refund(accountKey: string): Promise<void>;
}

export function createMemoryAttemptBudget(options: { points?: number; durationSeconds?: number } = {}): AttemptBudget {
  const limiter = new RateLimiterMemory({ keyPrefix: 'attempts', points: options.points ?? 10, duration: options.durationSeconds ?? 15 * 60 });
  return {
    async consume(accountKey) {
      try {
        await limiter.consume(accountKey, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw new DomainError('RATE_LIMITED', undefined, { retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) });
        }
        throw rejection;
      }
    },
    async refund(accountKey) {
      await limiter.reward(accountKey, 1);
    },
  };
}

/** Unknown emails get a budget of their own key, so probing them is throttled without revealing that they are unknown. */
export function accountKeyFor(userId: string | null, email: string): string {
  return userId ? `user:${userId}` : `email:${email}`;
}
