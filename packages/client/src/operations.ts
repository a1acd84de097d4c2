// The operations the client sends, one document each. Shared selections are fragments so that every payload that
// carries an authState feeds the pending-flow machine with the same shape.
import { graphql } from './graphql.js';

export const AuthStateFields = graphql(`
  fragment AuthStateFields on AuthState {
    isAuthenticated
    mfaEnrollmentDeadline
    user { id email roles }
    session { id aal createdAt lastSeenAt methods { method at type } }
    flows { id isPending types expiresAt }
  }
`);

export const ErrorFields = graphql(`
  fragment ErrorFields on AuthError { __typename code message field retryAfterSeconds }
`);

export const AuthenticatorFields = graphql(`
  fragment AuthenticatorFields on Authenticator {
    __typename type createdAt lastUsedAt
    ... on WebAuthnAuthenticator { id name isPasswordless }
    ... on RecoveryCodesAuthenticator { totalCodeCount unusedCodeCount }
  }
`);

export const DeviceFields = graphql(`
  fragment DeviceFields on Device { id name trusted trustedUntil firstSeenAt lastSeenAt current }
`);

const AuthPayloadFields = graphql(`
  fragment AuthPayloadFields on AuthPayload { __typename sessionToken deviceToken authState { ...AuthStateFields } }
`, [AuthStateFields]);

export const authStateQuery = graphql(`query AuthState { authState { ...AuthStateFields } }`, [AuthStateFields]);

export const configQuery = graphql(`
  query Config { config { mfa { supportedTypes passkeyLoginEnabled passkeySignupEnabled trustEnabled trustAgeSeconds } sessions { trackActivity } } }
`);

export const meQuery = graphql(`
  query Me {
    me {
      id email roles createdAt
      authenticators { ...AuthenticatorFields }
      sessions { id ip userAgent createdAt lastSeenAt isCurrent aal methods { method at type } device { id name trusted } }
      devices { ...DeviceFields }
    }
  }
`, [AuthenticatorFields, DeviceFields]);

export const recoveryCodesQuery = graphql(`
  query RecoveryCodes { recoveryCodes { __typename ... on RecoveryCodesPayload { codes } ...ErrorFields } }
`, [ErrorFields]);

