// Account recovery pages (issue 17): reset the password with the mailed code or link, confirm an email address with
// its code, and "this wasn't me" from a security notice's link.
import type { TesseraError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Card, ErrorMessage, Field, Notice } from '../ui';

function usePending(): [boolean, (run: () => Promise<void>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  return [busy, async (run) => {
    setBusy(true);
    try {
      await run();
    } finally {
      setBusy(false);
    }
  }];
}

/** A mailed code is not an authenticator's: its own words for a wrong or expired one. */
function mailedCodeError(error: TesseraError | null): TesseraError | string | null {
  if (error?.code === 'INVALID_CODE') return 'That code is not right, or was already used. Check the latest mail and try again.';
  if (error?.code === 'FLOW_EXPIRED') return 'That code has expired. Ask for a new one.';
  return error;
}

const passwordHint = 'At least 8 characters; a few unusual words make a strong one.';

/** /password/reset: ask for a code, then enter it with the new password. */
export function PasswordResetPage() {
  const { requestPasswordReset, resetPassword } = useAuth();
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<TesseraError | null>(null);
  const [busy, pending] = usePending();

  const request = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    return pending(async () => {
      const result = await requestPasswordReset(email);
      if (!result.ok) return setError(result.error);
      setSentTo(email);
    });
  };
  const reset = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    return pending(async () => {
      const result = await resetPassword({ email: sentTo, code, newPassword: password });
      if (!result.ok) return setError(result.error);
      setDone(true);
    });
  };

  if (done) {
    return (
      <Card title="Password reset" narrow>
        <Notice>Your password was changed and every session of your account was ended.</Notice>
        <p>Sign in with the new password. If your account has a second factor, you will still be asked for it.</p>
        <p><Link to="/login">Sign in</Link></p>
      </Card>
    );
  }
  if (sentTo) {
    return (
      <Card title="Enter the code" narrow lead={<>If <strong>{sentTo}</strong> has an account, we mailed it a code (valid 15 minutes) and a link.</>}>
        <ErrorMessage error={mailedCodeError(error)} />
        <form onSubmit={reset}>
          <Field label="Code from the mail" name="code" autoComplete="one-time-code" required maxLength={16} spellCheck={false}
            autoCapitalize="characters" value={code} onChange={(e) => setCode(e.target.value)} />
          <Field label="New password" type="password" name="new-password" autoComplete="new-password" required minLength={8}
            hint={passwordHint} value={password} onChange={(e) => setPassword(e.target.value)} />
          <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Set new password'}</button>
        </form>
        <p className="muted"><button type="button" className="link" onClick={() => setSentTo(null)}>Use another address</button></p>
      </Card>
    );
  }
  return (
    <Card title="Reset your password" narrow lead="Enter your account's email address. We will mail you a code and a link.">
      <ErrorMessage error={mailedCodeError(error)} />
      <form onSubmit={request}>
        <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" disabled={busy}>{busy ? 'Sending…' : 'Send code'}</button>
      </form>
      <p className="muted">Remembered it? <Link to="/login">Sign in</Link></p>
    </Card>
  );
}

/** /password/reset/key/:key: the mailed link; a new password is all it needs. */
export function PasswordResetKeyPage() {
  const { resetPassword } = useAuth();
  const { key = '' } = useParams();
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<TesseraError | null>(null);
  const [busy, pending] = usePending();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    return pending(async () => {
      const result = await resetPassword({ key, newPassword: password });
      if (!result.ok) return setError(result.error);
      setDone(true);
    });
  };
  if (done) {
    return (
      <Card title="Password reset" narrow>
        <Notice>Your password was changed and every session of your account was ended.</Notice>
        <p><Link to="/login">Sign in</Link> with the new password (and your second factor, if you have one).</p>
      </Card>
    );
  }
  return (
    <Card title="Choose a new password" narrow lead="This link works once, for 24 hours.">
      <ErrorMessage error={mailedCodeError(error)} />
      <form onSubmit={submit}>
        <Field label="New password" type="password" name="new-password" autoComplete="new-password" required minLength={8}
          hint={passwordHint} value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Set new password'}</button>
      </form>
      <p className="muted">Link expired? <Link to="/password/reset">Ask for a new one</Link></p>
    </Card>
  );
}

/** /email/verify: the code mailed at signup, at a login (mandatory verification) or for an email change. */
export function VerifyEmailPage() {
  const { verifyEmail, resendEmailVerification, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const [code, setCode] = useState('');
  const [error, setError] = useState<TesseraError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, pending] = usePending();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    return pending(async () => {
      const result = await verifyEmail(code);
      if (!result.ok) return setError(result.error);
      // The code of a VERIFY_EMAIL flow signs in (mandatory verification): on to the account. Signed in already: done here.
      if (!isAuthenticated && result.authState?.isAuthenticated) navigate('/', { replace: true });
      else setNotice('Your email address is confirmed.');
    });
  };
  const resend = () => pending(async () => {
    setError(null);
    const result = await resendEmailVerification();
    if (!result.ok) return setError(result.error);
    setNotice('If there is anything to confirm, a new code is on its way.');
  });
  return (
    <Card title="Confirm your email address" narrow lead="We mailed you a code. It is valid for 15 minutes.">
      <ErrorMessage error={mailedCodeError(error)} />
      {notice && <Notice>{notice}</Notice>}
      <form onSubmit={submit}>
        <Field label="Code from the mail" name="code" autoComplete="one-time-code" required maxLength={16} spellCheck={false}
          autoCapitalize="characters" value={code} onChange={(e) => setCode(e.target.value)} />
        <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Confirm'}</button>
      </form>
      <p className="muted">No mail? <button type="button" className="link" onClick={resend} disabled={busy}>Send a new code</button></p>
    </Card>
  );
}

/** /account/compromised/:key: "this wasn't me" from a security notice; nothing happens before the button. */
export function CompromisedPage() {
  const { reportCompromise } = useAuth();
  const { key = '' } = useParams();
  const [error, setError] = useState<TesseraError | null>(null);
  const [report, setReport] = useState<{ suspendedFactorCount: number; emailRestored: boolean; assistedRecovery: boolean } | null>(null);
  const [busy, pending] = usePending();
  const confirm = () => pending(async () => {
    setError(null);
    const result = await reportCompromise(key);
    if (!result.ok) return setError(result.error);
    setReport(result);
  });
  if (report) {
    return (
      <Card title="Your account is secured" narrow>
        <Notice>Every session of your account was ended.</Notice>
        <ul>
          {report.emailRestored && <li>Your previous email address is the account's address again.</li>}
          {report.suspendedFactorCount > 0 && <li>The sign-in method that was added is suspended.</li>}
          <li>Reset your password before you sign in again.</li>
        </ul>
        {report.assistedRecovery
          ? <p>The suspended method was your account's only second factor, so the account is locked until our support team has confirmed who you are and restored a factor.</p>
          : null}
        <p><Link to="/password/reset">Reset your password</Link></p>
      </Card>
    );
  }
  return (
    <Card title="This wasn't me" narrow lead="Use this if the notice we mailed you describes something you did not do.">
      <ErrorMessage error={mailedCodeError(error)} />
      <p>Confirming will:</p>
      <ul>
        <li>end every session of your account, on every device,</li>
        <li>undo the change where it can (a replaced email address comes back, an added sign-in method is suspended),</li>
        <li>ask for a new password, set through your email, before the next sign-in.</li>
      </ul>
      <button type="button" onClick={confirm} disabled={busy}>{busy ? 'Securing…' : 'Secure my account'}</button>
    </Card>
  );
}
