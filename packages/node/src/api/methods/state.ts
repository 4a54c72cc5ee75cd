/**
 * `pos_getOutputs`: an owner's outputs and their completeness proof
 * (docs/PROTOCOL.md 3, 6.3, 10.1).
 *
 * @module
 */
import { MAX_OUTPUTS, POS_GET_OUTPUTS } from '@pos/api';
import { trieProofToJSON } from '@pos/merkle';
import { formatAmount, toHex } from '@pos/protocol';
import type { AnyRpcMethod } from '../dispatcher.js';
import { notFound } from '../errors.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';

/** The state methods. */
export function stateMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return {
    pos_getOutputs: implement(POS_GET_OUTPUTS, async ({ owner, height }) => {
      const latest = view.chain.latest();
      if (height !== undefined && (latest === null || height > latest.header.height)) {
        throw notFound(`height ${height} is not committed`);
      }
      if (height !== undefined && (await view.chain.header(height)) === undefined) {
        throw notFound(`no block at height ${height}`);
      }
      const p = await view.chain.ledger.proveOutputs(owner, {
        ...(height === undefined ? {} : { height }),
        maxEntries: MAX_OUTPUTS,
      });
      return {
        owner: toHex(owner),
        height: p.height,
        stateRoot: toHex(p.stateRoot),
        prefix: toHex(p.prefix),
        entries: p.entries.map((e) => ({ key: toHex(e.key), value: toHex(e.value) })),
        proof: trieProofToJSON(p.proof),
        outputs: p.outputs.map((o) => ({
          outpoint: { txHash: toHex(o.outpoint.txHash), index: o.outpoint.index },
          amount: formatAmount(o.output.amount),
          owner: toHex(o.output.owner),
          host: toHex(o.output.host),
        })),
      };
    }),
  };
}
