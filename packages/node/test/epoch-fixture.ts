// Shared by the epoch and registration suites (not a suite itself): keys, a
// genesis with small epoch parameters, a model of the ledger's outputs and
// registrations that builds signed transactions against itself, and the
// validator table of docs/PROTOCOL.md 6.5 computed from that model, independently of
// the ledger's own code.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { DecidedBlock } from '@pos/consensus';
import {
  chainIdOf,
  createGenesis,
  encodeTx,
  encodeValidatorSet,
  type Genesis,
  genesisStakes,
  makeValidatorSet,
  type Outpoint,
  type Output,
  type Registration,
  type SignedTx,
  signTx,
  type TxBody,
  type TxSigner,
  txHashOf,
  type ValidatorSet,
  validatorIdOf,
} from '@pos/protocol';
import { cat, fill, u16 } from '@pos/test-utils/bytes';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { ClassicLevel } from 'classic-level';
import type { LedgerOpts } from '../src/chain/ledger.js';
import type { NodeEvent } from '../src/pipeline/dag.js';

// --- keys ------------------------------------------------------------------------------

export interface Key {
  readonly sk: Uint8Array;
  readonly pk: Uint8Array;
  /** `validatorIdOf(pk)`: the host id of outputs staked with this key's validator. */
  readonly id: Uint8Array;
}

export function keyOf(seed: number): Key {
  const sk = fill(32, seed);
  const pk = ed25519.getPublicKey(sk);
  return { sk, pk, id: validatorIdOf(pk) };
}

const publicKeys = new Map<string, Uint8Array>();
/** Noble Ed25519, with public keys cached (signTx asks for one per signature). */
export const signer: TxSigner = {
  sign: (sk, msg) => ed25519.sign(msg, sk),
  publicKey: (sk) => {
    const k = hex(sk);
    let pk = publicKeys.get(k);
    if (pk === undefined) {
      pk = ed25519.getPublicKey(sk);
      publicKeys.set(k, pk);
    }
    return pk;
  },
};

/** Strict RFC 8032 verification, as docs/PROTOCOL.md 2 asks. */
export const verify: LedgerOpts['verify'] = (pk, msg, sig) =>
  ed25519.verify(sig, msg, pk, { zip215: false });

/** Owners O0..O2 hold the coins; V0..V3 are validator keys (V0, V1 in genesis). */
export const O = [keyOf(1), keyOf(2), keyOf(3)] as const;
export const V = [keyOf(0x41), keyOf(0x42), keyOf(0x43), keyOf(0x44)] as const;

// --- genesis ---------------------------------------------------------------------------

/** LAG 2, EPOCH 4: epoch k >= 1 is the state after round 4(k - 1), for rounds 4k - 2 .. 4k + 1. */
export const LAG = 2;
export const EPOCH = 4;
export const MIN_STAKE = 100n;
export const MIN_FEE = 1n;

/**
 * V0 hosts 1000; V1 is a genesis validator with no stake; 550 more are hosted
 * by V3's id, which nobody registered.
 */
export function makeGenesis(name = 'epochs-test', outputs?: Output[]): Genesis {
  return createGenesis({
    chainName: name,
    genesisTime: 1_700_000_000_000,
    params: { minFee: MIN_FEE, lag: LAG, epoch: EPOCH, minStake: MIN_STAKE },
    validators: [
      { pubkey: V[0].pk, name: 'v0', p2p: '127.0.0.1:9000' },
      { pubkey: V[1].pk, name: 'v1', p2p: '127.0.0.1:9001' },
    ],
    outputs: outputs ?? [
      { amount: 1000n, owner: O[0].pk, host: V[0].id },
      { amount: 150n, owner: O[1].pk, host: V[3].id },
      { amount: 400n, owner: O[2].pk, host: V[3].id },
    ],
  });
}

// --- the rules of docs/PROTOCOL.md 6.5, written again --------------------------------------

/** The epoch whose table applies to `round` (docs/PROTOCOL.md 6.5). */
export const epochOf = (round: number): number =>
  round < LAG ? 0 : Math.floor((round - LAG) / EPOCH) + 1;
/** The snapshot round of epoch k >= 1. */
export const snapOf = (k: number): number => (k - 1) * EPOCH;

