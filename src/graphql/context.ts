// What every resolver knows about the request: who is calling (a session, a pending login, or nobody), the request
// facts the use cases take, and the cookies to set on the response.
import type { IncomingMessage } from 'node:http';
import type { App } from '../app.js';
import type { Caller } from '../application/caller.js';
import type { RequestFacts } from '../application/request.js';

export type { Caller, SessionView, UserView, PendingLoginView } from '../application/caller.js';

export interface CookieInstruction {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

export interface GraphQLContext {
  /** The running service, handed to use cases (each takes the parts it names). */
  deps: App;
  /** Facts for the use cases: client address, user agent, the server-minted request id, the actor. */
  request: RequestFacts;
  caller: Caller;
  /** Cookies to set on the response; the server writes them after the operation. */
  cookies: CookieInstruction[];
  /** The raw node request, for transport details (the WebAuthn ceremony cookie). */
  req: IncomingMessage | undefined;
  /** Aborted when the client goes away: ends a subscription that is waiting for the next event. */
  signal?: AbortSignal;
}
