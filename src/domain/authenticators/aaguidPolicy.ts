// Which security keys are accepted (WEBAUTHN_AAGUID_ALLOW / WEBAUTHN_AAGUID_BLOCK): pure. Without attestation an AAGUID
// is only the authenticator's own claim, so the lists are enforced only when the server asks for `direct` attestation
// (WEBAUTHN_ATTESTATION=direct, with WEBAUTHN_ATTESTATION_ROOTS); with `none` they are advisory and nothing is refused.
// Under enforcement an allow list admits only a key whose AAGUID a trusted root vouched for (a claim cannot get in),
// and a block list refuses the AAGUID whether vouched for or merely claimed (a claim against oneself costs nothing).

export interface AaguidPolicy {
  /** True with WEBAUTHN_ATTESTATION=direct. */
  enforced: boolean;
  allow: readonly string[];
  block: readonly string[];
}

export type AaguidRefusal = 'AAGUID_BLOCKED' | 'AAGUID_NOT_ALLOWED';

/** The canonical spelling: lower case, dashed (8-4-4-4-12), as @simplewebauthn reports it. */
export function normalizeAaguid(aaguid: string): string | null {
  const hex = aaguid.trim().toLowerCase().replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** At registration: null when the key may be registered. */
export function refusalAtRegistration(policy: AaguidPolicy, aaguid: string, attestationVerified: boolean): AaguidRefusal | null {
  if (!policy.enforced) return null;
  const id = normalizeAaguid(aaguid) ?? aaguid;
  if (policy.block.includes(id)) return 'AAGUID_BLOCKED';
  if (policy.allow.length > 0 && !(attestationVerified && policy.allow.includes(id))) return 'AAGUID_NOT_ALLOWED';
  return null;
}

/** At authentication, for keys registered before a block: only the block list applies (allow lists admit at registration). */
export function refusalAtAuthentication(policy: AaguidPolicy, aaguid: string): AaguidRefusal | null {
  if (!policy.enforced) return null;
  return policy.block.includes(normalizeAaguid(aaguid) ?? aaguid) ? 'AAGUID_BLOCKED' : null;
}
