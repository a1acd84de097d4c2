// Which event fields are personal data (issue 14 item 0): the event store seals them under the data key of the person
// named by `subject` (a data field holding a user id) on append, and opens them on read, so deciders, projections and
// reactors see clear values while the log holds ciphertext. Erasing the person destroys the key; these fields then
// read as null.
//
// Besides these, every event's metadata `ip` and `userAgent` are sealed under the key of the event's user (the
// registry's subject, else its data.userId); events with no user keep only keyed pseudonyms of them (ipHash,
// userAgentHash), see src/application/personalDataVault.ts.
//
// Not listed, on purpose: the email-claim events (EmailClaimed, EmailReleased) carry only the user id; the address
// lives in their stream id as a keyed hash. Notification events carry no address or device description (the outbox
// row does; it is sealed there). Ids, hashes of secrets and times are not personal data in this sense.
export interface PersonalFields {
  /** The data field that holds the user id whose key seals the fields. */
  subject: string;
  fields: readonly string[];
}

export const personalFields: Record<string, PersonalFields> = {
  UserRegistered: { subject: 'userId', fields: ['email'] },
  EmailChanged: { subject: 'userId', fields: ['email', 'previousEmail'] },
  SessionStarted: { subject: 'userId', fields: ['ip', 'userAgent'] },
  SessionActivityRecorded: { subject: 'userId', fields: ['ip'] },
  // Derived from the user agent ("Firefox on Linux"): a device description.
  DeviceSeen: { subject: 'userId', fields: ['name'] },
  // A label the user chose ("Anna's iPhone"): often a name, so sealed like one.
  WebAuthnCredentialRegistered: { subject: 'userId', fields: ['name'] },
  WebAuthnCredentialRenamed: { subject: 'userId', fields: ['name'] },
  // The address an email change waits for (issue 17): mailed its code, and shown nowhere else.
  EmailVerificationRequested: { subject: 'userId', fields: ['newEmail'] },
  // An administrator's free-text reason may name the person or quote their address: sealed under their key. (The
  // reason of an erasure, UserErased, is the exception: it must outlive the key, so it is refused when it holds an
  // address, see application/accountChanges.ts.)
  MfaReset: { subject: 'userId', fields: ['reason'] },
  MfaPolicyApplied: { subject: 'userId', fields: ['reason'] },
  MfaPolicyLifted: { subject: 'userId', fields: ['reason'] },
  UserSignedOut: { subject: 'userId', fields: ['reason'] },
  RoleRevoked: { subject: 'userId', fields: ['reason'] },
};

/** The metadata fields sealed on every event that has a user. */
export const personalMetadataFields = ['ip', 'userAgent'] as const;
