import { transformer } from '@streampod/protocol';

/**
 * One event on its way to subscribers. However many subscribers get it, its value is
 * serialized at most once (per form); every frame reuses that string.
 */
export class OutgoingEvent<T = unknown> {
  #untracked: string | undefined;
  #tracked: { dataJson: string; meta: string } | undefined;

  /** @param id the event's own tracked id, when it has one (e.g. a stored message id) */
  constructor(
    readonly value: T,
    readonly id?: string,
  ) {}

  /** The frame `data` of an untracked event: superjson's `{ json, meta }` as JSON. */
  get untrackedData(): string {
    return (this.#untracked ??= JSON.stringify(transformer.serialize(this.value)));
  }

  /**
   * The frame `data` of a tracked event, `{ json: { id, data }, meta }`, which is what
   * tRPC's `tracked(id, data)` puts on the wire. The value part is serialized once; only
   * the id is spliced in per call, so one event can carry a different id per subscriber.
   */
  trackedData(eventId: string): string {
    if (this.#tracked === undefined) {
      const { json, meta } = transformer.serialize({ id: '', data: this.value });
      const data = (json as { data: unknown }).data;
      this.#tracked = {
        dataJson: JSON.stringify(data) ?? 'null',
        meta: meta === undefined ? '' : `,"meta":${JSON.stringify(meta)}`,
      };
    }
    const id = JSON.stringify(eventId);
    return `{"json":{"id":${id},"data":${this.#tracked.dataJson}}${this.#tracked.meta}}`;
  }
}
