/** A query or mutation: `await client.endpoint.method(input)`. Type-level description only. */
export interface CallProcedure<TKind extends 'query' | 'mutation', TInput, TOutput> {
  readonly kind: TKind;
  readonly input: TInput;
  readonly output: TOutput;
}

/** A subscription: events of type `TEvent`; `TTracked` events carry resumable ids. */
export interface StreamProcedure<TInput, TEvent, TTracked extends boolean> {
  readonly kind: 'subscription';
  readonly input: TInput;
  readonly event: TEvent;
  readonly tracked: TTracked;
}
