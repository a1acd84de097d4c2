import { runTool } from '../../helpers/tools.js';
import { describe, expect, it } from 'vitest';
import {
  generateTotpCode,
  generateTotpSecret,
  matchTotpStep,
  totpUrl,
  type TotpAlgorithm,
  type TotpSecret,
} from '../../../src/crypto/totp.js';

// RFC 6238 Appendix B: the seed is the ASCII string "1234567890" repeated to the hash's output size.
const RFC_SEEDS: Record<TotpAlgorithm, TotpSecret> = {
  sha1: { bytes: Buffer.from('12345678901234567890', 'ascii') },
  sha256: { bytes: Buffer.from('12345678901234567890123456789012', 'ascii') },
  sha512: {
    bytes: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
  },
};

const RFC_VECTORS: ReadonlyArray<{ time: number; algorithm: TotpAlgorithm; code: string }> = [
  { time: 59, algorithm: 'sha1', code: '94287082' },
  { time: 59, algorithm: 'sha256', code: '46119246' },
  { time: 59, algorithm: 'sha512', code: '90693936' },
  { time: 1111111109, algorithm: 'sha1', code: '07081804' },
  { time: 1111111109, algorithm: 'sha256', code: '68084774' },
  { time: 1111111109, algorithm: 'sha512', code: '25091201' },
  { time: 1111111111, algorithm: 'sha1', code: '14050471' },
  { time: 1111111111, algorithm: 'sha256', code: '67062674' },
  { time: 1111111111, algorithm: 'sha512', code: '99943326' },
  { time: 1234567890, algorithm: 'sha1', code: '89005924' },
  { time: 1234567890, algorithm: 'sha256', code: '91819424' },
  { time: 1234567890, algorithm: 'sha512', code: '93441116' },
  { time: 2000000000, algorithm: 'sha1', code: '69279037' },
  { time: 2000000000, algorithm: 'sha256', code: '90698825' },
  { time: 2000000000, algorithm: 'sha512', code: '38618901' },
  { time: 20000000000, algorithm: 'sha1', code: '65353130' },
  { time: 20000000000, algorithm: 'sha256', code: '77737706' },
  { time: 20000000000, algorithm: 'sha512', code: '47863826' },
];

describe('RFC 6238 Appendix B test vectors', () => {
  it.each(RFC_VECTORS)('$algorithm at T=$time generates $code', async ({ time, algorithm, code }) => {
    const secret = RFC_SEEDS[algorithm];
    expect(await generateTotpCode({ secret, nowMs: time * 1000, algorithm, digits: 8 })).toBe(code);
  });

  it.each(RFC_VECTORS)('$algorithm at T=$time matches $code at step floor(T/30)', async ({ time, algorithm, code }) => {
    const secret = RFC_SEEDS[algorithm];
    const step = await matchTotpStep({ secret, code, nowMs: time * 1000, algorithm, digits: 8, window: 0 });
    expect(step).toBe(Math.floor(time / 30));
  });
});

describe('matchTotpStep window and boundaries', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // base32 of "12345678901234567890"
  const nowMs = 1_700_000_015_000; // mid-step
  const currentStep = Math.floor(nowMs / 30_000);

  async function codeAtStepOffset(offset: number): Promise<string> {
    return generateTotpCode({ secret, nowMs: nowMs + offset * 30_000 });
  }

  it('accepts the current step and one step either side, reporting each absolute step', async () => {
    for (const offset of [-1, 0, 1]) {
      const code = await codeAtStepOffset(offset);
      expect(await matchTotpStep({ secret, code, nowMs, window: 1 })).toBe(currentStep + offset);
    }
  });

  it('refuses codes two steps away with window 1', async () => {
    for (const offset of [-2, 2]) {
      const code = await codeAtStepOffset(offset);
      // Guard against a coincidental collision with a code inside the window making the test pass for a bad reason.
      const inside = await Promise.all([-1, 0, 1].map(codeAtStepOffset));
      expect(inside).not.toContain(code);
      expect(await matchTotpStep({ secret, code, nowMs, window: 1 })).toBeNull();
    }
  });

  it('uses window 1 by default', async () => {
    expect(await matchTotpStep({ secret, code: await codeAtStepOffset(1), nowMs })).toBe(currentStep + 1);
    expect(await matchTotpStep({ secret, code: await codeAtStepOffset(2), nowMs })).toBeNull();
  });

  it('puts 29.999 s in step 0 and 30.000 s in step 1', async () => {
    const atEnd = await generateTotpCode({ secret, nowMs: 29_999 });
    const atStart = await generateTotpCode({ secret, nowMs: 30_000 });
    expect(atEnd).toBe(await generateTotpCode({ secret, nowMs: 0 }));
    expect(atStart).not.toBe(atEnd);
    expect(await matchTotpStep({ secret, code: atEnd, nowMs: 29_999, window: 0 })).toBe(0);
    expect(await matchTotpStep({ secret, code: atStart, nowMs: 30_000, window: 0 })).toBe(1);
    expect(await matchTotpStep({ secret, code: atStart, nowMs: 29_999, window: 0 })).toBeNull();
  });

  it('refuses a window that is not a small non-negative integer', async () => {
    await expect(matchTotpStep({ secret, code: '123456', nowMs, window: -1 })).rejects.toThrow(RangeError);
    await expect(matchTotpStep({ secret, code: '123456', nowMs, window: 1.5 })).rejects.toThrow(RangeError);
    await expect(matchTotpStep({ secret, code: '123456', nowMs, window: 1000 })).rejects.toThrow(RangeError);
  });
});

