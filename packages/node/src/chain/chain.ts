/**
 * The chain: decided blocks (docs/PROTOCOL.md 5.6) applied to the ledger
 * (docs/PROTOCOL.md 6.3), their receipts appended to the history log
 * (docs/PROTOCOL.md 4), and one header per block (docs/PROTOCOL.md 7)
 * recorded with an index of receipts by transaction hash (docs/PROTOCOL.md
 * 9.2).
 *
 * **Heights are rounds.** A block's height is the round of its leader
 * (`DecidedBlock.round`). Rounds that decide no block are skipped, so heights
 * strictly increase but have gaps: `header(h)` is `undefined` for such an `h`,
 * and `prevBlockHash` links to the previous block, not to height `h - 1`.
 *
 * **Records** in the chain's store (integers big-endian; the history log
 * lives in the same store under its own tags `h` and `s`, which these do not
 * meet):
 *
 * ```
 * b (0x62) ‖ u64 height  → Header v1 (221 bytes, encodeBlockHeader)
 * r (0x72) ‖ txHash (32) → u64 leafIndex ‖ Receipt (47 bytes, encodeReceipt; has height and index)
 * t (0x74) ‖ u64 height  → the block's txHashes, 32 bytes each, in block order
 * l (0x6c)               → u64 height of the last fully recorded block
 * ```
 *
 * A txHash can have several receipts (a transaction included again after it
 * committed is rejected `INPUT_SPENT`; a rejected one can be included again):
 * the `r` record keeps the committed receipt once there is one, and otherwise
 * the latest.
 *
 * **Write order and recovery** (docs/PROTOCOL.md 9.2). The log, the block
 * records and the ledger's trie are written in separate atomic batches (a
 * known gap: not one batch per block), always in this order:
 *
 * 1. the log append (one leaf per receipt, `encodeReceipt`, in block order);
 * 2. the trie commit (`ledger.commit(height)`, trie version `height + 1`),
 *    in memory: hashed, readable and provable, not written;
 * 3. the block record (`b`, the `r` records and `l`) — **the commit point**;
 * 4. every `flushEveryBlocks` blocks (or once `maxUnflushedNodes` trie
 *    nodes wait), the trie flush: one batch with the state at this block.
 *
 * A crash can therefore leave the log one block ahead of `l`, and the trie
 * on disk behind `l` by the blocks since its last flush, never ahead.
 * {@link openChain} reads `l`, rolls the log back to the `historySize` of
 * header `l` (0 without one) with the log's `atSize` (docs/PROTOCOL.md 4),
 * persisted, and opens the ledger at the trie's flushed version, whose root
 * must be the state root of the header at that height. The blocks above it
 * up to `l` are then **re-executed** ({@link Chain.reexecute}) as the node's
 * replay decides them again: each must give its header's state root, or the
 * chain stops with `CORRUPT_STATE`, naming the height. A store written by
 * an older node, whose trie committed eagerly before the record, can hold
 * the trie one version ahead of `l`; it is rolled back to version `l + 1`
 * with the trie's `atVersion` (docs/PROTOCOL.md 3.5), as before. A log
 * behind `l`, or a trie flushed at a height with no block, cannot come from
 * this order and is reported as `CORRUPT_STATE`.
 */
import type { DecidedBlock } from '@pos/consensus';
import {
  type BatchOp,
  bytesKey,
  concatBytes,
  createHistoryLog,
  createStateTrie,
  decodeTrieProof,
  encodeTrieProof,
  equalBytes,
  type HashFn,
  type HistoryLog,
  type KVStore,
  type LogConsistencyProof,
  type LogInclusionProof,
  sha256Noble,
  type TrieProof,
} from '@pos/merkle';
import {
  type BlockHeader,
  blockHashOf,
  CodedError,
  chainIdOf,
  decodeBlockHeader,
  decodeReceipt,
  type EpochParams,
  encodeBlockHeader,
  encodeReceipt,
  epochOfRound,
  type Genesis,
  Reader,
  type Receipt,
  Writer,
} from '@pos/protocol';
import { failpoint } from '../failpoints.js';
import type { NodeEvent } from '../pipeline/dag.js';
import { createLedger, type Ledger, type LedgerOpts, type ValidatorRecord } from './ledger.js';

