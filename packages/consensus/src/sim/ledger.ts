/**
 * Proof-of-share stake tables for the simulator: a toy ledger per node that
 * follows its decided blocks and answers `stakeTable(r)` (docs/PROTOCOL.md
 * 5.9).
 */
import { createConsensus } from '../engine.js';
import { ConsensusError } from '../errors.js';
import type { Consensus, DecidedBlock } from '../types.js';
import { ascii } from './bytes.js';
import { type SimConsensusParams, simConsensusOpts } from './config.js';
import type { SimEvent } from './events.js';

/** Epoch parameters (docs/PROTOCOL.md 6.5) and who is registered at genesis. */
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

/** s(r) = ⌊(r − lag) / epoch⌋ · epoch (docs/PROTOCOL.md 6.5); negative: the genesis state. */
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