/** 0x01 ‖ pubkey ‖ u16 len ‖ name ‖ u16 len ‖ p2p: a validator record as ledger.ts documents it. */
export function encodeRecord(r: Registration): Uint8Array {
  const name = new TextEncoder().encode(r.name);
  const p2p = new TextEncoder().encode(r.p2p);
  return cat(Uint8Array.of(1), r.pubkey, u16(name.length), name, u16(p2p.length), p2p);
}

/**
 * A table from stakes and registrations: registered ids hosting at least
 * `minStake`; the 1,024 largest stakes if more qualify, ties to the lower
 * id; `null` if none qualifies.
 */
export function tableOf(
  regs: ReadonlyMap<string, Uint8Array>,
  stakes: ReadonlyMap<string, bigint>,
  minStake = MIN_STAKE,
): ValidatorSet | null {
  let members: { id: string; pk: Uint8Array; stake: bigint }[] = [];
  for (const [id, pk] of regs) {
    const stake = stakes.get(id) ?? 0n;
    if (stake >= minStake) members.push({ id, pk, stake });
  }
  if (members.length === 0) return null;
  members.sort((a, b) =>
    a.stake !== b.stake ? (a.stake > b.stake ? -1 : 1) : a.id < b.id ? -1 : 1,
  );
  members = members.slice(0, 1024);
  return makeValidatorSet(members.map((m) => ({ publicKey: m.pk, stake: m.stake })));
}

export const setHex = (s: ValidatorSet): string => hex(encodeValidatorSet(s));

/** A set written as `[key, stake]` pairs. */
export const setOf = (members: [Key, bigint][]): ValidatorSet =>
  makeValidatorSet(members.map(([k, stake]) => ({ publicKey: k.pk, stake })));

// --- a model of the state that builds transactions against itself -----------------------------

interface Unspent {
  outpoint: Outpoint;
  output: Output;
  /** The owner's secret key. */
  sk: Uint8Array;
}

/** One output of a transaction to build: amount, owner, host. */
export type OutSpec = [amount: bigint, owner: Key, host: Uint8Array];

export interface Built {
  bytes: Uint8Array;
  hash: Uint8Array;
  tx: SignedTx;
  fee: bigint;
}

const ALL_KEYS = [...O, ...V];

/**
 * The unspent outputs (named), the registrations and the fees burned, as the
 * test expects the ledger to hold them. `spend` assumes its transaction
 * commits; `build` changes nothing (for transactions meant to be rejected).
 */
export class Book {
  readonly chainId: Uint8Array;
  readonly outs = new Map<string, Unspent>();
  /** hex(validatorId) → registration. */
  readonly regs = new Map<string, Registration>();
  burned = 0n;
  private serial = 0;

  constructor(readonly genesis: Genesis) {
    this.chainId = chainIdOf(genesis);
    genesis.outputs.forEach((output, index) => {
      const owner = ALL_KEYS.find((k) => hex(k.pk) === hex(output.owner));
      this.outs.set(`g${index}`, {
        outpoint: { txHash: this.chainId, index },
        output,
        sk: owner?.sk ?? new Uint8Array(32),
      });
    });
    for (const v of genesis.validators) {
      this.regs.set(hex(validatorIdOf(v.pubkey)), { pubkey: v.pubkey, name: v.name, p2p: v.p2p });
    }
  }

  /** Names of the unspent outputs, in creation order. */
  names(): string[] {
    return [...this.outs.keys()];
  }

  get(name: string): Unspent {
    const u = this.outs.get(name);
    if (u === undefined) throw new Error(`no unspent output ${name}`);
    return u;
  }

  /**
   * A signed transaction spending `inputs` into `outputs` (fee: what is left),
   * signed by the inputs' owners, the registered key if any, and `extra`;
   * `signers` replaces that list.
   */
  build(
    inputs: string[],
    outputs: OutSpec[],
    opts: { register?: [Key, string, string]; signers?: Key[]; extra?: Key[]; fee?: bigint } = {},
  ): Built {
    const ins = inputs.map((n) => this.get(n));
    const sumIn = ins.reduce((s, u) => s + u.output.amount, 0n);
    const sumOut = outputs.reduce((s, [a]) => s + a, 0n);
    const fee = opts.fee ?? sumIn - sumOut;
    const register: Registration | undefined =
      opts.register === undefined
        ? undefined
        : { pubkey: opts.register[0].pk, name: opts.register[1], p2p: opts.register[2] };
    const body: TxBody = {
      chainId: this.chainId,
      inputs: ins.map((u) => u.outpoint),
      outputs: outputs.map(([amount, owner, host]) => ({ amount, owner: owner.pk, host })),
      fee,
      memo: new Uint8Array(0),
      ...(register === undefined ? {} : { register }),
    };
    let sks: Uint8Array[];
    if (opts.signers !== undefined) {
      sks = opts.signers.map((k) => k.sk);
    } else {
      const set = new Map<string, Uint8Array>();
      for (const u of ins) set.set(hex(u.sk), u.sk);
      if (opts.register !== undefined) set.set(hex(opts.register[0].sk), opts.register[0].sk);
      for (const k of opts.extra ?? []) set.set(hex(k.sk), k.sk);
      sks = [...set.values()];
    }
    const tx = signTx(body, sks, signer);
    return { bytes: encodeTx(tx), hash: txHashOf(body), tx, fee };
  }

