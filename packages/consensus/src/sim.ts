/**
 * A deterministic in-process network simulator for the consensus engine
 * (docs/PROTOCOL.md 5 and 8): a test and benchmark tool of this package, not
 * exported (its tests and bench import `../src/sim.js`).
 *
 * N validators with unequal stakes gossip on a seeded random schedule. Each
 * step a random node A pulls from a random peer B the events B knows that A
 * lacks (the sync of docs/PROTOCOL.md 8), inserts them into its own consensus instance, and
 * creates a new event whose other-parent is B's latest. Faults: silent nodes
 * (never create, never answer), slow nodes (act only with some probability),
 * a forker (equivocates every k-th event and shows each branch to a different
 * half of the network), validators whose clock runs ahead, and a network that
 * reorders and duplicates the events of a sync.
 *
 * With `ledger`, stake tables change at epoch boundaries as proof of share
 * has it (docs/PROTOCOL.md 5.9): each node keeps a toy ledger of stakes and
 * registrations, applies its own decided blocks to it, and answers
 * `stakeTable(r)` from the snapshot after block s(r), or "not yet" before it
 * decided that far; validators join and leave through ledger transactions
 * carried in events.
 *
 * Everything is a pure function of the options: the schedule comes from a
 * seeded integer PRNG ({@link SimRng}), never `Math.random`, and the clock is
 * a simulated integer millisecond counter. Floats appear only in scheduling
 * choices (a participation or duplication probability), never in anything
 * consensus sees: events carry integer timestamps and byte strings only.
 *
 * Browser-safe like the rest of `src/`: the hash is injected.
 */
