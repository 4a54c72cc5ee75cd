/**
 * The thin wallet's contracts: what it trusts, what it returns (each value
 * with what it was verified against), its options and its interface
 * (docs/PROTOCOL.md 11).
 *
 * @module
 */
import type { FetchLike as ApiFetchLike, Transport } from '@pos/api';
import type { HashFn } from '@pos/merkle';
import type {
  HistoryRecord,
  NameOp,
  Outpoint,
  Output,
  Receipt,
  TxBody,
  ValidatorSet,
} from '@pos/protocol';

/**
 * What the wallet trusts: a chain, its epoch parameters, and the validator
 * table of one epoch (the genesis set of epoch 0, or a pinned checkpoint's
 * table of a later epoch), from which it follows every later table by proofs.
 */
export interface WalletTrust {
  readonly chainId: Uint8Array;
  /** The table of epoch {@link epoch}: public keys and stakes (ids are derived). */
  readonly validators: readonly {
    readonly publicKey: Uint8Array;
    readonly stake: bigint;
    /** Display name and p2p endpoint, as the anchor (the genesis) names them. */
    readonly name?: string;
    readonly endpoint?: string;
  }[];
  /** LAG of the genesis (docs/PROTOCOL.md 6.4, 6.5), >= 1. */
  readonly lag: number;
  /** EPOCH of the genesis (docs/PROTOCOL.md 6.4, 6.5; `params.epoch`), >= 1. */
  readonly epochLength: number;
  /** The epoch whose table {@link validators} is: 0 (default) for the genesis set. */
  readonly epoch?: number;
}

/** How a {@link VerifiedValidatorSet} was verified. */
export type TableProvenance =
  /** It is the trust anchor's own table (the genesis, or a pinned checkpoint). */
  | { readonly kind: 'anchor' }
  | {
      readonly kind: 'proof';
      /** The certified header whose state root includes the table (in [snapshotRound, firstRound)). */
      readonly height: number;
      readonly blockHash: Uint8Array;
      readonly stateRoot: Uint8Array;
      /** The epoch whose (already verified) table certified that header: `epochOfRound(height)`. */
      readonly certifiedBy: number;
      readonly signedStake: bigint;
      readonly certifierTotalStake: bigint;
    };

/**
 * A validator table the client verified (a `ValidatorSet`, so it can be
 * handed to `verifyCertificate`), with its epoch and how it was verified.
 */
export interface VerifiedValidatorSet extends ValidatorSet {
  readonly epoch: number;
  /** The rounds (block heights) it certifies: `firstRound ..= lastRound`. */
  readonly firstRound: number;
  readonly lastRound: number;
  /** The round after which it was taken; null for epoch 0 (the genesis state). */
  readonly snapshotRound: number | null;
  readonly totalStake: bigint;
  readonly validatorSetHash: Uint8Array;
  readonly provenance: TableProvenance;
  /**
   * Display names and p2p endpoints by validatorId (hex). For the anchor's
   * table, as the anchor names them; for a proven table, as the agent listed
   * them: NOT verified (the committed table holds ids, keys and stakes only).
   */
  readonly labels: ReadonlyMap<string, { readonly name: string; readonly endpoint: string }>;
}

/** The part of `fetch` the client uses (the global one by default): `@pos/api`'s. */
export type FetchLike = ApiFetchLike;

/** Options of {@link createWalletClient}. */
export interface WalletClientOpts {
  /** The agent's RPC origin, e.g. `http://127.0.0.1:8680` (unless `transport` is given). */
  url?: string;
  trust: WalletTrust;
  /** The `fetch` of the HTTP transport to `url` (default: the global one). */
  fetch?: FetchLike;
  /** Another transport to the agent (`@pos/api`), instead of HTTP to `url`. */
  transport?: Transport;
  hash?: HashFn;
  /**
   * Most epochs one call may verify past the last verified table (default
   * 10,000): one RPC, one certificate and one trie proof each. A height
   * further ahead is refused `UNKNOWN_SET` before any request.
   */
  maxEpochWalk?: number;
  /**
   * The oldest latest-certified block the wallet accepts, by its header
   * timestamp against `nowMs` (default {@link DEFAULT_MAX_STATE_AGE_MS}):
   * older is `STALE_STATE`. Reads at a height the caller names are not
   * bounded (a receipt proven at its block stays proven).
   */
  maxStateAgeMs?: number;
  /** The local clock in ms (default `Date.now`). */
  nowMs?: () => number;
}

/**
 * Five minutes: a live chain certifies a block every round (a second or two
 * here, idle or not), so a latest certified block older than this means the
 * agent, or the chain, has stopped; and it bounds how old a balance an agent
 * can pass off as current.
 */
