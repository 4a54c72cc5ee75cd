/**
 * The node's own state: `pos_status` (docs/PROTOCOL.md 10.3).
 *
 * @module
 */
import { defineMethod, result } from '../method.js';
import { AMOUNT, HASH32, nullable, object, UINT } from '../schema.js';

/** The node's status, as `pos_status`, `GET /status` and `posd status` report it (docs/PROTOCOL.md 10.3). */
export interface NodeStatus {
  /** The genesis hash (docs/PROTOCOL.md 6.4). */
  chainId: string;
  /** The node's validatorId. */
  nodeId: string;
  /** The node's Ed25519 public key. */
  publicKey: string;
  /** Height of the last applied block; null before the first. */
  height: number | null;
  blockHash: string | null;
  /** Highest round of any event in the DAG. */
  round: number;
  /** The engine's last decided round (-1 before the first). */
  decidedRound: number;
  /** The highest height with a stored certificate; null before the first. */
  lastCertifiedHeight: number | null;
  /** Peers pulled from successfully in the last 30 s. */
  peers: number;
  /** Peers configured. */
  peersKnown: number;
  /** Replaying, or the last pull stopped with `more`. */
  syncing: boolean;
  /** Timestamp (ms) of the last applied block; null before the first. */
  lastBlockTime: number | null;
  mempool: { transactions: number; bytes: number };
  events: { live: number; stored: number };
  /**
   * The ledger's totals after the last committed block, decimal strings
   * (docs/PROTOCOL.md 6.3: unspent + burned is always the genesis supply).
   */
  supply: { unspent: string; burned: string };
  /**
   * The validator set that signs the next block (docs/PROTOCOL.md 6.5): its
   * epoch, this node's stake in it and the total (decimal strings), and
   * whether this node is a member (creates events and signs blocks).
   */
  validatorSet: { epoch: number; member: boolean; stake: string; totalStake: string; size: number };
  /**
   * What the node keeps on disk (docs/PROTOCOL.md 9.3): the bytes its
   * database takes (measured every 10 s; null before the first measure), the
   * height whose state the store holds (a restart re-executes the blocks
   * after it; null: genesis), and the lowest height whose state reads and
   * proofs still answer (null before the first block).
   */
  storage: {
    diskBytes: number | null;
    stateFlushedHeight: number | null;
    stateFromHeight: number | null;
  };
}

const INT = { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER };

/** The JSON Schema of {@link NodeStatus}. */
export const NODE_STATUS_SCHEMA = object({
  chainId: HASH32,
  nodeId: HASH32,
  publicKey: HASH32,
  height: nullable(UINT),
  blockHash: nullable(HASH32),
  round: INT,
  decidedRound: INT,
  lastCertifiedHeight: nullable(UINT),
  peers: UINT,
  peersKnown: UINT,
  syncing: { type: 'boolean' },
  lastBlockTime: nullable(UINT),
  mempool: object({ transactions: UINT, bytes: UINT }),
  events: object({ live: UINT, stored: UINT }),
  supply: object({ unspent: AMOUNT, burned: AMOUNT }),
  validatorSet: object({
    epoch: UINT,
    member: { type: 'boolean' },
    stake: AMOUNT,
    totalStake: AMOUNT,
    size: UINT,
  }),
  storage: object({
    diskBytes: nullable(UINT),
    stateFlushedHeight: nullable(UINT),
    stateFromHeight: nullable(UINT),
  }),
});

/** `pos_status`: the node's status. */
export const POS_STATUS = defineMethod({
  name: 'pos_status',
  summary: 'The node status (docs/PROTOCOL.md 10.3).',
  params: [],
  result: result<NodeStatus>('status', NODE_STATUS_SCHEMA),
});
