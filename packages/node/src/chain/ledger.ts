/**
 * The UTXO ledger (docs/PROTOCOL.md 6.3) over the state trie (docs/PROTOCOL.md 3).
 *
 * **State.** One `@pos/merkle` state trie with 64-byte keys holds everything
 * the ledger's rules read, so that the state root commits to all of it, a
 * trie rollback (`atVersion`, docs/PROTOCOL.md 3.5) rolls all of it
 * back together, and a node that syncs the state from a checkpoint computes
 * the same receipts as one that replayed every block. Seven key spaces
 * (outputs by owner, outpoint records, the meta record, registrations, epoch
 * tables, laid out in `@pos/protocol` `state-keys.ts`; names and the key
 * history index, `names.ts` and `history.ts`, written by ./indexes.ts;
 * docs/PROTOCOL.md 6.3, 6.6, 6.7); the values' encodings of the first five
 * are this module's. An input names an
 * outpoint, not its owner, so the *outpoint record* finds the owner (hence
 * the output's key) and carries the outpoint itself (the output key only
 * has its hash, and a wallet needs the outpoint to spend). A spent outpoint
 * keeps a 9-byte record forever: that is what lets a later spend of it be
 * told `INPUT_SPENT` rather than `UNKNOWN_INPUT`, from committed state alone.
 *
 * **Validator sets** (docs/PROTOCOL.md 6.5). Genesis registers its
 * validators and writes epoch 0's table (the genesis set). A registration
 * transaction (a version-2 body) adds or updates a validator record. When a
 * block of height h is applied, every epoch k ≥ 1 whose snapshot round
 * `(k − 1) · EPOCH` is at or below h and whose table is not written yet gets
 * it: from the state before the block's transactions if the snapshot round
 * is below h (that round had no block), after them if it is h. A table holds
 * the registered validators hosting at least `minStake`, sorted by
 * validatorId (the 1,024 largest if more qualify, ties to the lower id); if
 * none qualifies the previous table carries over, so a set is never empty.
 *
 * **Versions.** Genesis is trie version 0; block `h` is committed as trie
 * version `h + 1` (heights are rounds and start at 0, docs/PROTOCOL.md 7).
 *
 * **Rules** (docs/PROTOCOL.md 6.3), checked in this order for each transaction
 * of a block, the first failure giving the receipt's reason:
 * 1. it decodes canonically (`MALFORMED`; its receipt's txHash is then
 *    `sha256("pos/bad-tx" ‖ bytes)`);
 * 2. its chainId is this chain's (`WRONG_CHAIN`);
 * 3. `fee >= minFee` (`FEE_TOO_LOW`);
 * 4. each input, in order, exists (`UNKNOWN_INPUT`) and is unspent at this
 *    point of the block (`INPUT_SPENT`): the first spend wins;
 * 5. `Σ in = Σ out + fee` in bigint arithmetic (`UNBALANCED`); the genesis
 *    supply fits a u64 and is conserved, so every sum that can balance does too;
 * 6. a name operation's rules (docs/PROTOCOL.md 6.6: `BAD_NAME`,
 *    `NAME_RESERVED`, `NAME_TAKEN`, `NOT_NAME_OWNER`);
 * 7. exactly one valid signature per distinct input owner, plus one by the
 *    registered key of a registration or the name's signer, and no other
 *    (`BAD_SIGNATURE`), through the injected `verify`. Last, because it is
 *    the expensive check.
 *
 * Every transaction (rejected ones too) also writes its key history entries
 * (docs/PROTOCOL.md 6.7).
 *
 * A committed transaction deletes its inputs' outputs, marks their outpoints
 * spent, and adds its outputs at `{txHash, i}`. **Fees are burned**: they
 * leave the unspent set and add to `burned` (the meta record), so that
 * `Σ unspent + burned` equals the genesis supply after every block.
 */
import {
  bytesFromKey,
  bytesKey,
  concatBytes,
  createMemoryStore,
  createStateTrie,
  equalBytes,
  type HashFn,
  type KVStore,
  MerkleError,
  type StateTrie,
  sha256Noble,
  type TrieEntry,
  type TrieOp,
  type TrieProof,
  type TrieRangeProof,
  type TrieReader,
  verifyTrieCompleteness,
} from '@pos/merkle';
import {
  chainIdOf,
  decodeHistoryRecord,
  decodeNameRecord,
  decodeOutpointRecord,
  decodeOutput,
  decodeValidatorSet,
  EPOCH_TABLE_PREFIX,
  encodeNameRecord,
  encodeOutput,
  encodeSpentRecord,
  encodeUnspentRecord,
  encodeValidatorSet,
  epochOfTableKey,
  epochTableKey,
  type Genesis,
  genesisOutpoint,
  genesisStakes,
  genesisSupply,
  type HistoryRecord,
  historyKeyOf,
  historyPosition,
  historyPrefix,
  historyRange,
  isHistoryKey,
  isNameKey,
  isOutpointRecordOrMetaKey,
  isRegistrationKey,
  isValidName,
  MAX_VALIDATORS,
  META_KEY,
  makeValidatorSet,
  type NameRecord,
  nameKey,
  type Outpoint,
  type OutpointRecord,
  type Output,
  outpointId,
  outpointRecordKey,
  ownerPrefix,
  Reader,
  type Receipt,
  type RejectReason,
  registrationKey,
  type SignedTx,
  STATE_KEY_BYTES,
  snapshotRoundOf,
  utf8Decoder,
  utf8Encoder,
  type ValidatorSet,
  validatorIdOfKey,
  validatorSetHash,
  Writer,
} from '@pos/protocol';
import {
  historyOps,
  judgeName,
  NAME_FEE_FACTOR,
  newestStart,
  readName,
  type Touched,
  touch,
} from './indexes.js';
import { LedgerError } from './ledger-error.js';
import { createTxDecoder, type TxDecoder } from './tx-decoder.js';

export { LedgerError, type LedgerErrorCode } from './ledger-error.js';

/**
 * Ed25519 verification, injected: the one acceptance rule of docs/PROTOCOL.md 2
 * lives elsewhere. It must return `true` only for a valid signature and must
 * not throw (verifiers fail closed, docs/PROTOCOL.md 1): a throw cannot be
 * turned into a receipt every node agrees on, so it fails the block instead.
 */
export type VerifyFn = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean | Promise<boolean>;

