// Stream names: one place, so nobody spells them twice.
export const streams = {
  user: (userId: string) => `user-${userId}`,
  emailClaim: (emailHash: string) => `email-${emailHash}`,
  login: (flowId: string) => `login-${flowId}`,
  session: (sessionId: string) => `session-${sessionId}`,
  authenticators: (userId: string) => `authenticators-${userId}`,
  webauthnCredential: (credentialIdHash: string) => `webauthn-credential-${credentialIdHash}`,
  notification: (notificationId: string) => `notification-${notificationId}`,
  device: (deviceId: string) => `device-${deviceId}`,
  detection: (detectionId: string) => `detection-${detectionId}`,
};
