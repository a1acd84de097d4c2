// The signature counter. The library's own check is switched off (see verifyAuthentication); this is the policy the
// domain applies instead, so a regression is recorded as WebAuthnCloneSuspected rather than lost in an error.

/**
 * WebAuthn §6.1.1: when either counter is non-zero, a received counter that is not greater than the stored
 * one means the credential may have been cloned. Both zero means the authenticator keeps no counter.
 */
export function counterRegressed(storedCounter: number, receivedCounter: number): boolean {
  return (storedCounter > 0 || receivedCounter > 0) && receivedCounter <= storedCounter;
}