/** Options of {@link createLedger}. */
export interface LedgerOpts {
  genesis: Genesis;
  /**
   * Where the trie lives (default: a fresh memory store). The trie uses the
   * store's whole key space; give a prefixed store to share a database. A
   * store that already holds this chain's state is resumed.
   */
  store?: KVStore;
  /** SHA-256 (default @noble/hashes; the node injects node:crypto's). */
  hash?: HashFn;
  /** Strict Ed25519 verification (docs/PROTOCOL.md 2). */
  verify: VerifyFn;
  /**
   * The node's transaction decoder (one decode per bytes object, shared with
   * the mempool and the engine); default: one of the ledger's own.
   */
  decode?: TxDecoder;
  /** Committed versions kept readable (default 128, at least 2). */
  keepVersions?: number;
  /** Trie nodes deeper than this are dropped from memory after a commit (default: keep all). */
  maxCachedDepth?: number;
  /**
   * Write the trie every this many commits (`@pos/merkle` `flushEvery`,
   * docs/PROTOCOL.md 3.5); default 1; `Infinity`: only at {@link Ledger.flush}
   * (the chain's choice). Above 1 a crash loses the commits after the last
   * flush: the chain redoes them from the replayed blocks.
   */
  flushEvery?: number;
  /** The trie's memory budget in nodes (`@pos/merkle` `maxUnflushedNodes`); default: none. */
  maxUnflushedNodes?: number;
}

/** The receipts of a block and the state root after it (not committed yet). */
export interface BlockResult {
  receipts: Receipt[];
  stateRoot: Uint8Array;
  /** Epochs whose tables this block wrote, ascending. */
  epochs: number[];
  /** Validators registered (or re-registered) by this block. */
  registered: ValidatorRecord[];
}

/** A registered validator (docs/PROTOCOL.md 6.2, 6.5). */
export interface ValidatorRecord {
  readonly validatorId: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly name: string;
  readonly p2p: string;
}

/** One epoch's validator table as committed. */
export interface EpochTable {
  readonly epoch: number;
  readonly set: ValidatorSet;
  /** `encodeValidatorSet(set)`: the trie value. */
  readonly encoded: Uint8Array;
  /** `validatorSetHash(set)`. */
  readonly setHash: Uint8Array;
}

/** Outcome of {@link Ledger.checkTx}. */
export type TxCheck =
  | { ok: true; txHash: Uint8Array; tx: SignedTx }
  | { ok: false; txHash: Uint8Array; reason: RejectReason };

/** An unspent output with the outpoint that spends it. */
export interface OwnedOutput {
  outpoint: Outpoint;
  output: Output;
}

/** An owner's outputs with the proof that they are all of them (docs/PROTOCOL.md 3.2, 6.3). */
export interface OutputsProof {
  /** Height of the state (`null`: genesis). */
  height: number | null;
  stateRoot: Uint8Array;
  /** `sha256(owner)`. */
  prefix: Uint8Array;
  /** Trie entries under `prefix`, sorted by key: verify with `verifyTrieCompleteness`. */
  entries: TrieEntry[];
  proof: TrieProof;
  /** The same outputs, decoded, with their outpoints (check `outputKey(owner, outpoint)` = entry key). */
  outputs: OwnedOutput[];
}

/**
 * An outpoint's state with its proofs (docs/PROTOCOL.md 6.3, 11): the
 * record under `outpointRecordKey` proved present (unspent or spent, and
 * when) or absent (unknown), and for an unspent one its output proved
 * present under `outputKey(owner, outpoint)`.
 */
export interface OutpointProof {
  /** Height of the state (`null`: genesis). */
  height: number | null;
  stateRoot: Uint8Array;
  outpoint: Outpoint;
  /** The record, decoded; undefined: no such outpoint was ever created. */
  record: OutpointRecord | undefined;
  /** Inclusion proof of the record, or exclusion proof when there is none. */
  recordProof: TrieProof;
  /** For an unspent outpoint: its output and that entry's inclusion proof. */
  output?: { output: Output; proof: TrieProof };
}

/** A key's history entries in a range with the proof that they are all of them (docs/PROTOCOL.md 6.7). */
export interface HistoryProof {
  /** Height of the state (`null`: genesis). */
  height: number | null;
  stateRoot: Uint8Array;
  /** The proven key range (`historyRange`, possibly narrowed to the newest `limit` entries). */
  lo: Uint8Array;
  hi: Uint8Array;
  /** Trie entries in [lo, hi], sorted: verify with `verifyTrieRange`. */
  entries: TrieEntry[];
  proof: TrieRangeProof;
  /** The same entries, decoded. */
  records: (HistoryRecord & { height: number; index: number })[];
}

/** Options of {@link Ledger.proveHistory}. */
export interface HistoryQuery {
  /** The state to answer from (default: the latest commit; `null`: genesis). */
  height?: number | null;
  /** Lowest block height of the range (default 0). */
  fromHeight?: number;
  /** Highest block height of the range (default: the state's height). */
  toHeight?: number;
  /** Most entries returned: when more lie in the range, the newest ones (default 100). */
  limit?: number;
}

/** A name's record and its inclusion proof, or its exclusion proof (docs/PROTOCOL.md 6.6). */
export interface NameProof {
  height: number | null;
  stateRoot: Uint8Array;
  name: string;
  record: NameRecord | undefined;
  proof: TrieProof;
}

/** Most entries {@link Ledger.proveHistory} reads in one block's height to cut at the newest `limit`. */
export const MAX_HISTORY_SCAN = 100_000;

/** Options of the output queries. */
export interface OutputsQuery {
  /** A committed height still in the kept window (default: the latest commit; `null`: genesis). */
  height?: number | null;
  /** Refuse (trie `OUT_OF_RANGE`) rather than collect more outputs than this. */
  maxEntries?: number;
}

