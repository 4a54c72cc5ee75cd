/**
 * The contract between the node's API layer and the runtime: what the
 * JSON-RPC methods, the operator endpoints and the subscriptions read
 * ({@link NodeView}, built by `startNode`), and the status they report.
 * Apart from the runtime, so that the API layer imports no runtime code and
 * the runtime only wires it (no import cycle).
 *
 * @module
 */
import type { NodeStatus as ApiNodeStatus } from '@pos/api';
import type { Consensus } from '@pos/consensus';
import type { FinalityCertificate, Genesis, ValidatorSet } from '@pos/protocol';
import type { CertificateCollector } from '../chain/certificates.js';
import type { Chain, EpochProof } from '../chain/chain.js';
import type { LevelEventStore } from '../db/event-store.js';
import type { Mempool } from '../mempool.js';
import type { NodeEvent, ValidatorIndex } from '../pipeline/dag.js';

/** The node's status, as `pos_status` and `GET /status` report it (JSON-safe; docs/PROTOCOL.md 10.3). */
export type NodeStatus = ApiNodeStatus;

/** What the RPC methods read; built by the runtime (see api/methods/). */
export interface NodeView {
  readonly chainId: Uint8Array;
  readonly genesis: Genesis;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly store: LevelEventStore;
  readonly index: ValidatorIndex;
  /** The validator set of epoch `k` (docs/PROTOCOL.md 6.5), if this node knows it yet. */
  validatorSet(k: number): ValidatorSet | undefined;
  /** The epoch of the round after the latest block: the set that signs the next one. */
  currentEpoch(): number;
  /** Where epoch `k`'s table was committed, with its proof (undefined for 0 or not yet). */
  epochProof(k: number): Promise<EpochProof | undefined>;
  readonly engine: Consensus<NodeEvent>;
  readonly collector: CertificateCollector;
  status(): NodeStatus;
  certificate(height: number): Promise<FinalityCertificate | undefined>;
  /** Events of a round still known to the engine (insertion order). */
  eventsOfRound(round: number): Uint8Array[];
  /** The ledger's transaction id of raw bytes (its `MALFORMED` id if undecodable). */
  txHash(tx: Uint8Array): Uint8Array;
  /** Submits a transaction and records its submit time (finality latency). */
  submit(tx: Uint8Array): Promise<{ txHash: Uint8Array; added: boolean }>;
}
