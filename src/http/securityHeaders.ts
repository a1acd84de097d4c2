// The security headers every response carries (issue 12), set before any route runs so that health probes, refusals
// (404, 411, 413), static files, GraphiQL and GraphQL answers all get them. This file owns the Content-Security-Policy
// of every page the server sends, the reference web app's included.
import type http from 'node:http';
import helmet from 'helmet';

export interface SecurityHeadersOptions {
  /** PUBLIC_ORIGIN: HSTS and upgrade-insecure-requests only make sense when users reach us over https. */
  publicOrigin: string;
}

export interface SecurityHeaders {
  /** Every response, before any route runs. */
  all(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** The GraphiQL page only: the same policy, with inline styles allowed (see below). */
  graphiqlPage(req: http.IncomingMessage, res: http.ServerResponse): void;
}

/**
 * Same origin only, no inline script and no inline style: a script injected into a page cannot run, and nothing is
 * fetched from a third party, so a compromised CDN cannot run code beside the session cookie.
 */
export function contentSecurityPolicy(https: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'worker-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/**
 * WebAuthn is the one powerful feature we use, and only our own origin may call it (an embedded third-party frame
 * may not); the rest are switched off because an authentication server never needs them.
 */
export const permissionsPolicy = [
  'publickey-credentials-get=(self)',
  'publickey-credentials-create=(self)',
  'camera=()',
  'microphone=()',
  'geolocation=()',
  'payment=()',
  'usb=()',
].join(', ');

/** helmet's middlewares are synchronous: they set the headers and call next before returning. */
function synchronous(middleware: (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => middleware(req, res, (error) => {
    if (error) throw error;
  });
}

export function createSecurityHeaders(options: SecurityHeadersOptions): SecurityHeaders {
  const https = new URL(options.publicOrigin).protocol === 'https:';
  const directives = contentSecurityPolicy(https);
  const all = synchronous(helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    referrerPolicy: { policy: 'no-referrer' },
    // frame-ancestors 'none' for current browsers, X-Frame-Options for old ones: no clickjacking of a login form.
    xFrameOptions: { action: 'deny' },
    // Sent over plain http it would be ignored anyway (RFC 6797 §8.1), and on localhost it would pin the browser to
    // https for every other development server on that host.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  }));
  // GraphiQL's editor (Monaco) writes <style> elements and style attributes at run time (hundreds of violations
  // otherwise, checked in test/e2e/graphiql.browser.test.ts). A style cannot run code, and the page exists only
  // outside production, so that page alone gets 'unsafe-inline' for styles; scripts stay 'self' there too.
  const graphiqlPage = synchronous(helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: { ...directives, 'style-src': ["'self'", "'unsafe-inline'"] },
  }));
  return {
    all(req, res) {
      all(req, res);
      res.setHeader('permissions-policy', permissionsPolicy);
    },
    graphiqlPage,
  };
}