/** The ledger of one chain. Every query answers from the latest committed state. */
export interface Ledger {
  readonly chainId: Uint8Array;
  readonly genesis: Genesis;
  /** Height of the last committed block, or `null` while only genesis is committed. */
  readonly height: number | null;
  /** Root of the last committed state. */
  stateRoot(): Uint8Array;
  /** Root of the state after block `height` (`null`: genesis), within the kept window. */
  stateRootAt(height: number | null): Promise<Uint8Array>;
  /**
   * Applies a block's transactions in order and returns one receipt per
   * transaction. The block must be committed with {@link commit} before the
   * next one. Heights strictly increase (rounds without a block are skipped).
   */
  applyBlock(height: number, txs: readonly Uint8Array[]): Promise<BlockResult>;
  /**
   * Commits the applied block `height`: in one atomic store batch, or in
   * memory until {@link flush} when the trie defers its writes (`flushEvery`).
   */
  commit(height: number): Promise<{ height: number; stateRoot: Uint8Array }>;
  /** Writes the committed blocks the store lacks, in one batch (a no-op when none waits). */
  flush(): Promise<void>;
  /** Height of the last block in the store (what a reopen gives); `null`: genesis. */
  readonly flushedHeight: number | null;
  /**
   * The lowest height whose state is still kept (reads and proofs at it
   * answer; older ones are `PRUNED`): the last `keepVersions` heights.
   * `null` before the first block.
   */
  readonly keptFromHeight: number | null;
  /** Trie nodes waiting in memory for the next flush. */
  readonly unflushedNodes: number;
  /** Checks `tx` against the latest committed state without applying it (the mempool's test). */
  checkTx(tx: Uint8Array): Promise<TxCheck>;
  /** Σ unspent + burned: always the genesis supply. */
  supply(): bigint;
  /** Σ of the unspent outputs. */
  unspent(): bigint;
  /** Σ of the fees burned so far. */
  burned(): bigint;
  /** Σ of the unspent outputs hosted by `validatorId` (docs/PROTOCOL.md 6.5). */
  stakeOf(validatorId: Uint8Array): bigint;
  /** Every registered validator (genesis ones included), sorted by validatorId. */
  registrations(): ValidatorRecord[];
  /** The registration of `validatorId`, if any. */
  registration(validatorId: Uint8Array): ValidatorRecord | undefined;
  /**
   * Epoch `k`'s table if the committed state (or the applied block) holds it
   * (docs/PROTOCOL.md 6.5).
   */
  epochTable(k: number): EpochTable | undefined;
  /** The highest epoch whose table the committed state holds. */
  readonly lastTableEpoch: number;
  /**
   * The table the committed state would give now: epoch k's when every
   * block up to its snapshot round is applied and none after it (the node
   * needs it when rounds after the snapshot have no block yet).
   */
  previewTable(): ValidatorSet;
  /** Inclusion proof of epoch `k`'s table in the committed state (to store with the block that wrote it). */
  proveEpochTable(k: number): Promise<TrieProof>;
  /** Every host with a non-zero stake, sorted by validatorId. */
  stakes(): { validatorId: Uint8Array; stake: bigint }[];
  /** The unspent output at `outpoint`, if any. */
  getOutput(outpoint: Outpoint): Promise<Output | undefined>;
  /** `owner`'s unspent outputs, in trie key order. */
  getOutputs(owner: Uint8Array, query?: OutputsQuery): Promise<OwnedOutput[]>;
  /** `owner`'s unspent outputs with their completeness proof. */
  proveOutputs(owner: Uint8Array, query?: OutputsQuery): Promise<OutputsProof>;
  /** Whether `outpoint` is unspent, spent (at which height) or unknown, with the proofs. */
  proveOutpoint(outpoint: Outpoint, query?: Pick<OutputsQuery, 'height'>): Promise<OutpointProof>;
  /** `pubkey`'s history entries in a height range, proven complete (docs/PROTOCOL.md 6.7). */
  proveHistory(pubkey: Uint8Array, query?: HistoryQuery): Promise<HistoryProof>;
  /** A name's record with its inclusion proof, or its exclusion proof (docs/PROTOCOL.md 6.6). */
  proveName(name: string, query?: Pick<OutputsQuery, 'height'>): Promise<NameProof>;
}

// --- state layout --------------------------------------------------------------

/** Longest stretch of block execution between two turns of the event loop. */
const APPLY_SLICE_MS = 4;
/** One macrotask turn: I/O callbacks (sync requests, JSON-RPC) run before the next slice. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const META_VERSION = 1;

const REG_VERSION = 1;

function encodeRegistration(r: ValidatorRecord): Uint8Array {
  return new Writer(300)
    .u8(REG_VERSION)
    .bytes(r.pubkey, 32)
    .varBytes(utf8Encoder.encode(r.name))
    .varBytes(utf8Encoder.encode(r.p2p))
    .finish();
}

function decodeRegistration(bytes: Uint8Array, hash: HashFn): ValidatorRecord {
  try {
    const r = new Reader(bytes);
    r.u8(REG_VERSION, REG_VERSION, 'registration version');
    const pubkey = r.bytes(32);
    const name = utf8Decoder.decode(r.varBytes(0, 64, 'name'));
    const p2p = utf8Decoder.decode(r.varBytes(1, 128, 'p2p'));
    r.end();
    return { validatorId: validatorIdOfKey(pubkey, hash), pubkey, name, p2p };
  } catch (e) {
    throw new LedgerError('CORRUPT_STATE', 'malformed validator record', { cause: e });
  }
}

/**
 * The table a state gives (docs/PROTOCOL.md 6.5): registered validators hosting
 * at least `minStake`, sorted by validatorId; the 1,024 largest if more qualify
 * (ties to the lower validatorId). `null` if none qualifies.
 */
function computeTable(
  regs: ReadonlyMap<string, ValidatorRecord>,
  stakes: ReadonlyMap<string, bigint>,
  minStake: bigint,
  hash: HashFn,
): ValidatorSet | null {
  let members: { r: ValidatorRecord; stake: bigint; k: string }[] = [];
  for (const [k, r] of regs) {
    const stake = stakes.get(k) ?? 0n;
    if (stake >= minStake && stake > 0n) members.push({ r, stake, k });
  }
  if (members.length === 0) return null;
  if (members.length > MAX_VALIDATORS) {
    // bytesKey is one char per byte, so string order is byte order.
    members.sort((a, b) =>
      a.stake !== b.stake ? (a.stake > b.stake ? -1 : 1) : a.k < b.k ? -1 : a.k > b.k ? 1 : 0,
    );
    members = members.slice(0, MAX_VALIDATORS);
  }
  return makeValidatorSet(
    members.map((m) => ({ publicKey: m.r.pubkey, stake: m.stake })),
    hash,
  );
}

function toEpochTable(epoch: number, set: ValidatorSet, hash: HashFn): EpochTable {
  return {
    epoch,
    set,
    encoded: encodeValidatorSet(set, hash),
    setHash: validatorSetHash(set, hash),
  };
}

/** A query's height: absent (the latest), null (genesis) or a height; else `BAD_HEIGHT`. */
function checkQueryHeight(height: number | null | undefined): void {
  if (height !== undefined && height !== null && (!Number.isSafeInteger(height) || height < 0)) {
    throw new LedgerError('BAD_HEIGHT', 'height must be a safe integer >= 0 or null');
  }
}

function decodeRecord(bytes: Uint8Array): OutpointRecord {
  try {
    return decodeOutpointRecord(bytes);
  } catch (e) {
    throw new LedgerError('CORRUPT_STATE', 'malformed outpoint record', { cause: e });
  }
}

function encodeMeta(chainId: Uint8Array, burned: bigint): Uint8Array {
  return new Writer(41).u8(META_VERSION).bytes(chainId, 32).u64be(burned).finish();
}

function decodeMeta(bytes: Uint8Array): { chainId: Uint8Array; burned: bigint } {
  try {
    const r = new Reader(bytes);
    r.u8(META_VERSION, META_VERSION, 'meta version');
    const chainId = r.bytes(32);
    const burned = r.u64be();
    r.end();
    return { chainId, burned };
  } catch (e) {
    throw new LedgerError('CORRUPT_STATE', 'malformed ledger meta record', { cause: e });
  }
}

