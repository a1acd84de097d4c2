// The load generator's HTTP client (bench/loadThread.ts): one kept-alive HTTP/1.1 connection, one request at a time,
// each request written as one prepared buffer and its answer read by its length. A load generator is measuring
// equipment, and on a two-core machine every cycle it spends is taken from the service it measures: node:http's client
// (request objects, header validation, the agent's queue, streams) cost 0.25 ms of CPU per request on the load
// generator's thread, an eighth of what the MFA step itself costs the service; this one costs a fraction of that, as
// wrk or k6 would. It checks what it needs (the status, the whole body) and nothing of the service is skipped: the
// requests are the same bytes a client sends, over a TCP connection to the running server.
import net from 'node:net';

export interface HttpAnswer {
  status: number;
  text: string;
}

const HEADERS_END = Buffer.from('\r\n\r\n');

/** A POST's bytes, head and body, ready to write on a connection to `url`. */
export function postBytes(url: string, headers: Record<string, string>, body: string): Buffer {
  const { host, pathname, search } = new URL(url);
  const bodyBytes = Buffer.from(body);
  const lines = [`POST ${pathname}${search} HTTP/1.1`, `host: ${host}`, `content-length: ${bodyBytes.length}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), bodyBytes]);
}

export class HttpConnection {
  private received: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (answer: HttpAnswer) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.settle();
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      this.waiting?.reject(this.failure);
      this.waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  static open(url: string): Promise<HttpConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port), noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new HttpConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes a request (postBytes) and waits for its whole answer. */
  request(bytes: Buffer): Promise<HttpAnswer> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('one request at a time on a connection'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** Answers the waiting request once its whole answer is here (a Content-Length body, or a chunked one). */
  private settle(): void {
    const data = this.received;
    const headEnd = data.indexOf(HEADERS_END);
    if (headEnd < 0 || !this.waiting) return;
    const head = data.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body: Buffer;
    let end: number;
    if (length) {
      end = headEnd + 4 + Number(length[1]);
      if (data.length < end) return;
      body = data.subarray(headEnd + 4, end);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const chunks: Buffer[] = [];
      let at = headEnd + 4;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(data.toString('latin1', at, lineEnd), 16);
        if (data.length < lineEnd + 2 + size + 2) return;
        if (size === 0) { end = lineEnd + 4; break; }
        chunks.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(chunks);
    } else {
      this.waiting.reject(new Error(`an answer without a length: ${head}`));
      this.waiting = null;
      return;
    }
    this.received = data.subarray(end);
    const { resolve } = this.waiting;
    this.waiting = null;
    resolve({ status, text: body.toString('utf8') });
  }
}
