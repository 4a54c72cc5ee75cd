/**
 * `pos_getHistory`: a key's transactions in a height range with their range
 * proof (docs/PROTOCOL.md 6.7); `pos_resolveName`: a name's owner with its
 * inclusion proof, or a free name's exclusion proof (docs/PROTOCOL.md 6.6).
 *
 * @module
 */
import {
  DEFAULT_HISTORY_LIMIT,
  type HistoryEntryJSON,
  invalidParams,
  MAX_HISTORY_LIMIT,
  POS_GET_HISTORY,
  POS_RESOLVE_NAME,
} from '@pos/api';
import { trieProofToJSON, trieRangeProofToJSON } from '@pos/merkle';
import { toHex } from '@pos/protocol';
import type { AnyRpcMethod } from '../dispatcher.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';
import { checkHeight } from './state.js';

/** The index methods. */
export function indexMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return {
    pos_getHistory: implement(POS_GET_HISTORY, async ({ key, from, to, limit, height }) => {
      const n = limit ?? DEFAULT_HISTORY_LIMIT;
      if (n < 1 || n > MAX_HISTORY_LIMIT) {
        throw invalidParams(`limit must be in 1..${MAX_HISTORY_LIMIT}`);
      }
      await checkHeight(view, height);
      // Before the first block there is no height at all (the genesis state).
      const stateHeight = height ?? view.chain.ledger.height ?? -1;
      if (to !== undefined && to > stateHeight) {
        throw invalidParams(`to must be at most the state height ${stateHeight}`);
      }
      const top = to ?? Math.max(stateHeight, 0);
      if (from !== undefined && from > top) {
        throw invalidParams(`from must be at most to (${top}, the state height by default)`);
      }
      const p = await view.chain.ledger.proveHistory(key, {
        ...(height === undefined ? {} : { height }),
        ...(from === undefined ? {} : { fromHeight: from }),
        ...(to === undefined ? {} : { toHeight: to }),
        limit: n,
      });
      return {
        key: toHex(key),
        height: p.height,
        stateRoot: toHex(p.stateRoot),
        lo: toHex(p.lo),
        hi: toHex(p.hi),
        entries: p.entries.map((e) => ({ key: toHex(e.key), value: toHex(e.value) })),
        proof: trieRangeProofToJSON(p.proof),
        history: p.records.map(
          (r): HistoryEntryJSON => ({
            height: r.height,
            index: r.index,
            roles: [...r.roles],
            status: r.status,
            ...(r.reason === undefined ? {} : { reason: r.reason }),
            txHash: toHex(r.txHash),
          }),
        ),
      };
    }),
    pos_resolveName: implement(POS_RESOLVE_NAME, async ({ name, height }) => {
      await checkHeight(view, height);
      const p = await view.chain.ledger.proveName(name, height === undefined ? {} : { height });
      return {
        name: p.name,
        height: p.height,
        stateRoot: toHex(p.stateRoot),
        owner: p.record === undefined ? null : toHex(p.record.owner),
        sinceHeight: p.record === undefined ? null : p.record.sinceHeight,
        proof: trieProofToJSON(p.proof),
      };
    }),
  };
}
