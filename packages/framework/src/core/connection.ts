import { randomUUID } from 'node:crypto';

/** What a user must have for the framework: an id (connections are indexed by it). */
export interface UserLike {
  readonly id: string | number;
}

/** A verified token: who, and until when (ms since epoch). */
export interface Credentials<TUser extends UserLike = UserLike> {
  readonly user: TUser;
  readonly expiresAt: number;
  /** The token's own id, so that signing one token out closes its connections only. */
  readonly tokenId?: string;
}

/** What a transport hands the core for one client. The core never sees `ws` itself. */
export interface TransportSocket {
  /** Sends one text frame: a string, or its UTF-8 bytes (encoded once for many sockets). Ignored once closed. */
  send(frame: string | Uint8Array): void;
  /**
   * Sends one text message in two fragments: `head`, then `body` (bytes shared by many
   * sockets). Transports without it get the two joined.
   */
  sendParts?(head: string, body: Uint8Array): void;
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
  /** Bytes queued for this client and not yet written to the network. */
  readonly bufferedBytes: number;
}

export type TransportKind = 'ws' | 'http';

/**
 * A fresh UUID as one flat string. Node's `randomUUID` joins it from 16 pieces, and the rope
 * it returns is ~490 bytes for as long as it is kept (a connection's life); a flat copy is ~60.
 */
function flatUuid(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

/**
 * One client: a WebSocket for as long as it lives, or a single HTTP request. Holds the
 * credentials it authenticated with.
 */
export class Connection<TUser extends UserLike = UserLike> {
  readonly id = flatUuid();
  readonly openedAt = Date.now();
  credentials: Credentials<TUser> | null = null;
  /** Made when first needed: most connections are not setting a subscription up most of the time. */
  #settingUp: Set<Promise<unknown>> | undefined;

  constructor(
    readonly transport: TransportKind,
    readonly remoteAddress: string | undefined,
    readonly socket: TransportSocket | null,
  ) {}

  /** The user, or null when unauthenticated or when the token has expired since. */
  get user(): TUser | null {
    const c = this.credentials;
    return c !== null && c.expiresAt > Date.now() ? c.user : null;
  }

  /** The user the connection authenticated as, even after the token expired. */
  get owner(): TUser | null {
    return this.credentials?.user ?? null;
  }

  /** @internal the transport registers each subscription while it is being set up. */
  trackSetup(setup: Promise<unknown>): void {
    const settingUp = (this.#settingUp ??= new Set());
    settingUp.add(setup);
    void setup.finally(() => {
      settingUp.delete(setup);
      if (settingUp.size === 0 && this.#settingUp === settingUp) this.#settingUp = undefined;
    });
  }

  /**
   * Resolves once every subscription being set up on this connection has opened or failed,
   * so a stream message sent right after subscribing finds its stream.
   */
  async setupsSettled(): Promise<void> {
    if (this.#settingUp !== undefined) await Promise.allSettled([...this.#settingUp]);
  }
}
