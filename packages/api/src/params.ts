/**
 * Params: their definitions and the one decoder from positional-or-named
 * JSON to typed values (docs/PROTOCOL.md 10.1). Params come by position
 * (`[a, b]`) or by name (`{"a": …, "b": …}`): at most as many positional
 * params as the method names, no unknown names, trailing optional params may
 * be left out (or `null`, where the param says so). Every param is checked
 * before anything runs; a failure is -32602 with an `Invalid params: …`
 * message ({@link invalidParams}), the same text the node always answered.
 *
 * @module
 */
import { fromHex } from '@pos/protocol';
import { invalidParams } from './errors.js';
import { HASH32, type JsonSchema, UINT } from './schema.js';

/**
 * One param of a method: its name, whether it is required, its JSON Schema,
 * and its decoder. `J` is its JSON type (what a client sends), `D` its
 * decoded type (what a handler gets).
 */
export interface ParamDef<N extends string = string, J = unknown, D = unknown> {
  readonly name: N;
  readonly required: boolean;
  readonly summary: string;
  readonly schema: JsonSchema;
  /** An absent optional param may also be sent as `null` (docs/PROTOCOL.md 10.1). */
  readonly nullIsAbsent: boolean;
  /** The typed value of a present JSON value; throws {@link invalidParams}. */
  readonly decode: (v: unknown) => D;
  /** Phantom: never set; carries `J` for the typed client. */
  readonly json?: J;
}

/** A param of any name and types, as method definitions list them. */
// biome-ignore lint/suspicious/noExplicitAny: each param has its own types.
export type AnyParam = ParamDef<string, any, any>;

/** The JSON type of a param. */
export type JsonOf<P> = P extends ParamDef<string, infer J, unknown> ? J : never;
/** The decoded type of a param. */
export type DecodedOf<P> = P extends ParamDef<string, unknown, infer D> ? D : never;

/** A required param: marks `required: true` in the type too. */
export type Required<P extends AnyParam> = P & { readonly required: true };
/** An optional param. */
export type Optional<P extends AnyParam> = P & { readonly required: false };

/**
 * The client's argument tuple of a param list: required params first, then
 * the optional ones, each optional in the tuple.
 */
export type ArgsOf<Ps extends readonly AnyParam[]> = Ps extends readonly [
  infer H extends AnyParam,
  ...infer T extends readonly AnyParam[],
]
  ? H extends { readonly required: true }
    ? [JsonOf<H>, ...ArgsOf<T>]
    : [(JsonOf<H> | null)?, ...ArgsOf<T>]
  : [];

/** The handler's typed params of a param list: an object by name, optional ones maybe `undefined`. */
export type DecodedParams<Ps extends readonly AnyParam[]> = {
  readonly [P in Ps[number] as P['name']]: P extends { readonly required: true }
    ? DecodedOf<P>
    : DecodedOf<P> | undefined;
};

/** Makes a param required. */
export function required<N extends string, J, D>(
  p: ParamDef<N, J, D>,
): Required<ParamDef<N, J, D>> {
  return { ...p, required: true };
}

/**
 * Makes a param optional. `nullIsAbsent` (default true) reads `null` as
 * absent; without it `null` is decoded, and so refused by a typed decoder.
 */
export function optional<N extends string, J, D>(
  p: ParamDef<N, J, D>,
  nullIsAbsent = true,
): Optional<ParamDef<N, J, D>> {
  return {
    ...p,
    required: false,
    nullIsAbsent,
    schema: nullIsAbsent ? { oneOf: [p.schema, { type: 'null' }] } : p.schema,
  };
}

/** A 32-byte hash or key in strict hex (docs/PROTOCOL.md 1). */
export function hashParam<N extends string>(
  name: N,
  summary: string,
): ParamDef<N, string, Uint8Array> {
  const message = `${name} must be 0x-prefixed hex of 32 bytes`;
  return {
    name,
    required: true,
    summary,
    schema: HASH32,
    nullIsAbsent: false,
    decode: (v) => {
      if (typeof v !== 'string' || v.length !== 66) throw invalidParams(message);
      try {
        return fromHex(v, 32);
      } catch {
        throw invalidParams(message);
      }
    },
  };
}

/** A JSON integer ≥ 0 (a height, a round, an epoch, a size). */
export function uintParam<N extends string>(name: N, summary: string): ParamDef<N, number, number> {
  return {
    name,
    required: true,
    summary,
    schema: UINT,
    nullIsAbsent: false,
    decode: (v) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw invalidParams(`${name} must be an integer >= 0`);
      }
      return v;
    },
  };
}

/** A JSON string of at most `maxLength` UTF-16 units (a name, docs/PROTOCOL.md 6.6). */
export function stringParam<N extends string>(
  name: N,
  summary: string,
  maxLength: number,
): ParamDef<N, string, string> {
  return {
    name,
    required: true,
    summary,
    schema: { type: 'string', maxLength },
    nullIsAbsent: false,
    decode: (v) => {
      if (typeof v !== 'string' || v.length > maxLength) {
        throw invalidParams(`${name} must be a string of at most ${maxLength} characters`);
      }
      return v;
    },
  };
}

/** A JSON integer in 0..65,535 (an output index, docs/PROTOCOL.md 6.2). */
export function u16Param<N extends string>(name: N, summary: string): ParamDef<N, number, number> {
  return {
    name,
    required: true,
    summary,
    schema: { type: 'integer', minimum: 0, maximum: 0xffff },
    nullIsAbsent: false,
    decode: (v) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) {
        throw invalidParams(`${name} must be an integer in 0..65535`);
      }
      return v;
    },
  };
}

/**
 * Reads params given by position or by name into an array in `names`
 * order: at most `names.length` positional params, no unknown names, the
 * trailing absent ones dropped.
 */
function positional(raw: unknown, names: readonly string[]): unknown[] {
  if (raw === undefined) return [];
  if (Array.isArray(raw)) {
    if (raw.length > names.length) throw invalidParams(`at most ${names.length} params`);
    return [...raw];
  }
  if (typeof raw === 'object' && raw !== null) {
    const o = raw as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!names.includes(k)) throw invalidParams(`unknown param "${k.slice(0, 40)}"`);
    }
    const out = names.map((n) => o[n]);
    while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
    return out;
  }
  throw invalidParams('params must be an array or an object');
}

/**
 * Decodes the raw `params` member (`undefined` when absent) against
 * `params`: first the structure and every required param's presence, then
 * each param in order. Throws {@link invalidParams}.
 */
export function decodeParams<const Ps extends readonly AnyParam[]>(
  raw: unknown,
  params: Ps,
): DecodedParams<Ps> {
  const values = positional(
    raw,
    params.map((p) => p.name),
  );
  params.forEach((p, i) => {
    if (p.required && values[i] === undefined) throw invalidParams(`missing ${p.name}`);
  });
  const out: Record<string, unknown> = {};
  params.forEach((p, i) => {
    const v = values[i];
    out[p.name] = v === undefined || (v === null && p.nullIsAbsent) ? undefined : p.decode(v);
  });
  return out as DecodedParams<Ps>;
}
