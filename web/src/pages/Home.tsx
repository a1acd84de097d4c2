import { useAuth } from '@tessera/react';
import { Link } from 'react-router';
import { Card, formatDate } from '../ui';

const methodNames: Record<string, string> = {
  password: 'Password', totp: 'Authenticator app', recovery_codes: 'Recovery code', webauthn: 'Security key', passkey: 'Passkey',
  trust: 'Trusted device',
};

export function HomePage() {
  const { user, session, authenticators } = useAuth();
  const aal = session?.aal ?? 1;
  const hasSecondFactor = authenticators.some((a) => a.type !== 'RECOVERY_CODES');
  return (
    <Card title="Your account" lead={<>Signed in as <strong>{user?.email}</strong></>}>
      <dl className="facts">
        <div>
          <dt>Assurance level</dt>
          <dd><span className={aal >= 2 ? 'badge badge-ok' : 'badge badge-warn'} data-testid="aal">AAL{aal}</span>{' '}
            {aal >= 2 ? 'Signed in with two factors.' : 'Signed in with one factor.'}</dd>
        </div>
        <div>
          <dt>How you signed in</dt>
          <dd>
            <ul className="methods" data-testid="methods">
              {session?.methods.map((m, i) => (
                <li key={i}>{methodNames[m.method] ?? m.method}{m.type && m.type !== m.method ? ` (${m.type})` : ''} <span className="muted">· {formatDate(m.at)}</span></li>
              ))}
            </ul>
          </dd>
        </div>
      </dl>
      {!hasSecondFactor && (
        <div className="callout">
          <p><strong>Protect your account.</strong> Add an authenticator app, a security key or a passkey.</p>
          <Link className="button" to="/mfa/setup">Set up two-factor authentication</Link>
        </div>
      )}
      <p><Link to="/settings/security">Manage authenticators, recovery codes and sessions</Link></p>
    </Card>
  );
}
