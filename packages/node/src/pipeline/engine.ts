/**
 * The consensus engine as the node runs it (docs/PROTOCOL.md 5): validators
 * by engine index, stake tables by epoch, the ledger's transaction ids, and
 * signatures checked once: an event verified already (in a worker batch at
 * sync, or signed by this node) is marked, and the engine's own check
 * passes it without a second Ed25519 verification.
 */
import { type Consensus, createConsensus, type InsertResult } from '@pos/consensus';
import type { WireEvent } from '@pos/gossip';
import type { HashFn } from '@pos/merkle';
import type { TxDecoder } from '../chain/tx-decoder.js';
import { type NodeEvent, nodeConsensusOpts, toConsensusEvent, type ValidatorIndex } from './dag.js';

/** What {@link createNodeEngine} needs. */
export interface NodeEngineDeps {
  readonly index: ValidatorIndex;
  readonly coinFrequency: number;
  readonly hash: HashFn;
  /** Ed25519 verification of an event not marked as verified. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Stakes by engine index for a round (docs/PROTOCOL.md 5.9). */
  stakeTable(round: number): readonly bigint[] | undefined;
  /** The engine handed out a block of `round`. */
  onEmitted(round: number): void;
  /** The node's transaction decoder (the engine deduplicates by the ledger's id). */
  readonly decode: TxDecoder;
}

/** The engine and the node's way into it. */
export interface NodeEngine {
  readonly engine: Consensus<NodeEvent>;
  /** The engine's event of a wire event whose signature was checked already. */
  toEvent(wire: WireEvent): NodeEvent;
  /** Inserts an event made by {@link NodeEngine.toEvent}; notes the blocks it hands out. */
  insert(ne: NodeEvent): InsertResult<NodeEvent>;
  /** The ledger's transaction id of raw bytes (its `MALFORMED` id if undecodable). */
  txHash(tx: Uint8Array): Uint8Array;
}

/** Creates the engine. */
export function createNodeEngine(deps: NodeEngineDeps): NodeEngine {
  const preverified = new WeakSet<WireEvent>();
  const base = nodeConsensusOpts(deps.index, deps.verify, deps.hash);
  const txHash = (tx: Uint8Array) => deps.decode(tx).txHash;
  const baseVerify = base.verify!;
  const engine = createConsensus<NodeEvent>({
    ...base,
    coinFrequency: deps.coinFrequency,
    txHash,
    stakeTable: deps.stakeTable,
    verify: (e) => preverified.has(e.wire) || baseVerify(e),
  });
  return {
    engine,
    toEvent(wire) {
      const ne = toConsensusEvent(wire, deps.index);
      preverified.add(wire);
      return ne;
    },
    insert(ne) {
      const r = engine.insert(ne);
      for (const b of r.blocks) deps.onEmitted(b.round);
      return r;
    },
    txHash,
  };
}