export const signupMutation = graphql(`
  mutation Signup($input: CredentialsInput!) { signup(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const loginMutation = graphql(`
  mutation Login($input: CredentialsInput!) { login(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const logoutMutation = graphql(`
  mutation Logout { logout { __typename ... on LogoutPayload { ok } ...ErrorFields } }
`, [ErrorFields]);

export const authenticateMfaMutation = graphql(`
  mutation AuthenticateMfa($input: MfaCodeInput!) { authenticateMfa(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const reauthenticateMutation = graphql(`
  mutation Reauthenticate($input: ReauthenticateInput!) { reauthenticate(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const mfaReauthenticateMutation = graphql(`
  mutation MfaReauthenticate($input: MfaCodeInput!) { mfaReauthenticate(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const setupTotpMutation = graphql(`
  mutation SetupTotp { setupTotp { __typename ... on TotpSetup { secret totpUrl qrCodeSvg } ...ErrorFields } }
`, [ErrorFields]);

export const activateTotpMutation = graphql(`
  mutation ActivateTotp($input: MfaCodeInput!) {
    activateTotp(input: $input) {
      __typename
      ... on ActivateTotpPayload { sessionToken recoveryCodes authenticator { ...AuthenticatorFields } }
      ...ErrorFields
    }
  }
`, [AuthenticatorFields, ErrorFields]);

export const deactivateTotpMutation = graphql(`
  mutation DeactivateTotp {
    deactivateTotp { __typename ... on DeactivateTotpPayload { authenticators { ...AuthenticatorFields } } ...ErrorFields }
  }
`, [AuthenticatorFields, ErrorFields]);

export const regenerateRecoveryCodesMutation = graphql(`
  mutation RegenerateRecoveryCodes { regenerateRecoveryCodes { __typename ... on RecoveryCodesPayload { codes } ...ErrorFields } }
`, [ErrorFields]);

export const beginWebAuthnRegistrationMutation = graphql(`
  mutation BeginWebAuthnRegistration($input: BeginWebAuthnRegistrationInput!) {
    beginWebAuthnRegistration(input: $input) { __typename ... on WebAuthnCreationOptions { creationOptions } ...ErrorFields }
  }
`, [ErrorFields]);

export const registerWebAuthnMutation = graphql(`
  mutation RegisterWebAuthn($input: RegisterWebAuthnInput!) {
    registerWebAuthn(input: $input) {
      __typename
      ... on RegisterWebAuthnPayload { sessionToken recoveryCodes authenticator { ...AuthenticatorFields } }
      ...ErrorFields
    }
  }
`, [AuthenticatorFields, ErrorFields]);

export const renameWebAuthnMutation = graphql(`
  mutation RenameWebAuthn($input: RenameWebAuthnInput!) {
    renameWebAuthn(input: $input) { __typename ... on RenameWebAuthnPayload { authenticator { ...AuthenticatorFields } } ...ErrorFields }
  }
`, [AuthenticatorFields, ErrorFields]);

export const removeWebAuthnMutation = graphql(`
  mutation RemoveWebAuthn($input: RemoveWebAuthnInput!) {
    removeWebAuthn(input: $input) { __typename ... on RemoveWebAuthnPayload { authenticators { ...AuthenticatorFields } } ...ErrorFields }
  }
`, [AuthenticatorFields, ErrorFields]);

export const beginWebAuthnAuthenticationMutation = graphql(`
  mutation BeginWebAuthnAuthentication($input: BeginWebAuthnAuthenticationInput!) {
    beginWebAuthnAuthentication(input: $input) { __typename ... on WebAuthnRequestOptions { requestOptions ceremonyToken } ...ErrorFields }
  }
`, [ErrorFields]);

export const authenticateWebAuthnMutation = graphql(`
  mutation AuthenticateWebAuthn($input: AuthenticateWebAuthnInput!) {
    authenticateWebAuthn(input: $input) { ...AuthPayloadFields ...ErrorFields }
  }
`, [AuthPayloadFields, ErrorFields]);

export const loginWithPasskeyMutation = graphql(`
  mutation LoginWithPasskey($input: LoginWithPasskeyInput!) { loginWithPasskey(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const beginPasskeySignupMutation = graphql(`
  mutation BeginPasskeySignup($input: BeginPasskeySignupInput!) {
    beginPasskeySignup(input: $input) { __typename ... on PasskeySignupOptions { creationOptions ceremonyToken } ...ErrorFields }
  }
`, [ErrorFields]);

export const completePasskeySignupMutation = graphql(`
  mutation CompletePasskeySignup($input: CompletePasskeySignupInput!) {
    completePasskeySignup(input: $input) {
      __typename
      ... on PasskeySignupPayload { sessionToken recoveryCodes authState { ...AuthStateFields } }
      ...ErrorFields
    }
  }
`, [AuthStateFields, ErrorFields]);

export const revokeSessionsMutation = graphql(`
  mutation RevokeSessions($input: RevokeSessionsInput!) {
    revokeSessions(input: $input) { __typename ... on RevokeSessionsPayload { revokedIds } ...ErrorFields }
  }
`, [ErrorFields]);

export const changePasswordMutation = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) { __typename ... on ChangePasswordPayload { endedSessionCount } ...ErrorFields }
  }
`, [ErrorFields]);

export const changeEmailMutation = graphql(`
  mutation ChangeEmail($input: ChangeEmailInput!) { changeEmail(input: $input) { __typename ... on User { id email } ...ErrorFields } }
`, [ErrorFields]);

export const deleteAccountMutation = graphql(`
  mutation DeleteAccount { deleteAccount { __typename ... on LogoutPayload { ok } ...ErrorFields } }
`, [ErrorFields]);

export const trustDeviceMutation = graphql(`
  mutation TrustDevice($input: TrustDeviceInput!) {
    trustDevice(input: $input) { __typename ... on TrustDevicePayload { trusted } ...ErrorFields }
  }
`, [ErrorFields]);

export const revokeDeviceTrustMutation = graphql(`
  mutation RevokeDeviceTrust($input: RevokeDeviceTrustInput!) {
    revokeDeviceTrust(input: $input) { __typename ... on RevokeDeviceTrustPayload { revokedIds } ...ErrorFields }
  }
`, [ErrorFields]);

export const signOutEverywhereMutation = graphql(`
  mutation SignOutEverywhere { signOutEverywhere { __typename ... on SignOutEverywherePayload { endedSessionCount } ...ErrorFields } }
`, [ErrorFields]);

// Email one-time codes (the weaker factor: a login with one is AAL1)
export const beginEmailCodeEnrollmentMutation = graphql(`
  mutation BeginEmailCodeEnrollment { beginEmailCodeEnrollment { __typename ... on EmailCodeSent { expiresAt resendAfterSeconds } ...ErrorFields } }
`, [ErrorFields]);

export const activateEmailCodeMutation = graphql(`
  mutation ActivateEmailCode($input: ActivateEmailCodeInput!) {
    activateEmailCode(input: $input) { __typename ... on ActivateEmailCodePayload { authenticators { ...AuthenticatorFields } } ...ErrorFields }
  }
`, [AuthenticatorFields, ErrorFields]);

export const removeEmailCodeMutation = graphql(`
  mutation RemoveEmailCode { removeEmailCode { __typename ... on RemoveEmailCodePayload { authenticators { ...AuthenticatorFields } } ...ErrorFields } }
`, [AuthenticatorFields, ErrorFields]);

export const requestEmailCodeMutation = graphql(`
  mutation RequestEmailCode { requestEmailCode { __typename ... on EmailCodeSent { expiresAt resendAfterSeconds } ...ErrorFields } }
`, [ErrorFields]);

// The administrator's tools (admin at AAL2)
export const usersQuery = graphql(`
  query Users($first: Int, $after: String, $filter: UsersFilter) {
    users(first: $first, after: $after, filter: $filter) {
      __typename
      ... on UserConnection {
        nodes { id email roles createdAt lockedUntil mfa { factorTypes lastUsedAt requiredBy deadline } }
        pageInfo { endCursor hasNextPage }
      }
      ...ErrorFields
    }
  }
`, [ErrorFields]);

export const resetUserMfaMutation = graphql(`
  mutation ResetUserMfa($input: ResetUserMfaInput!) {
    resetUserMfa(input: $input) { __typename ... on ResetUserMfaPayload { userId removedFactorCount keptPasskeyCount endedSessionCount } ...ErrorFields }
  }
`, [ErrorFields]);

export const revokeRoleMutation = graphql(`
  mutation RevokeRole($input: RevokeRoleInput!) { revokeRole(input: $input) { __typename ... on RevokeRolePayload { userId role revoked } ...ErrorFields } }
`, [ErrorFields]);

export const requireMfaMutation = graphql(`
  mutation RequireMfa($input: RequireMfaInput!) { requireMfa(input: $input) { __typename ... on RequireMfaPayload { userId deadline } ...ErrorFields } }
`, [ErrorFields]);

export const liftMfaRequirementMutation = graphql(`
  mutation LiftMfaRequirement($input: LiftMfaRequirementInput!) {
    liftMfaRequirement(input: $input) { __typename ... on LiftMfaRequirementPayload { userId lifted } ...ErrorFields }
  }
`, [ErrorFields]);

export const signOutUserMutation = graphql(`
  mutation SignOutUser($input: SignOutUserInput!) { signOutUser(input: $input) { __typename ... on SignOutUserPayload { userId endedSessionCount } ...ErrorFields } }
`, [ErrorFields]);

// Account recovery (issue 17)
export const requestPasswordResetMutation = graphql(`
  mutation RequestPasswordReset($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const resetPasswordMutation = graphql(`
  mutation ResetPassword($input: ResetPasswordInput!) { resetPassword(input: $input) { __typename ... on RecoveryOkPayload { ok } ...ErrorFields } }
`, [ErrorFields]);

export const verifyEmailMutation = graphql(`
  mutation VerifyEmail($input: VerifyEmailInput!) { verifyEmail(input: $input) { ...AuthPayloadFields ...ErrorFields } }
`, [AuthPayloadFields, ErrorFields]);

export const resendEmailVerificationMutation = graphql(`
  mutation ResendEmailVerification { resendEmailVerification { __typename ... on RecoveryOkPayload { ok } ...ErrorFields } }
`, [ErrorFields]);

export const reportCompromiseMutation = graphql(`
  mutation ReportCompromise($input: ReportCompromiseInput!) {
    reportCompromise(input: $input) { __typename ... on ReportCompromisePayload { suspendedFactorCount emailRestored assistedRecovery } ...ErrorFields }
  }
`, [ErrorFields]);

/** Analysts (role `analyst`, AAL2): the series of one range, and how far the asynchronous analysis tables lag. */
export const sessionAnalyticsQuery = graphql(`
  query SessionAnalytics($from: DateTime!, $to: DateTime!, $bucket: AnalyticsBucket!, $timeZone: String!) {
    sessionAnalytics(from: $from, to: $to, bucket: $bucket, timeZone: $timeZone) {
      __typename
      ... on SessionAnalytics {
        from to bucket timeZone
        lag { events seconds }
        series {
          start logins loginsByMethod { method count } outcomes { key count }
          failures backoffs lockouts recoveryCodesUsed newDeviceLogins detections
          activeSessions activeUsers signups firstFactors averageSecondsToEnrol
          users usersWithFactor usersWithTotp usersWithWebAuthn mfaAdoption
        }
      }
      ...ErrorFields
    }
  }
`, [ErrorFields]);