export const DEFAULT_MAX_STATE_AGE_MS = 5 * 60_000;

/** The certified block a state read was verified at, and what certified it. */
export interface CertifiedAt {
  /** The certified block the state is read at. */
  height: number;
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  /** The epoch whose verified table certified that block. */
  epoch: number;
  /** Stake that signed the certificate, and the table's total. */
  signedStake: bigint;
  totalStake: bigint;
  /** The block's header timestamp (ms): how current the answer is. */
  timestamp: number;
}

/** A balance the wallet checked, with what it checked it against. */
export interface VerifiedBalance extends CertifiedAt {
  owner: Uint8Array;
  balance: bigint;
  outputs: { outpoint: Outpoint; output: Output }[];
}

/** An outpoint's state, proven under a certified state root (docs/PROTOCOL.md 6.3, 11). */
export interface VerifiedOutpoint extends CertifiedAt {
  outpoint: Outpoint;
  /** `unspent` (with its output), `spent` (at `spentHeight`), or `unknown`: never created. */
  status: 'unspent' | 'spent' | 'unknown';
  /** The height of the block that spent it (status `spent`). */
  spentHeight?: number;
  /** The output (status `unspent`). */
  output?: Output;
}

/** Which part of a key's history {@link WalletClient.history} asks for. */
export interface HistoryOpts {
  /** Lowest block height (default 0). */
  fromHeight?: number;
  /** Highest block height (default: the certified height). */
  toHeight?: number;
  /** Most entries, the newest kept (default 100, at most 1,000). */
  limit?: number;
}

/** One transaction of a key's history, as proven. */
export type VerifiedHistoryEntry = HistoryRecord & { height: number; index: number };

/**
 * A key's transactions, proven complete (docs/PROTOCOL.md 6.7): every
 * transaction that touched the key from `provenFrom` up to the end of block
 * `provenTo` is in `history`, and nothing else.
 */
export interface VerifiedHistory extends CertifiedAt {
  key: Uint8Array;
  /** Oldest first. */
  history: VerifiedHistoryEntry[];
  /** Where the proven range starts: the asked `fromHeight` (index 0), or the oldest entry kept. */
  provenFrom: { height: number; index: number };
  provenTo: number;
  /** True when the proof covers the whole asked range (nothing older was cut by `limit`). */
  complete: boolean;
}

/** A name's owner, or that the name is free, proven under a certified state root (docs/PROTOCOL.md 6.6). */
export interface VerifiedName extends CertifiedAt {
  name: string;
  /** Null: nobody owns it. */
  owner: Uint8Array | null;
  /** The height at which the owner got it. */
  sinceHeight?: number;
}

/** `wallet@agent`, resolved: pay `owner`, host the output at `host` (the agent's validatorId). */
export interface ResolvedAddress {
  address: string;
  owner: Uint8Array;
  host: Uint8Array;
  wallet: VerifiedName;
  agent: VerifiedName;
}

/** A verified header and its certificate's stake. */
export interface CertifiedHeader {
  /** The chain it is of (the trusted one of the client that verified it). */
  chainId: Uint8Array;
  height: number;
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  historyRoot: Uint8Array;
  historySize: number;
  /** The epoch whose verified table certified it (`epochOfRound(height)`). */
  epoch: number;
  /** Stake that signed its certificate, and that table's total. */
  signedStake: bigint;
  totalStake: bigint;
  /** Its header's timestamp (ms, the consensus time of the block, docs/PROTOCOL.md 6.2). */
  timestamp: number;
}

/** What {@link WalletClient.send} moves. */
export interface SendOpts {
  /** The sender's 32-byte Ed25519 secret key (from the keystore). */
  secretKey: Uint8Array;
  to: Uint8Array;
  /** Base units to `to`; may be 0 with a `name` operation (only its fee is paid). */
  amount: bigint;
  /**
   * A name operation carried by the transfer (docs/PROTOCOL.md 6.6): its
   * signer must be the sender (register: `owner` is the sender; transfer and
   * release: the sender owns the name). Registering costs 101 × minFee.
   */
  name?: NameOp;
  /** Default 1 (the testnet's minFee). */
  fee?: bigint;
  /** Validator that hosts the new outputs (where the stake goes); default: the first input's host. */
  host?: Uint8Array;
  /** How long to wait for the certificate, ms (default 60 s). */
  timeoutMs?: number;
  /**
   * Called with the signed transaction before it is submitted, so that a
   * caller can record it first (a write-ahead journal: after a crash the same
   * bytes can be resubmitted, harmlessly, and the receipt looked up by hash).
   * A throw here aborts the send before anything leaves the wallet.
   */
  onSigned?: (signed: SignedTransfer) => void | Promise<void>;
}

