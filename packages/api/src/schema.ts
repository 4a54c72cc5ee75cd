/**
 * JSON Schema (draft 7, as OpenRPC 1.2 uses) for the JSON forms of
 * docs/PROTOCOL.md: small builders, and the shared shapes (headers,
 * certificates, proofs, receipts, events) that results refer to through
 * `#/components/schemas/…`. Objects are closed (`additionalProperties:
 * false`): a field an answer gains or loses is a contract change.
 *
 * @module
 */

import { REJECT_REASONS } from '@pos/protocol';

/** A JSON Schema: a plain JSON object (its keywords are not modelled one by one). */
export interface JsonSchema {
  readonly [keyword: string]: unknown;
}

/** `0x`-prefixed lowercase hex (docs/PROTOCOL.md 1), of exactly `bytes` bytes when given. */
export function hexSchema(bytes?: number, description?: string): JsonSchema {
  const pattern = bytes === undefined ? '^0x(?:[0-9a-f]{2})*$' : `^0x[0-9a-f]{${2 * bytes}}$`;
  return { type: 'string', pattern, ...(description === undefined ? {} : { description }) };
}

/** A 32-byte hash or key in hex. */
export const HASH32: JsonSchema = hexSchema(32);

/** A JSON integer ≥ 0 that a double holds exactly. */
export const UINT: JsonSchema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };

/** An amount: a canonical decimal string in u64 range (docs/PROTOCOL.md 1). */
export const AMOUNT: JsonSchema = {
  type: 'string',
  pattern: '^(?:0|[1-9][0-9]{0,19})$',
  description: 'a canonical decimal amount, 0..2^64-1',
};

/** `schema` or `null`. */
export function nullable(schema: JsonSchema): JsonSchema {
  return { oneOf: [schema, { type: 'null' }] };
}

/** A closed object: `props`, all required except the names in `optional`. */
export function object(
  props: Readonly<Record<string, JsonSchema>>,
  optional: readonly string[] = [],
): JsonSchema {
  return {
    type: 'object',
    properties: props,
    required: Object.keys(props).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  };
}

/** An array of `items`. */
export function arrayOf(items: JsonSchema): JsonSchema {
  return { type: 'array', items };
}

/** A reference to a shared schema of {@link COMPONENT_SCHEMAS}. */
export function ref(name: keyof typeof COMPONENT_SCHEMAS): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

const TRIE_PROOF: JsonSchema = {
  ...object(
    {
      version: { const: 2 },
      terminal: { enum: ['empty', 'leaf', 'other', 'subtree'] },
      keyBytes: UINT,
      levels: arrayOf(object({ bit: UINT, sibling: HASH32 })),
      otherKey: hexSchema(),
      otherValueHash: HASH32,
    },
    ['otherKey', 'otherValueHash'],
  ),
  description: 'a state trie proof (docs/PROTOCOL.md 3.4)',
};

const TRIE_RANGE_PROOF: JsonSchema = {
  ...object({
    version: { const: 2 },
    keyBytes: UINT,
    items: arrayOf({ type: 'object' }),
  }),
  description: 'a state trie range proof (docs/PROTOCOL.md 3.4); items as there',
};

const BLOCK_HEADER: JsonSchema = {
  ...object({
    chainId: HASH32,
    height: UINT,
    leader: HASH32,
    prevBlockHash: HASH32,
    timestamp: UINT,
    txCount: UINT,
    stateRoot: HASH32,
    historyRoot: HASH32,
    historySize: UINT,
    validatorSetHash: HASH32,
  }),
  description: 'a block header (docs/PROTOCOL.md 7)',
};

const CERTIFICATE: JsonSchema = {
  ...object({
    height: UINT,
    blockHash: HASH32,
    signatures: arrayOf(object({ validatorId: HASH32, signature: hexSchema(64) })),
  }),
  description: 'a finality certificate (docs/PROTOCOL.md 7)',
};

const RECEIPT: JsonSchema = {
  ...object(
    {
      txHash: HASH32,
      status: { enum: ['committed', 'rejected'] },
      reason: { enum: [...REJECT_REASONS] },
      height: UINT,
      index: UINT,
    },
    ['reason'],
  ),
  description: 'a receipt (docs/PROTOCOL.md 6.3); reason only when rejected',
};

const INCLUSION_PROOF: JsonSchema = {
  ...object({ leafIndex: UINT, treeSize: UINT, path: arrayOf(HASH32) }),
  description: 'an RFC 9162 inclusion proof (docs/PROTOCOL.md 4)',
};

const CONSISTENCY_PROOF: JsonSchema = {
  ...object({ fromSize: UINT, toSize: UINT, path: arrayOf(HASH32) }),
  description: 'an RFC 9162 consistency proof (docs/PROTOCOL.md 4)',
};

const EVENT: JsonSchema = {
  ...object({
    hash: HASH32,
    creator: HASH32,
    seq: UINT,
    selfParent: nullable(HASH32),
    otherParent: nullable(object({ hash: HASH32, creator: HASH32, seq: UINT })),
    timestamp: UINT,
    txHashes: arrayOf(HASH32),
    payloads: arrayOf(object({ kind: UINT, data: hexSchema() })),
    signature: hexSchema(64),
    round: nullable(UINT),
    generation: nullable(UINT),
    witness: nullable({ type: 'boolean' }),
    famous: nullable({ type: 'boolean' }),
    orderedIn: nullable(UINT),
    leader: { type: 'boolean' },
  }),
  description: 'an event object (docs/PROTOCOL.md 10.1)',
};

/** The shared schemas, as the OpenRPC document's `components.schemas`. */
export const COMPONENT_SCHEMAS = {
  BlockHeader: BLOCK_HEADER,
  FinalityCertificate: CERTIFICATE,
  TrieProof: TRIE_PROOF,
  TrieRangeProof: TRIE_RANGE_PROOF,
  Receipt: RECEIPT,
  LogInclusionProof: INCLUSION_PROOF,
  LogConsistencyProof: CONSISTENCY_PROOF,
  Event: EVENT,
} as const satisfies Readonly<Record<string, JsonSchema>>;
