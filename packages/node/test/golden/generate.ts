// Builds the golden chain's input: a fixed-seed DAG of signed events (keys,
// genesis, scripted transfers, block signatures), deterministic to the byte.
// The fixture (golden-chain.json) holds its output; golden.test.ts feeds the
// recorded events to a real posd and compares what it answers with what was
// recorded before a refactor. Regenerate only on purpose:
//
//   POS_GOLDEN_WRITE=1 npx uvu -r tsx test golden   (packages/node)
//
// Every random choice comes from one mulberry32 stream; every timestamp is a
// function of the event's index; Ed25519 signatures are deterministic
// (RFC 8032). The generator runs the node's own engine and chain in-process
// only to learn block hashes (which validators sign into later events) and
// which outputs are spendable; the test never trusts its view.
import { ed25519 } from '@noble/curves/ed25519.js';
import { createConsensus, type DecidedBlock } from '@pos/consensus';
import { PayloadKind, signEvent, type UnsignedEvent, type WireEvent } from '@pos/gossip';
import { createMemoryStore } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  encodeBlockSignature,
  encodeTx,
  epochOfRound,
  type Genesis,
  malformedTxHash,
  type Outpoint,
  type Output,
  signTx,
  type TxBody,
  txHashOf,
  validatorIdOf,
} from '@pos/protocol';
import { fill } from '@pos/test-utils/bytes';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { mulberry32 } from '@pos/test-utils/random';
import { openChain } from '../../src/chain/chain.js';
import {
  createValidatorIndex,
  type NodeEvent,
  nodeConsensusOpts,
  toConsensusEvent,
} from '../../src/pipeline/dag.js';
import { createStakeTables } from '../../src/pipeline/stake-tables.js';

export interface GoldenKey {
  readonly sk: Uint8Array;
  readonly pk: Uint8Array;
  readonly id: Uint8Array;
}

const keyOf = (seed: number): GoldenKey => {
  const sk = fill(32, seed);
  const pk = ed25519.getPublicKey(sk);
  return { sk, pk, id: validatorIdOf(pk) };
};

/** Genesis validators V0..V3 (they create every event), V4 registered by a transaction. */
export const VALIDATORS = [0x51, 0x52, 0x53, 0x54].map(keyOf);
export const LATE = keyOf(0x55);
/** Owners of the coins. */
export const OWNERS = [0x61, 0x62, 0x63, 0x64].map(keyOf);

const GENESIS_TIME = 1_750_000_000_000;

/** The golden genesis: stakes 400/300/200/100 (by host), lag 8, epoch 8, minStake 50. */
export function goldenGenesis(): Genesis {
  const outputs: Output[] = [];
  const hosts = [400n, 300n, 200n, 100n];
  hosts.forEach((total, v) => {
    // Four outputs per host, owned by the four owners in turn: transfers
    // have several coins to choose from.
    for (let j = 0; j < 4; j++) {
      outputs.push({ amount: total / 4n, owner: OWNERS[(v + j) % 4]!.pk, host: VALIDATORS[v]!.id });
    }
  });
  return createGenesis({
    chainName: 'golden',
    genesisTime: GENESIS_TIME,
    params: { minFee: 1n, lag: 8, epoch: 8, minStake: 50n, coinFrequency: 10 },
    validators: VALIDATORS.map((k, i) => ({
      pubkey: k.pk,
      name: `g${i}`,
      // Nobody listens there: the observer learns every event from the test's peer.
      p2p: `127.0.0.1:${9 + i}`,
    })),
    outputs,
  });
}

const signer = {
  sign: (sk: Uint8Array, m: Uint8Array) => ed25519.sign(m, sk),
  publicKey: (sk: Uint8Array) => ed25519.getPublicKey(sk),
};

interface Coin {
  outpoint: Outpoint;
  output: Output;
}

/** What the generator produced: the events in creation (topological) order, and what it expects. */
export interface GoldenDag {
  genesis: Genesis;
  events: WireEvent[];
  /** Hashes of the transactions created, in creation order (malformed bytes included). */
  txHashes: Uint8Array[];
  /** Block height → every genesis validator's signature over the generator's block hash. */
  signatures: Map<number, { validatorId: Uint8Array; signature: Uint8Array }[]>;
  /** The generator's own block hashes, by height. */
  blockHashes: Map<number, Uint8Array>;
}

/**
 * Creates `steps` events, creator by creator in turn; each names the latest
 * event of a random other creator as its other-parent. About one event in
 * three carries a transfer between owners; fixed steps carry a registration
 * (V4, with stake re-hosted to it), a double spend across two events, a
 * malformed transaction and a memo.
 */
