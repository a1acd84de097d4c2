// Confirming it is still you before a sensitive change (allauth's reauthenticate / mfa_reauthenticate): the password,
// or a second factor when the account has one. Afterwards the person goes back to where they were, and the page there
// retries what it was doing (location state `retry`).
import type { TesseraError, WebAuthnError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useState, type FormEvent } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { nextPath } from '../App';
import { Card, ErrorMessage, Field } from '../ui';

export function ReauthenticatePage() {
  const { user, client, reauthenticate, mfaReauthenticate, authenticateWebAuthn, abandonReauthentication } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const next = nextPath(location.search);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<TesseraError | WebAuthnError | null>(null);
  const mfaFlow = client.getStatus().kind === 'authenticated'
    ? (client.getStatus() as Extract<ReturnType<typeof client.getStatus>, { kind: 'authenticated' }>).authState.flows.find((f) => f.id === 'MFA_REAUTHENTICATE')
    : undefined;
  const types = mfaFlow?.types ?? [];

  function back(): void {
    navigate(next, { replace: true, state: { reauthenticated: true } });
  }

  async function withPassword(event: FormEvent): Promise<void> {
    event.preventDefault();
    setError(null);
    const result = await reauthenticate(password);
    if (!result.ok) return setError(result.error);
    back();
  }

  async function withCode(event: FormEvent): Promise<void> {
    event.preventDefault();
    setError(null);
    const result = await mfaReauthenticate(code.trim());
    if (!result.ok) return setError(result.error);
    back();
  }

  async function withKey(): Promise<void> {
    setError(null);
    const result = await authenticateWebAuthn('REAUTHENTICATE');
    if (!result.ok) return setError(result.error);
    back();
  }

  return (
    <Card title="Confirm it is you" narrow lead="This change needs a recent sign-in. Confirm with your password or a second factor.">
      <ErrorMessage error={error} />
      <form onSubmit={withPassword}>
        <input type="email" name="username" autoComplete="username" value={user?.email ?? ''} readOnly hidden />
        <Field label="Password" type="password" name="password" autoComplete="current-password" required autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit">Confirm with password</button>
      </form>
      {(types.includes('TOTP') || types.includes('RECOVERY_CODES')) && (
        <form onSubmit={withCode}>
          <Field label={types.includes('TOTP') ? 'Or a code from your authenticator app or a recovery code' : 'Or a recovery code'} name="code"
            autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
          <button type="submit" className="secondary">Confirm with code</button>
        </form>
      )}
      {types.includes('WEBAUTHN') && <button type="button" className="secondary wide" onClick={() => void withKey()}>Confirm with a security key or passkey</button>}
      <p><button type="button" className="link" onClick={() => { abandonReauthentication(); navigate(next, { replace: true }); }}>Cancel</button></p>
    </Card>
  );
}
