// The second step of a login (allauth's mfa_authenticate): a TOTP code, a recovery code, or a security key, offered
// according to the flow's `types`.
import type { TesseraError, WebAuthnError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { Card, ErrorMessage, Field } from '../ui';

export function MfaVerifyPage() {
  const { status, flow, authenticateMfa, authenticateWebAuthn } = useAuth();
  const navigate = useNavigate();
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<TesseraError | WebAuthnError | null>(null);
  const [busy, setBusy] = useState(false);

  if (status.kind === 'unknown') return <p className="loading" role="status">Loading…</p>;
  if (status.kind === 'authenticated') return <Navigate to="/" replace />;
  if (flow?.id !== 'mfa_authenticate') return <Navigate to="/login" replace />;
  const types = flow.types ?? [];
  const hasTotp = types.includes('TOTP');
  const hasRecovery = types.includes('RECOVERY_CODES');
  const hasKey = types.includes('WEBAUTHN');
  const codeMode = useRecovery || !hasTotp ? 'recovery' : 'totp';

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await authenticateMfa(code.trim());
    setBusy(false);
    if (!result.ok) return setError(result.error);
    navigate('/', { replace: true });
  }

  async function key(): Promise<void> {
    setError(null);
    const result = await authenticateWebAuthn('MFA');
    if (!result.ok) return setError(result.error);
    navigate('/', { replace: true });
  }

  return (
    <Card title="Two-factor authentication" narrow lead="Your password was right. Now prove it is you with your second factor.">
      <ErrorMessage error={error} />
      {(hasTotp || hasRecovery) && (
        <form onSubmit={submit}>
          {codeMode === 'totp' ? (
            <Field key="totp" label="Code from your authenticator app" name="code" autoComplete="one-time-code" inputMode="numeric"
              pattern="[0-9]*" maxLength={6} required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
          ) : (
            <Field key="recovery" label="Recovery code" name="recovery-code" autoComplete="one-time-code" spellCheck={false}
              autoCapitalize="characters" required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
          )}
          <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Verify'}</button>
        </form>
      )}
      {hasTotp && hasRecovery && (
        <button type="button" className="link" onClick={() => { setUseRecovery(!useRecovery); setCode(''); setError(null); }}>
          {useRecovery ? 'Use a code from your authenticator app' : 'Use a recovery code instead'}
        </button>
      )}
      {hasKey && (
        <>
          <div className="divider" role="separator"><span>or</span></div>
          <button type="button" className="secondary wide" onClick={() => void key()}>Use a security key or passkey</button>
        </>
      )}
      <p className="muted"><Link to="/login">Start over</Link></p>
    </Card>
  );
}
