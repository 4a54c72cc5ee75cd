/**
 * The typed client: one function per method of the definitions, named after
 * it without the `pos_` prefix (`pos_getBlock` is `client.getBlock(height)`),
 * with the method's params as arguments and its result type, both derived
 * from the definition (docs/PROTOCOL.md 10.1), never written twice.
 *
 * Results are typed as the definitions say a node answers, and are not
 * checked here: a caller that trusts its node uses them as they are; one
 * that does not (the thin wallet, docs/PROTOCOL.md 11) checks every field
 * it uses against its trust anchor.
 *
 * @module
 */
import type { ApiError } from './errors.js';
import type { BatchEntry, Transport } from './interface.js';
import type { MethodArgs, MethodResult } from './method.js';
import { METHODS, type MethodName, type Methods } from './methods/index.js';
import { DISCOVER_METHOD, type OpenRpcDocument } from './openrpc.js';

/** The client's name of a method: without its `pos_` prefix. */
export type ClientMethodName<K extends string> = K extends `pos_${infer R}` ? R : never;

/** The method name of each client function: `getBlock` → `pos_getBlock`. */
export type MethodOfClient = { readonly [K in MethodName as ClientMethodName<K>]: K };
/** The name of a client function. */
export type ClientName = keyof MethodOfClient;

/** The client function of method `K`. */
export type ClientMethod<K extends MethodName> = (
  ...args: MethodArgs<Methods[K]>
) => Promise<MethodResult<Methods[K]>>;

/** Every method as a function, plus batches and discovery. */
export type ApiClient = {
  readonly [K in MethodName as ClientMethodName<K>]: ClientMethod<K>;
} & {
  /**
   * Calls the method of client function `name` once per entry of `calls` in one batch request; each
   * result, or the {@link ApiError} of that call, in order.
   */
  batch<C extends ClientName>(
    name: C,
    calls: readonly MethodArgs<Methods[MethodOfClient[C]]>[],
  ): Promise<BatchEntry<MethodResult<Methods[MethodOfClient[C]]>>[]>;
  /** The node's OpenRPC document (`rpc.discover`). */
  discover(): Promise<OpenRpcDocument>;
  /** The transport the client calls through. */
  readonly transport: Transport;
};

/** Params as sent: trailing absent arguments are left out, not sent as `null`. */
function paramsOf(args: readonly unknown[]): unknown[] {
  const out = [...args];
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out;
}

/** Creates the typed client over `transport`. */
export function createApiClient(transport: Transport): ApiClient {
  const fns: Record<string, unknown> = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    fns[name.slice('pos_'.length)] = (...args: unknown[]) =>
      transport.request(name, paramsOf(args));
  }
  return {
    ...(fns as { [K in MethodName as ClientMethodName<K>]: ClientMethod<K> }),
    async batch(name, calls) {
      const method = `pos_${name}`;
      const out = await transport.batch(
        calls.map((args) => ({ method, params: paramsOf(args as readonly unknown[]) })),
      );
      return out as BatchEntry<never>[];
    },
    discover: () => transport.request(DISCOVER_METHOD, []) as Promise<OpenRpcDocument>,
    transport,
  };
}
