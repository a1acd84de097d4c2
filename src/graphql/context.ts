// What every resolver knows about the request: who is calling (a session, a pending login, or nobody), the request
// facts the use cases take, and the cookies to set on the response.
import type { IncomingMessage } from 'node:http';
import type { App } from '../app.js';
import type { Caller } from '../application/caller.js';
import type { RequestFacts } from '../application/request.js';
import type { CookieInstruction, CookiePolicy } from '../http/cookies.js';

export type { Caller, SessionView, UserView, PendingLoginView } from '../application/caller.js';
export type { CookieInstruction } from '../http/cookies.js';

export interface GraphQLContext {
  /** The running service, handed to use cases (each takes the parts it names). */
  deps: App;
  /** Facts for the use cases: client address, user agent, the server-minted request id, the actor. */
  request: RequestFacts;
  caller: Caller;
  /** Cookies to set on the response (by base name); the server writes them after the operation. */
  cookies: CookieInstruction[];
  /** How cookies are named on the wire (`__Host-` over https) and read back. */
  cookiePolicy: CookiePolicy;
  /**
   * The request says `X-Tessera-Client: app`: an app that keeps its session token itself and sends it as a bearer. Only
   * such a client is handed secrets (session and ceremony tokens) in a response body; a browser gets them as HttpOnly
   * cookies alone, so no script on the page can read them.
   */
  isAppClient: boolean;
  /** The device the request comes from: its verified cookie or header, or a new one minted for it this request. */
  device: { id: string; token: string };
  /** The raw node request, for transport details (the WebAuthn ceremony cookie). */
  req: IncomingMessage | undefined;
  /** Aborted when the client goes away: ends a subscription that is waiting for the next event. */
  signal?: AbortSignal;
}
