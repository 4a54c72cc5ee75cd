/**
 * From events to certified blocks (docs/PROTOCOL.md 5, 6.5, 7): the
 * validator index and stake tables, the engine, the apply queue with what
 * it drives (certificates, this node's block signatures, set changes, the
 * transaction tracker). Wiring only; each part is its own module.
 */
import type { DecidedBlock } from '@pos/consensus';
import type { PeerBook } from '@pos/gossip';
import { type CertificateCollector, createCertificateCollector } from '../chain/certificates.js';
import { type Certifier, createCertifier } from '../chain/certifier.js';
import type { NodeContext } from '../context.js';
import { verifyEd25519Sync } from '../crypto/crypto.js';
import type { NodeStorage } from '../storage.js';
import { type ApplyQueue, createApplyQueue } from './apply-queue.js';
import { type BlockSigner, createBlockSigner } from './block-signer.js';
import { createValidatorIndex, type NodeEvent, type ValidatorIndex } from './dag.js';
import { createDagWriter, type DagWriter } from './dag-writer.js';
import { createNodeEngine, type NodeEngine } from './engine.js';
import { createRoundIndex, type RoundIndex } from './rounds.js';
import { createSetChanges } from './set-changes.js';
import { createStakeTables, type StakeTables } from './stake-tables.js';
import { createTxTracker, type TxTracker } from './tx-tracker.js';

/** The pipeline's parts. */
export interface Pipeline {
  readonly index: ValidatorIndex;
  readonly stakeTables: StakeTables;
  readonly collector: CertificateCollector;
  readonly node: NodeEngine;
  readonly tracker: TxTracker;
  readonly rounds: RoundIndex;
  readonly certifier: Certifier;
  readonly signer: BlockSigner;
  readonly writer: DagWriter;
  readonly applyQueue: ApplyQueue;
  /** Queues decided blocks; resolves once everything queued is applied. */
  handleBlocks(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void>;
  /** The round after the latest block: its set signs next. */
  nextRound(): number;
}

/** Validators, stake tables, certificates and the engine. */
function createConsensusParts(ctx: NodeContext, storage: NodeStorage) {
  const { chain } = storage;
  // Every registered validator (genesis ones first in id order, then the
  // rest in id order too; later registrations are appended). Indexes are the
  // engine's creators; the leader draw sorts by validatorId, not by index.
  const index = createValidatorIndex(
    ctx.chainId,
    chain.ledger.registrations().map((r) => ({ publicKey: r.pubkey, validatorId: r.validatorId })),
  );
  ctx.state.selfIndex = index.indexOf(ctx.key.publicKey);
  const stakeTables = createStakeTables({
    params: ctx.params,
    ledger: chain.ledger,
    index,
    decidedRound: () => node.engine.lastDecidedRound,
    appliedHeight: () => chain.ledger.height ?? -1,
  });
  const collector = createCertificateCollector({
    validatorSet: (height) => stakeTables.setOfRound(height),
    verify: verifyEd25519Sync,
  });
  const node = createNodeEngine({
    index,
    coinFrequency: ctx.params.coinFrequency,
    hash: ctx.hash,
    verify: verifyEd25519Sync,
    stakeTable: (round) => stakeTables.stakeTable(round),
    onEmitted: (round) => stakeTables.noteEmitted(round),
    decode: storage.decode,
  });
  return { index, stakeTables, collector, node };
}

/** Creates the pipeline; `wake` ends the gossip loop's nap (an urgent signature waits). */
export function createPipeline(
  ctx: NodeContext,
  storage: NodeStorage,
  peers: PeerBook,
  wake: () => void,
): Pipeline {
  const { chain, mempool } = storage;
  const { rt, state, log, metrics, events } = ctx;
  const { index, stakeTables, collector, node } = createConsensusParts(ctx, storage);
  const { engine } = node;
  const tracker = createTxTracker(metrics, { maxSubmitted: rt.maxSubmittedTracked });
  const rounds = createRoundIndex();
  const replaying = () => state.replaying;
  const certifier = createCertifier(
    {
      collector,
      store: storage.database.certificates,
      chain,
      index,
      events,
      logger: log,
      onCertified: (txHashes) => tracker.certified(txHashes),
      replaying,
      closing: () => state.closing,
      onFatal: ctx.fatal,
    },
    { windowHeights: rt.certificateWindowHeights, awaitCertificateMs: rt.awaitCertificateMs },
  );
  const signer = createBlockSigner({
    sign: ctx.sign,
    selfId: () => (state.selfIndex === undefined ? undefined : index.ids[state.selfIndex]),
    signsAt: (h) => stakeTables.stakeIn(stakeTables.setOfRound(h), ctx.key.publicKey) > 0n,
    collector,
    certify: (height) => certifier.certify(height),
  });
  const onSetChanges = createSetChanges({
    params: ctx.params,
    hash: ctx.hash,
    selfPublicKey: ctx.key.publicKey,
    index,
    engine,
    ledger: chain.ledger,
    stakeTables,
    peers,
    metrics,
    logger: log,
    onSelfRegistered: (i) => {
      state.selfIndex = i;
    },
    replaying,
  });
  const applyQueue = createApplyQueue(
    {
      ...{ chain, engine, mempool, collector, certifier, signer, tracker, rounds, metrics, events },
      logger: log,
      prefetch: (items) => storage.sigCache.prefetch(items),
      decode: storage.decode,
      onSetChanges,
      replaying,
      wake,
      onFatal: ctx.fatal,
    },
    { expireRounds: rt.expireRounds, replaySignHeights: rt.certificateWindowHeights },
  );
  return {
    ...{ index, stakeTables, collector, node, tracker, rounds, certifier, signer, applyQueue },
    writer: createDagWriter({ engine, rounds, tracker, certifier }),
    handleBlocks: (blocks) => applyQueue.handle(blocks),
    nextRound: () => (chain.latest()?.header.height ?? -1) + 1,
  };
}