/** A transfer {@link WalletClient.send} signed, as handed to `onSigned`. */
export interface SignedTransfer {
  txHash: Uint8Array;
  /** The canonical encoding that is submitted. */
  tx: Uint8Array;
  body: TxBody;
  /** The verified outputs it spends. */
  spent: { outpoint: Outpoint; output: Output }[];
  /** Height of the certified balance they were read at. */
  height: number;
}

/** A receipt the wallet proved included under a certified history root. */
export interface VerifiedReceipt {
  txHash: Uint8Array;
  receipt: Receipt;
  /** The block that ordered the transaction. */
  height: number;
  /** The certified header the inclusion was proved under (at or after `height`). */
  certifiedHeight: number;
  historyRoot: Uint8Array;
  historySize: number;
  /** The epoch whose verified table certified the header at `certifiedHeight`. */
  epoch: number;
  signedStake: bigint;
  totalStake: bigint;
}

/** The wallet's view of one agent. */
export interface WalletClient {
  /** The latest certified header the agent names, verified. */
  certifiedHeader(): Promise<CertifiedHeader>;
  /** `owner`'s unspent outputs at the latest certified height, verified complete. */
  balance(owner: Uint8Array): Promise<VerifiedBalance>;
  /**
   * What this client has verified, as a trust anchor (docs/PROTOCOL.md
   * 11.2): the table of the epoch of the newest certified header it verified
   * (the anchor's before any). A later client created with it resumes there;
   * `sealTrustState` stores it.
   */
  trustState(): WalletTrust;
  /**
   * Whether `outpoint` is unspent (its output), spent (and at which height)
   * or was never created, proven under the latest certified header or `at`
   * (a header this client returned).
   */
  outpoint(outpoint: Outpoint, at?: CertifiedHeader): Promise<VerifiedOutpoint>;
  /**
   * Proves `txHash`'s receipt included in the history log under the latest
   * certified header, once one covers it (`NOT_YET` before). `at`, a header
   * this client returned, proves under that header instead: many receipts
   * under one header cost one certificate check.
   */
  receipt(txHash: Uint8Array, at?: CertifiedHeader): Promise<VerifiedReceipt>;
  /**
   * Spends verified outputs of the sender: builds and signs the transfer
   * (change back to the sender), submits it (a resubmission is harmless:
   * the agent is idempotent by hash), waits for a certified header that
   * covers its block, and returns the receipt proved under it. A lost
   * connection is retried, and the transfer resent every 3 s until a
   * certified block holds it: always the same bytes, so it is paid once.
   */
  send(opts: SendOpts): Promise<VerifiedReceipt>;
  /**
   * Checks that this agent and `other` share one history (RFC 9162
   * consistency): both latest certified headers verified, then the larger
   * log proven an extension of the smaller, with the proof asked of this
   * agent. Returns the two verified headers; `BAD_PROOF` if the histories
   * diverge (one agent serves a forged past), `WRONG_CHAIN` if `other`
   * follows another chain.
   */
  consistentWith(other: WalletClient): Promise<{ mine: CertifiedHeader; theirs: CertifiedHeader }>;
  /**
   * Checks that two verified headers (from any agents, at any times) share
   * one history: the larger log extends the smaller (RFC 9162 consistency,
   * the proof asked of this agent). `BAD_PROOF` if not.
   */
  verifyConsistency(a: CertifiedHeader, b: CertifiedHeader): Promise<void>;
  /**
   * The verified validator table of `epoch` (default: the table that signs
   * the block after the agent's latest certified one, as `pos_getValidators`
   * without a param), following every table from the trust anchor up to it
   * as needed. `UNKNOWN_SET` if the agent cannot prove it (yet), or if it
   * precedes a pinned checkpoint's epoch.
   */
  validators(epoch?: number): Promise<VerifiedValidatorSet>;
  /**
   * Every transaction that touched `key` (spent from it, paid it, registered
   * it, moved its name) in a height range, proven complete under the latest
   * certified header or `at` (docs/PROTOCOL.md 6.7).
   */
  history(key: Uint8Array, opts?: HistoryOpts, at?: CertifiedHeader): Promise<VerifiedHistory>;
  /** A name's owner, or that it is free, proven (docs/PROTOCOL.md 6.6). */
  resolveName(name: string, at?: CertifiedHeader): Promise<VerifiedName>;
  /**
   * Resolves `wallet@agent` (docs/PROTOCOL.md 6.6): both names proven under
   * one certified header, the agent a validator of the verified table.
   * `UNKNOWN_NAME`, `NOT_AN_AGENT`.
   */
  resolveAddress(address: string): Promise<ResolvedAddress>;
}