describe('matchTotpStep with malformed codes', () => {
  const secret = generateTotpSecret();
  const nowMs = 1_700_000_000_000;
  const badCodes: ReadonlyArray<[string, string]> = [
    ['empty', ''],
    ['too short', '12345'],
    ['too long', '1234567'],
    ['letters', 'abcdef'],
    ['full-width digits', '１２３４５６'],
    ['Arabic-Indic digits', '١٢٣٤٥٦'],
    ['digits with a space', '123 456'],
    ['one megabyte', '1'.repeat(1024 * 1024)],
  ];

  it.each(badCodes)('returns null for %s without throwing', async (_name, code) => {
    await expect(matchTotpStep({ secret, code, nowMs })).resolves.toBeNull();
  });

  it('does not normalize full-width digits into the valid code', async () => {
    const valid = await generateTotpCode({ secret, nowMs });
    const fullWidth = [...valid].map((digit) => String.fromCodePoint(0xff10 + Number(digit))).join('');
    expect(await matchTotpStep({ secret, code: valid, nowMs })).not.toBeNull();
    expect(await matchTotpStep({ secret, code: fullWidth, nowMs })).toBeNull();
  });
});

describe('generateTotpSecret and totpUrl', () => {
  it('makes 160-bit base32 secrets without padding, different each time', () => {
    const a = generateTotpSecret();
    const b = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(a).not.toBe(b);
  });

  it('builds the otpauth URI with the label and issuer percent-encoded', () => {
    const url = totpUrl({ issuer: 'Tessera & Co', accountName: 'ana+mfa@example.com', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' });
    expect(url).toBe(
      'otpauth://totp/Tessera%20%26%20Co:ana%2Bmfa%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' +
        '&issuer=Tessera%20%26%20Co&algorithm=SHA1&digits=6&period=30',
    );
  });
});

describe('interoperability with oathtool', () => {
  // The reference implementation from OATH Toolkit (Debian package oathtool). CI installs it; a missing tool must
  // fail loudly rather than skip, or this check would silently stop running.
  const oathtool = async (args: string[]): Promise<string> => (await runTool('oathtool', args)).trim();

  it('accepts the code oathtool computes for the same instant, at the same step', async () => {
    const secret = generateTotpSecret();
    const epochSeconds = 1_750_000_007;
    const code = await oathtool(['--totp', '-b', secret, '-N', `@${epochSeconds}`]);
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(await matchTotpStep({ secret, code, nowMs: epochSeconds * 1000, window: 0 })).toBe(
      Math.floor(epochSeconds / 30),
    );
    expect(await generateTotpCode({ secret, nowMs: epochSeconds * 1000 })).toBe(code);
  });

  it('agrees with oathtool for SHA-512 and 8 digits', async () => {
    const secret = generateTotpSecret();
    const epochSeconds = 1_234_567_890;
    const code = await oathtool(['--totp=sha512', '--digits=8', '-b', secret, '-N', `@${epochSeconds}`]);
    expect(await matchTotpStep({ secret, code, nowMs: epochSeconds * 1000, algorithm: 'sha512', digits: 8 })).toBe(
      Math.floor(epochSeconds / 30),
    );
  });
});
