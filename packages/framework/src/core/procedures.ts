import { z } from 'zod';
import type { AnyCallMethod, AnyEndpointStream, AnySubscriptionMethod, EndpointMap, Schema } from './endpoint.js';
import { methodKindOf } from './endpoint.js';

export type ProcedureKind = 'query' | 'mutation' | 'subscription';

/** One procedure of the compiled API: what the router, the code generator and the contract snapshot all read. */
export interface ProcedureDescriptor {
  /** `endpoint.method`, the tRPC path. */
  readonly path: string;
  readonly endpointName: string;
  readonly methodName: string;
  readonly kind: ProcedureKind;
  readonly input: Schema | undefined;
  /** For subscriptions, the schema of one event. */
  readonly output: Schema;
  readonly description: string | undefined;
  /** Callable without signing in. */
  readonly public: boolean;
  /** Subscription events carry tracked ids (`{ id, data }` on the wire). */
  readonly tracked: boolean;
  readonly impl:
    | { readonly type: 'call'; readonly method: AnyCallMethod }
    | { readonly type: 'subscription'; readonly method: AnySubscriptionMethod }
    | { readonly type: 'endpoint-stream'; readonly stream: AnyEndpointStream }
    | { readonly type: 'endpoint-message'; readonly stream: AnyEndpointStream };
}

const NAME = /^[a-z][A-Za-z0-9]*$/;

/** Lists every procedure of the registered endpoints, sorted by path. */
export function describeEndpoints(endpoints: EndpointMap): ProcedureDescriptor[] {
  const out: ProcedureDescriptor[] = [];
  for (const [endpointName, endpoint] of Object.entries(endpoints)) {
    if (!NAME.test(endpointName)) throw new Error(`endpoint name "${endpointName}" must be camelCase`);
    for (const [methodName, value] of Object.entries(endpoint)) {
      const kind = methodKindOf(value);
      if (kind === undefined) continue;
      const path = `${endpointName}.${methodName}`;
      if (kind === 'endpoint-stream') {
        out.push(...endpointStreamProcedures({ endpointName, methodName, stream: value as AnyEndpointStream }));
        continue;
      }
      if (methodName === 'sendStreamMessage') {
        throw new Error(`${path}: the name is the endpoint stream's; call this method something else`);
      }
      const method = value as AnyCallMethod | AnySubscriptionMethod;
      out.push({
        path,
        endpointName,
        methodName,
        kind: method.kind,
        input: method.input,
        output: method.output,
        description: method.description,
        public: method.public,
        tracked: method.kind === 'subscription' && method.tracked,
        impl: method.kind === 'subscription' ? { type: 'subscription', method } : { type: 'call', method },
      });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function endpointStreamProcedures(opts: {
  endpointName: string;
  methodName: string;
  stream: AnyEndpointStream;
}): ProcedureDescriptor[] {
  const { endpointName, methodName, stream } = opts;
  if (methodName !== 'stream') {
    throw new Error(`${endpointName}.${methodName}: declare the endpoint stream as the field \`stream\``);
  }
  const base = { endpointName, public: stream.public };
  const procedures: ProcedureDescriptor[] = [
    {
      ...base,
      path: `${endpointName}.stream`,
      methodName: 'stream',
      kind: 'subscription',
      input: stream.input,
      output: stream.event,
      description: stream.description,
      tracked: stream.tracked,
      impl: { type: 'endpoint-stream', stream },
    },
  ];
  if (stream.message !== undefined) {
    procedures.push({
      ...base,
      path: `${endpointName}.sendStreamMessage`,
      methodName: 'sendStreamMessage',
      kind: 'mutation',
      input: stream.message,
      output: undefinedOutput,
      description: stream.messageDescription ?? `Sends a message to this connection's \`${endpointName}.stream\`.`,
      tracked: false,
      impl: { type: 'endpoint-message', stream },
    });
  }
  return procedures;
}

/** Output of calls that return nothing. */
const undefinedOutput: Schema = z.void();