/** Codes of {@link ChainError}. */
export type ChainErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_HEIGHT'
  | 'BUSY'
  | 'CHAIN_MISMATCH'
  | 'CORRUPT_STATE'
  | 'FAILED';

/**
 * Typed error of the chain: misuse (`BAD_ARGUMENT`, `BAD_HEIGHT`, `BUSY`), a
 * store of another chain (`CHAIN_MISMATCH`), records that no crash of the
 * documented write order can leave (`CORRUPT_STATE`), and a chain whose block
 * failed half-way (`FAILED`: reopen it with {@link openChain}, which recovers).
 */
export class ChainError extends CodedError<ChainErrorCode> {}

/** Options of {@link openChain}. */
export interface ChainOpts {
  genesis: Genesis;
  /**
   * The ledger's options (its own `store`, required, and `verify`). The chain
   * opens the ledger itself, after rolling its trie back to the last recorded
   * block: an already opened ledger could be past it, and has no rollback.
   */
  ledger: Omit<LedgerOpts, 'genesis' | 'hash' | 'store' | 'flushEvery' | 'maxUnflushedNodes'> & {
    store: KVStore;
  };
  /** Where the history log and the block records live (a store of its own, or a prefixed one). */
  store: KVStore;
  /** SHA-256 (default @noble/hashes; the node injects node:crypto's). */
  hash?: HashFn;
  /**
   * Write the state trie every this many blocks, after the block's record
   * (module comment; docs/PROTOCOL.md 9.2). Between flushes the new trie
   * nodes stay in memory and a crash loses them: the blocks since the last
   * flush are re-executed at restart. Default {@link defaultChainOpts}.
   */
  flushEveryBlocks?: number;
  /** Flush early once this many trie nodes wait in memory (bounds that memory). */
  maxUnflushedNodes?: number;
}

/** Defaults of {@link ChainOpts}. */
export const defaultChainOpts = Object.freeze({
  flushEveryBlocks: 1,
  maxUnflushedNodes: 1_000_000,
});

/** A recorded block: its header and `blockHash = sha256("pos/block" ‖ header)`. */
export interface ChainBlock {
  header: BlockHeader;
  blockHash: Uint8Array;
}

/** What {@link Chain.applyDecided} recorded. */
export interface AppliedBlock extends ChainBlock {
  /** One receipt per transaction of the block, in block order. */
  receipts: Receipt[];
  /** Epochs whose validator tables this block wrote (docs/PROTOCOL.md 6.5). */
  epochs: number[];
  /** Validators this block registered. */
  registered: ValidatorRecord[];
}

/**
 * Where an epoch's table was committed: the block whose state first held it,
 * and the table's inclusion proof under that block's state root (kept, since
 * old trie versions are not).
 */
export interface EpochProof {
  epoch: number;
  height: number;
  proof: TrieProof;
}

/**
 * A receipt with its proof of inclusion in the history log (docs/PROTOCOL.md
 * 4): `verifyLogInclusion(historyRoot, encodeReceipt(receipt),
 * inclusionProof)` holds, and `inclusionProof.treeSize = historySize`. Root
 * and size are those of the latest header (or of the receipt's own block,
 * if it was recorded while the query ran).
 */
export interface ReceiptProof {
  receipt: Receipt;
  height: number;
  leafIndex: number;
  inclusionProof: LogInclusionProof;
  historyRoot: Uint8Array;
  historySize: number;
}

