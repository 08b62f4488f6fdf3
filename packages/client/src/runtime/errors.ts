import { jitteredBackoff, type BackoffOptions } from './backoff.js';

/** Refusals another attempt cannot change: only the user can (sign in, edit, join the room). */
const FINAL_CODES = new Set(['BAD_REQUEST', 'FORBIDDEN', 'UNAUTHORIZED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']);

/** The tRPC error code of a failed call or stream, or `''`. */
export function codeOf(error: Error): string {
  const code = (error as { data?: { code?: unknown } }).data?.code;
  return typeof code === 'string' ? code : '';
}

/** Whether retrying the same request is pointless. */
export function isFinal(error: Error): boolean {
  return FINAL_CODES.has(codeOf(error));
}

/**
 * A call refused by the client itself: it already has `limit` calls waiting for answers (the
 * server is slow or away). Its `data.code` is `TOO_MANY_REQUESTS`, so retry policies treat it
 * as passing.
 */
export class PendingCallsFullError extends Error {
  readonly data = { code: 'TOO_MANY_REQUESTS' } as const;
  constructor(readonly limit: number) {
    super(`${limit} calls are already waiting for the server: try again once some are answered`);
    this.name = 'PendingCallsFullError';
  }
}

export function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

export interface RetryOptions {
  /** @default 10 */
  maxRetries?: number;
  /** @default { initialDelayMs: 250, maxDelayMs: 10_000 } */
  backoff?: BackoffOptions;
}

/**
 * The retry policy of something long-lived (a stream a view depends on): a passing failure
 * is retried after a jittered backoff, up to `maxRetries` in a row; a final one (see
 * `isFinal`) never is. `succeeded()` starts the count over.
 */
export class Retrier {
  readonly #maxRetries: number;
  readonly #delay: (attempt: number) => number;
  #retries = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: RetryOptions = {}) {
    this.#maxRetries = opts.maxRetries ?? 10;
    this.#delay = jitteredBackoff(opts.backoff ?? { initialDelayMs: 250, maxDelayMs: 10_000 });
  }

  /** A retry is waiting. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Schedules `attempt` after the next delay, unless `error` is final or the retries are
   * used up: then it returns false and the caller reports the error.
   */
  retry(error: Error, attempt: () => void): boolean {
    if (isFinal(error) || this.#retries >= this.#maxRetries) return false;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      attempt();
    }, this.#delay(this.#retries++));
    return true;
  }

  /** It worked: the next failure starts from the first delay again. */
  succeeded(): void {
    this.cancel();
    this.#retries = 0;
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
