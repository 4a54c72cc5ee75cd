/**
 * `pos_getOutputs`: an owner's outputs and their completeness proof;
 * `pos_getOutpoint`: one outpoint's state with its proofs (docs/PROTOCOL.md
 * 3, 6.3, 10.1, 11).
 *
 * @module
 */
import { MAX_OUTPUTS, type OutpointResult, POS_GET_OUTPOINT, POS_GET_OUTPUTS } from '@pos/api';
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
      await checkHeight(view, height);
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
    pos_getOutpoint: implement(POS_GET_OUTPOINT, async ({ txHash, index, height }) => {
      await checkHeight(view, height);
      const p = await view.chain.ledger.proveOutpoint(
        { txHash, index },
        height === undefined ? {} : { height },
      );
      const rec = p.record;
      const status: OutpointResult['status'] =
        rec === undefined ? 'unknown' : rec.spent ? 'spent' : 'unspent';
      return {
        outpoint: { txHash: toHex(p.outpoint.txHash), index: p.outpoint.index },
        height: p.height,
        stateRoot: toHex(p.stateRoot),
        status,
        spentHeight: rec?.spent ? rec.height : null,
        output:
          p.output === undefined
            ? null
            : {
                amount: formatAmount(p.output.output.amount),
                owner: toHex(p.output.output.owner),
                host: toHex(p.output.output.host),
              },
        recordProof: trieProofToJSON(p.recordProof),
        outputProof: p.output === undefined ? null : trieProofToJSON(p.output.proof),
      };
    }),
  };
}

/** A named height must be committed, and have a block (`NOT_FOUND`). */
export async function checkHeight(view: NodeView, height: number | undefined): Promise<void> {
  if (height === undefined) return;
  const latest = view.chain.latest();
  if (latest === null || height > latest.header.height) {
    throw notFound(`height ${height} is not committed`);
  }
  if ((await view.chain.header(height)) === undefined) {
    throw notFound(`no block at height ${height}`);
  }
}
