/**
 * WebSocket subscriptions (`/ws`, docs/PROTOCOL.md 10; as Ethereum's
 * `eth_subscribe`): `pos_subscribe ["newBlocks"]` or `["txStatus",
 * "0x<txHash>"]` answers an id, then every event comes as the notification
 * `{"jsonrpc": "2.0", "method": "pos_subscription", "params":
 * {"subscription": id, "result": payload}}`; `pos_unsubscribe [id]`. Params
 * are by position only.
 *
 * @module
 */
import { ApiError } from '../errors.js';
import { errorDef, type MethodDef, result } from '../method.js';
import type { ParamDef } from '../params.js';
import { HASH32, type JsonSchema, object, UINT } from '../schema.js';

/** The method name of every subscription notification. */
export const SUBSCRIPTION_NOTIFICATION = 'pos_subscription';

/** A block summary, pushed to `newBlocks` subscribers twice: applied, then certified. */
export interface NewBlockEvent {
  readonly height: number;
  /** `0x`-prefixed lowercase hex. */
  readonly blockHash: string;
  readonly timestamp: number;
  readonly txCount: number;
  /** True once the block has a finality certificate. */
  readonly certified: boolean;
}

/** A transaction status change, pushed to `txStatus` subscribers. */
export interface TxStatusEvent {
  /** `0x`-prefixed hex; matched case-insensitively. */
  readonly txHash: string;
  readonly status: 'pending' | 'committed' | 'rejected';
  readonly height?: number;
  readonly reason?: string;
}

/** Each subscription kind: its extra params (JSON) and its payload type. */
export interface SubscriptionKinds {
  readonly newBlocks: { readonly args: []; readonly payload: NewBlockEvent };
  readonly txStatus: { readonly args: [txHash: string]; readonly payload: TxStatusEvent };
}

/** A subscription kind. */
export type SubscriptionKind = keyof SubscriptionKinds;

/** The payload schemas of the subscription kinds, for the OpenRPC document. */
export const SUBSCRIPTION_PAYLOAD_SCHEMAS: Readonly<Record<SubscriptionKind, JsonSchema>> = {
  newBlocks: object({
    height: UINT,
    blockHash: HASH32,
    timestamp: UINT,
    txCount: UINT,
    certified: { type: 'boolean' },
  }),
  txStatus: object(
    {
      txHash: { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' },
      status: { enum: ['pending', 'committed', 'rejected'] },
      height: UINT,
      reason: { type: 'string' },
    },
    ['height', 'reason'],
  ),
};

/** What `pos_subscribe`'s decoder gives: the kind, and the lowercase tx hash of `txStatus`. */
export type SubscribeParams = { kind: 'newBlocks' } | { kind: 'txStatus'; txHash: string };

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

const kindParam: ParamDef<'kind', SubscriptionKind, SubscriptionKind> = {
  name: 'kind',
  required: true,
  summary: 'newBlocks or txStatus',
  schema: { enum: ['newBlocks', 'txStatus'] },
  nullIsAbsent: false,
  decode: (v) => v as SubscriptionKind,
};
const txHashParam: ParamDef<'txHash', string, string> = {
  name: 'txHash',
  required: false,
  summary: 'the transaction hash (txStatus only; matched case-insensitively)',
  schema: { type: 'string', pattern: TX_HASH.source },
  nullIsAbsent: false,
  decode: (v) => String(v).toLowerCase(),
};

function decodeSubscribe(raw: unknown): SubscribeParams {
  if (Array.isArray(raw)) {
    if (raw.length === 1 && raw[0] === 'newBlocks') return { kind: 'newBlocks' };
    const [kind, tx] = raw;
    if (raw.length === 2 && kind === 'txStatus' && typeof tx === 'string' && TX_HASH.test(tx)) {
      return { kind: 'txStatus', txHash: tx.toLowerCase() };
    }
  }
  throw new ApiError(
    'INVALID_PARAMS',
    'Invalid params: expected ["newBlocks"] or ["txStatus", "0x<32-byte tx hash>"]',
  );
}

/** Subscription ids: `0x` and 32 lowercase hex digits, random, scoped to the socket. */
const SUBSCRIPTION_ID: JsonSchema = { type: 'string', pattern: '^0x[0-9a-f]{32}$' };

/** `pos_subscribe` (WebSocket only): starts a subscription, answers its id. */
export const POS_SUBSCRIBE: MethodDef<
  'pos_subscribe',
  readonly [typeof kindParam, typeof txHashParam],
  SubscribeParams,
  string
> = {
  name: 'pos_subscribe',
  summary:
    'WebSocket (/ws) only: subscribes to newBlocks or txStatus; answers the subscription id.',
  description:
    'Notifications follow as {"jsonrpc": "2.0", "method": "pos_subscription", "params": {"subscription": id, "result": payload}}, never before the answer carrying the id. newBlocks sends each block twice, applied (certified: false) then certified; txStatus sends pending, then committed or rejected.',
  paramStructure: 'by-position',
  params: [kindParam, txHashParam],
  decode: decodeSubscribe,
  result: result<string>('subscriptionId', SUBSCRIPTION_ID),
  errors: [errorDef('LIMIT_EXCEEDED', 'more than 32 subscriptions on this socket')],
};

const idParam: ParamDef<'subscriptionId', string, string> = {
  name: 'subscriptionId',
  required: true,
  summary: 'an id pos_subscribe answered on this socket',
  schema: { type: 'string' },
  nullIsAbsent: false,
  decode: (v) => v as string,
};

function decodeUnsubscribe(raw: unknown): string {
  if (Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'string') return raw[0];
  throw new ApiError('INVALID_PARAMS', 'Invalid params: expected [subscriptionId]');
}

/** `pos_unsubscribe` (WebSocket only): ends a subscription of this socket. */
export const POS_UNSUBSCRIBE: MethodDef<
  'pos_unsubscribe',
  readonly [typeof idParam],
  string,
  boolean
> = {
  name: 'pos_unsubscribe',
  summary:
    'WebSocket (/ws) only: ends a subscription; false if the id is not a live subscription of this socket.',
  paramStructure: 'by-position',
  params: [idParam],
  decode: decodeUnsubscribe,
  result: result<boolean>('unsubscribed', { type: 'boolean' }),
  errors: [],
};
