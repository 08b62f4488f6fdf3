import { WebSocket, type RawData } from 'ws';
import { Recorder } from './recorder.js';

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** A bare WebSocket speaking tRPC's wire protocol by hand, for tests where the wire is the subject. */
export class RawWsClient implements AsyncDisposable {
  readonly frames = new Recorder<string>();
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(textOf(data));
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Opens a socket; with `token`, sends it as tRPC connectionParams first. */
  static async connect(
    wsUrl: string,
    token?: string,
    /** `localAddress`: the source address (127.0.0.x on loopback), to be another client host. */
    options: { origin?: string; perMessageDeflate?: boolean; localAddress?: string } = {},
  ): Promise<RawWsClient> {
    const url = token === undefined ? wsUrl : `${wsUrl}${wsUrl.includes('?') ? '&' : '?'}connectionParams=1`;
    const ws = new WebSocket(url, {
      perMessageDeflate: options.perMessageDeflate ?? false,
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const client = new RawWsClient(ws);
    if (token !== undefined) client.send({ method: 'connectionParams', data: { token } });
    return client;
  }

  /** The extensions the server agreed to (e.g. `permessage-deflate`), or `''`. */
  get extensions(): string {
    return this.#ws.extensions;
  }

  send(message: unknown): void {
    this.#ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendBinary(bytes: Uint8Array): void {
    this.#ws.send(bytes, { binary: true });
  }

  /** The parsed frames answering request `id`. */
  framesFor(id: number | string | null): unknown[] {
    return this.frames.entries.map((f) => JSON.parse(f) as { id?: unknown }).filter((f) => f.id === id);
  }

  /** Resolves with the parsed frame of request `id` once `n` frames for it have arrived: the nth. */
  async frame(id: number | string | null, n = 1): Promise<unknown> {
    await this.frames.until(() => this.framesFor(id).length >= n);
    return this.framesFor(id)[n - 1];
  }

  close(): void {
    this.#ws.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // terminate, not close: after a frozen network the close handshake would never finish.
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.terminate();
    await this.closed;
  }
}
