/**
 * Receives the values published on a topic, told which: one handler can then serve many
 * topics (a closure per topic costs ~150 bytes, and an index may hold one per user).
 */
export type BusHandler<T> = (value: T, topic: string) => void;

/**
 * The one path every broadcast takes between producers and the nodes that hold
 * subscribers: in memory on one node, Redis across many. A topic is a string such as
 * `room:42`; a node subscribes to a topic only while it has local subscribers there.
 *
 * Delivery is at most once per node and per publish: each node hands a value to its own
 * handlers only. Across an outage it may be never, so consumers whose state must converge
 * listen to `onResync` and read what they may have missed from where it is stored.
 */
export interface FanoutBus {
  /**
   * Delivers `value` to every handler of `topic` on every node: this node's at once,
   * synchronously; the others' through the backend. Never throws: a value the backend
   * could not take is lost to other nodes, and they resync when it comes back.
   */
  publish<T>(topic: string, value: T): void;
  /**
   * Starts delivering `topic` to `handler`. Resolves once the subscription is live: every
   * value published after that reaches the handler. Resolves with the function that stops it.
   */
  subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void>;
  /**
   * Ends one live subscription of `handler` to `topic`, as its stop function would (nothing
   * when it has none). A subscription is ended by one or the other, never both: subscriptions
   * of one handler to one topic are alike, so a stop function called after `unsubscribe`
   * ended its subscription may end another. Optional: with it, an index that subscribes many
   * topics with one handler (`TopicIndex`) keeps no stop function per topic (~70 bytes each).
   * A bus that wraps handlers before passing them on (a test's delaying bus, say) must leave
   * it out: the bus underneath would not know the caller's handler.
   */
  unsubscribe?<T>(topic: string, handler: BusHandler<T>): void;
  /**
   * Calls `listener` each time values may have been lost (the backend came back after an
   * outage) and subscriptions are live again, with how long values may have gone missing
   * (an upper bound, in ms). Returns the function that stops listening.
   */
  onResync(listener: (lostForMs: number) => void): () => void;
  /** Topics this node is subscribed to (for leak checks). */
  readonly topicCount: number;
  close(): Promise<void>;
}
