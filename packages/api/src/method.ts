/**
 * The shape of one method's definition: everything the server, the typed
 * client and the OpenRPC document need to know about it, in one value.
 *
 * @module
 */
import { RPC_ERROR_CODES, type RpcErrorName } from './errors.js';
import { type AnyParam, type ArgsOf, type DecodedParams, decodeParams } from './params.js';
import type { JsonSchema } from './schema.js';

/** An error a method can answer (docs/PROTOCOL.md 10.1's table), for the OpenRPC document. */
export interface ErrorDef {
  readonly code: number;
  /** When the method answers it. */
  readonly message: string;
}

/** An error of `name` (its code from {@link RPC_ERROR_CODES}) answered when `message`. */
export function errorDef(name: RpcErrorName, message: string): ErrorDef {
  return { code: RPC_ERROR_CODES[name], message };
}

/** The result of a method: its name and JSON Schema; `R` is its TypeScript type. */
export interface ResultDef<R> {
  readonly name: string;
  readonly schema: JsonSchema;
  /** Phantom: never set; carries `R`. */
  readonly type?: R;
}

/** A method's result: `R` is given, the rest is data. */
export function result<R>(name: string, schema: JsonSchema): ResultDef<R> {
  return { name, schema };
}

/**
 * One JSON-RPC method. `N` is its name, `Ps` its params in order, `D` what
 * its decoder gives the handler and `R` its result's type.
 */
export interface MethodDef<N extends string, Ps extends readonly AnyParam[], D, R> {
  readonly name: N;
  readonly summary: string;
  readonly description?: string;
  /** `either` (default: by position or by name) or `by-position` (subscriptions). */
  readonly paramStructure: 'either' | 'by-position';
  readonly params: Ps;
  /** The raw `params` member (`undefined` when absent) to typed values; throws -32602. */
  readonly decode: (raw: unknown) => D;
  readonly result: ResultDef<R>;
  /** Errors beyond -32602 (any bad param) and -32603 (any unexpected failure). */
  readonly errors: readonly ErrorDef[];
}

/** A method of any types, as tables of methods hold them. */
// biome-ignore lint/suspicious/noExplicitAny: each method has its own types.
export type AnyMethodDef = MethodDef<string, readonly AnyParam[], any, any>;

/** The client's arguments of a method: its params' JSON types, in order. */
export type MethodArgs<M> =
  M extends MethodDef<string, infer Ps, unknown, unknown> ? ArgsOf<Ps> : never;
/** What a method's decoder gives its handler. */
export type MethodParams<M> =
  M extends MethodDef<string, readonly AnyParam[], infer D, unknown> ? D : never;
/** A method's result type. */
export type MethodResult<M> =
  M extends MethodDef<string, readonly AnyParam[], unknown, infer R> ? R : never;

/** What {@link defineMethod} takes. */
export interface MethodSpec<N extends string, Ps extends readonly AnyParam[], D, R> {
  readonly name: N;
  readonly summary: string;
  readonly description?: string;
  readonly params: Ps;
  readonly result: ResultDef<R>;
  readonly errors?: readonly ErrorDef[];
  /**
   * Checks across params and fills defaults, after each param is decoded
   * (e.g. `pos_getDag`'s range); throws -32602. Default: the decoded params.
   */
  readonly check?: (p: DecodedParams<Ps>) => D;
}

/** Defines a method whose params are decoded by {@link decodeParams}. */
export function defineMethod<
  N extends string,
  const Ps extends readonly AnyParam[],
  R,
  D = DecodedParams<Ps>,
>(spec: MethodSpec<N, Ps, D, R>): MethodDef<N, Ps, D, R> {
  const check = spec.check ?? ((p: DecodedParams<Ps>) => p as unknown as D);
  return {
    name: spec.name,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    paramStructure: 'either',
    params: spec.params,
    decode: (raw) => check(decodeParams(raw, spec.params)),
    result: spec.result,
    errors: spec.errors ?? [],
  };
}
