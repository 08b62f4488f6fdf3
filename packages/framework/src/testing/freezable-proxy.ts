import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on loopback that can freeze: bytes stop flowing both ways while both
 * sockets stay open. To the server, a frozen client is one whose network died without a
 * FIN or a close frame, the case heartbeats exist for. It can also be pointed at another
 * port, as a load balancer moves clients to another node.
 */
export class FreezableProxy implements AsyncDisposable {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #frozen = false;
  #target = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<FreezableProxy> {
    const server = createServer();
    const proxy = new FreezableProxy(server);
    proxy.#target = targetPort;
    server.on('connection', (client) => proxy.#pipe(client, proxy.#target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Sends new connections to `port` from now on; open ones stay where they are. */
  retarget(port: number): void {
    this.#target = port;
  }

  /** Stops forwarding in both directions, without closing anything. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Resets every open connection (as a dropped network would), still accepting new ones. */
  cut(): void {
    for (const [a, b] of this.#pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  #pipe(client: Socket, targetPort: number) {
    const upstream = new (client.constructor as typeof Socket)();
    upstream.connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        if (!this.#frozen) to.write(chunk);
      });
      from.on('close', () => {
        this.#pairs.delete(pair);
        if (!this.#frozen) to.destroy();
      });
      from.on('error', () => undefined);
    };
    forward(client, upstream);
    forward(upstream, client);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
