import type { UserPresence } from '@streampod/protocol';

/** What every presence view has, whatever else it shows. */
export interface WatchView {
  readonly isLoading: boolean;
  readonly error: Error | null;
}

/** One `onPresence` call: its handler and where its errors go. */
export interface HandlerRegistration {
  readonly handler: (presence: UserPresence) => void;
  readonly onError: ((error: Error) => void) | undefined;
}

/** One handler throwing must not keep the others from hearing the change. */
export function safely(call: () => void): void {
  try {
    call();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * The handlers (`onPresence`) and listeners (hooks) of one shared presence subscription,
 * and the view they see: an id set's (`WatchedSet`) or a room's (`WatchedRoom`).
 */
export abstract class SharedWatch<TView extends WatchView, TRegistration extends HandlerRegistration> {
  readonly #handlers = new Set<TRegistration>();
  readonly #listeners = new Set<() => void>();
  #view: TView;

  protected constructor(initial: TView) {
    this.#view = initial;
  }

  get view(): TView {
    return this.#view;
  }

  get handlers(): ReadonlySet<TRegistration> {
    return this.#handlers;
  }

  /** The presences a handler that joins late is given first. */
  protected abstract current(): Iterable<UserPresence>;

  /**
   * Adds a handler. One that joins after the snapshot gets the current state (or the
   * error) on the next microtask, as if it had been there from the start.
   */
  addHandler(registration: TRegistration): void {
    this.#handlers.add(registration);
    if (this.#view.isLoading) return;
    queueMicrotask(() => {
      if (!this.#handlers.has(registration)) return;
      const { error } = this.#view;
      if (error !== null) registration.onError?.(error);
      else for (const presence of this.current()) safely(() => registration.handler(presence));
    });
  }

  removeHandler(registration: TRegistration): void {
    this.#handlers.delete(registration);
  }

  addListener(listener: () => void): () => void {
    // Wrapped so the same function subscribed twice counts twice, like two hooks would.
    const entry = () => listener();
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Calls `tell` for each handler still registered (one may remove another). */
  protected eachHandler(tell: (registration: TRegistration) => void): void {
    for (const registration of [...this.#handlers]) if (this.#handlers.has(registration)) tell(registration);
  }

  protected publish(view: TView): void {
    this.#view = Object.freeze(view);
    for (const listener of [...this.#listeners]) listener();
  }

  /** The subscription is over: the view keeps what it showed, with the error. */
  protected fail(error: Error): void {
    this.publish({ ...this.#view, isLoading: false, error });
    this.eachHandler((registration) => registration.onError?.(error));
  }
}
