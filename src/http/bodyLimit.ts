// MAX_REQUEST_BYTES at the edge: a body too large (413) or of unknown size (411) is refused before anything reads it,
// and the refusal is one the client can read (a lingering close).
import type http from 'node:http';
import type { Socket } from 'node:net';

/** How much of a refused body, and for how long, the server reads and throws away before it closes the connection. */
export interface BodyLinger {
  maxBytes: number;
  maxMs: number;
}

export const defaultBodyLinger: BodyLinger = { maxBytes: 8 * 1024 * 1024, maxMs: 5000 };

export interface BodyLimit {
  /** True when the request may go on; otherwise the refusal has been answered. */
  admits(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** Cuts every connection still lingering after a refusal: a shutdown does not wait for a client's trickle. */
  destroyLingering(): void;
}

/**
 * Refuses a body larger than `maxBytes` before a byte of it is parsed, by its Content-Length (413). A POST without one
 * (a chunked body of unknown size) is refused with 411: counting its bytes would mean reading it first.
 *
 * The close lingers, as reverse proxies do it. The refusal is written at once, but the response is ended (and with it
 * the connection closed) only once the client has finished sending: closing a socket with unread bytes makes the
 * kernel answer with a reset, which can reach a client that is still sending before it has read the 413 (EPIPE or
 * ECONNRESET, "fetch failed" instead of a status). What arrives meanwhile is thrown away, and only up to a bound in
 * bytes and in time; beyond either the socket is destroyed, so a refused body never costs more than that.
 */
export function createBodyLimit(maxBytes: number, bound: BodyLinger = defaultBodyLinger): BodyLimit {
  const lingering = new Set<Socket>();

  function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string): false {
    const body = JSON.stringify({ errors: [{ message }] });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.write(body);
    const socket = req.socket;
    lingering.add(socket);
    const cutOff = (): void => { socket.destroy(); };
    const timer = setTimeout(cutOff, bound.maxMs);
    let discarded = 0;
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > bound.maxBytes) cutOff();
    });
    // The whole body is in: ending the response now closes a connection with nothing left unread.
    req.once('end', () => res.end());
    socket.once('close', () => {
      clearTimeout(timer);
      lingering.delete(socket);
    });
    return false;
  }

  return {
    admits(req, res) {
      const declared = req.headers['content-length'];
      if (declared === undefined) return refuse(req, res, 411, 'Content-Length required');
      if (!/^\d+$/.test(declared) || Number(declared) > maxBytes) return refuse(req, res, 413, 'Request body too large');
      return true;
    },
    destroyLingering() {
      for (const socket of lingering) socket.destroy();
    },
  };
}
