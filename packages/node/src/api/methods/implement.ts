/**
 * Binds a handler to its definition in `@pos/api`: the params are decoded by
 * the definition's decoder (so the rules and `Invalid params: …` texts are the
 * contract's), and the handler's result must be of the definition's type.
 *
 * @module
 */
import type { AnyMethodDef, MethodParams, MethodResult } from '@pos/api';
import { type AnyRpcMethod, defineRpcMethod } from '../dispatcher.js';

/** A handler of method `M`: its decoded params in, its result type out. */
export type Handler<M extends AnyMethodDef> = (
  params: MethodParams<M>,
) => MethodResult<M> | Promise<MethodResult<M>>;

/** The dispatcher's method of definition `def`, served by `handler`. */
export function implement<M extends AnyMethodDef>(def: M, handler: Handler<M>): AnyRpcMethod {
  return defineRpcMethod({ params: def.decode as (raw: unknown) => MethodParams<M>, handler });
}