  /** Builds a transaction and applies it to the model; its outputs are named `${name}.${i}`. */
  spend(
    inputs: string[],
    outputs: OutSpec[],
    opts: { register?: [Key, string, string]; name?: string } = {},
  ): Built {
    const b = this.build(
      inputs,
      outputs,
      opts.register === undefined ? {} : { register: opts.register },
    );
    const name = opts.name ?? `t${this.serial++}`;
    for (const n of inputs) this.outs.delete(n);
    outputs.forEach(([amount, owner, host], index) => {
      this.outs.set(`${name}.${index}`, {
        outpoint: { txHash: b.hash, index },
        output: { amount, owner: owner.pk, host },
        sk: owner.sk,
      });
    });
    if (opts.register !== undefined) {
      const [k, n, p2p] = opts.register;
      this.regs.set(hex(k.id), { pubkey: k.pk, name: n, p2p });
    }
    this.burned += b.fee;
    return b;
  }

  /** hex(host) → Σ hosted unspent. */
  stakes(): Map<string, bigint> {
    const m = new Map<string, bigint>();
    for (const u of this.outs.values()) {
      const h = hex(u.output.host);
      m.set(h, (m.get(h) ?? 0n) + u.output.amount);
    }
    return m;
  }

  /** hex(validatorId) → pubkey of every registration. */
  regKeys(): Map<string, Uint8Array> {
    return new Map([...this.regs].map(([id, r]) => [id, r.pubkey]));
  }

  unspent(): bigint {
    let s = 0n;
    for (const u of this.outs.values()) s += u.output.amount;
    return s;
  }
}

/** The state the tables are taken from: stakes and registrations after a block. */
export interface Snapshot {
  /** Height of the block after which this holds (`-1`: genesis). */
  height: number;
  stakes: Map<string, bigint>;
  regs: Map<string, Uint8Array>;
}

export const snapshotOf = (book: Book, height: number): Snapshot => ({
  height,
  stakes: book.stakes(),
  regs: book.regKeys(),
});

/**
 * Epoch k's table by docs/PROTOCOL.md 6.5 from the states after each block (ascending
 * heights, genesis first): epoch 0 is the genesis set; epoch k >= 1 the
 * table of the state after the last block at or below its snapshot round,
 * or the previous epoch's if nobody qualifies.
 */
export function referenceTable(
  genesis: Genesis,
  history: readonly Snapshot[],
  k: number,
): ValidatorSet {
  if (k === 0) {
    return makeValidatorSet(
      genesisStakes(genesis).map((s) => ({ publicKey: s.pubkey, stake: s.stake })),
    );
  }
  let state = history[0]!;
  for (const s of history) if (s.height <= snapOf(k)) state = s;
  return (
    tableOf(state.regs, state.stakes, genesis.params.minStake) ??
    referenceTable(genesis, history, k - 1)
  );
}

// --- a scenario across set changes ---------------------------------------------------------

export interface Step {
  name: string;
  height: number;
  txs: (b: Book) => Built[];
  /** Epochs the block writes, and the table each of them gets. */
  epochs: number[];
  table?: ValidatorSet;
  /** previewTable() before the block: the table it writes, or this set (`null`: unchecked). */
  preview: 'written' | ValidatorSet | null;
  registered?: Key[];
}

export const EPOCH0 = setOf([
  [V[0], 1000n],
  [V[1], 0n], // a genesis validator without stake is in the genesis set
]);
export const T1 = setOf([
  [V[0], 1000n],
  [V[1], 399n],
]);
export const T2 = setOf([
  [V[0], 1000n],
  [V[1], 399n],
  [V[2], 149n],
]);
export const T3 = setOf([
  [V[0], 1299n],
  [V[2], 149n],
]);
export const TV3 = setOf([[V[3], 1544n]]);

