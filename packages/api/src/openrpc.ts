/**
 * The OpenRPC 1.2 document (https://spec.open-rpc.org) of the node's API,
 * generated from the definitions: every method with its params, result and
 * errors as JSON Schema. The node answers it to `rpc.discover`, the
 * JSON-RPC ecosystem's convention for self-description.
 *
 * @module
 */
import { RPC_ERROR_MESSAGES, RPC_INTERNAL_ERROR, RPC_INVALID_PARAMS } from './errors.js';
import type { AnyMethodDef, ErrorDef } from './method.js';
import { METHODS, SUBSCRIPTION_METHODS } from './methods/index.js';
import {
  SUBSCRIPTION_NOTIFICATION,
  SUBSCRIPTION_PAYLOAD_SCHEMAS,
} from './methods/subscriptions.js';
import { COMPONENT_SCHEMAS, type JsonSchema } from './schema.js';

/** The version of the OpenRPC specification the document follows. */
export const OPENRPC_VERSION = '1.2.6';
/** The version of the API the document describes. */
export const API_VERSION = '0.1.0';
/** The self-description method (answered with {@link openRpcDocument}). */
export const DISCOVER_METHOD = 'rpc.discover';

/** An OpenRPC document: plain JSON. */
export interface OpenRpcDocument {
  readonly openrpc: string;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly methods: readonly JsonSchema[];
  readonly components: { readonly schemas: Readonly<Record<string, JsonSchema>> };
}

/** Every method answers these too (docs/PROTOCOL.md 10.1). */
const COMMON_ERRORS: readonly ErrorDef[] = [
  {
    code: RPC_INVALID_PARAMS,
    message: `${RPC_ERROR_MESSAGES[RPC_INVALID_PARAMS]}: a param is missing, unknown or of the wrong type`,
  },
  {
    code: RPC_INTERNAL_ERROR,
    message: `${RPC_ERROR_MESSAGES[RPC_INTERNAL_ERROR]}: an unexpected failure`,
  },
];

/** `rpc.discover`'s own definition (no params; the result is this document). */
const DISCOVER: JsonSchema = {
  name: DISCOVER_METHOD,
  summary: 'This OpenRPC document.',
  params: [],
  result: { name: 'openrpcDocument', schema: { type: 'object' } },
};

function methodObject(m: AnyMethodDef, extra: JsonSchema = {}): JsonSchema {
  return {
    name: m.name,
    summary: m.summary,
    ...(m.description === undefined ? {} : { description: m.description }),
    paramStructure: m.paramStructure,
    params: m.params.map((p) => ({
      name: p.name,
      summary: p.summary,
      required: p.required,
      schema: p.schema,
    })),
    result: { name: m.result.name, schema: m.result.schema },
    errors: [...m.errors, ...COMMON_ERRORS],
    ...extra,
  };
}

/** Marks a WebSocket method, and gives the notifications it starts. */
const WS_ONLY: JsonSchema = {
  servers: [{ name: 'websocket', url: 'ws://127.0.0.1:8680/ws' }],
  'x-notification': {
    method: SUBSCRIPTION_NOTIFICATION,
    params: { subscription: 'the id', result: 'the payload of the kind' },
    payloads: SUBSCRIPTION_PAYLOAD_SCHEMAS,
  },
};

/**
 * The OpenRPC document of the API: the methods of `POST /rpc`, the
 * WebSocket's `pos_subscribe`/`pos_unsubscribe` (with their notification
 * payloads as `x-notification`), and `rpc.discover`. A fresh object per
 * call; the same JSON every time.
 */
export function openRpcDocument(): OpenRpcDocument {
  const doc: OpenRpcDocument = {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'proof-of-share node (posd)',
      version: API_VERSION,
      description:
        'JSON-RPC 2.0 on POST /rpc and over the WebSocket /ws (docs/PROTOCOL.md 10). Bytes are 0x-prefixed lowercase hex, amounts decimal strings.',
    },
    methods: [
      ...Object.values(METHODS).map((m) => methodObject(m as AnyMethodDef)),
      ...Object.values(SUBSCRIPTION_METHODS).map((m) =>
        methodObject(
          m as AnyMethodDef,
          m.name === 'pos_subscribe' ? WS_ONLY : { servers: WS_ONLY.servers },
        ),
      ),
      DISCOVER,
    ],
    components: { schemas: COMPONENT_SCHEMAS },
  };
  // A deep copy: a caller's edits must not reach the shared definitions.
  return JSON.parse(JSON.stringify(doc)) as OpenRpcDocument;
}
