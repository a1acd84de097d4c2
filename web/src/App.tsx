// Routes and guards. A protected page sends an anonymous visitor to /login (remembering where they were going), a
// pending login to its step (/mfa/verify, or /mfa/setup when the server insists on a second factor first), and a
// session the server wants reauthenticated to /reauthenticate.
import { TesseraProvider, useAuth } from '@tessera/react';
import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Link, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import { HomePage } from './pages/Home';
import { LoginPage } from './pages/Login';
import { MfaSetupPage } from './pages/MfaSetup';
import { MfaVerifyPage } from './pages/MfaVerify';
import { ReauthenticatePage } from './pages/Reauthenticate';
import { SecurityPage } from './pages/Security';
import { SignupPage } from './pages/Signup';
import { CompromisedPage, PasswordResetKeyPage, PasswordResetPage, VerifyEmailPage } from './pages/Recovery';

// The charts (recharts) load only when an analyst opens the page: they stay out of the initial JavaScript.
const AnalyticsPage = lazy(async () => ({ default: (await import('./pages/Analytics')).AnalyticsPage }));

export function App() {
  return (
    <TesseraProvider>
      <BrowserRouter>
        <Layout>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/signup" element={<SignupPage />} />
            <Route path="/mfa/verify" element={<MfaVerifyPage />} />
            <Route path="/password/reset" element={<PasswordResetPage />} />
            <Route path="/password/reset/key/:key" element={<PasswordResetKeyPage />} />
            <Route path="/email/verify" element={<VerifyEmailPage />} />
            <Route path="/account/compromised/:key" element={<CompromisedPage />} />
            <Route path="/mfa/setup" element={<Protected allowEnrollment><MfaSetupPage /></Protected>} />
            <Route path="/reauthenticate" element={<Protected allowReauthentication><ReauthenticatePage /></Protected>} />
            <Route path="/settings/security" element={<Protected><SecurityPage /></Protected>} />
            <Route path="/analytics" element={<Protected><Suspense fallback={<p className="loading" role="status">Loading…</p>}><AnalyticsPage /></Suspense></Protected>} />
            <Route path="/" element={<Protected><HomePage /></Protected>} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Layout>
      </BrowserRouter>
    </TesseraProvider>
  );
}

function Layout(props: { children: ReactNode }) {
  const { isAuthenticated, user, logout } = useAuth();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Tessera home">
          <span className="brand-mark" aria-hidden="true">◆</span> Tessera
        </Link>
        {isAuthenticated && (
          <nav aria-label="Account">
            <NavLink to="/" end>Overview</NavLink>
            <NavLink to="/settings/security">Security</NavLink>
            {user?.roles.includes('analyst') && <NavLink to="/analytics">Analytics</NavLink>}
            <span className="who" title={user?.email}>{user?.email}</span>
            <button type="button" className="link" onClick={async () => { await logout(); navigate('/login'); }}>Log out</button>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>{props.children}</main>
    </>
  );
}

function Protected(props: { children: ReactNode; allowEnrollment?: boolean; allowReauthentication?: boolean }) {
  const { status, flow } = useAuth();
  const location = useLocation();
  const here = location.pathname + location.search;
  if (status.kind === 'unknown') return <p className="loading" role="status">Loading…</p>;
  if (status.kind === 'anonymous') return <Navigate to={`/login?next=${encodeURIComponent(here)}`} replace />;
  if (flow?.id === 'mfa_authenticate') return <Navigate to="/mfa/verify" replace />;
  if (flow?.id === 'verify_email') return <Navigate to="/email/verify" replace />;
  if (flow?.id === 'mfa_enroll_required' && !props.allowEnrollment) return <Navigate to="/mfa/setup" replace />;
  if (flow?.id === 'reauthenticate' && !props.allowReauthentication) {
    return <Navigate to={`/reauthenticate?next=${encodeURIComponent(here)}`} state={location.state} replace />;
  }
  return <>{props.children}</>;
}

function NotFound() {
  return (
    <section className="card card-narrow" aria-labelledby="page-title">
      <h1 id="page-title">Page not found</h1>
      <p><Link to="/">Go to the overview</Link></p>
    </section>
  );
}

/** Where to go after signing in: the page the visitor wanted, if it is one of ours. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}
