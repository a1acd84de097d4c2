// Small building blocks shared by the pages: a labelled field, an announced error, a page frame.
import { useEffect, useId, useRef, type InputHTMLAttributes, type ReactNode } from 'react';
import type { TesseraError, WebAuthnError } from '@tessera/client';

export function Field(props: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const { label, hint, ...input } = props;
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && <p className="hint" id={`${id}-hint`}>{hint}</p>}
    </div>
  );
}

const messages: Partial<Record<string, string>> = {
  INVALID_CREDENTIALS: 'That email and password do not match an account.',
  INVALID_CODE: 'That code is not right. Check the time on your device and try again.',
  CODE_REPLAYED: 'That code was already used. Wait for the next one.',
  RATE_LIMITED: 'Too many attempts. Wait a little and try again.',
  ACCOUNT_LOCKED: 'This account is locked for now after too many failed attempts.',
  EMAIL_TAKEN: 'That email cannot be used for a new account.',
  WEAK_PASSWORD: 'Choose a longer, less common password.',
  FLOW_EXPIRED: 'This sign-in took too long. Start again.',
  NOT_AUTHENTICATED: 'Your session has ended. Sign in again.',
  WEBAUTHN_CANCELLED: 'The security key request was cancelled.',
  WEBAUTHN_UNSUPPORTED: 'This browser cannot use security keys or passkeys here.',
  WEBAUTHN_VERIFICATION_FAILED: 'The security key could not be verified.',
  NETWORK_ERROR: 'The server could not be reached. Check your connection.',
  INVALID_KEY: 'This link is not valid any more: it has expired or was already used.',
  PASSWORD_RESET_REQUIRED: 'Reset your password through your email before you sign in again.',
  FACTOR_SUSPENDED: 'This sign-in method is suspended. Use another one.',
};

export function describeError(error: TesseraError | WebAuthnError): string {
  const retry = 'retryAfterSeconds' in error && error.retryAfterSeconds ? ` (try again in ${error.retryAfterSeconds} s)` : '';
  return (messages[error.code] ?? error.message) + retry;
}

/** An error announced to screen readers as it appears (role=alert), and focused so keyboard users land on it. */
export function ErrorMessage(props: { error: TesseraError | WebAuthnError | string | null }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => { if (props.error) ref.current?.focus(); }, [props.error]);
  if (!props.error) return <div role="alert" className="sr-only" />;
  return (
    <div role="alert" className="alert alert-error" tabIndex={-1} ref={ref}>
      {typeof props.error === 'string' ? props.error : describeError(props.error)}
    </div>
  );
}

export function Notice(props: { children: ReactNode }) {
  return <div role="status" aria-live="polite" className="alert alert-info">{props.children}</div>;
}

export function Card(props: { title: string; children: ReactNode; narrow?: boolean; lead?: ReactNode }) {
  useEffect(() => { document.title = `${props.title} · Tessera`; }, [props.title]);
  return (
    <section className={props.narrow ? 'card card-narrow' : 'card'} aria-labelledby="page-title">
      <h1 id="page-title">{props.title}</h1>
      {props.lead && <p className="lead">{props.lead}</p>}
      {props.children}
    </section>
  );
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return 'never';
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Recovery codes shown once, with copy and download. */
export function RecoveryCodes(props: { codes: string[] }) {
  const text = props.codes.join('\n');
  const href = `data:text/plain;charset=utf-8,${encodeURIComponent(`Tessera recovery codes\n\n${text}\n`)}`;
  return (
    <div className="recovery" aria-labelledby="recovery-title">
      <h2 id="recovery-title">Your recovery codes</h2>
      <p>Each code signs you in once if you lose your authenticator. Keep them somewhere safe: they are shown only now.</p>
      <ul className="codes" data-testid="recovery-codes">
        {props.codes.map((code) => <li key={code}><code>{code}</code></li>)}
      </ul>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(text)}>Copy codes</button>
        <a className="button secondary" href={href} download="tessera-recovery-codes.txt">Download codes</a>
      </div>
    </div>
  );
}