/**
 * Snapshot rounds 0, 4, 8, ...; V3's id hosts 550 at genesis, but V3 is
 * registered only by block 33. Where a block writes a table and carries
 * transactions, they change the table the state gives, so that a table
 * taken from the state before the block and one taken after it differ.
 */
export const STEPS: Step[] = [
  {
    name: 'block 0, at the snapshot of epoch 1: the state after it (V1 gains 399)',
    height: 0,
    txs: (b) => [b.spend(['g2'], [[399n, O[2], V[1].id]], { name: 's1' })],
    epochs: [1],
    table: T1,
    preview: setOf([[V[0], 1000n]]), // the genesis state: V1 has nothing yet
  },
  {
    name: 'block 4, at the snapshot of epoch 2, registers V2 with 149: it is in the table',
    height: 4,
    txs: (b) => [
      b.spend(['g1'], [[149n, O[1], V[2].id]], {
        name: 's2',
        register: [V[2], 'v2', '10.0.0.2:9000'],
      }),
    ],
    epochs: [2],
    table: T2,
    preview: T1,
    registered: [V[2]],
  },
  {
    name: 'block 9, past the snapshot round 8 that had no block: the state before it',
    height: 9,
    // V1 keeps 99 (< minStake) and moves 299 to V0: after the block, the set would differ.
    txs: (b) => [
      b.spend(
        ['s1.0'],
        [
          [99n, O[2], V[1].id],
          [299n, O[2], V[0].id],
        ],
        { name: 's3' },
      ),
    ],
    epochs: [3],
    table: T2,
    preview: 'written',
  },
  {
    name: 'block 12, empty, at the snapshot of epoch 4: V1 fell below minStake and leaves',
    height: 12,
    txs: () => [],
    epochs: [4],
    table: T3,
    preview: 'written',
  },
  {
    name: 'block 25, past the snapshots 16, 20, 24: three tables, all from the state before it',
    height: 25,
    txs: (b) => [b.spend(['g0'], [[999n, O[0], V[2].id]], { name: 's5' })],
    epochs: [5, 6, 7],
    table: T3,
    preview: 'written',
  },
  {
    name: 'block 28, at the snapshot of epoch 8, moves every stake to the unregistered V3: the previous table repeats',
    height: 28,
    txs: (b) => [
      b.spend(['s3.0', 's3.1', 's2.0', 's5.0'], [[1545n, O[0], V[3].id]], { name: 's6' }),
    ],
    epochs: [8],
    table: T3,
    preview: setOf([
      [V[0], 299n],
      [V[2], 1148n],
    ]),
  },
  {
    name: 'block 33 registers V3, past the snapshot 32: not in that table (the state before it)',
    height: 33,
    txs: (b) => [
      b.spend(['s6.0'], [[1544n, O[0], V[3].id]], {
        name: 's7',
        register: [V[3], 'v3', '10.0.0.3:9000'],
      }),
    ],
    epochs: [9],
    table: T3,
    preview: 'written',
    registered: [V[3]],
  },
  {
    name: 'block 36, empty, at the snapshot of epoch 10: V3 alone',
    height: 36,
    txs: () => [],
    epochs: [10],
    table: TV3,
    preview: 'written',
  },
];

/** Every table the ledger should hold after `steps`, by epoch. */
export function expectedTables(steps: readonly Step[]): ValidatorSet[] {
  const out = [EPOCH0];
  for (const s of steps) for (const k of s.epochs) out[k] = s.table!;
  return out;
}

// --- chain ---------------------------------------------------------------------------------

export const decided = (round: number, txs: Uint8Array[]): DecidedBlock<NodeEvent> => ({
  round,
  leader: { hash: sha256(Uint8Array.of(0x4c, round & 0xff, round >> 8)) } as unknown as NodeEvent,
  events: [],
  transactions: txs,
  timestamp: 1_700_000_000_000 + 1000 * round,
  seed: new Uint8Array(32),
});

/** Runs `fn` with an opener of one classic-level database in a fresh temporary dir, removed afterwards. */
export async function withLevelDir(
  prefix: string,
  fn: (openDb: () => ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await fn(
      () =>
        new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), {
          keyEncoding: 'view',
          valueEncoding: 'view',
        }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
