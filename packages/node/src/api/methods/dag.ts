/**
 * `pos_getEvent`, `pos_getEventTransactions`, `pos_getDag` and
 * `pos_getEquivocations` (docs/PROTOCOL.md 5, 10.1).
 *
 * @module
 */
import {
  type EventResult,
  MAX_DAG_EVENTS,
  POS_GET_DAG,
  POS_GET_EQUIVOCATIONS,
  POS_GET_EVENT,
  POS_GET_EVENT_TRANSACTIONS,
} from '@pos/api';
import { toHex } from '@pos/protocol';
import type { AnyRpcMethod } from '../dispatcher.js';
import { notFound } from '../errors.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';

/** The DAG methods; they share one cache of the recent blocks' leaders. */
export function dagMethods(view: NodeView): Record<string, AnyRpcMethod> {
  const events = createEventReader(view);
  return {
    pos_getEvent: implement(POS_GET_EVENT, async ({ hash }) => {
      await events.fillLeaders();
      const e = events.read(hash);
      if (e === undefined) throw notFound('unknown event');
      return e;
    }),

    // Every stored event, as `pos_getEvent`: the bytes as the event carries them.
    pos_getEventTransactions: implement(POS_GET_EVENT_TRANSACTIONS, ({ hash }) => {
      const wire = view.store.get(hash);
      if (wire === undefined) throw notFound('unknown event');
      return { hash: toHex(wire.hash), transactions: wire.transactions.map((t) => toHex(t)) };
    }),

    pos_getDag: implement(POS_GET_DAG, async ({ fromRound, toRound }) => {
      await events.fillLeaders();
      const out: EventResult[] = [];
      let truncated = false;
      for (let r = fromRound; r <= toRound && !truncated; r++) {
        for (const h of view.eventsOfRound(r)) {
          if (out.length >= MAX_DAG_EVENTS) {
            truncated = true;
            break;
          }
          const e = events.read(h);
          if (e !== undefined) out.push(e);
        }
      }
      return { fromRound, toRound, events: out, truncated };
    }),

    pos_getEquivocations: implement(POS_GET_EQUIVOCATIONS, () => ({
      events: view.engine.evidence().map((ev) => ({
        creator: toHex(view.index.publicKeys[ev.creator]!),
        validatorId: toHex(view.index.ids[ev.creator]!),
        a: { hash: toHex(ev.a.hash), seq: ev.a.seq },
        b: { hash: toHex(ev.b.hash), seq: ev.b.seq },
      })),
      blockSignatures: view.collector.evidence().map((ev) => ({
        height: ev.height,
        validatorId: toHex(ev.validatorId),
        first: { blockHash: toHex(ev.first.blockHash), signature: toHex(ev.first.signature) },
        second: { blockHash: toHex(ev.second.blockHash), signature: toHex(ev.second.signature) },
      })),
    })),
  };
}

/** Event objects (docs/PROTOCOL.md 10.1), with the leaders of the recent blocks cached. */
function createEventReader(view: NodeView) {
  const leaders = new Map<number, string>();
  const leaderOf = (round: number, h: Uint8Array): boolean => leaders.get(round) === toHex(h);

  function read(h: Uint8Array): EventResult | undefined {
    const wire = view.store.get(h);
    if (wire === undefined) return undefined;
    const info = view.engine.info(h);
    const orderedIn = info?.orderedIn;
    return {
      hash: toHex(wire.hash),
      creator: toHex(wire.creator),
      seq: wire.seq,
      selfParent: wire.selfParent === null ? null : toHex(wire.selfParent),
      otherParent:
        wire.otherParent === null
          ? null
          : {
              hash: toHex(wire.otherParent.hash),
              creator: toHex(wire.otherParent.creator),
              seq: wire.otherParent.seq,
            },
      timestamp: wire.timestamp,
      txHashes: wire.transactions.map((t) => toHex(view.txHash(t))),
      payloads: wire.payloads.map((p) => ({ kind: p.kind, data: toHex(p.data) })),
      signature: toHex(wire.signature),
      // Consensus facts while the engine holds the event in full (docs/PROTOCOL.md 5.7).
      round: info?.round ?? null,
      generation: info?.generation ?? null,
      witness: info?.witness ?? null,
      famous: info === undefined ? null : (info.famous ?? null),
      orderedIn: orderedIn ?? null,
      leader: orderedIn === undefined ? false : leaderOf(orderedIn, wire.hash),
    };
  }

  /** Leaders of the latest 129 blocks, for the events' `leader` flag. */
  async function fillLeaders(): Promise<void> {
    const head = view.chain.latest();
    if (head === null) return;
    const top = head.header.height;
    for (let h = Math.max(0, top - 128); h <= top; h++) {
      if (leaders.has(h)) continue;
      const b = await view.chain.header(h);
      leaders.set(h, b === undefined ? '' : toHex(b.header.leader));
    }
    for (const h of leaders.keys()) if (h < top - 128) leaders.delete(h);
  }

  return { read, fillLeaders };
}