/** The chain of one genesis: decided blocks in, headers and proven receipts out. */
export interface Chain {
  readonly chainId: Uint8Array;
  /** The ledger, at the state of the latest block. Apply blocks through the chain only. */
  readonly ledger: Ledger;
  /**
   * Applies a decided block at height `block.round` and records it (write
   * order in the module comment). Heights must strictly increase; skipped
   * rounds leave gaps. A failure half-way leaves the chain `FAILED`: reopen.
   */
  applyDecided(block: DecidedBlock<NodeEvent>): Promise<AppliedBlock>;
  /** The block recorded at `height`, or `undefined` (no block at that round, or not yet). */
  header(height: number): Promise<ChainBlock | undefined>;
  /** The last recorded block, or `null` before the first. */
  latest(): ChainBlock | null;
  /** Whether a committed block ordered `txHash` (one read, no proof). */
  hasReceipt(txHash: Uint8Array): Promise<boolean>;
  /**
   * The receipt recorded for `txHash` with its inclusion proof, or
   * `undefined`: against the header of `atHeight` when given (so that a
   * wallet can check it under a certified header; `BAD_HEIGHT` if there is
   * no block there or it precedes the receipt), else against the latest.
   */
  receipt(txHash: Uint8Array, atHeight?: number): Promise<ReceiptProof | undefined>;
  /** The transaction hashes of the block at `height` in block order, or `undefined`. */
  blockTxHashes(height: number): Promise<Uint8Array[] | undefined>;
  /**
   * RFC 9162 consistency proof of the history log from `fromSize` to `toSize`
   * (docs/PROTOCOL.md 4); both must be in `1..` the latest header's
   * historySize, `fromSize <= toSize` (`BAD_ARGUMENT` otherwise).
   */
  consistencyProof(fromSize: number, toSize: number): Promise<LogConsistencyProof>;
  /** The proof of epoch `k`'s table recorded with the block that wrote it, or `undefined`. */
  epochProof(k: number): Promise<EpochProof | undefined>;
  /**
   * The highest recorded block whose state a restart lost (the trie had not
   * been flushed since), or `null` when the ledger is at the last block.
   * Until {@link reexecute} has redone every block up to it, the chain
   * refuses new blocks.
   */
  readonly reexecuteTo: number | null;
  /**
   * Re-executes a recorded block the ledger lost in a crash (module comment),
   * given as the replay decides it again: resolves `true` once applied and
   * checked against its header (`CORRUPT_STATE` if its state root differs),
   * `false` if the ledger already holds it. Throws `BAD_HEIGHT` for a block
   * above the last recorded one or one that skips a lost block.
   */
  reexecute(block: DecidedBlock<NodeEvent>): Promise<boolean>;
  /** Writes the state trie now (a no-op when nothing waits). */
  flush(): Promise<void>;
  /** The height whose state the store holds (`null`: genesis): a restart re-executes from there. */
  readonly flushedHeight: number | null;
}

// --- records ------------------------------------------------------------------------

const TAG_BLOCK = 0x62; // 'b'
const TAG_RECEIPT = 0x72; // 'r'
const TAG_TXS = 0x74; // 't'
const TAG_EPOCH = 0x76; // 'v'
const LAST_KEY = Uint8Array.of(0x6c); // 'l'
const ZERO32 = new Uint8Array(32);
const TRIE_KEY_BYTES = 64; // the ledger's trie (ledger.ts)

const u64 = (n: number) => new Writer(8).u64safe(n).finish();
const blockKey = (height: number) => concatBytes(Uint8Array.of(TAG_BLOCK), u64(height));
const receiptKey = (txHash: Uint8Array) => concatBytes(Uint8Array.of(TAG_RECEIPT), txHash);
const txsKey = (height: number) => concatBytes(Uint8Array.of(TAG_TXS), u64(height));
const epochKey = (k: number) => concatBytes(Uint8Array.of(TAG_EPOCH), u64(k));

function corrupt(what: string, cause?: unknown): never {
  throw new ChainError('CORRUPT_STATE', what, cause === undefined ? undefined : { cause });
}

function txHashList(receipts: readonly Receipt[]): Uint8Array {
  const out = new Uint8Array(receipts.length * 32);
  for (let i = 0; i < receipts.length; i++) out.set(receipts[i]!.txHash, i * 32);
  return out;
}

function decodeU64(bytes: Uint8Array, what: string): number {
  try {
    const r = new Reader(bytes);
    const v = r.u64safe();
    r.end();
    return v;
  } catch (e) {
    return corrupt(`malformed ${what}`, e);
  }
}

interface ReceiptRecord {
  leafIndex: number;
  receipt: Receipt;
}

function encodeReceiptRecord(leafIndex: number, receipt: Receipt): Uint8Array {
  return concatBytes(u64(leafIndex), encodeReceipt(receipt));
}