import { type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { createConsensus } from './engine.js';
import { ConsensusError } from './errors.js';
import type {
  Consensus,
  ConsensusEventInput,
  ConsensusOpts,
  ConsensusStats,
  DecidedBlock,
  ForkEvidence,
  ProbeResult,
} from './types.js';

// ---- PRNG ---------------------------------------------------------------------

const TWO_32 = 2 ** 32;

/**
 * Seeded PRNG: xoshiro128** (Blackman and Vigna) on 32-bit integers, its state
 * filled by splitmix32 from the seed. Small, fast, and the same sequence on
 * every JS engine (only `Math.imul`, shifts and xor).
 */
export class SimRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed`: any safe integer; its low and high 32-bit halves both matter. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new ConsensusError('BAD_ARGUMENT', 'seed: safe integer');
    let s = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_32) | 0, 0x9e3779b9);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // The all-zero state is a fixed point of xoshiro; splitmix never yields it
    // for four draws in a row, but make it impossible rather than unlikely.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** A uniform integer in [0, n) for 1 <= n <= 2^32, without modulo bias (rejection). */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > TWO_32) {
      throw new ConsensusError('BAD_ARGUMENT', `below(${n})`);
    }
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const r = this.u32();
      if (r < limit) return r % n;
    }
  }

  /** True with probability p (a scheduling choice only: this float never reaches an event). */
  chance(p: number): boolean {
    return this.u32() / TWO_32 < p;
  }

  /** n uniform random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let r = this.u32();
      for (let j = i; j < Math.min(i + 4, n); j++, r >>>= 8) out[j] = r & 0xff;
    }
    return out;
  }

  /** A uniform element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** Fisher–Yates shuffle, in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// ---- events -------------------------------------------------------------------

/** An event of the simulator: the engine's input plus its creation index. */
export interface SimEvent extends ConsensusEventInput {
  readonly transactions: readonly Uint8Array[];
  /**
   * Index in the order of creation over the whole run (or DAG). Creation order
   * is topological: both parents of an event were created before it.
   */
  readonly id: number;
}

/** The fields an event is made of, before hashing and signing. */
export interface SimEventFields {
  readonly creator: number;
  readonly seq: number;
  readonly selfParent: Uint8Array | null;
  readonly otherParent: Uint8Array | null;
  /** The other-parent's creator and seq (its descriptor, docs/PROTOCOL.md 5.7), if known. */
  readonly otherParentCreator?: number;
  readonly otherParentSeq?: number;
  readonly timestamp: number;
  readonly transactions: readonly Uint8Array[];
}

/** Domain tag of an event hash (docs/PROTOCOL.md 2). */
export const EVENT_TAG = 'pos/event';
const EVENT_TAG_BYTES = ascii(EVENT_TAG);

/**
 * `"pos/event" ‖ encoding`: what the event hash is computed over. The
 * simulator's encoding is canonical (one byte string per event) but is not the
 * node's wire format, which the consensus engine never sees: `u32be creator ‖
 * u64be seq ‖ parent(self) ‖ parent(other) ‖ u64be timestamp ‖ u32be count ‖
 * (u32be length ‖ bytes)*`, where a parent is `0x00` for none or `0x01 ‖ hash`,
 * and an other-parent with its descriptor is `0x02 ‖ hash ‖ u32be creator ‖
 * u64be seq`.
 */
export function eventPreimage(f: SimEventFields): Uint8Array {
  let len = EVENT_TAG_BYTES.length + 4 + 8 + 2 + 8 + 4;
  if (f.selfParent) len += f.selfParent.length;
  if (f.otherParent) len += f.otherParent.length;
  const desc = f.otherParent !== null && f.otherParentCreator !== undefined;
  if (desc) len += 12;
  for (const tx of f.transactions) len += 4 + tx.length;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  out.set(EVENT_TAG_BYTES, 0);
  let o = EVENT_TAG_BYTES.length;
  view.setUint32(o, f.creator);
  o += 4;
  o = putU64(view, o, f.seq);
  for (const p of [f.selfParent, f.otherParent]) {
    if (p) {
      out[o++] = desc && p === f.otherParent ? 2 : 1;
      out.set(p, o);
      o += p.length;
    } else out[o++] = 0;
  }
  if (desc) {
    view.setUint32(o, f.otherParentCreator!);
    o = putU64(view, o + 4, f.otherParentSeq ?? 0);
  }
  o = putU64(view, o, f.timestamp);
  view.setUint32(o, f.transactions.length);
  o += 4;
  for (const tx of f.transactions) {
    view.setUint32(o, tx.length);
    o += 4;
    out.set(tx, o);
    o += tx.length;
  }
  return out;
}

/**
 * Hashes and "signs" the fields. The signature is 64 deterministic bytes,
 * `hash(h) ‖ hash(hash(h))`, standing in for Ed25519 (which the engine does
 * not check unless given `verify`): its middle byte, the coin of docs/PROTOCOL.md 5.4,
 * varies from event to event as a real signature's does.
 */
export function makeSimEvent(f: SimEventFields, id: number, hash: HashFn): SimEvent {
  const h = hash(eventPreimage(f));
  const s1 = hash(h);
  const signature = new Uint8Array(64);
  signature.set(s1, 0);
  signature.set(hash(s1), 32);
  return {
    hash: h,
    creator: f.creator,
    seq: f.seq,
    selfParent: f.selfParent,
    otherParent: f.otherParent,
    ...(f.otherParent !== null && f.otherParentCreator !== undefined
      ? { otherParentCreator: f.otherParentCreator, otherParentSeq: f.otherParentSeq ?? 0 }
      : {}),
    timestamp: f.timestamp,
    transactions: f.transactions,
    signature,
    id,
  };
}

/**
 * Random transactions, unique per (creator, seq, index, fork twin) so that the
 * tx dedup rule never drops one (a twin's marker may repeat: that is the point).
 */
function randomTxs(rng: SimRng, creator: number, seq: number, max: number, twin: number) {
  const count = max > 0 ? rng.below(max + 1) : 0;
  const txs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const tx = new Uint8Array(4 + 4 + 8 + 2 + 1 + 8);
    const view = new DataView(tx.buffer);
    tx.set(ascii('stx/'), 0);
    view.setUint32(4, creator);
    putU64(view, 8, seq);
    view.setUint16(16, i);
    tx[18] = twin;
    tx.set(rng.bytes(8), 19);
    txs.push(tx);
  }
  // A second fork twin must differ from the first even when both drew no transaction.
  if (twin > 0) txs.push(Uint8Array.of(...ascii('stx/fork'), twin));
  return txs;
}

// ---- configuration --------------------------------------------------------------

/**
 * Validator ids as a node computes them, `sha256("pos/validator" ‖ pubkey)`
 * (docs/PROTOCOL.md 2), here for the made-up pubkey `sha256("sim/pubkey" ‖ u32be(i))`:
 * so the leader draw's id order is unrelated to the validator index.
 */
export function simValidatorIds(n: number, hash: HashFn = sha256Noble): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    taggedHash('pos/validator', taggedHash('sim/pubkey', u32be(i), hash), hash),
  );
}

/** What {@link simConsensusOpts} needs. */
export interface SimConsensusParams {
  readonly stakes: readonly bigint[];
  readonly seed: number;
  readonly hash: HashFn;
  readonly coinFrequency?: number;
  readonly expireRounds?: number;
}

/**
 * The engine options every node of a simulation (or a fresh instance replaying
 * its events) uses: one constant stake table (the same array every round, so
 * the engine's per-table cache hits) and a chainId derived from the seed, so
 * different seeds give different leader draws.
 */
export function simConsensusOpts(p: SimConsensusParams): ConsensusOpts<SimEvent> {
  const table = p.stakes.slice();
  const seedBytes = new Uint8Array(8);
  putU64(new DataView(seedBytes.buffer), 0, Math.abs(p.seed));
  return {
    validators: simValidatorIds(table.length, p.hash),
    stakeTable: () => table,
    initialSeed: taggedHash('pos/genesis', seedBytes, p.hash),
    hash: p.hash,
    ...(p.coinFrequency !== undefined ? { coinFrequency: p.coinFrequency } : {}),
    ...(p.expireRounds !== undefined ? { expireRounds: p.expireRounds } : {}),
  };
}

// ---- proof-of-share stake tables: a toy ledger ------------------------------------

/** Epoch parameters (docs/PROTOCOL.md 5.9, 6.5) and who is registered at genesis. */
export interface SimLedgerParams {
  /** LAG: round r's table is the ledger after block s(r) = ⌊(r − lag) / epoch⌋ · epoch. */
  readonly lag: number;
  /** EPOCH (at least 1). */
  readonly epoch: number;
  /**
   * Validators registered at genesis: indexes [0, genesisValidators). The
   * others join with a `register` transaction; registrations must come in
   * index order (one that does not is ignored), so that a simulator index is
   * the engine index on every node.
   */
  readonly genesisValidators: number;
}

/** A ledger transaction of the simulator, carried in an event (see {@link encodeLedgerTx}). */
export type SimLedgerTx =
  | { readonly kind: 'register'; readonly validator: number }
  | {
      readonly kind: 'move';
      readonly from: number;
      readonly to: number;
      readonly amount: bigint;
    };

/**
 * A ledger transaction to submit: from step `atStep` on, validator `by` puts
 * it in every event it creates until its own ledger has applied it (a wallet
 * resubmitting). Its nonce is its index in `SimOpts.ledger.actions`.
 */
export interface SimAction {
  readonly atStep: number;
  readonly by: number;
  readonly tx: SimLedgerTx;
}

/** `SimOpts.ledger`: the epoch parameters, the transactions to submit and who stops when. */
export interface SimLedgerOpts extends SimLedgerParams {
  readonly actions: readonly SimAction[];
  /** Validator → the step from which it is silent: it neither creates events nor answers syncs. */
  readonly silentFrom: Readonly<Record<number, number>>;
  /**
   * Steps between a node's engine deciding blocks and its ledger applying
   * them (default 0): the node computes its tables asynchronously, so its
   * engine may need a table its ledger does not have yet.
   */
  readonly applyDelay?: number;
}

const LEDGER_TAG = ascii('sim/ledger');
const LEDGER_TX_BYTES = LEDGER_TAG.length + 4 + 1 + 4 + 4 + 8;

/**
 * `"sim/ledger" ‖ u32be nonce ‖ u8 kind (1 register, 2 move) ‖ u32be a ‖
 * u32be b ‖ u64be amount`. The nonce makes a resubmitted transaction apply
 * once even beyond the engine's duplicate window.
 */
export function encodeLedgerTx(nonce: number, tx: SimLedgerTx): Uint8Array {
  const out = new Uint8Array(LEDGER_TX_BYTES);
  const view = new DataView(out.buffer);
  out.set(LEDGER_TAG, 0);
  let o = LEDGER_TAG.length;
  view.setUint32(o, nonce);
  o += 4;
  if (tx.kind === 'register') {
    out[o] = 1;
    view.setUint32(o + 1, tx.validator);
  } else {
    if (tx.amount < 0n || tx.amount >= 1n << 64n) {
      throw new ConsensusError('BAD_ARGUMENT', 'amount: u64');
    }
    out[o] = 2;
    view.setUint32(o + 1, tx.from);
    view.setUint32(o + 5, tx.to);
    view.setBigUint64(o + 9, tx.amount);
  }
  return out;
}

/** The ledger transaction in `b`, or null if `b` is not one (any other transaction). */
export function decodeLedgerTx(b: Uint8Array): { nonce: number; tx: SimLedgerTx } | null {
  if (b.length !== LEDGER_TX_BYTES) return null;
  for (let i = 0; i < LEDGER_TAG.length; i++) if (b[i] !== LEDGER_TAG[i]) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = LEDGER_TAG.length;
  const nonce = view.getUint32(o);
  o += 4;
  const kind = b[o];
  if (kind === 1) return { nonce, tx: { kind: 'register', validator: view.getUint32(o + 1) } };
  if (kind === 2) {
    return {
      nonce,
      tx: {
        kind: 'move',
        from: view.getUint32(o + 1),
        to: view.getUint32(o + 5),
        amount: view.getBigUint64(o + 9),
      },
    };
  }
  return null;
}

/** s(r) = ⌊(r − lag) / epoch⌋ · epoch (docs/PROTOCOL.md 5.9); negative: genesis state. */
export function snapshotRound(round: number, lag: number, epoch: number): number {
  return Math.floor((round - lag) / epoch) * epoch;
}

/**
 * A node's toy ledger: stake per validator (by simulator index) and how many
 * are registered. It follows the node's decided blocks, exactly as the node
 * computes its stake tables: `table(r)` is the stakes of the registered
 * validators after block s(r), answered only once every round ≤ s(r) is
 * decided here (`undefined` before: the engine then says `TABLE_PENDING`).
 *
 * Transactions: `register j` (valid iff j is the next index), `move amount
 * from i to j` (valid iff i holds it; j need not be registered yet, its
 * stake counts once it is). Each nonce applies once; an invalid transaction
 * is skipped. Stake of an unregistered validator is not in any table.
 */
export class SimLedger {
  private readonly stakes: bigint[];
  private registeredCount: number;
  private readonly genesis: readonly bigint[];
  /** Boundary s → the table after block s (one array per epoch: the engine converts it once). */
  private readonly snapshots = new Map<number, readonly bigint[]>();
  private nextBoundary = 0;
  private readonly appliedNonces = new Set<number>();
  /** Every ledger transaction applied, with the round of its block. */
  readonly history: { round: number; nonce: number; tx: SimLedgerTx }[] = [];

  constructor(
    stakes: readonly bigint[],
    readonly params: SimLedgerParams,
    private readonly ids: readonly Uint8Array[],
  ) {
    const g = params.genesisValidators;
    const bad = (m: string) => new ConsensusError('BAD_OPTIONS', m);
    if (!Number.isSafeInteger(params.lag) || params.lag < 0) throw bad('lag: integer >= 0');
    if (!Number.isSafeInteger(params.epoch) || params.epoch < 1) throw bad('epoch: integer >= 1');
    if (!Number.isSafeInteger(g) || g < 1 || g > stakes.length) {
      throw bad('genesisValidators: 1 to the number of validators');
    }
    if (ids.length !== stakes.length) throw bad('one validatorId per stake');
    this.stakes = stakes.slice();
    this.registeredCount = g;
    this.genesis = stakes.slice(0, g);
    if (this.genesis.reduce((a, b) => a + b, 0n) <= 0n)
      throw bad('genesis validators hold no stake');
  }

  /** Validators registered so far (the engine's `validatorCount` once their blocks are applied). */
  get registered(): number {
    return this.registeredCount;
  }

  /** Whether the transaction with this nonce has been applied (valid or not). */
  applied(nonce: number): boolean {
    return this.appliedNonces.has(nonce);
  }

  /** The current stakes, by simulator index (registered or not). */
  stakesNow(): readonly bigint[] {
    return this.stakes.slice();
  }

  /** `T_round` (see the class comment). */
  table(round: number): readonly bigint[] | undefined {
    const s = snapshotRound(round, this.params.lag, this.params.epoch);
    return s < 0 ? this.genesis : this.snapshots.get(s);
  }

  /**
   * Applies the blocks one `insert` returned (in order) and takes the
   * snapshot of every epoch boundary decided through `decidedThrough` (the
   * engine's `lastDecidedRound` when they were returned). Registers new
   * validators in `cons` as their registrations are applied.
   */
  absorb(
    blocks: readonly DecidedBlock<SimEvent>[],
    cons: Consensus<SimEvent>,
    decidedThrough: number = cons.lastDecidedRound,
  ): void {
    for (const b of blocks) {
      // Boundaries below this block's round: their state is complete.
      while (this.nextBoundary < b.round) this.snapshot();
      for (const raw of b.transactions) {
        const t = decodeLedgerTx(raw);
        if (!t || this.appliedNonces.has(t.nonce)) continue;
        this.appliedNonces.add(t.nonce);
        if (this.apply(t.tx, cons)) this.history.push({ round: b.round, ...t });
      }
    }
    while (this.nextBoundary <= decidedThrough) this.snapshot();
  }

  private apply(tx: SimLedgerTx, cons: Consensus<SimEvent>): boolean {
    const n = this.stakes.length;
    if (tx.kind === 'register') {
      if (tx.validator !== this.registeredCount || tx.validator >= n) return false;
      const index = cons.addValidator(this.ids[tx.validator]!);
      if (index !== tx.validator) {
        throw new Error(`addValidator gave index ${index} to validator ${tx.validator}`);
      }
      this.registeredCount++;
      return true;
    }
    if (tx.from >= n || tx.to >= n || tx.amount <= 0n || this.stakes[tx.from]! < tx.amount) {
      return false;
    }
    this.stakes[tx.from]! -= tx.amount;
    this.stakes[tx.to]! += tx.amount;
    return true;
  }

  private snapshot(): void {
    this.snapshots.set(this.nextBoundary, this.stakes.slice(0, this.registeredCount));
    this.nextBoundary += this.params.epoch;
  }
}

/** An engine whose stake tables come from its own decided blocks, and its ledger (see {@link SimLedger}). */
export interface LedgerEngine {
  readonly cons: Consensus<SimEvent>;
  readonly ledger: SimLedger;
}

/**
 * Creates an engine wired to a fresh {@link SimLedger}: the validators
 * registered at genesis, `stakeTable` answered by the ledger. `p.stakes` is
 * every simulator validator's genesis stake (those not registered at genesis
 * count once registered). After each `insert`, pass its blocks to
 * `ledger.absorb`.
 */
export function createLedgerEngine(
  p: SimConsensusParams & { readonly ledger: SimLedgerParams },
): LedgerEngine {
  const base = simConsensusOpts(p);
  const ids = base.validators;
  const ledger = new SimLedger(p.stakes, p.ledger, ids);
  const cons = createConsensus<SimEvent>({
    ...base,
    validators: ids.slice(0, p.ledger.genesisValidators),
    stakeTable: (round) => ledger.table(round),
  });
  return { cons, ledger };
}

/** What {@link replayWithLedger} produced. */
export interface LedgerReplay extends LedgerEngine {
  readonly blocks: DecidedBlock<SimEvent>[];
  /** Events held at least once (table pending or creator not registered yet). */
  readonly heldTotal: number;
  /** Largest number held at once. */
  readonly maxHeld: number;
  /** Events still held at the end: their tables never became known. */
  readonly stuck: readonly SimEvent[];
  /** Events refused with MISSING_PARENT (a forgotten parent), with their descendants. */
  readonly dropped: readonly SimEvent[];
  /** The round each inserted event got, by `SimEvent.id` (kept after the engine forgets it). */
  readonly rounds: ReadonlyMap<number, number>;
}

/**
 * Feeds `order` (a topological order) into a fresh {@link createLedgerEngine}
 * as a node must: an event whose creator is not registered here yet, or
 * whose round's table is pending, is held with its descendants and inserted
 * again after the engine decides more rounds (in `order` order, until nothing
 * more goes in). Other errors are thrown. `onInsert` runs after each insert
 * (and after the ledger took its blocks), before the next one.
 */
export function replayWithLedger(
  p: SimConsensusParams & { readonly ledger: SimLedgerParams },
  order: readonly SimEvent[],
  onInsert?: (
    event: SimEvent,
    blocks: readonly DecidedBlock<SimEvent>[],
    cons: Consensus<SimEvent>,
  ) => void,
): LedgerReplay {
  const { cons, ledger } = createLedgerEngine(p);
  const blocks: DecidedBlock<SimEvent>[] = [];
  const held: SimEvent[] = [];
  const heldKeys = new Set<string>();
  const droppedKeys = new Set<string>();
  const dropped: SimEvent[] = [];
  let heldTotal = 0;
  let maxHeld = 0;
  const rounds = new Map<number, number>();
  const parents = (e: SimEvent) => [e.selfParent, e.otherParent].filter((q) => q !== null);

  /** 'ok', 'held' (try later) or 'missing' (a forgotten parent). */
  const attempt = (e: SimEvent): 'ok' | 'held' | 'missing' => {
    if (e.creator >= cons.validatorCount) return 'held';
    let res: ReturnType<Consensus<SimEvent>['insert']>;
    try {
      res = cons.insert(e);
    } catch (err) {
      if (err instanceof ConsensusError && err.code === 'TABLE_PENDING') return 'held';
      if (err instanceof ConsensusError && err.code === 'MISSING_PARENT') return 'missing';
      throw err;
    }
    const info = cons.info(e.hash);
    if (info) rounds.set(e.id, info.round);
    blocks.push(...res.blocks);
    ledger.absorb(res.blocks, cons);
    onInsert?.(e, res.blocks, cons);
    return 'ok';
  };
  const retry = () => {
    for (let progress = true; progress && held.length > 0; ) {
      progress = false;
      for (let i = 0; i < held.length; i++) {
        const e = held[i]!;
        if (parents(e).some((q) => heldKeys.has(keyOf(q)))) continue;
        const before = cons.lastDecidedRound;
        const r = attempt(e);
        if (r === 'held') continue;
        held.splice(i--, 1);
        heldKeys.delete(keyOf(e.hash));
        if (r === 'missing') {
          droppedKeys.add(keyOf(e.hash));
          dropped.push(e);
        }
        progress = true;
        if (cons.lastDecidedRound !== before) break; // earlier ones may go in now
      }
    }
  };
  for (const e of order) {
    const ps = parents(e);
    if (ps.some((q) => droppedKeys.has(keyOf(q)))) {
      droppedKeys.add(keyOf(e.hash));
      dropped.push(e);
      continue;
    }
    const before = cons.lastDecidedRound;
    const r = ps.some((q) => heldKeys.has(keyOf(q))) ? 'held' : attempt(e);
    if (r === 'held') {
      held.push(e);
      heldKeys.add(keyOf(e.hash));
      heldTotal++;
      if (held.length > maxHeld) maxHeld = held.length;
    } else if (r === 'missing') {
      droppedKeys.add(keyOf(e.hash));
      dropped.push(e);
    } else if (cons.lastDecidedRound !== before && held.length > 0) retry();
  }
  retry();
  return { cons, ledger, blocks, heldTotal, maxHeld, stuck: held, dropped, rounds };
}

/** Options of {@link createSim} / {@link runSim}. */
export interface SimOpts {
  /** Stake per validator; N = length (at least 2). */
  readonly stakes: readonly bigint[];
  /** PRNG seed: the whole run is a function of the options. */
  readonly seed: number;
  /** Gossip steps that {@link runSim} runs. */
  readonly steps: number;
  readonly hash: HashFn;
  readonly coinFrequency: number;
  readonly expireRounds: number;
  /** Validators that never create events and never answer a sync. */
  readonly silent: readonly number[];
  /** Validators that act only with probability `slowParticipation` when their turn comes. */
  readonly slow: readonly number[];
  readonly slowParticipation: number;
  /** The equivocating validator, if any. */
  readonly forker: number | null;
  /** The forker creates two events on one self-parent every `forkEvery`-th event. */
  readonly forkEvery: number;
  /** Validator → how far ahead its clock runs (ms), e.g. `{ 2: 3_600_000 }`. */
  readonly clockAheadMs: Readonly<Record<number, number>>;
  /** Deliver the events of a sync in a shuffled order (the receiver buffers and retries). */
  readonly reorder: boolean;
  /** Probability that an event of a sync is delivered twice. */
  readonly duplicateProbability: number;
  /** Transactions per event: uniform in [0, maxTxPerEvent]. */
  readonly maxTxPerEvent: number;
  /** The simulated clock advances 1..maxStepMs ms per step. */
  readonly maxStepMs: number;
  /** The simulated clock at the start (ms). */
  readonly startMs: number;
  /**
   * Record each block's leader candidates (the famous witnesses of its round
   * with a unique creator, read back through `info()`), for tests of the
   * timestamp and leader rules. Costs one `info()` per inserted event.
   */
  readonly recordCandidates: boolean;
  /**
   * Stake tables from a toy ledger per node, driven by its decided blocks
   * ({@link SimLedger}), or null for one constant table (`stakes`). With a
   * ledger, `stakes` are the genesis stakes of every validator, registered at
   * genesis or not; a node creates an event only when `probe` accepts it (it
   * is a member in that round and knows the round's table), and holds an
   * event whose table is pending, or whose creator it has not registered
   * yet, until it has decided enough.
   */
  readonly ledger: SimLedgerOpts | null;
}

/** Defaults of {@link SimOpts}: five honest validators with unequal stakes, no faults. */
export const defaultSimOpts: SimOpts = {
  stakes: [10n, 20n, 30n, 40n, 50n],
  seed: 1,
  steps: 1000,
  hash: sha256Noble,
  coinFrequency: 10,
  expireRounds: 26,
  silent: [],
  slow: [],
  slowParticipation: 0.25,
  forker: null,
  forkEvery: 5,
  clockAheadMs: {},
  reorder: false,
  duplicateProbability: 0,
  maxTxPerEvent: 2,
  maxStepMs: 5,
  startMs: 1_700_000_000_000,
  recordCandidates: false,
  ledger: null,
};

// ---- results ----------------------------------------------------------------------

/** Counters of one node, for tests and reports. */
export interface SimCounters {
  /** Syncs this node pulled (as A). */
  syncs: number;
  /** Pulls from a silent peer: no answer, so no event either. */
  failedSyncs: number;
  /** Turns a slow node let pass. */
  skippedTurns: number;
  /** Events created (own), fork twins counted. */
  created: number;
  /** Events delivered by syncs, duplicates included. */
  delivered: number;
  /** Extra copies the network delivered. */
  duplicatesDelivered: number;
  /** Deliveries that were no-ops: already known (insert said `inserted: false`) or already buffered. */
  duplicatesIgnored: number;
  /** Events buffered because a parent was missing (reordering). */
  bufferedTotal: number;
  /** Largest buffer at any time. */
  maxBuffered: number;
  /** Buffered events dropped at the end of a sync: their parents never came (expired and forgotten). */
  dropped: number;
  /** Rejections by `ConsensusError` code (other than MISSING_PARENT, which buffers). */
  rejected: Record<string, number>;
  /** Events held because their round's table was pending or their creator not registered here yet. */
  heldTotal: number;
  /** Turns in which it created nothing because `probe` said it was no member (or its table was pending). */
  idleTurns: number;
}

/** One validator of a simulation: its faults, its consensus instance and what it decided. */
export interface SimNode {
  readonly index: number;
  readonly stake: bigint;
  readonly silent: boolean;
  readonly slow: boolean;
  readonly forker: boolean;
  readonly clockAheadMs: number;
  /** Follows the protocol (not silent, not the forker); its clock may still be wrong. */
  readonly honest: boolean;
  /** Its own engine; `null` for a silent node, which receives nothing. */
  readonly consensus: Consensus<SimEvent> | null;
  /** Its ledger when the run has one (`SimOpts.ledger`). */
  readonly ledger: SimLedger | null;
  /** Blocks it decided, in order. */
  readonly blocks: DecidedBlock<SimEvent>[];
  /** Parallel to `blocks` when `recordCandidates`: the round's leader candidates. */
  readonly candidates: SimEvent[][];
  /** Fork evidence as its `insert` results reported it, in order. */
  readonly evidence: ForkEvidence<SimEvent>[];
  readonly counters: SimCounters;
  /**
   * Things that must not happen to a node following the protocol (its own
   * event refused, a rejected event, a missing other-parent). Tests assert
   * this stays empty; the simulator records instead of throwing so a test can
   * report everything that went wrong.
   */
  readonly anomalies: string[];
}

/** What a run produced. The arrays are live views of the simulation, not copies. */
export interface SimResult {
  readonly opts: SimOpts;
  readonly nodes: readonly SimNode[];
  /** Indexes of the honest nodes (not silent, not the forker). */
  readonly honest: readonly number[];
  /** Every event created, in creation order (topological), fork twins included. */
  readonly events: readonly SimEvent[];
  /** Each node's `stats()`, `null` for silent nodes. */
  readonly stats: readonly (ConsensusStats | null)[];
  readonly steps: number;
  readonly clockMs: number;
}

/** A running simulation: step it, look at it, step it more. */
export interface Simulation {
  readonly opts: SimOpts;
  /** Runs `steps` more gossip steps. */
  run(steps: number): void;
  readonly stepsDone: number;
  readonly clockMs: number;
  result(): SimResult;
}

// ---- candidates --------------------------------------------------------------------

/**
 * Remembers the witnesses an engine reported, by round, so that when round r
 * is decided the leader candidates of docs/PROTOCOL.md 5.5 can be listed: the famous
 * witnesses of round r whose creator has exactly one famous witness. The
 * engine does not return candidates with a block, and they are live (so
 * `info()` answers) at the moment the block is returned.
 */
export class WitnessIndex<E extends ConsensusEventInput = ConsensusEventInput> {
  private readonly byRound = new Map<number, E[]>();

  /** Call right after `event` was inserted into `cons`. */
  add(cons: Consensus<E>, event: E): void {
    const info = cons.info(event.hash);
    // A witness of an already decided round is never a candidate.
    if (!info?.witness || info.round <= cons.lastDecidedRound) return;
    const list = this.byRound.get(info.round);
    if (list) list.push(event);
    else this.byRound.set(info.round, [event]);
  }

  /** The candidates of a round just decided by `cons`; forgets that round and earlier ones. */
  candidates(cons: Consensus<E>, round: number): E[] {
    const famous = (this.byRound.get(round) ?? []).filter(
      (w) => cons.info(w.hash)?.famous === true,
    );
    const per = new Map<number, number>();
    for (const w of famous) per.set(w.creator, (per.get(w.creator) ?? 0) + 1);
    for (const r of [...this.byRound.keys()]) if (r <= round) this.byRound.delete(r);
    return famous.filter((w) => per.get(w.creator) === 1);
  }
}

// ---- the simulation ------------------------------------------------------------------

interface NodeState {
  readonly view: SimNode;
  readonly counters: SimCounters;
  readonly cons: Consensus<SimEvent> | null;
  /** What `cons` accepted, in insertion order (topological): the sync source. */
  known: SimEvent[];
  /** Absolute index of `known[0]` (a prefix every peer has been offered is dropped). */
  knownBase: number;
  /** Per peer: absolute index into `known` of the next event to offer it. */
  readonly cursor: number[];
  /** Latest own event (honest), or the two branch tips (forker). */
  tip: SimEvent | null;
  readonly tips: [SimEvent | null, SimEvent | null];
  /** The forker's own events by key, to tell which branch an event is on. */
  readonly own: Map<string, SimEvent>;
  readonly buffer: Map<string, SimEvent>;
  readonly waiting: Map<string, string[]>;
  /** Events held for a pending table or an unregistered creator, and their descendants. */
  readonly held: Map<string, SimEvent>;
  readonly ledger: SimLedger | null;
  /** Whether its last attempt to create an event passed `probe` (so peers take its tip as other-parent). */
  member: boolean;
  /** Decisions its ledger has not applied yet (`ledger.applyDelay`), oldest first. */
  readonly unapplied: { due: number; blocks: readonly DecidedBlock<SimEvent>[]; decided: number }[];
  /** The engine's decided round when the ledger was last handed decisions. */
  handedDecided: number;
  readonly witnesses: WitnessIndex<SimEvent> | null;
  forkCounter: number;
}

/** Compact known-list prefixes once this many entries were offered to every peer. */
const COMPACT_KNOWN = 4096;

/**
 * Creates a simulation (see the module comment). Missing options take
 * {@link defaultSimOpts}. Throws `BAD_OPTIONS` for inconsistent options.
 */
export function createSim(partial: Partial<SimOpts> = {}): Simulation {
  const o: SimOpts = { ...defaultSimOpts, ...partial };
  const n = o.stakes.length;
  const bad = (m: string) => new ConsensusError('BAD_OPTIONS', m);
  if (n < 2) throw bad('a simulation needs at least 2 validators');
  const idx = (i: number) => Number.isSafeInteger(i) && i >= 0 && i < n;
  for (const i of [...o.silent, ...o.slow]) if (!idx(i)) throw bad(`no validator ${i}`);
  if (o.forker !== null && (!idx(o.forker) || o.silent.includes(o.forker))) {
    throw bad('forker: a validator index that is not silent');
  }
  for (const k of Object.keys(o.clockAheadMs)) if (!idx(Number(k))) throw bad(`no validator ${k}`);
  if (!(o.slowParticipation > 0 && o.slowParticipation <= 1)) {
    throw bad('slowParticipation must be in (0, 1]');
  }
  if (!(o.duplicateProbability >= 0 && o.duplicateProbability < 1)) {
    throw bad('duplicateProbability must be in [0, 1)');
  }
  if (!Number.isSafeInteger(o.forkEvery) || o.forkEvery < 1) throw bad('forkEvery >= 1');
  if (!Number.isSafeInteger(o.maxStepMs) || o.maxStepMs < 1) throw bad('maxStepMs >= 1');
  if (!Number.isSafeInteger(o.maxTxPerEvent) || o.maxTxPerEvent < 0) throw bad('maxTxPerEvent');
  const applyDelay = o.ledger?.applyDelay ?? 0;
  if (!Number.isSafeInteger(applyDelay) || applyDelay < 0) throw bad('applyDelay >= 0');
  const active = Array.from({ length: n }, (_, i) => i).filter((i) => !o.silent.includes(i));
  if (active.length === 0) throw bad('every validator is silent');
  const L = o.ledger;
  if (L) {
    for (const a of L.actions) {
      if (!idx(a.by) || !Number.isSafeInteger(a.atStep)) throw bad('action: by, atStep');
    }
    for (const k of Object.keys(L.silentFrom)) if (!idx(Number(k))) throw bad(`no validator ${k}`);
    // Checks the epoch parameters and genesis set.
    new SimLedger(o.stakes, L, simValidatorIds(n, o.hash));
  }

  const rng = new SimRng(o.seed);
  const copts = L ? null : simConsensusOpts(o);
  const events: SimEvent[] = [];
  let clock = o.startMs;
  let stepsDone = 0;

  const nodes: NodeState[] = Array.from({ length: n }, (_, i) => {
    const silent = o.silent.includes(i);
    const forker = o.forker === i;
    const counters: SimCounters = {
      syncs: 0,
      failedSyncs: 0,
      skippedTurns: 0,
      created: 0,
      delivered: 0,
      duplicatesDelivered: 0,
      duplicatesIgnored: 0,
      bufferedTotal: 0,
      maxBuffered: 0,
      dropped: 0,
      rejected: {},
      heldTotal: 0,
      idleTurns: 0,
    };
    let cons: Consensus<SimEvent> | null = null;
    let ledger: SimLedger | null = null;
    if (!silent && L) ({ cons, ledger } = createLedgerEngine({ ...o, ledger: L }));
    else if (!silent) cons = createConsensus(copts!);
    const view: SimNode = {
      index: i,
      stake: o.stakes[i]!,
      silent,
      slow: o.slow.includes(i),
      forker,
      clockAheadMs: o.clockAheadMs[i] ?? 0,
      honest: !silent && !forker,
      consensus: cons,
      ledger,
      blocks: [],
      candidates: [],
      evidence: [],
      counters,
      anomalies: [],
    };
    return {
      view,
      counters,
      cons,
      known: [],
      knownBase: 0,
      cursor: new Array<number>(n).fill(0),
      tip: null,
      tips: [null, null],
      own: new Map(),
      buffer: new Map(),
      waiting: new Map(),
      held: new Map(),
      ledger,
      member: !L || (i < L.genesisValidators && o.stakes[i]! > 0n),
      unapplied: [],
      handedDecided: -1,
      witnesses: o.recordCandidates && cons ? new WitnessIndex<SimEvent>() : null,
      forkCounter: 0,
    };
  });

  /** The forker shows branch `groupOf(peer)` to that peer; honest nodes' groups are fixed halves. */
  const groupOf = (i: number): 0 | 1 => (i % 2) as 0 | 1;
  /** The forker's tip for half g (both halves share one chain until its first fork). */
  const forkTip = (f: NodeState, g: 0 | 1): SimEvent | null => f.tips[g];

  /** Has `node` got (or buffered, or held) the event? */
  function holds(node: NodeState, x: SimEvent): boolean {
    const k = keyOf(x.hash);
    return node.cons!.has(x.hash) || node.buffer.has(k) || node.held.has(k);
  }

  /** Whether validator i is silent at this step (from the start, or from `ledger.silentFrom`). */
  function silentNow(i: number): boolean {
    if (nodes[i]!.view.silent) return true;
    const from = L?.silentFrom[i];
    return from !== undefined && stepsDone >= from;
  }

  /**
   * Inserts one event whose parents are known: `ok` if it was new and
   * accepted, `held` if this node cannot take it yet (its round's table is
   * pending here, or its creator is not registered here yet), `duplicate`,
   * or `refused` (recorded as an anomaly).
   */
  function tryInsert(node: NodeState, e: SimEvent): 'ok' | 'held' | 'duplicate' | 'refused' {
    const cons = node.cons!;
    let res: ReturnType<Consensus<SimEvent>['insert']>;
    if (e.creator >= cons.validatorCount) return 'held';
    try {
      res = cons.insert(e);
    } catch (err) {
      if (err instanceof ConsensusError && err.code === 'TABLE_PENDING') return 'held';
      const code = err instanceof ConsensusError ? err.code : 'THROWN';
      node.counters.rejected[code] = (node.counters.rejected[code] ?? 0) + 1;
      // A crash (not a ConsensusError) carries its innermost frame: where to look.
      const at =
        err instanceof ConsensusError
          ? ''
          : ` ${(err as Error).stack?.split('\n')[1]?.trim() ?? ''}`;
      node.view.anomalies.push(
        `node ${node.view.index} rejected event ${e.id} (creator ${e.creator} seq ${e.seq}): ${code} ${(err as Error).message}${at}`,
      );
      return 'refused';
    }
    if (!res.inserted) {
      node.counters.duplicatesIgnored++;
      if (res.blocks.length > 0 || res.evidence.length > 0) {
        node.view.anomalies.push(`node ${node.view.index}: a duplicate insert decided something`);
      }
      return 'duplicate';
    }
    node.known.push(e);
    node.witnesses?.add(cons, e);
    for (const b of res.blocks) {
      node.view.blocks.push(b);
      if (node.witnesses) node.view.candidates.push(node.witnesses.candidates(cons, b.round));
    }
    for (const ev of res.evidence) node.view.evidence.push(ev);
    if (node.ledger && cons.lastDecidedRound !== node.handedDecided) {
      node.handedDecided = cons.lastDecidedRound;
      // The ledger follows the decisions: at once (the next insert may need
      // the new table), or `applyDelay` steps later.
      if (applyDelay === 0) node.ledger.absorb(res.blocks, cons);
      else {
        const decided = cons.lastDecidedRound;
        node.unapplied.push({ due: stepsDone + applyDelay, blocks: res.blocks, decided });
      }
    }
    return 'ok';
  }

  /** A node's ledger applies the decisions that are due, then what waited for their tables goes in. */
  function catchUp(node: NodeState): void {
    let applied = false;
    while (node.unapplied.length > 0 && node.unapplied[0]!.due <= stepsDone) {
      const u = node.unapplied.shift()!;
      node.ledger!.absorb(u.blocks, node.cons!, u.decided);
      applied = true;
    }
    if (applied && node.held.size > 0) retryHeld(node);
  }

  /** Holds `e` (table pending or creator unknown here) and every buffered event waiting on it. */
  function hold(node: NodeState, e: SimEvent): void {
    const stack = [e];
    while (stack.length > 0) {
      const x = stack.pop()!;
      const k = keyOf(x.hash);
      if (node.held.has(k)) continue;
      node.held.set(k, x);
      node.buffer.delete(k);
      node.counters.heldTotal++;
      const waiters = node.waiting.get(k);
      if (!waiters) continue;
      node.waiting.delete(k);
      for (const wk of waiters) {
        const w = node.buffer.get(wk);
        if (w) stack.push(w);
      }
    }
  }

  /**
   * Inserts the held events that can go in now, in creation order (which is
   * topological), pass after pass while a pass inserts something: each
   * insert may decide rounds and so make more tables known.
   */
  function retryHeld(node: NodeState): void {
    const cons = node.cons!;
    for (let progress = true; progress && node.held.size > 0; ) {
      progress = false;
      const list = [...node.held.values()].sort((a, b) => a.id - b.id);
      for (const e of list) {
        const k = keyOf(e.hash);
        if (cons.has(e.hash)) {
          node.held.delete(k);
          continue;
        }
        if (cons.missingParents(e).length > 0) continue;
        const out = tryInsert(node, e);
        if (out === 'held') continue; // still: the engine changed nothing
        node.held.delete(k);
        progress = true;
        if (out === 'ok') for (const w of release(node, e)) admit(node, w);
      }
    }
  }

  /** Drops held events that wait on a parent that is neither known nor held (it was forgotten). */
  function pruneHeld(node: NodeState): void {
    const cons = node.cons!;
    for (let changed = true; changed; ) {
      changed = false;
      for (const [k, e] of node.held) {
        const orphan = cons
          .missingParents(e)
          .some((q) => !node.held.has(keyOf(q)) && !node.buffer.has(keyOf(q)));
        if (orphan) {
          node.held.delete(k);
          node.counters.dropped++;
          changed = true;
        }
      }
    }
  }

  function wait(node: NodeState, key: string, missing: readonly Uint8Array[]): void {
    for (const m of missing) {
      const mk = keyOf(m);
      const list = node.waiting.get(mk);
      if (list) list.push(key);
      else node.waiting.set(mk, [key]);
    }
  }

  /**
   * Delivers one event as the gossip layer would: duplicates are free; an
   * event with a missing parent is buffered and retried when the parent
   * comes; one the engine cannot take yet (`held` by `tryInsert`), or one
   * whose parent is held, is held until this node has decided enough.
   */
  function receive(node: NodeState, x: SimEvent): void {
    const cons = node.cons!;
    const key = keyOf(x.hash);
    if (node.buffer.has(key) || node.held.has(key)) {
      node.counters.duplicatesIgnored++;
      return;
    }
    if (cons.has(x.hash)) {
      // Hand it to the engine anyway: it must answer `inserted: false`.
      tryInsert(node, x);
      return;
    }
    const missing = cons.missingParents(x);
    if (missing.length > 0) {
      if (missing.some((m) => node.held.has(keyOf(m)))) {
        hold(node, x);
        return;
      }
      node.buffer.set(key, x);
      wait(node, key, missing);
      node.counters.bufferedTotal++;
      if (node.buffer.size > node.counters.maxBuffered)
        node.counters.maxBuffered = node.buffer.size;
      return;
    }
    admit(node, x);
  }

  /** Inserts x, whose parents are known, then the buffered events that were waiting on it. */
  function admit(node: NodeState, x: SimEvent): void {
    const stack = [x];
    while (stack.length > 0) {
      const e = stack.pop()!;
      const out = tryInsert(node, e);
      if (out === 'held') hold(node, e);
      if (out === 'ok') stack.push(...release(node, e));
    }
  }

  /** The buffered events that waited on `e` (just inserted) and now have every parent. */
  function release(node: NodeState, e: SimEvent): SimEvent[] {
    const cons = node.cons!;
    const k = keyOf(e.hash);
    const waiters = node.waiting.get(k);
    const ready: SimEvent[] = [];
    if (!waiters) return ready;
    node.waiting.delete(k);
    for (const wk of waiters) {
      const w = node.buffer.get(wk);
      if (!w) continue; // already inserted through its other parent, or held
      const still = cons.missingParents(w);
      if (still.length > 0) {
        if (still.some((m) => node.held.has(keyOf(m)))) hold(node, w);
        else wait(node, wk, still);
        continue;
      }
      node.buffer.delete(wk);
      ready.push(w);
    }
    return ready;
  }

  /** Whether own event x of the forker is `tip` or a self-ancestor of it. */
  function onChain(f: NodeState, tip: SimEvent | null, x: SimEvent): boolean {
    let cur = tip;
    while (cur && cur.seq > x.seq)
      cur = cur.selfParent ? (f.own.get(keyOf(cur.selfParent)) ?? null) : null;
    return cur !== null && keyOf(cur.hash) === keyOf(x.hash);
  }

  /**
   * The events B knows that A lacks, parents first (B's insertion order is
   * topological). The forker withholds its events that are not on the branch
   * it shows A's half of the network, and everything built on them; if that
   * would withhold the very tip it shows, it gives up hiding for this sync.
   * Its cursor stays at the first withheld event, so later syncs offer again
   * everything after it that A lacks, including events A has since forgotten
   * (expired): a replay of old, validly signed events, which a Byzantine peer
   * can always send and the engine must tolerate.
   */
  function offer(b: NodeState, a: NodeState): SimEvent[] {
    const ai = a.view.index;
    const start = Math.max(b.cursor[ai]!, b.knownBase);
    const end = b.knownBase + b.known.length;
    const out: SimEvent[] = [];
    let next = end;
    if (b.view.forker) {
      const tip = forkTip(b, groupOf(ai));
      const skipped = new Set<string>();
      for (let i = start; i < end; i++) {
        const x = b.known[i - b.knownBase]!;
        if (holds(a, x)) continue;
        const hidden =
          (x.creator === b.view.index && !onChain(b, tip, x)) ||
          (x.selfParent !== null && skipped.has(keyOf(x.selfParent))) ||
          (x.otherParent !== null && skipped.has(keyOf(x.otherParent)));
        if (hidden) {
          skipped.add(keyOf(x.hash));
          if (next === end) next = i; // offer it again next time
        } else out.push(x);
      }
      if (tip && skipped.has(keyOf(tip.hash))) {
        out.length = 0;
        for (let i = start; i < end; i++) {
          const x = b.known[i - b.knownBase]!;
          if (!holds(a, x)) out.push(x);
        }
        next = end;
      }
    } else {
      for (let i = start; i < end; i++) {
        const x = b.known[i - b.knownBase]!;
        if (!holds(a, x)) out.push(x);
      }
    }
    b.cursor[ai] = next;
    compactKnown(b);
    return out;
  }

  /** Drops the prefix of `known` that every node that pulls has been offered. */
  function compactKnown(b: NodeState): void {
    let min = b.knownBase + b.known.length;
    for (const i of active) {
      if (i !== b.view.index && b.cursor[i]! < min && !silentNow(i)) min = b.cursor[i]!;
    }
    const drop = min - b.knownBase;
    if (drop >= COMPACT_KNOWN && drop * 2 >= b.known.length) {
      b.known = b.known.slice(drop);
      b.knownBase = min;
    }
  }

  function deliver(a: NodeState, batch: readonly SimEvent[]): void {
    const list: SimEvent[] = [];
    for (const x of batch) {
      list.push(x);
      if (o.duplicateProbability > 0 && rng.chance(o.duplicateProbability)) {
        list.push(x);
        a.counters.duplicatesDelivered++;
      }
    }
    if (o.reorder) rng.shuffle(list);
    a.counters.delivered += list.length;
    // Each node decodes its own copy off the wire; the engine keeps the object it is given.
    for (const x of list) receive(a, { ...x });
    // What waited for a table may go in now that this sync decided more.
    if (a.held.size > 0) retryHeld(a);
    if (a.buffer.size > 0) {
      // A sync answer is closed under parents, so what is still buffered waits
      // on parents this node once had and has forgotten (expired): drop it.
      a.counters.dropped += a.buffer.size;
      a.buffer.clear();
      a.waiting.clear();
    }
    if (a.held.size > 0) pruneHeld(a);
  }

  /**
   * The latest own event B shows A: its tip, or for the forker the tip of A's
   * half. A node that creates no events (not a member, or no more) shows the
   * latest event it holds by another creator: what a syncing non-validator
   * offers as the newest thing it knows.
   */
  function shownTip(b: NodeState, ai: number): SimEvent | null {
    if (b.view.forker) return forkTip(b, groupOf(ai));
    if (b.member && b.tip) return b.tip;
    if (!L) return b.tip;
    for (let i = b.known.length - 1; i >= 0; i--) {
      const x = b.known[i]!;
      if (x.creator !== ai) return x;
    }
    return null;
  }

  /** The ledger transactions validator `ai` submits at this step (not yet applied by its ledger). */
  function actionTxs(a: NodeState): Uint8Array[] {
    if (!L || !a.ledger) return [];
    const out: Uint8Array[] = [];
    L.actions.forEach((act, nonce) => {
      if (act.by === a.view.index && act.atStep <= stepsDone && !a.ledger!.applied(nonce)) {
        out.push(encodeLedgerTx(nonce, act.tx));
      }
    });
    return out;
  }

  function create(a: NodeState, b: NodeState): void {
    const ai = a.view.index;
    const op = shownTip(b, ai);
    if (op && !a.cons!.has(op.hash)) {
      if (a.held.has(keyOf(op.hash))) {
        // Held for a table its ledger has not computed yet: nothing to build on this turn.
        a.counters.idleTurns++;
        return;
      }
      a.view.anomalies.push(`node ${ai} lacks the tip of its peer ${b.view.index} after a sync`);
      return;
    }
    const g = groupOf(b.view.index);
    const sp = a.view.forker ? forkTip(a, g) : a.tip;
    const ts = Math.max(clock + a.view.clockAheadMs, sp ? sp.timestamp + 1 : 0);
    const seq = sp ? sp.seq + 1 : 0;
    const fields = (twin: number): SimEventFields => ({
      creator: ai,
      seq,
      selfParent: sp ? sp.hash : null,
      otherParent: op ? op.hash : null,
      ...(op ? { otherParentCreator: op.creator, otherParentSeq: op.seq } : {}),
      timestamp: ts,
      transactions: [...randomTxs(rng, ai, seq, o.maxTxPerEvent, twin), ...actionTxs(a)],
    });
    if (a.view.forker && a.forkCounter++ % o.forkEvery === o.forkEvery - 1) {
      // Equivocate: two events on one self-parent, one per half of the network.
      const e1 = publish(a, fields(0));
      const e2 = publish(a, fields(1));
      if (e1 && e2) {
        a.tips[g] = e1;
        a.tips[(1 - g) as 0 | 1] = e2;
      }
      return;
    }
    const e = publish(a, fields(0));
    if (!e) return;
    if (!a.view.forker) a.tip = e;
    else if (a.tips[0] === a.tips[1]) {
      // Not forked yet: one chain, shown to everyone.
      a.tips[0] = e;
      a.tips[1] = e;
    } else a.tips[g] = e;
  }

  /**
   * Signs an event and gives it to its creator's own engine first; null if
   * refused. As a node does, it first asks `probe` whether the engine would
   * take it: with a ledger, a validator that is no member in the event's
   * round, or whose table for it is pending, creates nothing this turn.
   */
  function publish(a: NodeState, f: SimEventFields): SimEvent | null {
    const e = makeSimEvent(f, events.length, o.hash);
    const cons = a.cons!;
    let probed: ProbeResult;
    try {
      if (e.creator >= cons.validatorCount) {
        throw new ConsensusError('NOT_A_VALIDATOR', 'not registered here yet');
      }
      probed = cons.probe(e);
    } catch (err) {
      const code = err instanceof ConsensusError ? err.code : 'THROWN';
      if (L && (code === 'NOT_A_VALIDATOR' || code === 'TABLE_PENDING')) {
        if (code === 'NOT_A_VALIDATOR') a.member = false;
        a.counters.idleTurns++;
      } else {
        a.view.anomalies.push(`node ${a.view.index}: probe refused its own event: ${code}`);
      }
      return null;
    }
    a.member = true;
    if (tryInsert(a, e) !== 'ok') {
      a.view.anomalies.push(`node ${a.view.index}: its own event was refused after probe`);
      return null;
    }
    const got = cons.info(e.hash);
    if (got && (got.round !== probed.round || got.witness !== probed.witness)) {
      a.view.anomalies.push(
        `node ${a.view.index}: probe said round ${probed.round}, insert ${got.round}`,
      );
    }
    events.push(e);
    a.counters.created++;
    if (a.view.forker) a.own.set(keyOf(e.hash), e);
    return e;
  }

  function step(): void {
    stepsDone++;
    clock += 1 + rng.below(o.maxStepMs);
    if (applyDelay > 0) for (const nd of nodes) if (nd.unapplied.length > 0) catchUp(nd);
    const ai = rng.pick(active);
    const a = nodes[ai]!;
    if (a.view.slow && !rng.chance(o.slowParticipation)) {
      a.counters.skippedTurns++;
      return;
    }
    if (L && silentNow(ai)) {
      a.counters.skippedTurns++;
      return;
    }
    let bi = rng.below(n - 1);
    if (bi >= ai) bi++;
    const b = nodes[bi]!;
    if (silentNow(bi)) {
      a.counters.failedSyncs++;
      return;
    }
    a.counters.syncs++;
    deliver(a, offer(b, a));
    create(a, b);
  }

  return {
    opts: o,
    run(steps: number) {
      for (let i = 0; i < steps; i++) step();
    },
    get stepsDone() {
      return stepsDone;
    },
    get clockMs() {
      return clock;
    },
    result(): SimResult {
      return {
        opts: o,
        nodes: nodes.map((s) => s.view),
        honest: nodes.filter((s) => s.view.honest).map((s) => s.view.index),
        events,
        stats: nodes.map((s) => (s.cons ? s.cons.stats() : null)),
        steps: stepsDone,
        clockMs: clock,
      };
    },
  };
}

/** Creates a simulation, runs `opts.steps` steps and returns the result. */
export function runSim(opts: Partial<SimOpts> = {}): SimResult {
  const sim = createSim(opts);
  sim.run(sim.opts.steps);
  return sim.result();
}

// ---- a fast single-observer DAG --------------------------------------------------------

/** Options of {@link generateDag}. */
export interface DagOpts {
  /** Number of validators (creators), at least 2. */
  readonly creators: number;
  /** Number of events to generate (fork twins count). */
  readonly events: number;
  readonly seed: number;
  readonly hash?: HashFn;
  /** Default 2. */
  readonly maxTxPerEvent?: number;
  /** A creator that equivocates every `forkEvery`-th event (default none). */
  readonly forker?: number | null;
  /** Default 5. */
  readonly forkEvery?: number;
  readonly maxStepMs?: number;
  readonly startMs?: number;
  /** Transactions appended to the event of a creation index (e.g. ledger transactions). */
  readonly extraTxs?: ReadonlyMap<number, readonly Uint8Array[]>;
}

/**
 * A random-gossip DAG as one observer that hears everything would receive
 * it, in creation order (topological). Each step a random creator A "syncs"
 * with a random other creator B and creates an event on its own latest with
 * B's latest as other-parent: since an event's ancestry is exactly what its
 * creator knew, this is the DAG of the full simulation without the per-node
 * bookkeeping (fast enough for benchmarks of 10^5+ events). A forker
 * keeps two branches and builds on the one of B's half (as in the simulator).
 */
export function generateDag(opts: DagOpts): SimEvent[] {
  const n = opts.creators;
  if (!Number.isSafeInteger(n) || n < 2) {
    throw new ConsensusError('BAD_OPTIONS', 'a DAG needs at least 2 creators');
  }
  const hash = opts.hash ?? sha256Noble;
  const maxTx = opts.maxTxPerEvent ?? 2;
  const forker = opts.forker ?? null;
  const forkEvery = opts.forkEvery ?? 5;
  const maxStep = opts.maxStepMs ?? 5;
  const rng = new SimRng(opts.seed);
  const tips: (SimEvent | null)[] = new Array(n).fill(null);
  const forkTips: [SimEvent | null, SimEvent | null] = [null, null];
  const out: SimEvent[] = [];
  let clock = opts.startMs ?? defaultSimOpts.startMs;
  let forkCounter = 0;
  // The forker's tip for half g (both halves share one chain until its first fork).
  const forkTip = (g: number) => forkTips[g] ?? null;
  const shown = (b: number, to: number) => (b === forker ? forkTip(to % 2) : tips[b]) ?? null;
  while (out.length < opts.events) {
    clock += 1 + rng.below(maxStep);
    const a = rng.below(n);
    let b = rng.below(n - 1);
    if (b >= a) b++;
    const sp = (a === forker ? forkTip(b % 2) : tips[a]) ?? null;
    const op = shown(b, a);
    const seq = sp ? sp.seq + 1 : 0;
    const f = (twin: number): SimEventFields => ({
      creator: a,
      seq,
      selfParent: sp ? sp.hash : null,
      otherParent: op ? op.hash : null,
      ...(op ? { otherParentCreator: op.creator, otherParentSeq: op.seq } : {}),
      timestamp: Math.max(clock, sp ? sp.timestamp + 1 : 0),
      transactions: [
        ...randomTxs(rng, a, seq, maxTx, twin),
        ...(opts.extraTxs?.get(out.length) ?? []),
      ],
    });
    if (a === forker) {
      if (forkCounter++ % forkEvery === forkEvery - 1 && out.length + 2 <= opts.events) {
        const e1 = makeSimEvent(f(0), out.length, hash);
        out.push(e1);
        const e2 = makeSimEvent(f(1), out.length, hash);
        out.push(e2);
        forkTips[b % 2] = e1;
        forkTips[1 - (b % 2)] = e2;
      } else {
        const e = makeSimEvent(f(0), out.length, hash);
        out.push(e);
        if (forkTips[0] === forkTips[1]) forkTips[0] = forkTips[1] = e;
        else forkTips[b % 2] = e;
      }
    } else {
      const e = makeSimEvent(f(0), out.length, hash);
      out.push(e);
      tips[a] = e;
    }
  }
  return out;
}

// ---- bytes ---------------------------------------------------------------------------

/** A latin1 string of the bytes: a cheap Map key (the engine keys the same way). */
function keyOf(h: Uint8Array): string {
  let s = '';
  for (let i = 0; i < h.length; i++) s += String.fromCharCode(h[i]!);
  return s;
}

// ASCII via charCodeAt: src/ compiles without DOM or node typings, so no TextEncoder.
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function u32be(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v);
  return out;
}

/** Writes a safe non-negative integer as u64be at `o`; returns the next offset. */
function putU64(view: DataView, o: number, v: number): number {
  view.setUint32(o, Math.floor(v / TWO_32));
  view.setUint32(o + 4, v >>> 0);
  return o + 8;
}