/** Aggregates kept in memory (rebuilt from the trie on open). */
interface Totals {
  unspent: bigint;
  burned: bigint;
  /** validatorId (bytesKey) → Σ hosted unspent; zero entries are removed. */
  stakes: Map<string, bigint>;
}

function cloneTotals(t: Totals): Totals {
  return { unspent: t.unspent, burned: t.burned, stakes: new Map(t.stakes) };
}

function addStake(t: Totals, host: Uint8Array, delta: bigint): void {
  const k = bytesKey(host);
  const v = (t.stakes.get(k) ?? 0n) + delta;
  if (v < 0n) throw new LedgerError('CORRUPT_STATE', 'negative stake');
  if (v === 0n) t.stakes.delete(k);
  else t.stakes.set(k, v);
}

/** Key-value reads of one state: the working trie, or a committed root. */
type StateReader = Pick<TrieReader, 'get'>;

/** A spend found valid: what applying it changes. */
interface Spend {
  id: Uint8Array;
  key: Uint8Array;
  output: Output;
}

type Verdict =
  | { ok: true; txHash: Uint8Array; tx: SignedTx; spends: Spend[]; nameOp: TrieOp | null }
  | { ok: false; txHash: Uint8Array; reason: RejectReason };

/**
 * Opens the ledger of `opts.genesis` over `opts.store`: a store without a
 * committed trie gets the genesis state (committed as version 0); a store
 * with one is resumed after checking that it holds this chain. Resuming
 * rebuilds the in-memory totals (supply, stakes) with one scan of the state.
 */
export async function createLedger(opts: LedgerOpts): Promise<Ledger> {
  if (typeof opts?.verify !== 'function') {
    throw new LedgerError('BAD_ARGUMENT', 'verify must be a function');
  }
  const keepVersions = opts.keepVersions ?? 128;
  if (!Number.isSafeInteger(keepVersions) || keepVersions < 2) {
    // A concurrent checkTx reads the previous version while a commit lands.
    throw new LedgerError('BAD_ARGUMENT', 'keepVersions must be an integer >= 2');
  }
  const hash = opts.hash ?? sha256Noble;
  const trie = await createStateTrie({
    keyBytes: STATE_KEY_BYTES,
    store: opts.store ?? createMemoryStore(),
    hash,
    keepVersions,
    ...(opts.maxCachedDepth === undefined ? {} : { maxCachedDepth: opts.maxCachedDepth }),
    ...(opts.flushEvery === undefined ? {} : { flushEvery: opts.flushEvery }),
    ...(opts.maxUnflushedNodes === undefined ? {} : { maxUnflushedNodes: opts.maxUnflushedNodes }),
  });
  const decode = opts.decode ?? createTxDecoder(hash);
  const ledger = new LedgerImpl(opts.genesis, trie, hash, opts.verify, decode, keepVersions);
  await ledger.open();
  return ledger;
}

