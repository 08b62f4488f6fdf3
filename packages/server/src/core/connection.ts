import { randomUUID } from 'node:crypto';
import type { StreamingSession } from './session.js';

/** The signed-in user behind a connection or request. */
export interface AuthenticatedUser {
  readonly id: number;
  readonly username: string;
}

/** A verified token: who, and until when (ms since epoch). */
export interface Credentials {
  readonly user: AuthenticatedUser;
  readonly expiresAt: number;
}

/** What a transport hands the core for one client. The core never sees `ws` itself. */
export interface TransportSocket {
  /** Sends one text frame. */
  send(frame: string): void;
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
}

export type TransportKind = 'ws' | 'http';

/**
 * One client: a WebSocket for as long as it lives, or a single HTTP request. Holds the
 * credentials it authenticated with and its open endpoint streams.
 */
export class Connection {
  readonly id = randomUUID();
  readonly openedAt = Date.now();
  /** Endpoint-level streams open on this connection, by endpoint name (one each). */
  readonly endpointStreams = new Map<string, StreamingSession<unknown, unknown>>();
  credentials: Credentials | null = null;
  readonly #settingUp = new Set<Promise<unknown>>();

  constructor(
    readonly transport: TransportKind,
    readonly remoteAddress: string | undefined,
    readonly socket: TransportSocket | null,
  ) {}

  /** The user, or null when unauthenticated or when the token has expired since. */
  get user(): AuthenticatedUser | null {
    const c = this.credentials;
    return c !== null && c.expiresAt > Date.now() ? c.user : null;
  }

  /** @internal the transport registers each subscription while it is being set up. */
  trackSetup(setup: Promise<unknown>): void {
    this.#settingUp.add(setup);
    void setup.finally(() => this.#settingUp.delete(setup));
  }

  /**
   * Resolves once every subscription being set up on this connection has opened or failed,
   * so a stream message sent right after subscribing finds its stream.
   */
  async setupsSettled(): Promise<void> {
    await Promise.allSettled([...this.#settingUp]);
  }

  /** The user the connection authenticated as, even after the token expired. */
  get owner(): AuthenticatedUser | null {
    return this.credentials?.user ?? null;
  }
}
