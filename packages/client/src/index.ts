export { createTesseraClient, type ErrorCode, type Result, type TesseraClient, type TesseraClientOptions, type TesseraError } from './client.js';
export { flowIdOf, initialStatus, pendingFlowOf, transition, type AuthEvent, type AuthState, type AuthStatus, type AuthenticatorType, type FlowId, type PendingFlow } from './flow.js';
export {
  authenticateWebAuthn, browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, cancelPasskeyAutofill, loginWithPasskey,
  registerWebAuthn, signupWithPasskey, type WebAuthnError, type WebAuthnResult,
} from './webauthn.js';
export { graphql, type ResultOf, type VariablesOf } from './graphql.js';
export * as operations from './operations.js';
