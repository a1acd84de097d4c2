// The second step of a login (allauth's mfa_authenticate): a TOTP code, a recovery code, a security key, or a code
// mailed on request (EMAIL: the weaker factor, the session is then AAL1), offered according to the flow's `types`. When the server runs with MFA_TRUST_ENABLED, a successful step leaves the
// `mfa_trust` flow pending: the page then asks "Trust this device for 14 days?" before going on. The session is
// already signed in, so the question never blocks: "Not now" answers no.
import type { TesseraError, WebAuthnError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { Card, ErrorMessage, Field } from '../ui';

export function MfaVerifyPage() {
  const { status, flow, authenticateMfa, authenticateWebAuthn, requestEmailCode } = useAuth();
  const navigate = useNavigate();
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [emailSent, setEmailSent] = useState(false);
  const [error, setError] = useState<TesseraError | WebAuthnError | null>(null);
  const [busy, setBusy] = useState(false);

  if (status.kind === 'unknown') return <p className="loading" role="status">Loading…</p>;
  if (status.kind === 'authenticated') {
    return flow?.id === 'mfa_trust' ? <TrustQuestion onDone={() => navigate('/', { replace: true })} /> : <Navigate to="/" replace />;
  }
  if (flow?.id !== 'mfa_authenticate') return <Navigate to="/login" replace />;
  const types = flow.types ?? [];
  const hasTotp = types.includes('TOTP');
  const hasRecovery = types.includes('RECOVERY_CODES');
  const hasKey = types.includes('WEBAUTHN');
  const hasEmail = types.includes('EMAIL');
  const codeMode = emailSent ? 'email' : useRecovery || !hasTotp ? 'recovery' : 'totp';

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await authenticateMfa(code.trim());
    setBusy(false);
    if (!result.ok) return setError(result.error);
    // Signed in: the page now renders either the trust question or the way on.
  }

  async function email(): Promise<void> {
    setError(null);
    const result = await requestEmailCode();
    if (!result.ok) return setError(result.error);
    setEmailSent(true);
    setCode('');
  }

  async function key(): Promise<void> {
    setError(null);
    const result = await authenticateWebAuthn('MFA');
    if (!result.ok) return setError(result.error);
  }

  return (
    <Card title="Two-factor authentication" narrow lead="Your password was right. Now prove it is you with your second factor.">
      <ErrorMessage error={error} />
      {(hasTotp || hasRecovery || emailSent) && (
        <form onSubmit={submit}>
          {codeMode === 'email' ? (
            <Field key="email" label="Code from your email" name="email-code" autoComplete="one-time-code" inputMode="numeric"
              pattern="[0-9]*" maxLength={8} required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
          ) : codeMode === 'totp' ? (
            <Field key="totp" label="Code from your authenticator app" name="code" autoComplete="one-time-code" inputMode="numeric"
              pattern="[0-9]*" maxLength={6} required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
          ) : (
            <Field key="recovery" label="Recovery code" name="recovery-code" autoComplete="one-time-code" spellCheck={false}
              autoCapitalize="characters" required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
          )}
          <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Verify'}</button>
        </form>
      )}
      {hasEmail && (
        <button type="button" className="link" onClick={() => void email()}>
          {emailSent ? 'Send another code by email' : 'Email me a code instead'}
        </button>
      )}
      {hasTotp && hasRecovery && !emailSent && (
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

/** "Trust this device?" (mfa_trust): yes trusts it for the server's trust age (password-only logins here), not now answers no. */
function TrustQuestion(props: { onDone(): void }) {
  const { trustDevice, config } = useAuth();
  const days = Math.max(1, Math.round((config?.mfa.trustAgeSeconds ?? 14 * 86_400) / 86_400));
  const [error, setError] = useState<TesseraError | null>(null);
  const [busy, setBusy] = useState(false);
  async function answer(trust: boolean): Promise<void> {
    setBusy(true);
    setError(null);
    const result = await trustDevice(trust);
    setBusy(false);
    // Not being able to record the answer is said, but it never keeps anyone from their account.
    if (!result.ok && result.error.code !== 'FLOW_NOT_PENDING') return setError(result.error);
    props.onDone();
  }
  return (
    <Card title={`Trust this device for ${days} days?`} narrow lead="You are signed in.">
      <ErrorMessage error={error} />
      <p>On a device you trust, signing in for the next {days} days needs only your password. Changes that need your second
        factor still ask for it.</p>
      <p className="muted">Do not trust a shared or public computer. You can end the trust any time under Security.</p>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void answer(true)}>Trust this device</button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void answer(false)}>Not now</button>
        {error && <button type="button" className="link" onClick={props.onDone}>Continue without answering</button>}
      </div>
    </Card>
  );
}
