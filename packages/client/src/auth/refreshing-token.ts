import type { AuthResult } from '@streampod/protocol';

/** What `RefreshingToken` calls: the client's `auth.refresh`. */
export interface RefreshClient {
  readonly auth: { refresh(input: { refreshToken: string }): Promise<AuthResult> };
  /** Opens a new connection, re-reading the token. */
  reconnect?(): void;
}

export interface RefreshingTokenOptions {
  /** Each new pair of tokens: keep `refreshToken` (it is good once) where the app keeps sign-ins. */
  onChange?: (result: AuthResult) => void;
  /** The sign-in ended (signed out, used elsewhere, expired): sign in again. */
  onEnded?: (error: unknown) => void;
  /** After a failed refresh that may pass (the network), the next try comes this much later. @default 2_000 */
  retryMs?: number;
}

/**
 * How long a token lives, from its own `iat` and `exp` (both the server's clock), so that a
 * device whose clock is off still refreshes in time; `undefined` when it does not say.
 */
function lifetimeMs(token: string): number | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const { iat, exp } = JSON.parse(json) as { iat?: unknown; exp?: unknown };
    return typeof iat === 'number' && typeof exp === 'number' && exp > iat ? (exp - iat) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The shortest wait before a refresh, so that nothing can make it loop. */
const MIN_DELAY_MS = 1_000;

/** `UNAUTHORIZED`: the refresh token will never work again. Anything else may be the network. */
function isFinal(error: unknown): boolean {
  const data = (error as { data?: { code?: unknown } } | null)?.data;
  return data?.code === 'UNAUTHORIZED';
}

/**
 * Keeps a sign-in made with `refresh: true` signed in. It is the client's `token` (read at each
 * connect) and, once attached to that client, refreshes the access token before it expires
 * (with a quarter of its life, at most a minute, to spare) over the client's own connection,
 * so an open WebSocket takes the new token and its streams go on. One refresh runs at a time:
 * a refresh token is good once, and a second use would end the sign-in.
 *
 * ```ts
 * const signedIn = await anonymous.auth.login({ username, password, refresh: true });
 * const session = new RefreshingToken(signedIn, { onChange: (r) => save(r.refreshToken) });
 * const client = session.attach(createStreampodClient({ url, token: session.token }));
 * ```
 */
export class RefreshingToken {
  #current: AuthResult;
  /** When, by this device's clock, the current token lapses. */
  #lapsesAt: number;
  #client: RefreshClient | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<AuthResult> | undefined;
  #stopped = false;
  readonly #opts: RefreshingTokenOptions;

  constructor(signIn: AuthResult, opts: RefreshingTokenOptions = {}) {
    if (signIn.refreshToken === undefined) throw new Error('RefreshingToken: sign in with `refresh: true`');
    this.#current = signIn;
    this.#lapsesAt = RefreshingToken.#lapseOf(signIn);
    this.#opts = opts;
  }

  static #lapseOf(result: AuthResult): number {
    // `iat` counts whole seconds: up to one of the lifetime may already be gone.
    const fromToken = lifetimeMs(result.token);
    const lifetime =
      fromToken === undefined ? (result.expiresAt?.getTime() ?? Infinity) - Date.now() : fromToken - 1_000;
    return Date.now() + lifetime;
  }

  /** The current access token: pass this function as the client's `token`. */
  readonly token = (): string => this.#current.token;

  /** The last sign-in or refresh result. */
  get current(): AuthResult {
    return this.#current;
  }

  /** Refreshes through `client` from now on; returns it. */
  attach<C extends RefreshClient>(client: C): C {
    this.#client = client;
    this.#schedule();
    return client;
  }

  /** Refreshes now (or joins the refresh under way). Rejects when the sign-in has ended. */
  refresh(): Promise<AuthResult> {
    return (this.#running ??= this.#refresh().finally(() => (this.#running = undefined)));
  }

  /** Stops refreshing (signing out, say). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #refresh(): Promise<AuthResult> {
    const client = this.#client ?? fail('RefreshingToken: attach a client first');
    const refreshToken = this.#current.refreshToken!;
    clearTimeout(this.#timer);
    try {
      const next = await client.auth.refresh({ refreshToken });
      // Stopped meanwhile (signing out): the new tokens are not wanted.
      if (this.#stopped) return next;
      const lapsed = this.#lapsesAt <= Date.now();
      this.#current = next;
      this.#lapsesAt = RefreshingToken.#lapseOf(next);
      this.#opts.onChange?.(next);
      // Refreshed too late (the network was down): the WebSocket lost its user when the old
      // token expired, and only a new connection signs in with the new one.
      if (lapsed) client.reconnect?.();
      this.#schedule();
      return next;
    } catch (error) {
      if (this.#stopped) throw error;
      if (isFinal(error)) {
        this.stop();
        this.#opts.onEnded?.(error);
      } else {
        this.#schedule(this.#opts.retryMs ?? 2_000);
      }
      throw error;
    }
  }

  #schedule(inMs?: number): void {
    if (this.#stopped || this.#client === undefined) return;
    const left = this.#lapsesAt - Date.now();
    if (!Number.isFinite(left) && inMs === undefined) return;
    const delay = Math.max(MIN_DELAY_MS, inMs ?? left - Math.min(60_000, left / 4));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refresh().catch(() => undefined), delay);
    // A timer of its own must not keep a Node process alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }
}

function fail(message: string): never {
  throw new Error(message);
}