class LedgerImpl implements Ledger {
  readonly chainId: Uint8Array;
  private readonly minFee: bigint;
  private readonly minStake: bigint;
  private readonly genesisSupply: bigint;
  private committedHeight: number | null = null;
  private committedRoot: Uint8Array = new Uint8Array(32);
  private totals: Totals = { unspent: 0n, burned: 0n, stakes: new Map() };
  /** Registered validators by bytesKey(validatorId) (committed). */
  private regs = new Map<string, ValidatorRecord>();
  /** Epoch tables the committed state holds. */
  private tables = new Map<number, EpochTable>();
  private lastEpoch = 0;
  /** The applied, not yet committed block. */
  private pending: {
    height: number;
    totals: Totals;
    regs: Map<string, ValidatorRecord>;
    tables: EpochTable[];
  } | null = null;
  /** An applyBlock or commit is running: the working trie is not the committed state. */
  private busy = false;
  private failure: unknown = null;
  /** Queries reading the working trie right now, and who waits for them to end. */
  private workingReaders = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly genesis: Genesis,
    private readonly trie: StateTrie,
    private readonly hash: HashFn,
    private readonly verify: VerifyFn,
    private readonly decode: TxDecoder,
    private readonly keepVersions: number,
  ) {
    this.chainId = chainIdOf(genesis, hash);
    this.minFee = genesis.params.minFee;
    this.minStake = genesis.params.minStake;
    this.genesisSupply = genesisSupply(genesis);
  }

  get height(): number | null {
    return this.committedHeight;
  }

  get keptFromHeight(): number | null {
    const h = this.committedHeight;
    return h === null ? null : Math.max(0, h - this.keepVersions + 1);
  }

  get flushedHeight(): number | null {
    const v = this.trie.flushedVersion;
    return v === null || v === 0 ? null : v - 1;
  }

  get unflushedNodes(): number {
    return this.trie.unflushedNodes;
  }

  async flush(): Promise<void> {
    this.guard();
    await this.trie.flush();
  }

  async open(): Promise<void> {
    const version = this.trie.version;
    if (version === null) {
      await this.initGenesis();
      return;
    }
    const metaBytes = await this.trie.get(META_KEY);
    if (metaBytes === undefined) throw new LedgerError('CORRUPT_STATE', 'no ledger meta record');
    const meta = decodeMeta(metaBytes);
    if (!equalBytes(meta.chainId, this.chainId)) {
      throw new LedgerError('CHAIN_MISMATCH', 'the store holds another chain');
    }
    const totals: Totals = { unspent: 0n, burned: meta.burned, stakes: new Map() };
    const { entries, proof } = await this.trie.provePrefix(new Uint8Array(0));
    // Startup integrity check: trie nodes are read by the hash their parent
    // names, not re-hashed, so a damaged record would be believed. Rebuilding
    // the root from every entry (the scan reads them all anyway) makes the
    // committed root, which the chain compares with its last header, vouch
    // for the whole state.
    if (
      !verifyTrieCompleteness(this.trie.root(), new Uint8Array(0), entries, proof, {
        hash: this.hash,
      })
    ) {
      throw new LedgerError(
        'CORRUPT_STATE',
        'the state records do not hash to the stored state root',
      );
    }
    for (const e of entries) {
      // Epoch keys first: epoch 0's ends in 32 zero bytes, like a record key.
      if (isRegistrationKey(e.key)) {
        const r = decodeRegistration(e.value, this.hash);
        if (!equalBytes(r.validatorId, e.key.subarray(0, 32))) {
          throw new LedgerError('CORRUPT_STATE', 'a validator record under another id');
        }
        this.regs.set(bytesKey(r.validatorId), r);
        continue;
      }
      const epoch = epochOfTableKey(e.key);
      if (epoch !== undefined) {
        let set: ValidatorSet;
        try {
          set = decodeValidatorSet(e.value, this.hash);
        } catch (err) {
          throw new LedgerError('CORRUPT_STATE', `malformed table of epoch ${epoch}`, {
            cause: err,
          });
        }
        this.tables.set(epoch, toEpochTable(epoch, set, this.hash));
        if (epoch > this.lastEpoch) this.lastEpoch = epoch;
        continue;
      }
      if (equalBytes(e.key.subarray(0, 32), EPOCH_TABLE_PREFIX)) {
        throw new LedgerError('CORRUPT_STATE', 'a malformed epoch-table key');
      }
      if (isOutpointRecordOrMetaKey(e.key) || isHistoryKey(e.key)) continue;
      if (isNameKey(e.key)) {
        this.checkNameEntry(e);
        continue;
      }
      const o = this.decodeStoredOutput(e.value);
      totals.unspent += o.amount;
      addStake(totals, o.host, o.amount);
    }
    if (totals.unspent + totals.burned !== this.genesisSupply) {
      throw new LedgerError('CORRUPT_STATE', 'unspent + burned differs from the genesis supply');
    }
    for (let k = 0; k <= this.lastEpoch; k++) {
      if (!this.tables.has(k)) throw new LedgerError('CORRUPT_STATE', `no table of epoch ${k}`);
    }
    // Block h's commit holds the table of every epoch k >= 1 whose snapshot
    // round (k - 1) * EPOCH is at or below h, and no later one. A missing last
    // table would otherwise be written again by the next block from the wrong
    // state, and an extra one never rewritten.
    const height = version === 0 ? null : version - 1;
    const want = height === null ? 0 : Math.floor(height / this.genesis.params.epoch) + 1;
    if (this.lastEpoch !== want) {
      throw new LedgerError(
        'CORRUPT_STATE',
        `tables up to epoch ${this.lastEpoch} at height ${height ?? 'genesis'}, not ${want}`,
      );
    }
    this.totals = totals;
    this.committedHeight = height;
    this.committedRoot = this.trie.root();
  }

  private async initGenesis(): Promise<void> {
    const ops: TrieOp[] = [];
    const totals: Totals = { unspent: 0n, burned: 0n, stakes: new Map() };
    this.genesis.outputs.forEach((o, i) => {
      const op = genesisOutpoint(this.chainId, i);
      this.pushCreate(ops, op, o);
      totals.unspent += o.amount;
      addStake(totals, o.host, o.amount);
    });
    ops.push({ type: 'put', key: META_KEY, value: encodeMeta(this.chainId, 0n) });
    // Genesis validators are registered; epoch 0's table is the genesis set,
    // every genesis validator with its genesis stake (0 included: the set
    // whose hash the first headers commit to, and what a wallet's trust
    // anchor holds).
    for (const v of this.genesis.validators) {
      const rec = {
        validatorId: validatorIdOfKey(v.pubkey, this.hash),
        pubkey: v.pubkey,
        name: v.name,
        p2p: v.p2p,
      };
      this.regs.set(bytesKey(rec.validatorId), rec);
      ops.push({
        type: 'put',
        key: registrationKey(rec.validatorId),
        value: encodeRegistration(rec),
      });
    }
    ops.push(...this.genesisNames());
    const set0 = makeValidatorSet(
      genesisStakes(this.genesis, this.hash).map((s) => ({ publicKey: s.pubkey, stake: s.stake })),
      this.hash,
    );
    const t0 = toEpochTable(0, set0, this.hash);
    ops.push({ type: 'put', key: epochTableKey(0), value: t0.encoded });
    await this.trie.apply(ops);
    const { root } = await this.trie.commit(0);
    // Genesis is written at once: a store without it would open empty.
    await this.trie.flush();
    this.tables.set(0, t0);
    this.totals = totals;
    this.committedRoot = root;
  }

  /**
   * Genesis validators own their display names as names (docs/PROTOCOL.md
   * 6.6), so that `alice@v0` can name agent `v0` from the first block: in
   * genesis order (sorted by validatorId), a valid name not taken by an
   * earlier one.
   */
  private genesisNames(): TrieOp[] {
    const ops: TrieOp[] = [];
    const taken = new Set<string>();
    for (const v of this.genesis.validators) {
      if (!isValidName(v.name) || taken.has(v.name)) continue;
      taken.add(v.name);
      const value = encodeNameRecord({ name: v.name, owner: v.pubkey, sinceHeight: 0 });
      ops.push({ type: 'put', key: nameKey(v.name, this.hash), value });
    }
    return ops;
  }

  /** A name entry of the startup scan: a valid record under its own name's key. */
  private checkNameEntry(e: TrieEntry): void {
    let rec: NameRecord;
    try {
      rec = decodeNameRecord(e.value);
    } catch (err) {
      throw new LedgerError('CORRUPT_STATE', 'a malformed name record', { cause: err });
    }
    if (!equalBytes(nameKey(rec.name, this.hash), e.key)) {
      throw new LedgerError('CORRUPT_STATE', 'a name record under another name');
    }
  }

  private decodeStoredOutput(bytes: Uint8Array): Output {
    try {
      return decodeOutput(bytes);
    } catch (e) {
      throw new LedgerError('CORRUPT_STATE', 'malformed output in the state', { cause: e });
    }
  }

  private outputKeyOf(owner: Uint8Array, id: Uint8Array): Uint8Array {
    return concatBytes(ownerPrefix(owner, this.hash), id);
  }

  /** Adds the trie ops that create output `o` at `op`. */
  private pushCreate(ops: TrieOp[], op: Outpoint, o: Output): void {
    const id = outpointId(op, this.hash);
    ops.push({ type: 'put', key: this.outputKeyOf(o.owner, id), value: encodeOutput(o) });
    ops.push({ type: 'put', key: outpointRecordKey(id), value: encodeUnspentRecord(op, o.owner) });
  }

  private guard(): void {
    if (this.failure !== null) {
      throw new LedgerError('FAILED', 'an earlier block failed half-way; reopen the ledger', {
        cause: this.failure,
      });
    }
  }

  /**
   * Runs `fn` on the committed state at `height` (default: the latest). The
   * latest is read from the working trie (resident, fast) when it equals the
   * committed state, else from the committed root in the store. A read of the
   * working trie is counted, and applyBlock waits for those to finish before
   * it changes anything, so a query never sees half a block.
   */
  private async withState<T>(
    height: number | null | undefined,
    fn: (state: TrieReader) => Promise<T>,
  ): Promise<T> {
    if (height !== undefined && height !== this.committedHeight) {
      return fn(this.trie.at(await this.stateRootAt(height)));
    }
    if (this.pending !== null || this.busy) return fn(this.trie.at(this.committedRoot));
    this.workingReaders++;
    try {
      return await fn(this.trie);
    } finally {
      if (--this.workingReaders === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Resolves once no query reads the working trie (new ones go to the committed root meanwhile). */
  private workingReadersIdle(): Promise<void> {
    if (this.workingReaders === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Validates one transaction against `state` (rules 1-7 of the module
   * comment) at block `height`. Fills `touched` with the keys it touched
   * (docs/PROTOCOL.md 6.7): the owners of the inputs found, and for a
   * transaction that commits its outputs' owners, registered key and name
   * parties too.
   */
  private async judge(
    bytes: Uint8Array,
    state: StateReader,
    height: number,
    touched: Touched,
  ): Promise<Verdict> {
    const decoded = this.decode(bytes);
    if (!decoded.ok) return { ok: false, txHash: decoded.txHash, reason: 'MALFORMED' };
    const { tx, txHash } = decoded;
    const { body } = tx;
    const reject = (reason: RejectReason): Verdict => ({ ok: false, txHash, reason });
    if (!equalBytes(body.chainId, this.chainId)) return reject('WRONG_CHAIN');
    const minFee =
      body.name?.op === 'register' ? this.minFee + NAME_FEE_FACTOR * this.minFee : this.minFee;
    if (body.fee < minFee) return reject('FEE_TOO_LOW');
    const spends: Spend[] = [];
    const owners = new Set<string>();
    let sumIn = 0n;
    for (const input of body.inputs) {
      const id = outpointId(input, this.hash);
      const recBytes = await state.get(outpointRecordKey(id));
      if (recBytes === undefined) return reject('UNKNOWN_INPUT');
      const rec = decodeRecord(recBytes);
      if (rec.spent) return reject('INPUT_SPENT');
      touch(touched, rec.owner, 'input');
      const key = this.outputKeyOf(rec.owner, id);
      const outBytes = await state.get(key);
      if (outBytes === undefined) {
        throw new LedgerError('CORRUPT_STATE', 'an unspent outpoint has no output');
      }
      const output = this.decodeStoredOutput(outBytes);
      sumIn += output.amount;
      owners.add(bytesKey(rec.owner));
      spends.push({ id, key, output });
    }
    let sumOut = body.fee;
    for (const o of body.outputs) sumOut += o.amount;
    if (sumIn !== sumOut) return reject('UNBALANCED');
    // A registration must also be signed by the key it registers.
    if (body.register !== undefined) owners.add(bytesKey(body.register.pubkey));
    // A name operation, by the name's new owner (register) or current one.
    let nameOp: TrieOp | null = null;
    let nameParties: Uint8Array[] = [];
    if (body.name !== undefined) {
      const nv = await judgeName(body.name, state, height, this.hash);
      if (!nv.ok) return reject(nv.reason);
      owners.add(bytesKey(nv.signer));
      nameOp = nv.op;
      nameParties = nv.parties;
    }
    // Signatures are sorted and distinct (decodeTx), so equal counts plus
    // membership make the signers exactly the set of required keys.
    if (tx.signatures.length !== owners.size) return reject('BAD_SIGNATURE');
    for (const s of tx.signatures) {
      if (!owners.has(bytesKey(s.publicKey))) return reject('BAD_SIGNATURE');
    }
    for (const s of tx.signatures) {
      if ((await this.verify(s.publicKey, txHash, s.signature)) !== true) {
        return reject('BAD_SIGNATURE');
      }
    }
    for (const o of body.outputs) touch(touched, o.owner, 'output');
    if (body.register !== undefined) touch(touched, body.register.pubkey, 'registered');
    for (const p of nameParties) touch(touched, p, 'name');
    // The signed transaction as decodeTx gives it (its bytes and id are the verdict's).
    return { ok: true, txHash, tx: { body, signatures: tx.signatures }, spends, nameOp };
  }

  async applyBlock(height: number, txs: readonly Uint8Array[]): Promise<BlockResult> {
    this.guard();
    if (this.busy) throw new LedgerError('BUSY', 'another applyBlock or commit is running');
    if (this.pending !== null) {
      throw new LedgerError('PENDING_BLOCK', `block ${this.pending.height} is not committed`);
    }
    if (!Number.isSafeInteger(height) || height < 0) {
      throw new LedgerError('BAD_HEIGHT', 'height must be a safe integer >= 0');
    }
    if (this.committedHeight !== null && height <= this.committedHeight) {
      throw new LedgerError('BAD_HEIGHT', `height ${height} <= ${this.committedHeight}`);
    }
    if (!Array.isArray(txs) || txs.length > 0xffffffff) {
      throw new LedgerError('BAD_ARGUMENT', 'txs must be an array of at most 2^32-1 items');
    }
    if (!txs.every((t) => t instanceof Uint8Array)) {
      throw new LedgerError('BAD_ARGUMENT', 'every transaction must be a Uint8Array');
    }
    this.busy = true;
    try {
      await this.workingReadersIdle();
      const totals = cloneTotals(this.totals);
      const regs = this.regs;
      let newRegs: Map<string, ValidatorRecord> | null = null;
      const registered: ValidatorRecord[] = [];
      const written: EpochTable[] = [];
      // Tables whose snapshot round had no block: the state before this one.
      let next = this.lastEpoch + 1;
      const snap = (k: number) => snapshotRoundOf(k, this.genesis.params) as number;
      for (; snap(next) < height; next++) {
        written.push(await this.writeTable(next, regs, totals, written));
      }
      const receipts: Receipt[] = [];
      const spentRecord = encodeSpentRecord(height);
      let sliceStart = performance.now();
      for (let index = 0; index < txs.length; index++) {
        // A block of thousands of transfers is a second of work: in slices,
        // so that the node's sync server, JSON-RPC and gossip loop are served
        // in between (the profile showed pulls waiting ~100 ms behind one
        // block, which slowed rounds and so finality). Queries meanwhile read
        // the committed root (`withState`), never the half-applied trie.
        if (performance.now() - sliceStart >= APPLY_SLICE_MS) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
        const touched: Touched = new Map();
        const v = await this.judge(txs[index]!, this.trie, height, touched);
        if (!v.ok) {
          receipts.push({ txHash: v.txHash, status: 'rejected', reason: v.reason, height, index });
          // The key history index records rejected transactions too, under
          // the owners of the inputs they named that exist (docs/PROTOCOL.md 6.7).
          const at = { height, index, txHash: v.txHash, reason: v.reason };
          if (touched.size > 0) await this.trie.apply(historyOps(touched, at, this.hash));
          continue;
        }
        const ops: TrieOp[] = [];
        for (const s of v.spends) {
          ops.push({ type: 'del', key: s.key });
          ops.push({ type: 'put', key: outpointRecordKey(s.id), value: spentRecord });
          totals.unspent -= s.output.amount;
          addStake(totals, s.output.host, -s.output.amount);
        }
        v.tx.body.outputs.forEach((o, i) => {
          this.pushCreate(ops, { txHash: v.txHash, index: i }, o);
          totals.unspent += o.amount;
          addStake(totals, o.host, o.amount);
        });
        totals.burned += v.tx.body.fee;
        const reg = v.tx.body.register;
        if (reg !== undefined) {
          const rec = {
            validatorId: validatorIdOfKey(reg.pubkey, this.hash),
            pubkey: reg.pubkey,
            name: reg.name,
            p2p: reg.p2p,
          };
          ops.push({
            type: 'put',
            key: registrationKey(rec.validatorId),
            value: encodeRegistration(rec),
          });
          newRegs ??= new Map(regs);
          newRegs.set(bytesKey(rec.validatorId), rec);
          registered.push(rec);
        }
        if (v.nameOp !== null) ops.push(v.nameOp);
        ops.push(...historyOps(touched, { height, index, txHash: v.txHash }, this.hash));
        await this.trie.apply(ops);
        receipts.push({ txHash: v.txHash, status: 'committed', height, index });
      }
      // A table whose snapshot round is this block: the state after it.
      if (snap(next) === height) {
        written.push(await this.writeTable(next, newRegs ?? regs, totals, written));
      }
      if (totals.unspent + totals.burned !== this.genesisSupply) {
        throw new LedgerError('CORRUPT_STATE', 'supply not conserved');
      }
      if (totals.burned !== this.totals.burned) {
        await this.trie.put(META_KEY, encodeMeta(this.chainId, totals.burned));
      }
      this.pending = { height, totals, regs: newRegs ?? regs, tables: written };
      return {
        receipts,
        stateRoot: this.trie.root(),
        epochs: written.map((t) => t.epoch),
        registered,
      };
    } catch (e) {
      // The working trie may hold half a block: refuse everything until reopened.
      this.failure = e;
      throw e;
    } finally {
      this.busy = false;
    }
  }

  async commit(height: number): Promise<{ height: number; stateRoot: Uint8Array }> {
    this.guard();
    if (this.busy) throw new LedgerError('BUSY', 'another applyBlock or commit is running');
    if (this.pending === null) throw new LedgerError('NO_PENDING_BLOCK', 'no applied block');
    if (height !== this.pending.height) {
      throw new LedgerError('BAD_HEIGHT', `the applied block is ${this.pending.height}`);
    }
    this.busy = true;
    try {
      const { root } = await this.trie.commit(height + 1);
      this.totals = this.pending.totals;
      this.regs = this.pending.regs;
      for (const t of this.pending.tables) {
        this.tables.set(t.epoch, t);
        this.lastEpoch = t.epoch;
      }
      this.committedHeight = height;
      this.committedRoot = root;
      this.pending = null;
      return { height, stateRoot: root };
    } catch (e) {
      this.failure = e;
      throw e;
    } finally {
      this.busy = false;
    }
  }

  async checkTx(tx: Uint8Array): Promise<TxCheck> {
    this.guard();
    if (!(tx instanceof Uint8Array)) throw new LedgerError('BAD_ARGUMENT', 'tx must be bytes');
    const next = (this.committedHeight ?? -1) + 1;
    const v = await this.withState(undefined, (state) => this.judge(tx, state, next, new Map()));
    return v.ok ? { ok: true, txHash: v.txHash, tx: v.tx } : v;
  }

  stateRoot(): Uint8Array {
    return this.committedRoot.slice();
  }

  async stateRootAt(height: number | null): Promise<Uint8Array> {
    if (height !== null && (!Number.isSafeInteger(height) || height < 0)) {
      throw new LedgerError('BAD_HEIGHT', 'height must be a safe integer >= 0 or null');
    }
    if (height !== null && (this.committedHeight === null || height > this.committedHeight)) {
      throw new LedgerError('BAD_HEIGHT', `height ${height} is not committed`);
    }
    try {
      return await this.trie.rootAt(height === null ? 0 : height + 1);
    } catch (e) {
      // A height between two committed blocks had no block: it has no root
      // of its own. Nor has a block between two state flushes once a restart
      // dropped the memory that held it (docs/PROTOCOL.md 9.2).
      if (e instanceof MerkleError && e.code === 'UNKNOWN_ROOT') {
        throw new LedgerError('BAD_HEIGHT', `no state kept at height ${height}`, { cause: e });
      }
      throw e;
    }
  }

  supply(): bigint {
    return this.totals.unspent + this.totals.burned;
  }

  unspent(): bigint {
    return this.totals.unspent;
  }

  burned(): bigint {
    return this.totals.burned;
  }

  stakeOf(validatorId: Uint8Array): bigint {
    if (!(validatorId instanceof Uint8Array) || validatorId.length !== 32) {
      throw new LedgerError('BAD_ARGUMENT', 'validatorId must be 32 bytes');
    }
    return this.totals.stakes.get(bytesKey(validatorId)) ?? 0n;
  }

  /** Computes epoch `k`'s table from `regs` and `totals` and puts it in the working trie. */
  private async writeTable(
    k: number,
    regs: ReadonlyMap<string, ValidatorRecord>,
    totals: Totals,
    written: readonly EpochTable[],
  ): Promise<EpochTable> {
    const prev = written.length > 0 ? written[written.length - 1]! : this.tables.get(k - 1);
    if (prev === undefined) throw new LedgerError('CORRUPT_STATE', `no table of epoch ${k - 1}`);
    const set = computeTable(regs, totals.stakes, this.minStake, this.hash) ?? prev.set;
    const t = toEpochTable(k, set, this.hash);
    await this.trie.put(epochTableKey(k), t.encoded);
    return t;
  }

  registrations(): ValidatorRecord[] {
    return [...this.regs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
  }

  registration(validatorId: Uint8Array): ValidatorRecord | undefined {
    if (!(validatorId instanceof Uint8Array) || validatorId.length !== 32) {
      throw new LedgerError('BAD_ARGUMENT', 'validatorId must be 32 bytes');
    }
    return this.regs.get(bytesKey(validatorId));
  }

  epochTable(k: number): EpochTable | undefined {
    // A table the applied, not yet committed block wrote counts too: the
    // chain needs the next set's hash for that block's own header.
    return this.tables.get(k) ?? this.pending?.tables.find((t) => t.epoch === k);
  }

  get lastTableEpoch(): number {
    return this.lastEpoch;
  }

  previewTable(): ValidatorSet {
    const prev = this.tables.get(this.lastEpoch)!;
    return computeTable(this.regs, this.totals.stakes, this.minStake, this.hash) ?? prev.set;
  }

  async proveEpochTable(k: number): Promise<TrieProof> {
    this.guard();
    if (!this.tables.has(k)) throw new LedgerError('BAD_ARGUMENT', `no table of epoch ${k}`);
    return this.withState(undefined, (state) => state.prove(epochTableKey(k)));
  }

  stakes(): { validatorId: Uint8Array; stake: bigint }[] {
    // bytesKey is one char per byte, so string order is byte order.
    return [...this.totals.stakes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, stake]) => ({ validatorId: bytesFromKey(k), stake }));
  }

  async getOutput(outpoint: Outpoint): Promise<Output | undefined> {
    this.guard();
    const id = this.checkedOutpointId(outpoint);
    return this.withState(undefined, async (state) => {
      const recBytes = await state.get(outpointRecordKey(id));
      if (recBytes === undefined) return undefined;
      const rec = decodeRecord(recBytes);
      if (rec.spent) return undefined;
      const bytes = await state.get(this.outputKeyOf(rec.owner, id));
      if (bytes === undefined) throw new LedgerError('CORRUPT_STATE', 'missing output');
      return this.decodeStoredOutput(bytes);
    });
  }

  private checkedOutpointId(outpoint: Outpoint): Uint8Array {
    try {
      return outpointId(outpoint, this.hash);
    } catch (e) {
      throw new LedgerError('BAD_ARGUMENT', 'not a valid outpoint', { cause: e });
    }
  }

  async getOutputs(owner: Uint8Array, query: OutputsQuery = {}): Promise<OwnedOutput[]> {
    return (await this.proveOutputs(owner, query)).outputs;
  }

  async proveOutpoint(
    outpoint: Outpoint,
    query: Pick<OutputsQuery, 'height'> = {},
  ): Promise<OutpointProof> {
    const { height } = query;
    checkQueryHeight(height);
    const at = height === undefined ? this.committedHeight : height;
    const id = outpointId(outpoint, this.hash);
    const recordKey = outpointRecordKey(id);
    return this.withState(height, async (reader) => {
      const recBytes = await reader.get(recordKey);
      const record = recBytes === undefined ? undefined : decodeRecord(recBytes);
      const out: OutpointProof = {
        height: at,
        stateRoot: reader.root(),
        outpoint: { txHash: outpoint.txHash.slice(), index: outpoint.index },
        record,
        recordProof: await reader.prove(recordKey),
      };
      if (record !== undefined && !record.spent) {
        const key = this.outputKeyOf(record.owner, id);
        const bytes = await reader.get(key);
        if (bytes === undefined) {
          throw new LedgerError('CORRUPT_STATE', 'an unspent outpoint record has no output');
        }
        out.output = { output: this.decodeStoredOutput(bytes), proof: await reader.prove(key) };
      }
      return out;
    });
  }

  async proveHistory(pubkey: Uint8Array, query: HistoryQuery = {}): Promise<HistoryProof> {
    this.guard();
    if (!(pubkey instanceof Uint8Array) || pubkey.length !== 32) {
      throw new LedgerError('BAD_ARGUMENT', 'key must be 32 bytes');
    }
    const { height } = query;
    checkQueryHeight(height);
    const at = height === undefined ? this.committedHeight : height;
    const from = query.fromHeight ?? 0;
    const to = query.toHeight ?? at ?? 0;
    const limit = query.limit ?? 100;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw new LedgerError('BAD_ARGUMENT', 'need 0 <= fromHeight <= toHeight');
    }
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new LedgerError('BAD_ARGUMENT', 'limit must be an integer >= 1');
    }
    const prefix = historyPrefix(pubkey, this.hash);
    const range = historyRange(pubkey, from, to, this.hash);
    return this.withState(height, async (reader) => {
      let lo = range.lo;
      const loOf = (h: number) => historyKeyOf(prefix, h, 0);
      const { start: m, whole } = await newestStart(reader, loOf, range.hi, { from, to, limit });
      let r: Awaited<ReturnType<TrieReader['proveRange']>>;
      if (whole !== null) {
        r = whole;
      } else {
        // Heights [m, to] hold at most `limit` entries and [m − 1, to] more:
        // the newest `limit` start inside height m − 1. Prove again from the
        // oldest of them.
        const wider = await reader.proveRange(loOf(m - 1), range.hi, {
          maxEntries: MAX_HISTORY_SCAN,
        });
        lo = wider.entries[wider.entries.length - limit]!.key;
        r = await reader.proveRange(lo, range.hi, { maxEntries: limit });
      }
      const records = r.entries.map((e) => {
        const pos = historyPosition(e.key, prefix);
        if (pos === undefined) throw new LedgerError('CORRUPT_STATE', 'a malformed history key');
        let rec: HistoryRecord;
        try {
          rec = decodeHistoryRecord(e.value);
        } catch (err) {
          throw new LedgerError('CORRUPT_STATE', 'a malformed history record', { cause: err });
        }
        return { ...rec, ...pos };
      });
      return {
        height: at,
        stateRoot: reader.root(),
        lo,
        hi: range.hi,
        entries: r.entries,
        proof: r.proof,
        records,
      };
    });
  }

  async proveName(name: string, query: Pick<OutputsQuery, 'height'> = {}): Promise<NameProof> {
    this.guard();
    if (typeof name !== 'string') throw new LedgerError('BAD_ARGUMENT', 'name must be a string');
    const { height } = query;
    checkQueryHeight(height);
    const at = height === undefined ? this.committedHeight : height;
    const key = nameKey(name, this.hash);
    return this.withState(height, async (reader) => ({
      height: at,
      stateRoot: reader.root(),
      name,
      record: await readName(reader, name, this.hash),
      proof: await reader.prove(key),
    }));
  }

  async proveOutputs(owner: Uint8Array, query: OutputsQuery = {}): Promise<OutputsProof> {
    this.guard();
    if (!(owner instanceof Uint8Array) || owner.length !== 32) {
      throw new LedgerError('BAD_ARGUMENT', 'owner must be 32 bytes');
    }
    const { height } = query;
    checkQueryHeight(height);
    const at = height === undefined ? this.committedHeight : height;
    const prefix = ownerPrefix(owner, this.hash);
    return this.withState(height, async (reader) => {
      const { entries, proof } = await reader.provePrefix(
        prefix,
        query.maxEntries === undefined ? {} : { maxEntries: query.maxEntries },
      );
      const outputs: OwnedOutput[] = [];
      for (const e of entries) {
        const recBytes = await reader.get(outpointRecordKey(e.key.subarray(32)));
        const rec = recBytes === undefined ? undefined : decodeRecord(recBytes);
        if (rec === undefined || rec.spent || !equalBytes(rec.owner, owner)) {
          throw new LedgerError('CORRUPT_STATE', 'an output has no matching outpoint record');
        }
        outputs.push({ outpoint: rec.outpoint, output: this.decodeStoredOutput(e.value) });
      }
      return { height: at, stateRoot: reader.root(), prefix, entries, proof, outputs };
    });
  }
}
