import type { LoginEvent } from './events.js';
import type { SessionMethod } from '../session/events.js';

export type LoginStatus = 'none' | 'rejected' | 'mfa_pending' | 'completed' | 'expired' | 'abandoned';

export interface LoginState {
  status: LoginStatus;
  flowId: string | null;
  userId: string | null;
  types: string[];
  expiresAt: string | null;
  /** Methods proven so far, carried into the session. */
  methods: SessionMethod[];
  /** The assurance level the completed login earned. */
  aal: 1 | 2;
}

export const initialLoginState: LoginState = { status: 'none', flowId: null, userId: null, types: [], expiresAt: null, methods: [], aal: 1 };

export function evolveLogin(state: LoginState, event: LoginEvent): LoginState {
  switch (event.type) {
    case 'LoginStarted':
      return {
        ...state, flowId: event.data.flowId, userId: event.data.userId,
        // The passkey is proven before the flow starts (StartPasskeyLogin); a password is proven by PasswordVerified.
        methods: event.data.method === 'passkey' ? [{ method: 'passkey', at: event.data.at }] : state.methods,
      };
    case 'PasswordVerified':
      return { ...state, methods: [...state.methods, { method: 'password', at: event.data.at }] };
    case 'PasswordRejected':
      return { ...state, status: 'rejected' };
    case 'MfaRequired':
      return { ...state, status: 'mfa_pending', types: event.data.types, expiresAt: event.data.expiresAt };
    case 'MfaSucceeded':
      return { ...state, methods: [...state.methods, { method: event.data.method, at: event.data.at }] };
    case 'MfaFailed':
      return state;
    case 'TrustedDeviceAccepted':
      return { ...state, methods: [...state.methods, { method: 'trust', at: event.data.at }] };
    case 'LoginCompleted':
      return { ...state, status: 'completed', aal: event.data.aal };
    case 'LoginExpired':
      return { ...state, status: 'expired' };
    case 'LoginAbandoned':
      return { ...state, status: 'abandoned' };
  }
}
