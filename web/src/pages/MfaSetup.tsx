// The MFA wizard: an authenticator app (QR code, the secret for typing in, then a code), or a security key or passkey.
// The first factor comes with recovery codes, shown here once with copy and download.
import type { TesseraError, WebAuthnError } from '@tessera/client';
import { useAuth } from '@tessera/react';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Card, ErrorMessage, Field, Notice, RecoveryCodes } from '../ui';

type TotpSetup = { totp_url: string; secret: string; qrCodeSvg: string };

/** The server's SVG as an image: a data: URL (allowed by the CSP's img-src) is never parsed into the page's DOM. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function MfaSetupPage() {
  const { setupTotp, activateTotp, registerWebAuthn, authenticators, flow, config } = useAuth();
  // Only the factors the server offers (MFA_SUPPORTED_TYPES); both until the config has loaded.
  const offersTotp = config?.mfa.supportedTypes.includes('TOTP') ?? true;
  const offersWebAuthn = config?.mfa.supportedTypes.includes('WEBAUTHN') ?? true;
  const [totp, setTotp] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState('');
  const [keyName, setKeyName] = useState('');
  const [error, setError] = useState<TesseraError | WebAuthnError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const hasTotp = authenticators.some((a) => a.type === 'TOTP');

  async function startTotp(): Promise<void> {
    setError(null);
    const { totp_url, secret, qrCodeSvg, error: failed } = await setupTotp();
    if (failed) return setError(failed);
    setTotp({ totp_url, secret, qrCodeSvg });
  }

  async function activate(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await activateTotp(code.trim());
    setBusy(false);
    if (!result.ok) return setError(result.error);
    setTotp(null);
    setCode('');
    setDone('Your authenticator app is set up.');
    if (result.recoveryCodes?.length) setCodes(result.recoveryCodes);
  }

  async function addKey(passwordless: boolean): Promise<void> {
    setError(null);
    const name = keyName.trim() || (passwordless ? 'Passkey' : 'Security key');
    const result = await registerWebAuthn({ name, passwordless });
    if (!result.ok) return setError(result.error);
    setKeyName('');
    setDone(passwordless ? `Passkey “${name}” added: you can now sign in with it alone.` : `Security key “${name}” added.`);
    if (result.recoveryCodes?.length) setCodes(result.recoveryCodes);
  }

  return (
    <Card title="Set up two-factor authentication" lead={flow?.id === 'mfa_enroll_required' ? 'Your account needs a second factor before you continue.' : 'Add a second factor so a stolen password is not enough.'}>
      <ErrorMessage error={error} />
      {done && <Notice>{done}</Notice>}
      {codes && <RecoveryCodes codes={codes} />}

      <div className="grid">
        {offersTotp && <section className="panel" aria-labelledby="totp-title">
          <h2 id="totp-title">Authenticator app</h2>
          {hasTotp && !totp && <p className="ok">An authenticator app is already set up.</p>}
          {!totp && !hasTotp && (
            <>
              <p>Use an app such as Aegis, Google Authenticator or 1Password to get a new 6-digit code every 30 seconds.</p>
              <button type="button" onClick={() => void startTotp()}>Set up an authenticator app</button>
            </>
          )}
          {totp && (
            <>
              <ol className="steps">
                <li>Scan this QR code with your authenticator app.</li>
                <li>Or type the secret in by hand.</li>
                <li>Enter the code the app shows.</li>
              </ol>
              <img className="qr" data-testid="totp-qr" src={svgDataUrl(totp.qrCodeSvg)} alt="QR code for your authenticator app; the same secret is written out below" width={220} height={220} />
              <p className="secret-label" id="secret-label">Secret for manual entry</p>
              <p><code className="secret" aria-labelledby="secret-label" data-testid="totp-secret">{totp.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
              <form onSubmit={activate}>
                <Field label="Code from the app" name="code" autoComplete="one-time-code" inputMode="numeric" pattern="[0-9]*" maxLength={6}
                  required value={code} onChange={(e) => setCode(e.target.value)} />
                <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Activate'}</button>
              </form>
            </>
          )}
        </section>}

        {offersWebAuthn && <section className="panel" aria-labelledby="key-title">
          <h2 id="key-title">Security key or passkey</h2>
          <p>A security key proves it is you after your password. A passkey can sign you in without one.</p>
          <Field label="Name (optional)" name="key-name" placeholder="e.g. YubiKey, this laptop" value={keyName} onChange={(e) => setKeyName(e.target.value)} />
          <div className="actions">
            <button type="button" onClick={() => void addKey(false)}>Add a security key</button>
            <button type="button" className="secondary" onClick={() => void addKey(true)}>Add a passkey</button>
          </div>
        </section>}
      </div>
      <p className="muted"><Link to="/">Continue to your account</Link> · <Link to="/settings/security">Security settings</Link></p>
    </Card>
  );
}
