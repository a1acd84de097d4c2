// Which address a request comes from, and which bucket it draws on. Only the socket is trusted, unless TRUST_PROXY
// names the proxies in front of us: then X-Forwarded-For is read from the right, skipping trusted hops, and the first
// untrusted hop is the client (everything left of it was written by the client and may be forged).
import { BlockList, isIP } from 'node:net';

export interface ClientAddressResolver {
  resolve(socketAddress: string | undefined, forwardedFor: string | null): string;
}

function normalize(address: string): string {
  const trimmed = address.trim().replace(/^\[|\]$/g, '');
  // IPv4-mapped IPv6 (::ffff:1.2.3.4), as Node reports IPv4 clients on a dual-stack socket.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

export function createClientAddressResolver(trustProxy: readonly string[]): ClientAddressResolver {
  const trusted = new BlockList();
  for (const entry of trustProxy) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address!) === 0) throw new Error(`TRUST_PROXY: "${entry}" is not an address or CIDR`);
    if (prefix === undefined) trusted.addAddress(address!, family);
    else trusted.addSubnet(address!, Number(prefix), family);
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return {
    resolve(socketAddress, forwardedFor) {
      const peer = normalize(socketAddress ?? 'unknown');
      if (trustProxy.length === 0 || !isTrusted(peer) || !forwardedFor) return peer;
      const hops = forwardedFor.split(',').map(normalize).filter(Boolean);
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!;
        if (isIP(hop) === 0) return peer; // garbage from a client: do not guess, stay with what we know
        if (!isTrusted(hop)) return hop;
      }
      return hops[0] ?? peer;
    },
  };
}

/** The rate-limit bucket of an address: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a whole /64). */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  if (right.length > 0 && right[right.length - 1]!.includes('.')) right.splice(-1, 1, '0', '0'); // embedded IPv4: low bits only
  const groups = tail === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}
