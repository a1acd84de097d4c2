// Keyed pseudonyms of client addresses for the analysis tables (issue 19). Attack detection groups failures by address
// and by network (/24 for IPv4, /64 for IPv6) without storing either in clear: an HMAC under a key derived from the
// server's secret keys (HKDF, its own label) is stable enough to group and join on, and cannot be reversed by someone
// who reads the tables but not the keys (a plain hash of an IPv4 address falls to enumerating 2^32 candidates).
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { LoadedSecretKeys } from './secretBox.js';

export const ADDRESS_PSEUDONYM_KEY_PURPOSE = 'address pseudonyms';

export interface AddressPseudonyms {
  /** The pseudonym of one address (and of the network it belongs to), or null for something that is not an address. */
  of(address: string | undefined | null): { address: string; network: string } | null;
}

/** The network an address belongs to for grouping: its /24 (IPv4) or /64 (IPv6), in a canonical spelling. */
export function networkOf(address: string): string | null {
  const v4 = asIPv4(address);
  if (v4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(address)) return null;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** A canonical spelling, so that `::FFFF:10.0.0.1`, `10.0.0.1` and `2001:db8::1` / `2001:0db8:0:0::1` each meet. */
export function canonicalAddress(address: string): string | null {
  const v4 = asIPv4(address);
  if (v4) return v4;
  if (!isIPv6(address)) return null;
  return expandIPv6(address).join(':');
}

export function createAddressPseudonyms(keys: Pick<LoadedSecretKeys, 'deriveKey'>): AddressPseudonyms {
  // Always the current key: pseudonyms must stay comparable across the window, and a rebuild recomputes all of them.
  const key = keys.deriveKey(ADDRESS_PSEUDONYM_KEY_PURPOSE);
  const mac = (value: string): string => createHmac('sha256', key).update(value).digest('base64url').slice(0, 22);
  return {
    of(address) {
      if (!address) return null;
      const canonical = canonicalAddress(address);
      const network = canonical === null ? null : networkOf(canonical);
      if (canonical === null || network === null) return null;
      return { address: mac(`address:${canonical}`), network: mac(`network:${network}`) };
    },
  };
}

function asIPv4(address: string): string | null {
  if (isIPv4(address)) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped && isIPv4(mapped[1]!) ? mapped[1]! : null;
}

/** Eight groups of four lower-case hex digits. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase().split('%')[0]!;
  // A trailing dotted quad (::1.2.3.4) is two groups.
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === null ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.padStart(4, '0'));
}
