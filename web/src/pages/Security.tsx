// Security settings: authenticators (rename, remove), recovery codes (view, regenerate), sessions (revoke, with their
// device), devices (trusted until, first and last seen, revoke trust), sign out everywhere, password and email.
// Changes the server guards with REAUTHENTICATION_REQUIRED send the person to /reauthenticate; the action is
// remembered (sessionStorage) and retried when they come back confirmed.
import type { TesseraError, WebAuthnError } from '@tessera/client';
import { useAuth, type Authenticator, type DeviceInfo, type SessionInfo } from '@tessera/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { Card, ErrorMessage, Field, formatDate, Notice, RecoveryCodes } from '../ui';

type Retry = { action: 'regenerate' } | { action: 'view-codes' } | { action: 'remove-key'; id: string } | { action: 'remove-totp' };
const retryKey = 'tessera.retry';

export function describeDevice(userAgent: string): string {
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome'
    : /Safari\//.test(userAgent) ? 'Safari' : /node|undici/i.test(userAgent) ? 'App' : 'Unknown browser';
  const os = /Windows/.test(userAgent) ? 'Windows' : /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS'
    : /Mac OS X/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

export function SecurityPage() {
  const auth = useAuth();
  const { authenticators, sessions, devices, refresh } = auth;
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<TesseraError | WebAuthnError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);

  // Fresh data on every visit; a session revoked elsewhere finds out here and is sent to /login.
  useEffect(() => { void refresh(); }, []); // eslint-disable-line react-hooks/exhaustive-deps

  async function guarded(retry: Retry, run: () => Promise<{ ok: boolean; error: TesseraError | WebAuthnError | null }>, done?: string): Promise<boolean> {
    setError(null);
    setNotice(null);
    sessionStorage.setItem(retryKey, JSON.stringify(retry));
    const result = await run();
    if (result.ok) {
      sessionStorage.removeItem(retryKey);
      if (done) setNotice(done);
      return true;
    }
    if (result.error?.code === 'REAUTHENTICATION_REQUIRED') {
      navigate(`/reauthenticate?next=${encodeURIComponent('/settings/security')}`);
      return false;
    }
    sessionStorage.removeItem(retryKey);
    setError(result.error);
    return false;
  }

  const actions = {
    regenerate: () => guarded({ action: 'regenerate' }, async () => {
      const result = await auth.regenerateRecoveryCodes();
      if (result.ok) setCodes(result.codes);
      return result;
    }, 'New recovery codes were made. The old ones no longer work.'),
    viewCodes: () => guarded({ action: 'view-codes' }, async () => {
      const result = await auth.recoveryCodes();
      if (result.ok) setCodes(result.codes);
      return result;
    }),
    removeKey: (id: string) => guarded({ action: 'remove-key', id }, () => auth.removeWebAuthn([id]), 'The key was removed.'),
    removeTotp: () => guarded({ action: 'remove-totp' }, () => auth.deactivateTotp(), 'The authenticator app was removed.'),
  };

  async function revoke(id: string): Promise<void> {
    setError(null);
    setNotice(null);
    const result = await auth.revokeSessions([id]);
    if (!result.ok) return setError(result.error);
    setNotice('The session was signed out.');
  }

  async function revokeTrust(device: DeviceInfo): Promise<void> {
    setError(null);
    setNotice(null);
    const result = await auth.revokeDeviceTrust([device.id]);
    if (!result.ok) return setError(result.error);
    setNotice(`${device.name} is no longer trusted: signing in there asks for your second factor again.`);
  }

  // Back from /reauthenticate: finish what was asked for.
  useEffect(() => {
    const saved = sessionStorage.getItem(retryKey);
    if (!saved || !(location.state as { reauthenticated?: boolean } | null)?.reauthenticated) return;
    sessionStorage.removeItem(retryKey);
    navigate(location.pathname, { replace: true, state: null });
    const retry = JSON.parse(saved) as Retry;
    if (retry.action === 'regenerate') void actions.regenerate();
    else if (retry.action === 'view-codes') void actions.viewCodes();
    else if (retry.action === 'remove-key') void actions.removeKey(retry.id);
    else if (retry.action === 'remove-totp') void actions.removeTotp();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const totp = authenticators.find((a) => a.type === 'TOTP');
  const keys = authenticators.filter((a): a is Extract<Authenticator, { __typename: 'WebAuthnAuthenticator' }> => a.__typename === 'WebAuthnAuthenticator');
  const recovery = authenticators.find((a): a is Extract<Authenticator, { __typename: 'RecoveryCodesAuthenticator' }> => a.__typename === 'RecoveryCodesAuthenticator');

  return (
    <Card title="Security">
      <ErrorMessage error={error} />
      {notice && <Notice>{notice}</Notice>}

      <section aria-labelledby="authenticators-title" className="section">
        <div className="section-head">
          <h2 id="authenticators-title">Authenticators</h2>
          <Link className="button secondary small" to="/mfa/setup">Add</Link>
        </div>
        {!totp && keys.length === 0 && <p className="muted">No second factor yet.</p>}
        <ul className="rows">
          {totp && (
            <li className="row">
              <div><strong>Authenticator app</strong><br /><span className="muted">Added {formatDate(totp.createdAt)} · last used {formatDate(totp.lastUsedAt)}</span></div>
              <button type="button" className="danger small" onClick={() => void actions.removeTotp()}>Remove<span className="sr-only"> authenticator app</span></button>
            </li>
          )}
          {keys.map((key) => <KeyRow key={key.id} authenticator={key} onRemove={() => void actions.removeKey(key.id)} onError={setError} />)}
        </ul>
      </section>

      <section aria-labelledby="recovery-title-section" className="section">
        <h2 id="recovery-title-section">Recovery codes</h2>
        {recovery ? (
          <p data-testid="recovery-unused"><strong>{recovery.unusedCodeCount}</strong> of {recovery.totalCodeCount} codes unused.</p>
        ) : <p className="muted">Recovery codes come with your first second factor.</p>}
        {recovery && (
          <div className="actions">
            <button type="button" className="secondary" onClick={() => void actions.viewCodes()}>View codes</button>
            <button type="button" className="secondary" onClick={() => void actions.regenerate()}>Regenerate codes</button>
          </div>
        )}
        {codes && <RecoveryCodes codes={codes} />}
      </section>

      <section aria-labelledby="sessions-title" className="section">
        <h2 id="sessions-title">Sessions</h2>
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Device</th><th scope="col">Address</th><th scope="col">Last seen</th><th scope="col">Level</th><th scope="col"><span className="sr-only">Action</span></th></tr></thead>
            <tbody>
              {sessions.map((s) => <SessionRow key={s.id} session={s} onRevoke={() => void revoke(s.id)} />)}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="devices-title" className="section">
        <h2 id="devices-title">Devices</h2>
        <p className="muted">Browsers and apps you have signed in on. A trusted device skips the second step of a password sign-in until its trust ends.</p>
        {devices.length === 0 ? <p className="muted">No devices yet.</p> : (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">Device</th><th scope="col">Trusted until</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col"><span className="sr-only">Action</span></th></tr></thead>
              <tbody>
                {devices.map((d) => <DeviceRow key={d.id} device={d} onRevokeTrust={() => void revokeTrust(d)} />)}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <SignOutEverywhere onError={setError} />

      <PasswordForm onDone={setNotice} />
      <EmailForm current={auth.user?.email ?? ''} onDone={setNotice} />
    </Card>
  );
}

function KeyRow(props: { authenticator: { id: string; name: string; isPasswordless: boolean; createdAt: string; lastUsedAt?: string | null }; onRemove(): void; onError(e: TesseraError): void }) {
  const { renameWebAuthn } = useAuth();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(props.authenticator.name);
  const a = props.authenticator;
  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    const result = await renameWebAuthn(a.id, name.trim());
    if (!result.ok) return props.onError(result.error);
    setEditing(false);
  }
  return (
    <li className="row">
      {editing ? (
        <form className="inline" onSubmit={save}>
          <Field label={`New name for ${a.name}`} name="name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="small">Save</button>
          <button type="button" className="link" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : (
        <>
          <div><strong>{a.name}</strong> <span className="badge">{a.isPasswordless ? 'Passkey' : 'Security key'}</span><br />
            <span className="muted">Added {formatDate(a.createdAt)} · last used {formatDate(a.lastUsedAt)}</span></div>
          <div className="actions">
            <button type="button" className="secondary small" onClick={() => setEditing(true)}>Rename<span className="sr-only"> {a.name}</span></button>
            <button type="button" className="danger small" onClick={props.onRemove}>Remove<span className="sr-only"> {a.name}</span></button>
          </div>
        </>
      )}
    </li>
  );
}

function SessionRow(props: { session: SessionInfo; onRevoke(): void }) {
  const s = props.session;
  return (
    <tr data-testid="session-row">
      <td>{s.device?.name ?? describeDevice(s.userAgent)}{s.isCurrent && <span className="badge badge-ok">This session</span>}</td>
      <td>{s.ip}</td>
      <td>{formatDate(s.lastSeenAt)}</td>
      <td>AAL{s.aal}</td>
      <td>{!s.isCurrent && <button type="button" className="danger small" onClick={props.onRevoke}>Revoke<span className="sr-only"> session from {s.ip}</span></button>}</td>
    </tr>
  );
}

function DeviceRow(props: { device: DeviceInfo; onRevokeTrust(): void }) {
  const d = props.device;
  return (
    <tr data-testid="device-row">
      <td>{d.name}{d.current && <span className="badge badge-ok">This device</span>}</td>
      <td className="trust" data-testid="device-trust">{d.trusted ? <><span className="badge badge-ok">Trusted</span> {formatDate(d.trustedUntil)}</> : <span className="muted">Not trusted</span>}</td>
      <td>{formatDate(d.firstSeenAt)}</td>
      <td>{formatDate(d.lastSeenAt)}</td>
      <td>{d.trusted && <button type="button" className="danger small" onClick={props.onRevokeTrust}>Revoke trust<span className="sr-only"> in {d.name}{d.current ? ' (this device)' : ''}</span></button>}</td>
    </tr>
  );
}

/** Ends every session, this one too, and all device trust: asked twice, since it signs this browser out as well. */
function SignOutEverywhere(props: { onError(error: TesseraError): void }) {
  const { signOutEverywhere } = useAuth();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  async function confirm(): Promise<void> {
    setBusy(true);
    const result = await signOutEverywhere();
    setBusy(false);
    if (!result.ok) {
      setConfirming(false);
      return props.onError(result.error);
    }
    navigate('/login', { replace: true });
  }
  return (
    <section aria-labelledby="everywhere-title" className="section">
      <h2 id="everywhere-title">Sign out everywhere</h2>
      <p className="muted">Ends every session of your account, this one included, and the trust of every device. Use it if a device was lost or someone else may know your password.</p>
      {confirming ? (
        <div className="callout" role="group" aria-labelledby="everywhere-confirm">
          <p id="everywhere-confirm"><strong>Sign out of every device, this one too?</strong></p>
          <div className="actions">
            <button type="button" className="danger" disabled={busy} autoFocus onClick={() => void confirm()}>Yes, sign out everywhere</button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
          </div>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>Sign out everywhere</button>
      )}
    </section>
  );
}

function PasswordForm(props: { onDone(message: string): void }) {
  const { changePassword, user } = useAuth();
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<TesseraError | null>(null);
  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setError(null);
    const result = await changePassword(current, next);
    if (!result.ok) {
      if (result.error.code === 'REAUTHENTICATION_REQUIRED') return void navigate('/reauthenticate?next=%2Fsettings%2Fsecurity');
      return setError(result.error);
    }
    setCurrent('');
    setNext('');
    props.onDone(`Password changed. ${result.endedSessionCount} other session(s) were signed out.`);
  }
  return (
    <section aria-labelledby="password-title" className="section">
      <h2 id="password-title">Password</h2>
      <ErrorMessage error={error} />
      <form onSubmit={submit} className="inline-form">
        <input type="email" name="username" autoComplete="username" value={user?.email ?? ''} readOnly hidden />
        <Field label="Current password" type="password" name="current-password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <Field label="New password" type="password" name="new-password" autoComplete="new-password" required minLength={8} value={next} onChange={(e) => setNext(e.target.value)} />
        <button type="submit" className="secondary">Change password</button>
      </form>
    </section>
  );
}

function EmailForm(props: { current: string; onDone(message: string): void }) {
  const { changeEmail } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [error, setError] = useState<TesseraError | null>(null);
  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setError(null);
    const result = await changeEmail(email);
    if (!result.ok) {
      if (result.error.code === 'REAUTHENTICATION_REQUIRED') return void navigate('/reauthenticate?next=%2Fsettings%2Fsecurity');
      return setError(result.error);
    }
    setEmail('');
    props.onDone(`Your email is now ${result.email}.`);
  }
  return (
    <section aria-labelledby="email-title" className="section">
      <h2 id="email-title">Email</h2>
      <p className="muted">Currently {props.current}</p>
      <ErrorMessage error={error} />
      <form onSubmit={submit} className="inline-form">
        <Field label="New email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" className="secondary">Change email</button>
      </form>
    </section>
  );
}
