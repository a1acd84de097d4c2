import type { TesseraError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { Card, ErrorMessage, Field } from '../ui';

export function SignupPage() {
  const { signup } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<TesseraError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await signup(email, password);
    setBusy(false);
    if (!result.ok) return setError(result.error);
    // Mandatory verification: nobody is signed in before the mailed code.
    navigate(result.pendingFlow?.id === 'verify_email' ? '/email/verify' : '/mfa/setup');
  }

  return (
    <Card title="Create your account" narrow lead="Then protect it with an authenticator app, a security key or a passkey.">
      <ErrorMessage error={error} />
      <form onSubmit={submit}>
        <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" type="password" name="password" autoComplete="new-password" required minLength={8}
          hint="At least 8 characters; a few unusual words make a strong one." value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create account'}</button>
      </form>
      <p className="muted">Already have an account? <Link to="/login">Sign in</Link></p>
    </Card>
  );
}