function decodeReceiptRecord(bytes: Uint8Array): ReceiptRecord {
  try {
    return {
      leafIndex: new Reader(bytes.subarray(0, 8)).u64safe(),
      receipt: decodeReceipt(bytes.subarray(8)),
    };
  } catch (e) {
    return corrupt('malformed receipt record', e);
  }
}

async function readHeader(store: KVStore, height: number): Promise<BlockHeader | undefined> {
  const bytes = await store.get(blockKey(height));
  if (bytes === undefined) return undefined;
  try {
    return decodeBlockHeader(bytes);
  } catch (e) {
    return corrupt(`malformed header at height ${height}`, e);
  }
}

/** How many rounds back from the last block {@link openChain} checks the headers' links. */
export const CHECKED_HEADER_ROUNDS = 256;

/**
 * Startup integrity check of the block records (docs/PROTOCOL.md 9.2):
 * no block record above `last` (the block record and `l` are one batch, so
 * no crash leaves one), and the headers of the last
 * {@link CHECKED_HEADER_ROUNDS} rounds up to `last` are each of this chain,
 * under their own height, and linked by `prevBlockHash` to the one before
 * (the first block to zero). One range read of at most that many headers.
 */
async function checkRecentHeaders(
  store: KVStore,
  last: number | null,
  chainId: Uint8Array,
  hash: HashFn,
): Promise<void> {
  const above = last === null ? 0 : last + 1;
  for await (const [key] of store.entries({
    gte: blockKey(above),
    lt: Uint8Array.of(TAG_BLOCK + 1),
  })) {
    const h = key.length === 9 ? new Reader(key.subarray(1)).u64safe() : -1;
    corrupt(`a block record at height ${h} above the last recorded height ${last ?? 'none'}`);
  }
  if (last === null) return;
  const from = Math.max(0, last - CHECKED_HEADER_ROUNDS);
  let prev: { height: number; blockHash: Uint8Array } | null = null;
  for await (const [key, bytes] of store.entries({ gte: blockKey(from), lt: blockKey(last + 1) })) {
    const height = key.length === 9 ? new Reader(key.subarray(1)).u64safe() : -1;
    let header: BlockHeader;
    try {
      header = decodeBlockHeader(bytes);
    } catch (e) {
      return corrupt(`malformed header at height ${height}`, e);
    }
    if (header.height !== height) {
      corrupt(`the record of height ${height} holds height ${header.height}`);
    }
    if (!equalBytes(header.chainId, chainId)) {
      throw new ChainError('CHAIN_MISMATCH', `the header at height ${height} is of another chain`);
    }
    const linked =
      prev === null
        ? from > 0 || equalBytes(header.prevBlockHash, ZERO32)
        : equalBytes(header.prevBlockHash, prev.blockHash);
    if (!linked) {
      corrupt(`the header at height ${height} does not link to the block before it`);
    }
    prev = { height, blockHash: blockHashOf(header, hash) };
  }
}

/**
 * Opens the chain of `opts.genesis` over its stores, recovering from a crash
 * between the batches of a block (module comment): reads `l`, rolls the log
 * back to header `l`'s `historySize` if it went further, opens the ledger at
 * the trie's flushed state and checks its root against the header of that
 * height and the log's root against header `l`'s. Blocks above the flushed
 * state wait for {@link Chain.reexecute}.
 */
