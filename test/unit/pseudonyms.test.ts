// Address pseudonyms for the analysis tables: keyed (a different key gives unrelated values), stable across spellings
// of one address, grouped by /24 (IPv4) and /64 (IPv6), and never the address itself.
import { describe, expect, it } from 'vitest';
import { canonicalAddress, createAddressPseudonyms, networkOf } from '../../src/crypto/pseudonyms.js';

const keysOf = (byte: number) => ({ deriveKey: (purpose: string) => Buffer.concat([Buffer.alloc(31, byte), Buffer.from(purpose.slice(0, 1))]) });

describe('address pseudonyms', () => {
  it('canonical spellings and networks: IPv4, IPv4-mapped IPv6, compressed and expanded IPv6', () => {
    expect(canonicalAddress('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(networkOf('203.0.113.9')).toBe('203.0.113.0/24');
    expect(canonicalAddress('2001:DB8::1')).toBe(canonicalAddress('2001:0db8:0:0:0:0:0:1'));
    expect(networkOf('2001:db8:1:2:3::4')).toBe('2001:0db8:0001:0002::/64');
    expect(canonicalAddress('not an address')).toBeNull();
  });

  it('one address, however spelled, one pseudonym; one /24, one network pseudonym; another key, other values', () => {
    const p = createAddressPseudonyms(keysOf(1));
    const a = p.of('203.0.113.9')!;
    expect(p.of('::ffff:203.0.113.9')).toEqual(a);
    expect(p.of('203.0.113.77')!.network).toBe(a.network);
    expect(p.of('203.0.113.77')!.address).not.toBe(a.address);
    expect(p.of('203.0.114.9')!.network).not.toBe(a.network);
    expect(p.of('2001:db8:1:2::5')!.network).toBe(p.of('2001:db8:1:2:ffff::9')!.network);
    expect(JSON.stringify(a)).not.toMatch(/203|113/);
    expect(createAddressPseudonyms(keysOf(2)).of('203.0.113.9')).not.toEqual(a);
    expect(p.of('')).toBeNull();
    expect(p.of(undefined)).toBeNull();
  });
});
