import { z } from 'zod';
import type { AnyMethod, AnyStreamingEndpoint, EndpointMap, Schema } from './endpoint.js';
import { isMethod, isStreamingEndpoint, styleOf } from './endpoint.js';

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
  readonly requireLogin: boolean;
  /** Subscription events carry tracked ids (`{ id, data }` on the wire). */
  readonly tracked: boolean;
  readonly impl:
    | { readonly type: 'method'; readonly method: AnyMethod }
    | { readonly type: 'endpoint-stream'; readonly endpoint: AnyStreamingEndpoint }
    | { readonly type: 'endpoint-message'; readonly endpoint: AnyStreamingEndpoint };
}

const NAME = /^[a-z][A-Za-z0-9]*$/;

/** Lists every procedure of the registered endpoints, sorted by path. */
export function describeEndpoints(endpoints: EndpointMap): ProcedureDescriptor[] {
  const out: ProcedureDescriptor[] = [];
  for (const [endpointName, endpoint] of Object.entries(endpoints)) {
    if (!NAME.test(endpointName)) throw new Error(`endpoint name "${endpointName}" must be camelCase`);
    const base = { endpointName, requireLogin: endpoint.requireLogin };
    for (const [methodName, method] of Object.entries(endpoint)) {
      if (!isMethod(method)) continue;
      out.push({
        ...base,
        path: `${endpointName}.${methodName}`,
        methodName,
        kind: method.kind,
        input: method.input,
        output: method.output,
        description: method.description,
        tracked:
          method.kind === 'subscription' &&
          styleOf(method) === 'push' &&
          (method as { tracked?: boolean }).tracked === true,
        impl: { type: 'method', method },
      });
    }
    if (isStreamingEndpoint(endpoint)) {
      const spec = endpoint.streamSpec;
      for (const methodName of ['stream', 'sendStreamMessage']) {
        if (Object.hasOwn(endpoint, methodName))
          throw new Error(`${endpointName}.${methodName} is reserved for the endpoint stream`);
      }
      out.push(
        {
          ...base,
          path: `${endpointName}.stream`,
          methodName: 'stream',
          kind: 'subscription',
          input: spec.input,
          output: spec.event,
          description: spec.description,
          tracked: spec.tracked ?? false,
          impl: { type: 'endpoint-stream', endpoint },
        },
        {
          ...base,
          path: `${endpointName}.sendStreamMessage`,
          methodName: 'sendStreamMessage',
          kind: 'mutation',
          input: spec.message,
          output: undefinedOutput,
          description: `Sends a message on this connection's open \`${endpointName}.stream\`.`,
          tracked: false,
          impl: { type: 'endpoint-message', endpoint },
        },
      );
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Output of calls that return nothing. */
const undefinedOutput: Schema = z.void();