export async function openChain(opts: ChainOpts): Promise<Chain> {
  if (typeof opts?.ledger !== 'object' || opts.ledger === null || !opts.ledger.store) {
    throw new ChainError('BAD_ARGUMENT', 'ledger options with a store are required');
  }
  const flush = {
    everyBlocks: opts.flushEveryBlocks ?? defaultChainOpts.flushEveryBlocks,
    maxNodes: opts.maxUnflushedNodes ?? defaultChainOpts.maxUnflushedNodes,
  };
  if (!Number.isSafeInteger(flush.everyBlocks) || flush.everyBlocks < 1) {
    throw new ChainError('BAD_ARGUMENT', 'flushEveryBlocks must be a positive integer');
  }
  if (!(flush.maxNodes > 0)) throw new ChainError('BAD_ARGUMENT', 'maxUnflushedNodes must be > 0');
  const hash = opts.hash ?? sha256Noble;
  const store = opts.store;
  const chainId = chainIdOf(opts.genesis, hash);

  // 1. The commit point: the last fully recorded block.
  const lastBytes = await store.get(LAST_KEY);
  const last = lastBytes === undefined ? null : decodeU64(lastBytes, 'last-height record');
  let head: ChainBlock | null = null;
  if (last !== null) {
    const header = await readHeader(store, last);
    if (header === undefined) corrupt(`no header at the last height ${last}`);
    if (!equalBytes(header.chainId, chainId)) {
      throw new ChainError('CHAIN_MISMATCH', 'the store holds another chain');
    }
    head = { header, blockHash: blockHashOf(header, hash) };
  }
  await checkRecentHeaders(store, last, chainId, hash);
  await rollBackEagerTrie(opts, hash, last);

  // 2. Roll the log back (persisted) if its append landed but the record did not.
  const logSize = head === null ? 0 : head.header.historySize;
  let log: HistoryLog = await createHistoryLog({ store, hash });
  if (log.size < logSize) corrupt(`the log (${log.size}) is behind the last block (${logSize})`);
  if (log.size > logSize) log = await createHistoryLog({ store, hash, atSize: logSize });
  if (head !== null && !equalBytes(await log.root(logSize), head.header.historyRoot)) {
    corrupt(`history root differs from header ${last}'s`);
  }

  // 3. The ledger at the trie's flushed state, checked against that block's header.
  const ledger = await createLedger({
    ...opts.ledger,
    genesis: opts.genesis,
    hash,
    flushEvery: Number.POSITIVE_INFINITY,
    // A flush over the budget also writes the superseded nodes kept for
    // older versions, so that memory is bounded by it.
    maxUnflushedNodes: flush.maxNodes,
  });
  const at = ledger.height;
  if (at !== null && (last === null || at > last)) {
    corrupt(`the ledger's state (height ${at}) is past the last block (${last})`);
  }
  if (at !== null) {
    const header = await readHeader(store, at);
    if (header === undefined) corrupt(`the ledger's state is at height ${at}, which has no block`);
    if (!equalBytes(ledger.stateRoot(), header.stateRoot)) {
      corrupt(`state root differs from header ${at}'s`);
    }
  }
  return new ChainImpl({ chainId, ledger, log, store, hash, head, flush });
}

/**
 * A trie written by an older node (eager commits, before the block record)
 * can be one version ahead of `l`: rolled back to version `l + 1`, persisted.
 * A trie this chain flushes is never ahead of `l` (module comment).
 */
async function rollBackEagerTrie(opts: ChainOpts, hash: HashFn, last: number | null) {
  const trieOpts = {
    keyBytes: TRIE_KEY_BYTES,
    store: opts.ledger.store,
    hash,
    ...(opts.ledger.keepVersions === undefined ? {} : { keepVersions: opts.ledger.keepVersions }),
  };
  const probe = await createStateTrie(trieOpts);
  const stored = probe.version;
  const lastVersion = last === null ? 0 : last + 1;
  if (stored === null && last !== null) corrupt(`the ledger's trie is empty at block ${last}`);
  if (stored !== null && stored > lastVersion) {
    await createStateTrie({ ...trieOpts, atVersion: lastVersion });
  }
}

/** What {@link ChainImpl} is made of. */
interface ChainParts {
  chainId: Uint8Array;
  ledger: Ledger;
  log: HistoryLog;
  store: KVStore;
  hash: HashFn;
  head: ChainBlock | null;
  flush: { everyBlocks: number; maxNodes: number };
}

class ChainImpl implements Chain {
  private busy = false;
  private failure: unknown = null;
  readonly chainId: Uint8Array;
  readonly ledger: Ledger;
  private readonly log: HistoryLog;
  private readonly store: KVStore;
  private readonly hash: HashFn;
  private head: ChainBlock | null;
  private readonly flushOpts: { everyBlocks: number; maxNodes: number };
  private readonly params: EpochParams;
  /** Blocks recorded since the trie's last flush. */
  private unflushedBlocks = 0;

  constructor(p: ChainParts) {
    this.chainId = p.chainId;
    this.ledger = p.ledger;
    this.log = p.log;
    this.store = p.store;
    this.hash = p.hash;
    this.head = p.head;
    this.flushOpts = p.flush;
    this.params = p.ledger.genesis.params;
  }

