/** How values become JSON on the wire: tRPC's data transformer (superjson by default). */
export interface Serializer {
  serialize(value: unknown): unknown;
}

interface Forms {
  untracked?: string;
  tracked?: { dataJson: string; meta: string };
  /** What follows a subscriber's own head, as UTF-8: one copy for every subscriber (see `frameOrParts`). */
  untrackedBody?: Uint8Array;
  trackedBody?: Uint8Array;
  /**
   * Whole frames as UTF-8, by event id (`''` for none), then prefix: the same bytes for every
   * subscriber that shares both. Two lookups of strings the caller keeps (their hashes are
   * cached), rather than one of a key built per subscriber.
   */
  frames?: Map<string, Map<string, Uint8Array>>;
  cachedFrames?: number;
}

/**
 * Distinct frames kept per event. Stock clients number requests from 1, so one or two
 * prefixes cover nearly every subscriber, and streams in the same place share an event id;
 * where ids differ per subscriber, more would only churn a bigger cache.
 */
const MAX_CACHED_FRAMES = 16;

/**
 * One event on its way to subscribers. However many subscribers get it, its value is
 * serialized at most once per wire form; every frame reuses that string.
 */
export class OutgoingEvent<T = unknown> {
  // Nearly always one serializer per event: it is kept beside the map, so the common case
  // costs a comparison per subscriber rather than a WeakMap lookup.
  #serializer: Serializer | undefined;
  #serializerForms: Forms | undefined;
  #forms: WeakMap<Serializer, Forms> | undefined;

  /**
   * @param value the event
   * @param id its own tracked id, when it has one (e.g. a stored message id)
   * @param droppable a slow subscriber may lose it rather than be cut off (typing, presence):
   *   what is lost is worth less than the connection
   */
  constructor(
    readonly value: T,
    readonly id?: string,
    readonly droppable = false,
  ) {}

  /** The frame `data` of an untracked event: the transformer's output as JSON. */
  untrackedData(serializer: Serializer): string {
    const forms = this.#formsOf(serializer);
    return (forms.untracked ??= JSON.stringify(serializer.serialize(this.value)) ?? 'null');
  }

  /**
   * The frame `data` of a tracked event, `{ json: { id, data }, meta }`, which is what
   * tRPC's `tracked(id, data)` puts on the wire with superjson. The value part is
   * serialized once; only the id is spliced in per call, so one event can carry a
   * different id per subscriber.
   */
  trackedData(serializer: Serializer, eventId: string): string {
    const forms = this.#formsOf(serializer);
    if (forms.tracked === undefined) {
      const serialized = serializer.serialize({ id: '', data: this.value }) as { json?: unknown; meta?: unknown };
      if (typeof serialized !== 'object' || serialized === null || !('json' in serialized)) {
        // A transformer that is not superjson-shaped: no splicing, the whole thing per id.
        return JSON.stringify(serializer.serialize({ id: eventId, data: this.value })) ?? 'null';
      }
      const data = (serialized.json as { data: unknown }).data;
      forms.tracked = {
        dataJson: JSON.stringify(data) ?? 'null',
        meta: serialized.meta === undefined ? '' : `,"meta":${JSON.stringify(serialized.meta)}`,
      };
    }
    const id = JSON.stringify(eventId);
    return `{"json":{"id":${id},"data":${forms.tracked.dataJson}}${forms.tracked.meta}}`;
  }

  /**
   * The whole frame of this event for one subscription, as UTF-8: `prefix` is the frame up
   * to the result's fields (it names the subscription), `eventId` its tracked id. Subscribers
   * that share both share the bytes, so an event going to thousands of sockets is
   * serialized once and encoded once.
   */
  frame(serializer: Serializer, prefix: string, eventId: string | undefined): Uint8Array {
    const forms = this.#formsOf(serializer);
    const byPrefix = forms.frames?.get(eventId ?? '');
    const cached = byPrefix?.get(prefix);
    if (cached !== undefined) return cached;
    const text =
      eventId === undefined
        ? `${prefix},"data":${this.untrackedData(serializer)}}}`
        : `${prefix},"id":${JSON.stringify(eventId)},"data":${this.trackedData(serializer, eventId)}}}`;
    const bytes = Buffer.from(text, 'utf8');
    if ((forms.cachedFrames ?? 0) < MAX_CACHED_FRAMES) {
      forms.cachedFrames = (forms.cachedFrames ?? 0) + 1;
      if (byPrefix !== undefined) byPrefix.set(prefix, bytes);
      else (forms.frames ??= new Map()).set(eventId ?? '', new Map([[prefix, bytes]]));
    }
    return bytes;
  }

  /**
   * The frame of this event for one subscription, as `frame` gives it when it is cached (or
   * can be), else split in two: the subscriber's own head (its request id and the event id)
   * and the body every subscriber shares, sent as one message in two fragments. Subscribers
   * with distinct request ids beyond the cache then hold a few bytes each, not a copy of
   * the event: what keeps slow readers' queues from multiplying memory.
   */
  frameOrParts(
    serializer: Serializer,
    prefix: string,
    eventId: string | undefined,
  ): Uint8Array | { head: string; body: Uint8Array } {
    const forms = this.#formsOf(serializer);
    // The hot path: one lookup, the frame every subscriber of this prefix shares.
    const cached = forms.frames?.get(eventId ?? '')?.get(prefix);
    if (cached !== undefined) return cached;
    if ((forms.cachedFrames ?? 0) < MAX_CACHED_FRAMES) return this.frame(serializer, prefix, eventId);
    if (eventId === undefined) {
      forms.untrackedBody ??= Buffer.from(`${this.untrackedData(serializer)}}}`, 'utf8');
      return { head: `${prefix},"data":`, body: forms.untrackedBody };
    }
    this.trackedData(serializer, eventId);
    const tracked = forms.tracked;
    // A transformer whose output cannot be spliced: whole frames, one per subscriber.
    if (tracked === undefined) return this.frame(serializer, prefix, eventId);
    forms.trackedBody ??= Buffer.from(`${tracked.dataJson}}${tracked.meta}}}}`, 'utf8');
    const id = JSON.stringify(eventId);
    return { head: `${prefix},"id":${id},"data":{"json":{"id":${id},"data":`, body: forms.trackedBody };
  }

  #formsOf(serializer: Serializer): Forms {
    if (serializer === this.#serializer) return this.#serializerForms!;
    if (this.#serializer === undefined) {
      this.#serializer = serializer;
      return (this.#serializerForms = {});
    }
    this.#forms ??= new WeakMap();
    let forms = this.#forms.get(serializer);
    if (forms === undefined) this.#forms.set(serializer, (forms = {}));
    return forms;
  }
}
