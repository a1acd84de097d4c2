// RFC 6962 / RFC 9162 Merkle tree over the log: leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right).
// The entry of each leaf is an event's hash (32 bytes), in commit order (transaction id, position).
import { hash } from 'node:crypto';

export type Hash = Buffer;

// One-shot hashing of one buffer: verification hashes every event of the log two or three times here, and a hash
// object per call costs more than the hashing of 33 or 65 bytes itself.
export function leafHash(entry: Buffer): Hash {
  const input = Buffer.allocUnsafe(1 + entry.length);
  input[0] = 0;
  entry.copy(input, 1);
  return hash('sha256', input, 'buffer');
}

export function nodeHash(left: Hash, right: Hash): Hash {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 1;
  left.copy(input, 1);
  right.copy(input, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

export const emptyRoot: Hash = hash('sha256', Buffer.alloc(0), 'buffer');

/** The leaf of one event: its hash (hex) as the entry. */
export function eventLeaf(eventHashHex: string): Hash {
  const input = Buffer.allocUnsafe(33);
  input[0] = 0;
  input.write(eventHashHex, 1, 'hex');
  return hash('sha256', input, 'buffer');
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The right edge of a tree (the roots of its perfect subtrees, largest first): enough to append leaves and compute
 * the root without reading the leaves already in it, so a checkpoint costs the new events only.
 */
export class CompactRange {
  constructor(public size = 0, public readonly frontier: Hash[] = []) {}

  static from(size: number, frontierHex: readonly string[]): CompactRange {
    return new CompactRange(size, frontierHex.map((h) => Buffer.from(h, 'hex')));
  }

  append(leaf: Hash): void {
    let hash = leaf;
    // Merge while the lowest set bit of the size says the last subtree has the same height as the new one.
    for (let s = this.size; s & 1; s >>= 1) hash = nodeHash(this.frontier.pop()!, hash);
    this.frontier.push(hash);
    this.size++;
  }

  /** MTH of the leaves so far: the frontier folded from the right (RFC 6962 §2.1 splits at the largest power of two). */
  root(): Hash {
    if (this.frontier.length === 0) return emptyRoot;
    let hash = this.frontier[this.frontier.length - 1]!;
    for (let i = this.frontier.length - 2; i >= 0; i--) hash = nodeHash(this.frontier[i]!, hash);
    return hash;
  }

  frontierHex(): string[] {
    return this.frontier.map((h) => h.toString('hex'));
  }
}

/** A whole tree in memory (levels of perfect subtrees), for proofs: O(n) to build, O(log n) per proof. */
export class MerkleTree {
  private readonly levels: Hash[][];

  constructor(leaves: readonly Hash[]) {
    this.levels = [leaves.slice()];
    for (let level = this.levels[0]!; level.length > 1; ) {
      const next: Hash[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
      this.levels.push(next);
      level = next;
    }
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  /** MTH(D[start:end]). */
  subtree(start: number, end: number): Hash {
    const n = end - start;
    if (n === 0) return emptyRoot;
    if ((n & (n - 1)) === 0 && start % n === 0) return this.levels[Math.log2(n)]![start / n]!;
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
  }

  root(size = this.size): Hash {
    return this.subtree(0, size);
  }

  /** RFC 6962 §2.1.1 PATH(m, D[n]). */
  inclusionProof(index: number, size = this.size): Hash[] {
    if (index < 0 || index >= size || size > this.size) throw new RangeError('leaf index outside the tree');
    const path = (m: number, start: number, end: number): Hash[] => {
      const n = end - start;
      if (n === 1) return [];
      const k = largestPowerOfTwoBelow(n);
      return m < k ? [...path(m, start, start + k), this.subtree(start + k, end)] : [...path(m - k, start + k, end), this.subtree(start, start + k)];
    };
    return path(index, 0, size);
  }

  /** RFC 6962 §2.1.2 PROOF(m, D[n]). */
  consistencyProof(first: number, second = this.size): Hash[] {
    if (first < 1 || first > second || second > this.size) throw new RangeError('sizes outside the tree');
    const sub = (m: number, start: number, end: number, complete: boolean): Hash[] => {
      const n = end - start;
      if (m === n) return complete ? [] : [this.subtree(start, end)];
      const k = largestPowerOfTwoBelow(n);
      return m <= k
        ? [...sub(m, start, start + k, complete), this.subtree(start + k, end)]
        : [...sub(m - k, start + k, end, false), this.subtree(start, start + k)];
    };
    return sub(first, 0, second, true);
  }
}

/** RFC 9162 §2.1.3.2: does `leaf` sit at `index` of the tree of `size` leaves with `root`? */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: is the tree (second, secondRoot) an append-only extension of (first, firstRoot)? */
export function verifyConsistency(first: number, second: number, firstRoot: Hash, secondRoot: Hash, proof: readonly Hash[]): boolean {
  if (first < 1 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