  get reexecuteTo(): number | null {
    const last = this.head?.header.height ?? null;
    return last === this.ledger.height ? null : last;
  }

  get flushedHeight(): number | null {
    return this.ledger.flushedHeight;
  }

  private checkFailed(): void {
    if (this.failure !== null) {
      throw new ChainError('FAILED', 'a block failed half-way: reopen the chain', {
        cause: this.failure,
      });
    }
  }

  /** Runs `fn` as the one write in progress; a failure leaves the chain `FAILED`. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.checkFailed();
    if (this.busy) throw new ChainError('BUSY', 'another write is running');
    this.busy = true;
    try {
      return await fn();
    } catch (e) {
      // The ledger or the log may hold half a block: refuse until reopened.
      if (!(e instanceof ChainError && (e.code === 'BAD_HEIGHT' || e.code === 'BAD_ARGUMENT'))) {
        this.failure = e;
      }
      throw e;
    } finally {
      this.busy = false;
    }
  }

  async reexecute(block: DecidedBlock<NodeEvent>): Promise<boolean> {
    this.checkFailed();
    const height = block?.round;
    if (!Number.isSafeInteger(height) || height < 0) {
      throw new ChainError('BAD_HEIGHT', 'round must be a safe integer >= 0');
    }
    const at = this.ledger.height;
    if (at !== null && height <= at) return false;
    const last = this.head?.header.height ?? null;
    if (last === null || height > last) {
      throw new ChainError('BAD_HEIGHT', `block ${height} is not recorded (last ${last})`);
    }
    return this.exclusive(async () => {
      const header = await readHeader(this.store, height);
      // The first block above the ledger's state links to the block at it.
      const prev = at === null ? undefined : await readHeader(this.store, at);
      const prevHash = prev === undefined ? ZERO32 : blockHashOf(prev, this.hash);
      if (header === undefined || !equalBytes(header.prevBlockHash, prevHash)) {
        throw new ChainError('BAD_HEIGHT', `block ${height} is not the next recorded after ${at}`);
      }
      if (
        !equalBytes(header.leader, block.leader.hash) ||
        header.txCount !== block.transactions.length
      ) {
        corrupt(`the replay decided another block at height ${height} than the one recorded`);
      }
      const { stateRoot, receipts } = await this.ledger.applyBlock(height, block.transactions);
      // The state root alone would not see two transactions swapped.
      const recorded = await this.store.get(txsKey(height));
      if (recorded === undefined || !equalBytes(recorded, txHashList(receipts))) {
        corrupt(`block ${height} re-executed with other transactions than recorded`);
      }
      if (!equalBytes(stateRoot, header.stateRoot)) {
        corrupt(`block ${height} re-executed to a state root other than its header's`);
      }
      await this.ledger.commit(height);
      await this.maybeFlush();
      return true;
    });
  }

  flush(): Promise<void> {
    return this.exclusive(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    failpoint('chain.flush.before');
    await this.ledger.flush();
    failpoint('chain.flush.after');
    this.unflushedBlocks = 0;
  }

  /** Step 4 of the write order: the trie flush, when due. */
  private async maybeFlush(): Promise<void> {
    this.unflushedBlocks++;
    if (
      this.unflushedBlocks >= this.flushOpts.everyBlocks ||
      this.ledger.unflushedNodes > this.flushOpts.maxNodes
    ) {
      await this.flushNow();
    }
  }

  async applyDecided(block: DecidedBlock<NodeEvent>): Promise<AppliedBlock> {
    this.checkFailed();
    if (typeof block !== 'object' || block === null) {
      throw new ChainError('BAD_ARGUMENT', 'block must be a DecidedBlock');
    }
    const height = block.round;
    if (!Number.isSafeInteger(height) || height < 0) {
      throw new ChainError('BAD_HEIGHT', 'round must be a safe integer >= 0');
    }
    if (this.head !== null && height <= this.head.header.height) {
      throw new ChainError('BAD_HEIGHT', `height ${height} <= ${this.head.header.height}`);
    }
    const lost = this.reexecuteTo;
    if (lost !== null) {
      throw new ChainError(
        'BAD_HEIGHT',
        `the blocks after ${this.ledger.height ?? 'genesis'} up to ${lost} wait to be re-executed`,
      );
    }
    const leader = block.leader?.hash;
    if (!(leader instanceof Uint8Array) || leader.length !== 32) {
      throw new ChainError('BAD_ARGUMENT', 'leader.hash must be 32 bytes');
    }
    if (!Number.isSafeInteger(block.timestamp) || block.timestamp < 0) {
      throw new ChainError('BAD_ARGUMENT', 'timestamp must be a safe integer >= 0');
    }
    if (!Array.isArray(block.transactions) || block.transactions.length > 0xffffffff) {
      throw new ChainError('BAD_ARGUMENT', 'transactions must be an array of at most 2^32-1');
    }
    return this.exclusive(async () => {
      const applied = await this.record(height, leader, block);
      await this.maybeFlush();
      return applied;
    });
  }

