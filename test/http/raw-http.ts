/**
 * HTTP/1.1 over a bare TCP socket (node:net): the bytes on the wire are exactly what the test writes, so a
 * test controls the request line, the Host header (or its absence) and how much of a body is ever sent.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { until } from '../support/until.ts';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawConnection {
  write(data: string | Uint8Array): void;
  /** Writes and waits until the data is handed to the kernel; false once the connection is closed. */
  send(data: string | Uint8Array): Promise<boolean>;
  /** The first complete response on this connection. */
  response(): Promise<RawResponse>;
  /** True once the server has closed its side of the connection. */
  closed(): boolean;
  /** Waits (bounded) until the server has closed the connection; throws if it does not. */
  waitClosed(what?: string): Promise<void>;
  destroy(): void;
}

function parseResponse(raw: Buffer): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = raw.subarray(end + 4);
  if (body.length < length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') };
}

export interface RawOptions {
  /** TLS, the server's certificate not checked (a test server's own). */
  tls?: boolean;
}

/** Opens a connection to 127.0.0.1:`port`; nothing is sent until `write`. */
export function rawConnect(port: number, options: RawOptions = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let isClosed = false;
    const waiting: (() => void)[] = [];
    const wake = () => waiting.splice(0).forEach((callback) => callback());
    socket.on('data', (data) => {
      received = Buffer.concat([received, data as Buffer]);
      wake();
    });
    // A reset after the server answered and closed is expected when the test was still writing a body.
    socket.on('error', () => {});
    socket.on('close', () => {
      isClosed = true;
      wake();
    });
    socket.once(options.tls ? 'secureConnect' : 'connect', () =>
      resolve({
        write: (data) => {
          if (!socket.destroyed) socket.write(data);
        },
        send: (data) =>
          new Promise((done) => {
            if (socket.destroyed || isClosed) return done(false);
            socket.write(data, (error) => done(!error));
          }),
        response: () =>
          new Promise((done, fail) => {
            const check = () => {
              const parsed = parseResponse(received);
              if (parsed) return done(parsed);
              if (isClosed) return fail(new Error(`connection closed without a complete response: ${JSON.stringify(received.toString('latin1').slice(0, 200))}`));
              waiting.push(check);
            };
            check();
          }),
        closed: () => isClosed,
        waitClosed: (what = 'the server to close the connection') => until(() => isClosed, what),
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** Sends `text` on a fresh connection and returns the response; the connection is closed afterwards. */
export async function rawExchange(port: number, text: string | Uint8Array, options: RawOptions = {}): Promise<RawResponse> {
  const connection = await rawConnect(port, options);
  try {
    connection.write(text);
    return await connection.response();
  } finally {
    connection.destroy();
  }
}

/** A request head (request line, headers, blank line) with CRLF line ends, exactly as given. */
export function head(requestLine: string, headers: Record<string, string | number>): string {
  return `${requestLine}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

/** What a sender that writes its whole request before reading anything gets. */
export interface WholeSend {
  /** True when every byte was handed to the kernel without the connection being reset or closed first. */
  written: boolean;
  /** The answer read once the write was over (or after it failed, as some clients try); absent when none came. */
  response?: RawResponse;
}

/**
 * Writes `request` whole and only then reads the answer, as most HTTP clients send a body (curl, GitHub's
 * deliveries): a server that closes while the body is still arriving makes the write fail (EPIPE, a reset),
 * which such a client reports instead of any status.
 */
export async function sendWholeThenRead(port: number, request: Uint8Array): Promise<WholeSend> {
  const connection = await rawConnect(port);
  try {
    const written = await connection.send(request);
    const response = await connection.response().catch(() => undefined);
    return { written, ...(response ? { response } : {}) };
  } finally {
    connection.destroy();
  }
}
