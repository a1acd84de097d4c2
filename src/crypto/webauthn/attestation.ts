// Whether a registration's attestation vouches for its AAGUID: a `packed` full attestation (x5c) whose chain ends at a
// root of WEBAUTHN_ATTESTATION_ROOTS, whose leaf carries the AAGUID extension (id-fido-gen-ce-aaguid). @simplewebauthn
// has already checked the statement's signature with the leaf, the leaf's shape (OU, CA false, version 3) and that the
// extension, when present, equals the authenticator data's AAGUID; it does not check the chain when it has no roots,
// and it is given none (its root store is process-global), so the chain is checked here, with node:crypto.
import { X509Certificate } from 'node:crypto';

// DER of OID 1.3.6.1.4.1.45724.1.1.4 (tag, length, value).
const AAGUID_EXTENSION_OID = Buffer.from('060b2b0601040182e51c010104', 'hex');

export function parseRootCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function validAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** `fmt` and `attStmt` as decoded from the attestation object. */
export function attestationVouches(
  input: { fmt: unknown; x5c: unknown; roots: readonly X509Certificate[]; now: Date },
): boolean {
  if (input.fmt !== 'packed' || !Array.isArray(input.x5c) || input.x5c.length === 0 || input.roots.length === 0) return false;
  try {
    const chain = input.x5c.map((der) => new X509Certificate(Buffer.from(der as Uint8Array)));
    if (!chain.every((cert) => validAt(cert, input.now))) return false;
    for (let i = 0; i + 1 < chain.length; i++) if (!signedBy(chain[i]!, chain[i + 1]!)) return false;
    const last = chain[chain.length - 1]!;
    if (!input.roots.some((root) => validAt(root, input.now) && (last.raw.equals(root.raw) || signedBy(last, root)))) return false;
    // The leaf must name the AAGUID (the library checked it equals the authenticator data's when present).
    return chain[0]!.raw.includes(AAGUID_EXTENSION_OID);
  } catch {
    return false;
  }
}