  private async record(
    height: number,
    leader: Uint8Array,
    block: DecidedBlock<NodeEvent>,
  ): Promise<AppliedBlock> {
    const { receipts, stateRoot, epochs, registered } = await this.ledger.applyBlock(
      height,
      block.transactions,
    );
    // The set that signs height + 1 (docs/PROTOCOL.md 6.5, 7): its snapshot
    // round is at or below height (LAG >= 1), so this block or an earlier one
    // wrote it.
    const next = this.ledger.epochTable(epochOfRound(height + 1, this.params));
    if (next === undefined) corrupt(`no validator table for round ${height + 1}`);
    const setHash = next.setHash;
    const leaves = receipts.map(encodeReceipt);
    const firstLeaf = this.log.size;
    // Batch 1: the log.
    const historySize = await this.log.appendMany(leaves);
    failpoint('chain.commit.afterLog');
    const historyRoot = await this.log.root(historySize);
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      leader: leader.slice(),
      prevBlockHash: this.head === null ? ZERO32.slice() : this.head.blockHash.slice(),
      timestamp: block.timestamp,
      txCount: receipts.length,
      stateRoot,
      historyRoot,
      historySize,
      validatorSetHash: setHash,
    };
    const headerBytes = encodeBlockHeader(header);
    const blockHash = blockHashOf(header, this.hash);
    // 2: the trie commit, in memory (written by the flush, step 4).
    const committed = await this.ledger.commit(height);
    if (!equalBytes(committed.stateRoot, stateRoot)) corrupt('committed root differs');
    failpoint('chain.commit.afterTrie');
    // Batch 3: the block record, the commit point.
    const ops: BatchOp[] = [
      { type: 'put', key: blockKey(height), value: headerBytes },
      { type: 'put', key: txsKey(height), value: txHashList(receipts) },
    ];
    for (const k of epochs) {
      const proof = await this.ledger.proveEpochTable(k);
      ops.push({
        type: 'put',
        key: epochKey(k),
        value: concatBytes(u64(height), encodeTrieProof(proof)),
      });
    }
    // The receipt records the block's transactions already have: one
    // round trip for the block, not one awaited get per transaction (under
    // load those gets were over half of the block record's main-thread time).
    const keys = receipts.map((rc) => receiptKey(rc.txHash));
    const stored =
      this.store.getMany !== undefined
        ? await this.store.getMany(keys)
        : await Promise.all(keys.map((key) => this.store.get(key)));
    const planned = new Map<string, Receipt>();
    for (let i = 0; i < receipts.length; i++) {
      const rc = receipts[i]!;
      const key = keys[i]!;
      const k = bytesKey(rc.txHash);
      let prev = planned.get(k);
      if (prev === undefined) {
        const bytes = stored[i];
        if (bytes !== undefined) prev = decodeReceiptRecord(bytes).receipt;
      }
      if (prev !== undefined && prev.status === 'committed') continue;
      planned.set(k, rc);
      ops.push({ type: 'put', key, value: encodeReceiptRecord(firstLeaf + i, rc) });
    }
    ops.push({ type: 'put', key: LAST_KEY, value: u64(height) });
    await this.store.batch(ops);
    failpoint('chain.commit.afterRecord');
    this.head = { header, blockHash };
    return { header, blockHash: blockHash.slice(), receipts, epochs, registered };
  }

  async epochProof(k: number): Promise<EpochProof | undefined> {
    if (!Number.isSafeInteger(k) || k < 0) {
      throw new ChainError('BAD_ARGUMENT', 'epoch must be a safe integer >= 0');
    }
    const bytes = await this.store.get(epochKey(k));
    if (bytes === undefined) return undefined;
    try {
      return {
        epoch: k,
        height: new Reader(bytes.subarray(0, 8)).u64safe(),
        proof: decodeTrieProof(bytes.subarray(8)),
      };
    } catch (e) {
      return corrupt(`malformed proof record of epoch ${k}`, e);
    }
  }

  async header(height: number): Promise<ChainBlock | undefined> {
    if (!Number.isSafeInteger(height) || height < 0) {
      throw new ChainError('BAD_HEIGHT', 'height must be a safe integer >= 0');
    }
    const header = await readHeader(this.store, height);
    return header === undefined ? undefined : { header, blockHash: blockHashOf(header, this.hash) };
  }

  async blockTxHashes(height: number): Promise<Uint8Array[] | undefined> {
    if (!Number.isSafeInteger(height) || height < 0) {
      throw new ChainError('BAD_HEIGHT', 'height must be a safe integer >= 0');
    }
    const bytes = await this.store.get(txsKey(height));
    if (bytes === undefined) return undefined;
    if (bytes.length % 32 !== 0) corrupt(`malformed tx list at height ${height}`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 32) out.push(bytes.slice(i, i + 32));
    return out;
  }

  async consistencyProof(fromSize: number, toSize: number): Promise<LogConsistencyProof> {
    const size = this.head?.header.historySize ?? 0;
    const ok = (n: number) => Number.isSafeInteger(n) && n >= 1 && n <= size;
    if (!ok(fromSize) || !ok(toSize) || fromSize > toSize) {
      throw new ChainError(
        'BAD_ARGUMENT',
        `need 1 <= fromSize <= toSize <= ${size} (the latest historySize)`,
      );
    }
    return this.log.consistencyProof(fromSize, toSize);
  }

  latest(): ChainBlock | null {
    return this.head === null
      ? null
      : { header: { ...this.head.header }, blockHash: this.head.blockHash.slice() };
  }

  /** Whether a committed block ordered `txHash` (committed or rejected): one read, no proof. */
  async hasReceipt(txHash: Uint8Array): Promise<boolean> {
    if (!(txHash instanceof Uint8Array) || txHash.length !== 32) return false;
    return (await this.store.get(receiptKey(txHash))) !== undefined;
  }

  async receipt(txHash: Uint8Array, atHeight?: number): Promise<ReceiptProof | undefined> {
    if (!(txHash instanceof Uint8Array) || txHash.length !== 32) {
      throw new ChainError('BAD_ARGUMENT', 'txHash must be 32 bytes');
    }
    let head = this.head;
    const bytes = await this.store.get(receiptKey(txHash));
    if (bytes === undefined) return undefined;
    const { leafIndex, receipt } = decodeReceiptRecord(bytes);
    if (atHeight !== undefined) {
      if (!Number.isSafeInteger(atHeight) || atHeight < 0) {
        throw new ChainError('BAD_ARGUMENT', 'atHeight must be a safe integer >= 0');
      }
      const at = await readHeader(this.store, atHeight);
      if (at === undefined) throw new ChainError('BAD_HEIGHT', `no block at height ${atHeight}`);
      if (leafIndex >= at.historySize) {
        throw new ChainError('BAD_HEIGHT', `the block at ${atHeight} precedes this receipt`);
      }
      head = { header: at, blockHash: ZERO32 };
    } else if (head === null || leafIndex >= head.header.historySize) {
      // Recorded after the snapshot of the head was taken: prove against its own block.
      const own = await readHeader(this.store, receipt.height);
      if (own === undefined) corrupt('a receipt record without its block');
      head = { header: own, blockHash: ZERO32 };
    }
    const { historySize, historyRoot } = head.header;
    if (leafIndex >= historySize) corrupt('a receipt record beyond its block');
    const inclusionProof = await this.log.inclusionProof(leafIndex, historySize);
    return {
      receipt,
      height: receipt.height,
      leafIndex,
      inclusionProof,
      historyRoot: historyRoot.slice(),
      historySize,
    };
  }
}
