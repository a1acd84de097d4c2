// Commands carry every outside fact the decider needs: ids, time, and hashes computed by the handler.
export type UserCommand =
  | { type: 'SignUp'; data: { userId: string; email: string; passwordHash: string | null; now: string } }
  | { type: 'ChangePassword'; data: { passwordHash: string; now: string } }
  | { type: 'UpgradePasswordHash'; data: { passwordHash: string; now: string } }
  | { type: 'ChangeEmail'; data: { email: string; reason?: 'restored'; now: string } }
  | { type: 'GrantRole'; data: { role: string; now: string } }
  | { type: 'RevokeRole'; data: { role: string; by?: string; reason?: string; now: string } }
  | { type: 'RequireMfa'; data: { deadline: string; by: string; reason: string | null; now: string } }
  | { type: 'LiftMfaRequirement'; data: { by: string; reason: string | null; now: string } }
  | { type: 'RecordSignOut'; data: { by: string; reason: string | null; sessionCount: number; now: string } }
  | { type: 'DeleteAccount'; data: { now: string } }
  | { type: 'EraseUser'; data: { by: string; reason: string; now: string } }
  | { type: 'RejectPassword'; data: { purpose: 'reauthenticate' | 'change_password'; now: string } }
  | { type: 'LockUser'; data: { until: string; failures: number; bucket: string; now: string } }
  | { type: 'RequestPasswordReset'; data: { nonce: string; keyId: string; codeHash: string; keyHash: string; codeExpiresAt: string; keyExpiresAt: string; now: string } }
  | {
      type: 'ResetPassword';
      /** `verifiedHash`: the stored hash the presented code or key matched (null: no match); a used or newer request makes it stale. */
      data: { via: 'code' | 'link'; verifiedHash: string | null; passwordHash: string; now: string };
    }
  | { type: 'RequestEmailVerification'; data: { nonce: string; keyId: string; codeHash: string; expiresAt: string; newEmail: string | null; now: string } }
  | { type: 'VerifyEmail'; data: { verifiedHash: string | null; now: string } }
  | { type: 'RecordSignupAttempt'; data: { now: string } }
  | { type: 'ReportCompromise'; data: { notificationId: string; kind: string; causeType: string; causePosition: number; assistedRecovery: boolean; now: string } }
  | { type: 'UnlockUser'; data: { by: 'timeout'; bucket: string; now: string } | { by: 'admin'; now: string } };

export type EmailClaimCommand =
  | { type: 'ClaimEmail'; data: { userId: string; now: string } }
  | { type: 'ReleaseEmail'; data: { userId: string; now: string } };
