// What every resolver knows about the request: who is calling (a session, a pending login, or nobody), from where.
import type { IncomingMessage } from 'node:http';
import type { App } from '../app.js';
import type { EventMetadata } from '../eventstore/index.js';

export interface SessionView {
  id: string;
  userId: string;
  aal: 1 | 2;
  methods: Array<{ method: string; at: string; type?: string | null }>;
  ip: string;
  userAgent: string;
  createdAt: Date;
  lastSeenAt: Date;
  lastActivityRecordedAt: Date;
  reauthenticatedAt: Date | null;
  /** Limited to setting up a factor (an admin past the MFA grace period). */
  enrollOnly: boolean;
}

export interface UserView {
  id: string;
  email: string;
  roles: string[];
  createdAt: Date;
}

export interface PendingLoginView {
  flowId: string;
  userId: string;
  stage: 'MFA_AUTHENTICATE';
  types: string[];
  expiresAt: Date;
}

export type AuthContext =
  | { kind: 'anonymous' }
  | { kind: 'pending'; token: string; flow: PendingLoginView }
  | { kind: 'session'; token: string; session: SessionView; user: UserView };

export interface CookieInstruction {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

export interface GraphQLContext {
  app: App;
  requestId: string;
  ip: string;
  userAgent: string;
  /** Whether the credentials came from a cookie (browser) or a bearer header (app client). */
  transport: 'cookie' | 'bearer' | 'none';
  auth: AuthContext;
  /** Cookies to set on the response; the server writes them after the operation. */
  cookies: CookieInstruction[];
  metadata(actor?: string): EventMetadata;
  /** The raw node request, for transport details. */
  req: IncomingMessage | undefined;
}