export async function generateGoldenDag(steps = 400): Promise<GoldenDag> {
  const genesis = goldenGenesis();
  const chainId = chainIdOf(genesis, sha256);
  const params = genesis.params;
  const rnd = mulberry32(0x901de2);
  const chain = await openChain({
    genesis,
    hash: sha256,
    ledger: {
      store: createMemoryStore(),
      verify: (pk, m, s) => ed25519.verify(s, m, pk, { zip215: false }),
    },
    store: createMemoryStore(),
  });
  const index = createValidatorIndex(
    chainId,
    chain.ledger.registrations().map((r) => ({ publicKey: r.pubkey, validatorId: r.validatorId })),
  );
  // The node's own stake-table rule (pipeline/stake-tables.ts), with every
  // decided block applied before the next insert.
  const stakeTables = createStakeTables({
    params,
    ledger: chain.ledger,
    index,
    decidedRound: () => engine.lastDecidedRound,
    appliedHeight: () => chain.ledger.height ?? -1,
  });
  const engine = createConsensus<NodeEvent>({
    ...nodeConsensusOpts(index, () => true, sha256),
    coinFrequency: params.coinFrequency,
    stakeTable: (round) => stakeTables.stakeTable(round),
  });

  const out: GoldenDag = {
    genesis,
    events: [],
    txHashes: [],
    signatures: new Map(),
    blockHashes: new Map(),
  };
  const latest: (WireEvent | null)[] = VALIDATORS.map(() => null);
  const pending: Uint8Array[][] = VALIDATORS.map(() => []);
  /** Outpoints already spent by a transaction this generator made (committed or not yet). */
  const used = new Set<string>();
  const opKey = (o: Outpoint) => `${hex(o.txHash)}:${o.index}`;

  async function applyBlocks(blocks: readonly DecidedBlock<NodeEvent>[]) {
    for (const b of blocks) stakeTables.noteEmitted(b.round);
    for (const b of blocks) {
      const applied = await chain.applyDecided(b);
      for (const rc of applied.receipts) {
        if (rc.status === 'committed') continue;
        // A rejected transfer frees nothing it did not spend; its inputs stay
        // marked so that the script never retries them.
      }
      for (const r of applied.registered) index.add(r.pubkey, r.validatorId);
      for (const r of applied.registered) engine.addValidator(r.validatorId);
      const h = applied.header.height;
      out.blockHashes.set(h, applied.blockHash);
      const set = stakeTables.setOf(epochOfRound(h, params));
      const sigs: { validatorId: Uint8Array; signature: Uint8Array }[] = [];
      VALIDATORS.forEach((k, i) => {
        const member = set?.validators.some((v) => hex(v.publicKey) === hex(k.pk) && v.stake > 0n);
        if (!member) return;
        const signature = ed25519.sign(applied.blockHash, k.sk);
        sigs.push({ validatorId: k.id, signature });
        pending[i]!.push(
          encodeBlockSignature({ height: h, blockHash: applied.blockHash, signature }),
        );
      });
      out.signatures.set(h, sigs);
    }
  }

  async function coinsOf(owner: number): Promise<Coin[]> {
    const owned = await chain.ledger.getOutputs(OWNERS[owner]!.pk);
    return owned.filter((c) => !used.has(opKey(c.outpoint)));
  }

  /** The first owner from `preferred` on with a coin the script has not spent yet. */
  async function anyCoin(preferred: number): Promise<[number, Coin]> {
    for (let i = 0; i < OWNERS.length; i++) {
      const owner = (preferred + i) % OWNERS.length;
      const coins = await coinsOf(owner);
      if (coins.length > 0) return [owner, coins[0]!];
    }
    throw new Error('golden: no coin left to spend');
  }

  function transfer(
    from: number,
    coin: Coin,
    to: Uint8Array,
    host: Uint8Array,
    extra: Partial<TxBody> = {},
    signers: Uint8Array[] = [OWNERS[from]!.sk],
  ): Uint8Array {
    const amount = coin.output.amount;
    const pay = amount / 3n > 0n ? amount / 3n : 1n;
    const fee = 1n;
    const outputs: Output[] = [{ amount: pay, owner: to, host }];
    if (amount - pay - fee > 0n) {
      outputs.push({
        amount: amount - pay - fee,
        owner: coin.output.owner,
        host: coin.output.host,
      });
    }
    const body: TxBody = {
      chainId,
      inputs: [coin.outpoint],
      outputs,
      fee: amount - outputs.reduce((s, o) => s + o.amount, 0n),
      memo: new Uint8Array(0),
      ...extra,
    };
    used.add(opKey(coin.outpoint));
    out.txHashes.push(txHashOf(body, sha256));
    return encodeTx(signTx(body, signers, signer, sha256));
  }

  let skipped = 0;
  let doubleSpend: Uint8Array | null = null;
  async function txsFor(step: number): Promise<Uint8Array[]> {
    if (step === 30) {
      // V4 registers; its coins come later (step 40).
      const [from, coin] = await anyCoin(0);
      return [
        transfer(
          from,
          coin,
          OWNERS[from]!.pk,
          VALIDATORS[0]!.id,
          { register: { pubkey: LATE.pk, name: 'late', p2p: '127.0.0.1:13' } },
          [OWNERS[from]!.sk, LATE.sk],
        ),
      ];
    }
    if (step === 40 || step === 44) {
      // Stake re-hosted to V4 (enough to pass minStake at a later snapshot).
      const [owner, coin] = await anyCoin(step === 40 ? 1 : 2);
      used.add(opKey(coin.outpoint));
      const body: TxBody = {
        chainId,
        inputs: [coin.outpoint],
        outputs: [{ amount: coin.output.amount - 1n, owner: OWNERS[owner]!.pk, host: LATE.id }],
        fee: 1n,
        memo: new TextEncoder().encode(`re-host ${step}`),
      };
      out.txHashes.push(txHashOf(body, sha256));
      return [encodeTx(signTx(body, [OWNERS[owner]!.sk], signer, sha256))];
    }
    if (step === 60) {
      // A double spend: this transfer and a second one of the same coin (step 61).
      const [from, coin] = await anyCoin(3);
      const first = transfer(from, coin, OWNERS[1]!.pk, VALIDATORS[1]!.id);
      used.delete(opKey(coin.outpoint));
      doubleSpend = transfer(from, coin, OWNERS[2]!.pk, VALIDATORS[2]!.id, {
        memo: Uint8Array.of(1, 2, 3),
      });
      return [first];
    }
    if (step === 61 && doubleSpend !== null) return [doubleSpend];
    if (step === 75) {
      const garbage = fill(50, 0xee);
      out.txHashes.push(malformedTxHash(garbage, sha256)); // the ledger's id of undecodable bytes
      return [garbage];
    }
    if (step % 3 !== 0 || step > steps - 60) return [];
    const from = Math.floor(rnd() * OWNERS.length);
    const coins = await coinsOf(from);
    if (coins.length === 0) return [];
    const coin = coins[Math.floor(rnd() * coins.length)]!;
    const to = OWNERS[(from + 1 + Math.floor(rnd() * 3)) % 4]!.pk;
    const host = VALIDATORS[Math.floor(rnd() * VALIDATORS.length)]!.id;
    const memo =
      step === 90 ? new TextEncoder().encode('<script>golden</script>') : new Uint8Array(0);
    return [transfer(from, coin, to, host, { memo })];
  }

  for (let step = 0; step < steps; step++) {
    const c = step % VALIDATORS.length;
    const key = VALIDATORS[c]!;
    const self = latest[c]!;
    const others = latest.map((e, i) => ({ e, i })).filter((x) => x.i !== c && x.e !== null) as {
      e: WireEvent;
      i: number;
    }[];
    const other = others.length === 0 ? null : others[Math.floor(rnd() * others.length)]!.e;
    const unsigned: UnsignedEvent = {
      chainId,
      creator: key.pk,
      seq: self === null ? 0 : self.seq + 1,
      selfParent: self === null ? null : self.hash,
      otherParent:
        other === null ? null : { hash: other.hash, creator: other.creator, seq: other.seq },
      timestamp: GENESIS_TIME + 1000 + 250 * step,
      transactions: [],
      payloads: [],
    };
    // The round is a function of the parents: a probe without transactions
    // tells whether the engine takes an event of this creator there (it is
    // in that round's set, whose table is known), as the node's own-event
    // path does (runtime.ts createOwnEvent).
    try {
      engine.probe(
        toConsensusEvent(
          signEvent(unsigned, (m) => ed25519.sign(m, key.sk), sha256),
          index,
        ),
      );
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== 'NOT_A_VALIDATOR' && code !== 'TABLE_PENDING') throw e;
      skipped++;
      continue;
    }
    const txs = await txsFor(step);
    const payloads = pending[c]!.splice(0, 64).map((data) => ({
      kind: PayloadKind.BLOCK_SIGNATURE,
      data,
    }));
    const wire = signEvent(
      { ...unsigned, transactions: txs, payloads },
      (m) => ed25519.sign(m, key.sk),
      sha256,
    );
    const r = engine.insert(toConsensusEvent(wire, index));
    if (!r.inserted) throw new Error(`golden: event ${step} not inserted`);
    latest[c] = wire;
    out.events.push(wire);
    await applyBlocks(r.blocks);
  }
  if (skipped > steps / 4)
    throw new Error(`golden: ${skipped} of ${steps} events refused by the engine`);
  return out;
}
