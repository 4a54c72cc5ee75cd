/**
 * The node's contracts: what starts it ({@link NodeOpts}), what a running
 * node offers ({@link PosNode}), its status as `pos_status` and `GET
 * /status` report it (docs/PROTOCOL.md 10.3), and what the JSON-RPC
 * methods read ({@link NodeView}).
 */
import type { Consensus } from '@pos/consensus';
import type { FinalityCertificate, Genesis, ValidatorSet } from '@pos/protocol';
import type { Logger } from 'pino';
import type { CertificateCollector } from './chain/certificates.js';
import type { Chain, EpochProof } from './chain/chain.js';
import type { NodeConfig } from './config.js';
import type { LevelEventStore } from './db/event-store.js';
import type { ValidatorKey } from './keyfile.js';
import type { Mempool } from './mempool.js';
import type { RuntimeOpts } from './options.js';
import type { NodeEvent, ValidatorIndex } from './pipeline/dag.js';

/** Options of {@link startNode}. */
export interface NodeOpts {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly key: ValidatorKey;
  /** Default: a pino logger at `config.logLevel` writing JSON lines to stdout. */
  readonly logger?: Logger;
  readonly runtime?: Partial<RuntimeOpts>;
}

/** The node's status, as `pos_status` and `GET /status` report it (JSON-safe). */
export interface NodeStatus {
  chainId: string;
  nodeId: string;
  publicKey: string;
  /** Height of the last applied block; null before the first. */
  height: number | null;
  blockHash: string | null;
  /** Highest round of any event in the DAG. */
  round: number;
  decidedRound: number;
  lastCertifiedHeight: number | null;
  peers: number;
  peersKnown: number;
  syncing: boolean;
  /** Timestamp (ms) of the last applied block; null before the first. */
  lastBlockTime: number | null;
  mempool: { transactions: number; bytes: number };
  events: { live: number; stored: number };
  /**
   * The ledger's totals after the last committed block, decimal strings
   * (section 6: unspent + burned is always the genesis supply).
   */
  supply: { unspent: string; burned: string };
  /**
   * The validator set that signs the next block (section 5): its epoch, this
   * node's stake in it and the total (decimal strings), and whether this
   * node is a member (creates events and signs blocks).
   */
  validatorSet: { epoch: number; member: boolean; stake: string; totalStake: string; size: number };
}

/** A running validator. */
export interface PosNode {
  readonly rpcUrl: string;
  readonly p2pUrl: string;
  readonly chainId: Uint8Array;
  readonly validatorId: Uint8Array;
  status(): NodeStatus;
  /** Stops the loop and the servers, flushes and closes the database. Idempotent. */
  close(): Promise<void>;
}

/** What the RPC methods read; built by the runtime (see rpc-methods.ts). */
export interface NodeView {
  readonly chainId: Uint8Array;
  readonly genesis: Genesis;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly store: LevelEventStore;
  readonly index: ValidatorIndex;
  /** The validator set of epoch `k` (section 5), if this node knows it yet. */
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
