// The RFC 6962 tree: the compact range agrees with the recursive definition; proofs verify and fail on one flipped bit.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactRange, MerkleTree, leafHash, nodeHash, verifyConsistency, verifyInclusion, type Hash } from '../../../src/eventstore/merkle.js';

const leaves = Array.from({ length: 40 }, (_, i) => leafHash(createHash('sha256').update(`event ${i}`).digest()));

/** MTH straight from RFC 6962 §2.1. */
function mth(d: readonly Hash[]): Hash {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return d[0]!;
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}

function flip(h: Hash, bit = 0): Hash {
  const copy = Buffer.from(h);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

describe('RFC 6962 Merkle tree', () => {
  it('the compact range and the in-memory tree give the RFC root for every size', () => {
    const range = new CompactRange();
    for (let n = 1; n <= leaves.length; n++) {
      range.append(leaves[n - 1]!);
      const expected = mth(leaves.slice(0, n));
      expect(range.root().equals(expected)).toBe(true);
      expect(new MerkleTree(leaves.slice(0, n)).root().equals(expected)).toBe(true);
      expect(CompactRange.from(n, range.frontierHex()).root().equals(expected)).toBe(true);
    }
  });

  it('the known root of RFC 6962 hashing: one leaf of an empty entry', () => {
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('an inclusion proof verifies for every leaf and size, and fails when one bit changes', () => {
    const tree = new MerkleTree(leaves);
    for (let n = 1; n <= leaves.length; n += 3) {
      const root = tree.root(n);
      for (let m = 0; m < n; m++) {
        const proof = tree.inclusionProof(m, n);
        expect(verifyInclusion(leaves[m]!, m, n, proof, root)).toBe(true);
        expect(verifyInclusion(flip(leaves[m]!), m, n, proof, root)).toBe(false);
        expect(verifyInclusion(leaves[m]!, m, n, proof, flip(root, 255))).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(leaves[m]!, m, n, [flip(proof[0]!, 7), ...proof.slice(1)], root)).toBe(false);
        if (n > 1) expect(verifyInclusion(leaves[m]!, (m + 1) % n, n, proof, root)).toBe(false);
      }
    }
  });

  it('a consistency proof verifies between every pair of sizes, and fails when one bit changes', () => {
    const tree = new MerkleTree(leaves);
    for (let n = 1; n <= leaves.length; n += 2) {
      for (let m = 1; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        expect(verifyConsistency(m, n, tree.root(m), tree.root(n), proof)).toBe(true);
        expect(verifyConsistency(m, n, flip(tree.root(m)), tree.root(n), proof)).toBe(false);
        expect(verifyConsistency(m, n, tree.root(m), flip(tree.root(n), 100), proof)).toBe(false);
        if (proof.length > 0) expect(verifyConsistency(m, n, tree.root(m), tree.root(n), [...proof.slice(0, -1), flip(proof.at(-1)!, 3)])).toBe(false);
      }
    }
  });
});
