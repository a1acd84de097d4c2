// Password login, and passkey login twice over: a button (modal ceremony) and autofill (conditional mediation on the
// email field, `autocomplete="username webauthn"`), which waits quietly until the person picks a passkey.
import { cancelPasskeyAutofill, type TesseraError, type WebAuthnError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { nextPath } from '../App';
import { Card, ErrorMessage, Field } from '../ui';

export function LoginPage() {
  const { login, loginWithPasskey, pendingFlow, isAuthenticated, config } = useAuth();
  const passkeys = config?.mfa.passkeyLoginEnabled !== false;
  const navigate = useNavigate();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<TesseraError | WebAuthnError | null>(null);
  const [busy, setBusy] = useState(false);
  const next = nextPath(location.search);
  const mounted = useRef(true);

  function afterLogin(): void {
    if (pendingFlow?.id === 'mfa_authenticate') navigate('/mfa/verify');
    else if (pendingFlow?.id === 'verify_email') navigate('/email/verify');
    else if (pendingFlow?.id === 'mfa_enroll_required') navigate('/mfa/setup');
    else navigate(next, { replace: true });
  }

  useEffect(() => {
    if (isAuthenticated) navigate(next, { replace: true });
  }, [isAuthenticated]); // eslint-disable-line react-hooks/exhaustive-deps

  // Passkey autofill: started once, on a page with the `webauthn` autocomplete token; cancelled when leaving.
  useEffect(() => {
    mounted.current = true;
    void (async () => {
      const result = await loginWithPasskey({ autofill: true });
      if (!mounted.current) return;
      if (result.ok) afterLogin();
      // Nothing to say when the browser has no autofill, the person went elsewhere, or passkey login is switched off.
      else if (!['WEBAUTHN_CANCELLED', 'WEBAUTHN_UNSUPPORTED', 'FEATURE_DISABLED'].includes(result.error.code)) setError(result.error);
    })();
    return () => { mounted.current = false; cancelPasskeyAutofill(); };
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await login(email, password);
    setBusy(false);
    if (!result.ok) return setError(result.error);
    afterLogin();
  }

  async function passkey(): Promise<void> {
    setError(null);
    const result = await loginWithPasskey();
    if (!result.ok) return setError(result.error);
    afterLogin();
  }

  return (
    <Card title="Sign in" narrow>
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate={false}>
        <Field label="Email" type="email" name="email" autoComplete="username webauthn" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      {passkeys && (
        <>
          <div className="divider" role="separator"><span>or</span></div>
          <button type="button" className="secondary wide" onClick={() => void passkey()}>Sign in with a passkey</button>
        </>
      )}
      <p className="muted"><Link to="/password/reset">Forgot your password?</Link></p>
      <p className="muted">New here? <Link to="/signup">Create an account</Link></p>
    </Card>
  );
}
