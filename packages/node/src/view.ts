/**
 * What the JSON-RPC methods read ({@link NodeView}, docs/PROTOCOL.md 10.1),
 * built over the running node's parts. Submissions are the one write: they
 * go to the mempool, are announced (`txStatus` pending) and wake the gossip.
 */
import { toHex } from '@pos/merkle';
import { epochOfRound } from '@pos/protocol';
import type { NodeView } from './api/interface.js';
import type { NodeContext } from './context.js';
import type { Pipeline } from './pipeline/pipeline.js';
import type { StatusView } from './status.js';
import { refreshGauges } from './status.js';
import type { NodeStorage } from './storage.js';

/** Creates the view; `wake` ends the gossip loop's nap. */
export function createNodeView(
  ctx: NodeContext,
  storage: NodeStorage,
  p: Pipeline,
  status: StatusView,
  wake: () => void,
): NodeView {
  const { chain, mempool, store } = storage;
  return {
    ...{ chainId: ctx.chainId, genesis: ctx.genesis, chain, mempool, store, index: p.index },
    validatorSet: (k) => p.stakeTables.setOf(k),
    currentEpoch: () => epochOfRound(p.nextRound(), ctx.params),
    epochProof: (k) => chain.epochProof(k),
    engine: p.node.engine,
    collector: p.collector,
    status: status.status,
    certificate: (height) => p.certifier.certificate(height),
    eventsOfRound: (r) => p.rounds.eventsOf(r),
    txHash: (tx) => p.node.txHash(tx),
    async submit(tx) {
      const r = await mempool.submit(tx);
      if (r.added) {
        p.tracker.submitted(r.txHash);
        ctx.events.emit('txStatus', { txHash: toHex(r.txHash), status: 'pending' });
        refreshGauges(ctx.metrics, p.node.engine, mempool);
        wake();
      }
      return r;
    },
  };
}
