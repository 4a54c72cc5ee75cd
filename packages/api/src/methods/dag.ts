/**
 * The DAG: `pos_getEvent`, `pos_getEventTransactions`, `pos_getDag`,
 * `pos_getEquivocations` (docs/PROTOCOL.md 5, 10.1).
 *
 * @module
 */
import { invalidParams } from '../errors.js';
import { defineMethod, errorDef, result } from '../method.js';
import { hashParam, optional, required, uintParam } from '../params.js';
import { arrayOf, HASH32, hexSchema, object, ref, UINT } from '../schema.js';

/** Most rounds one `pos_getDag` call may span. */
export const MAX_DAG_ROUNDS = 16;
/** Most events one `pos_getDag` call returns (then `truncated: true`). */
export const MAX_DAG_EVENTS = 2000;

/** An event object (docs/PROTOCOL.md 10.1): wire fields, and consensus facts while known. */
export interface EventResult {
  hash: string;
  creator: string;
  seq: number;
  selfParent: string | null;
  otherParent: { hash: string; creator: string; seq: number } | null;
  timestamp: number;
  txHashes: string[];
  payloads: { kind: number; data: string }[];
  signature: string;
  round: number | null;
  generation: number | null;
  witness: boolean | null;
  famous: boolean | null;
  orderedIn: number | null;
  /** The event is the leader of the block that ordered it (known for the latest 129 heights). */
  leader: boolean;
}

/** `pos_getEvent`: one event. */
export const POS_GET_EVENT = defineMethod({
  name: 'pos_getEvent',
  summary: 'One event, with its consensus facts while the engine holds it.',
  params: [required(hashParam('hash', 'the event hash'))],
  result: result<EventResult>('event', ref('Event')),
  errors: [errorDef('NOT_FOUND', 'unknown event')],
});

/** What `pos_getEventTransactions` answers: an event's transactions as it carries them. */
export interface EventTransactionsResult {
  hash: string;
  /** Each transaction's bytes (docs/PROTOCOL.md 6.2, as signed; possibly malformed), in the event's order. */
  transactions: string[];
}

/**
 * `pos_getEventTransactions`: the bytes of an event's transactions, so that a
 * reader (the explorer) can decode a transaction's body and memo and check
 * that it hashes to the id it looks for (the event object lists ids only).
 */
export const POS_GET_EVENT_TRANSACTIONS = defineMethod({
  name: 'pos_getEventTransactions',
  summary: "The bytes of a stored event's transactions, in its order.",
  params: [required(hashParam('hash', 'the event hash'))],
  result: result<EventTransactionsResult>(
    'eventTransactions',
    object({ hash: HASH32, transactions: arrayOf(hexSchema()) }),
  ),
  errors: [errorDef('NOT_FOUND', 'unknown event')],
});

/** What `pos_getDag` answers. */
export interface DagResult {
  fromRound: number;
  toRound: number;
  events: EventResult[];
  truncated: boolean;
}

/** `pos_getDag`: the events of a range of rounds. */
export const POS_GET_DAG = defineMethod({
  name: 'pos_getDag',
  summary: `The events of rounds fromRound..toRound the node still indexes (at most ${MAX_DAG_ROUNDS} rounds, ${MAX_DAG_EVENTS} events).`,
  description: 'toRound defaults to fromRound; null is not accepted for it.',
  params: [
    required(uintParam('fromRound', 'the first round')),
    // null is refused here, unlike the other optional params (as it always was).
    optional(uintParam('toRound', 'the last round (default: fromRound)'), false),
  ],
  check: ({ fromRound, toRound }) => {
    const to = toRound ?? fromRound;
    if (to < fromRound) throw invalidParams('toRound must be >= fromRound');
    if (to - fromRound + 1 > MAX_DAG_ROUNDS)
      throw invalidParams(`at most ${MAX_DAG_ROUNDS} rounds`);
    return { fromRound, toRound: to };
  },
  result: result<DagResult>(
    'dag',
    object({
      fromRound: UINT,
      toRound: UINT,
      events: arrayOf(ref('Event')),
      truncated: { type: 'boolean' },
    }),
  ),
});

/** What `pos_getEquivocations` answers: fork evidence and double block signatures. */
export interface EquivocationsResult {
  events: {
    creator: string;
    validatorId: string;
    a: { hash: string; seq: number };
    b: { hash: string; seq: number };
  }[];
  blockSignatures: {
    height: number;
    validatorId: string;
    first: { blockHash: string; signature: string };
    second: { blockHash: string; signature: string };
  }[];
}

const signed = object({ blockHash: HASH32, signature: hexSchema(64) });

/** `pos_getEquivocations`: the evidence of equivocation the node holds. */
export const POS_GET_EQUIVOCATIONS = defineMethod({
  name: 'pos_getEquivocations',
  summary: 'Fork evidence from the engine and double block signatures from the collector.',
  params: [],
  result: result<EquivocationsResult>(
    'equivocations',
    object({
      events: arrayOf(
        object({
          creator: HASH32,
          validatorId: HASH32,
          a: object({ hash: HASH32, seq: UINT }),
          b: object({ hash: HASH32, seq: UINT }),
        }),
      ),
      blockSignatures: arrayOf(
        object({ height: UINT, validatorId: HASH32, first: signed, second: signed }),
      ),
    }),
  ),
});
