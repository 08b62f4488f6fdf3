/** A message on the bus: its value, and its serialized form, made at most once. */
export type BusHandler<T> = (value: T) => void;

/**
 * The one path every broadcast takes between producers and the nodes that hold
 * subscribers: in memory on one node, Redis across many. A topic is a string such as
 * `presence:42`; a node subscribes to the topics its local subscribers need.
 */
export interface FanoutBus {
  /** Delivers `value` to every handler of `topic`, on every node. */
  publish<T>(topic: string, value: T): void;
  /** Starts delivering `topic` here; returns the function that stops it. */
  subscribe<T>(topic: string, handler: BusHandler<T>): () => void;
  close(): Promise<void>;
}
