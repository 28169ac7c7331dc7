/**
 * A TCP proxy on loopback for fault tests: each connection goes to the next upstream in turn (round robin), skipping
 * one that refuses it. `down()` resets every connection and refuses new ones (a process cut off from the network,
 * as seen from the other side) until `up()`.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port clients connect to. */
  address: string;
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * @example
 * const proxy = await startTcpProxy([{ host: '127.0.0.1', port: 4222 }]);
 * // connect to `nats://${proxy.address}` … await proxy.down();
 */
export async function startTcpProxy(upstreams: readonly { host: string; port: number }[]): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let next = 0;
  let port = 0;

  const open = (client: Socket, tried = 0) => {
    const target = upstreams[next++ % upstreams.length]!;
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (!connected && tried + 1 < upstreams.length) open(client, tried + 1);
      else client.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.on('close', () => upstream.destroy());
  };
  const handle = (client: Socket) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => sockets.delete(client));
    open(client);
  };
  let server: Server = createServer(handle);
  const listen = (on: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(on, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  await listen(0);
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) {
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    }
    sockets.clear();
    await closed;
  };
  return {
    get address() {
      return `127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    down: cut,
    async up() {
      server = createServer(handle);
      await listen(port);
    },
    stop: cut,
  };
}
