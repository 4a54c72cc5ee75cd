// The ledger (docs/PROTOCOL.md 6.3) over the state trie (3): one
// case per receipt reason and the order the rules run in, double spends in
// one block and across blocks, multi-owner inputs, fees burned, supply and
// stake bookkeeping checked against a model on random transaction streams,
// identical roots from a memory store and a classic-level store, resuming
// from disk, completeness proofs, and every misuse error.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  type BatchOp,
  createLevelStore,
  createMemoryStore,
  type KVStore,
  type TrieEntry,
  verifyTrieCompleteness,
  verifyTrieRange,
} from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  decodeReceipt,
  decodeTx,
  encodeOutput,
  encodeReceipt,
  encodeTx,
  encodeTxBody,
  type Genesis,
  genesisStakes,
  malformedTxHash,
  type Outpoint,
  type Output,
  outputKey,
  type Receipt,
  type RejectReason,
  type SignedTx,
  signTx,
  type TxBody,
  type TxSigner,
  txHashOf,
  validatorIdOf,
} from '@pos/protocol';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLedger, type Ledger, LedgerError, type LedgerOpts } from '../src/chain/ledger.js';
import { historyEntry, type Role, rootOf, stateEntries } from './index-fixture.js';

// --- fixture --------------------------------------------------------------------------

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const signer: TxSigner = {
  sign: (sk, msg) => ed25519.sign(msg, sk),
  publicKey: (sk) => ed25519.getPublicKey(sk),
};
/** Strict RFC 8032 verification, as docs/PROTOCOL.md 2 asks, counting its calls. */
let verifyCalls = 0;
const verify: LedgerOpts['verify'] = (pk, msg, sig) => {
  verifyCalls++;
  return ed25519.verify(sig, msg, pk, { zip215: false });
};

const sks = [1, 2, 3, 4].map((i) => fill(32, i));
const pks = sks.map((sk) => ed25519.getPublicKey(sk));
const [pk0, pk1, pk2, pk3] = pks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
const [sk0, sk1, sk2] = sks as [Uint8Array, Uint8Array, Uint8Array];
const valA = fill(32, 0xa0);
const valB = fill(32, 0xb0);
const hA = validatorIdOf(valA);
const hB = validatorIdOf(valB);
const hX = fill(32, 0xee); // hosts outputs but is no genesis validator
const MIN_FEE = 2n;

const genesis: Genesis = createGenesis({
  chainName: 'ledger-test',
  genesisTime: 1_700_000_000_000,
  params: { minFee: MIN_FEE, lag: 4, epoch: 8 },
  validators: [
    { pubkey: valA, name: 'a', p2p: '127.0.0.1:1' },
    { pubkey: valB, name: 'b', p2p: '127.0.0.1:2' },
  ],
  outputs: [
    { amount: 1000n, owner: pk0, host: hA }, // g0
    { amount: 500n, owner: pk1, host: hB }, // g1
    { amount: 300n, owner: pk2, host: hA }, // g2
    { amount: 200n, owner: pk0, host: hX }, // g3
    { amount: 100n, owner: pk3, host: hB }, // g4
  ],
});
const SUPPLY = 2100n;
const chainId = chainIdOf(genesis);
const g = (index: number): Outpoint => ({ txHash: chainId, index });

const open = (extra: Partial<LedgerOpts> = {}) => createLedger({ genesis, verify, ...extra });

interface Built {
  bytes: Uint8Array;
  hash: Uint8Array;
  tx: SignedTx;
}

function build(
  inputs: Outpoint[],
  outputs: Output[],
  keys: Uint8Array[],
  opts: { fee?: bigint; chain?: Uint8Array; memo?: Uint8Array } = {},
): Built {
  const body: TxBody = {
    chainId: opts.chain ?? chainId,
    inputs,
    outputs,
    fee: opts.fee ?? MIN_FEE,
    memo: opts.memo ?? new Uint8Array(0),
  };
  const tx = signTx(body, keys, signer);
  return { bytes: encodeTx(tx), hash: txHashOf(body), tx };
}

const out = (amount: bigint, owner: Uint8Array, host = hA): Output => ({ amount, owner, host });

/** Applies and commits one block. */
async function block(l: Ledger, height: number, txs: Uint8Array[]) {
  const r = await l.applyBlock(height, txs);
  const c = await l.commit(height);
  assert.is(hex(c.stateRoot), hex(r.stateRoot));
  return r;
}

const status = (r: Receipt) => (r.status === 'committed' ? 'committed' : r.reason!);

async function throwsLedger(fn: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, LedgerError);
    assert.is((e as LedgerError).code, code, (e as Error).message);
    return;
  }
  assert.unreachable(`expected LedgerError ${code}`);
}

// --- genesis state ------------------------------------------------------------------------

test('genesis state: supply, stakes, outputs at {chainId, i}', async () => {
  const l = await open();
  assert.is(l.height, null);
  assert.is(hex(l.chainId), hex(chainId));
  assert.is(l.supply(), SUPPLY);
  assert.is(l.burned(), 0n);
  for (const s of genesisStakes(genesis)) assert.is(l.stakeOf(s.validatorId), s.stake);
  assert.is(l.stakeOf(hA), 1300n);
  assert.is(l.stakeOf(hB), 600n);
  assert.is(l.stakeOf(hX), 200n); // hosted, though hX is no validator
  assert.is(l.stakeOf(fill(32, 0x55)), 0n);
  assert.equal(
    l.stakes().map((s) => [hex(s.validatorId), s.stake]),
    [
      [hex(hA), 1300n],
      [hex(hB), 600n],
      [hex(hX), 200n],
    ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
  );
  const mine = await l.getOutputs(pk0);
  assert.equal(mine.map((o) => [o.outpoint.index, o.output.amount]).sort(), [
    [0, 1000n],
    [3, 200n],
  ]);
  for (const o of mine) assert.is(hex(o.outpoint.txHash), hex(chainId));
  assert.equal(await l.getOutput(g(1)), out(500n, pk1, hB));
  assert.is(await l.getOutput({ txHash: chainId, index: 5 }), undefined);
});

test('proveOutputs: the completeness proof verifies, and fails for a dropped or altered entry', async () => {
  const l = await open();
  const p = await l.proveOutputs(pk0);
  assert.is(hex(p.stateRoot), hex(l.stateRoot()));
  assert.is(hex(p.prefix), hex(sha256(pk0)));
  assert.is(p.entries.length, 2);
  assert.ok(verifyTrieCompleteness(p.stateRoot, p.prefix, p.entries, p.proof));
  assert.ok(verifyTrieCompleteness(p.stateRoot, p.prefix, p.entries, p.proof, { hash: sha256 }));
  p.outputs.forEach((o, i) => {
    assert.is(hex(p.entries[i]!.key), hex(outputKey(pk0, o.outpoint)));
    assert.is(hex(p.entries[i]!.value), hex(encodeOutput(o.output)));
  });
  assert.not.ok(verifyTrieCompleteness(p.stateRoot, p.prefix, p.entries.slice(1), p.proof));
  const altered = p.entries.map((e) => ({ key: e.key, value: e.value.slice() }));
  altered[0]!.value[7]! ^= 1;
  assert.not.ok(verifyTrieCompleteness(p.stateRoot, p.prefix, altered, p.proof));
  // Someone with nothing: an empty list, proven.
  const none = await l.proveOutputs(fill(32, 0x77));
  assert.equal(none.entries, []);
  assert.ok(verifyTrieCompleteness(none.stateRoot, none.prefix, [], none.proof));
  assert.not.ok(verifyTrieCompleteness(none.stateRoot, none.prefix, p.entries, none.proof));
});

// --- one case per receipt reason ---------------------------------------------------------

interface Case {
  name: string;
  txs: () => Uint8Array[];
  want: (RejectReason | 'committed')[];
  /** Verifications expected (0 where an earlier rule must stop the check). */
  verifies?: number;
  /**
   * The key history entries the block writes (docs/PROTOCOL.md 6.7): one per
   * (transaction, key), with the key's roles; a rejected transaction only
   * under the owners of the inputs found before it was refused.
   */
  history: [tx: number, key: Uint8Array, roles: Role[]][];
}

const pay = (keys = [sk0], fee = MIN_FEE) =>
  build([g(0)], [out(600n, pk1, hB), out(400n - fee, pk0)], keys, { fee });
const cases: Case[] = [
  {
    name: 'a valid spend is committed',
    txs: () => [pay().bytes],
    want: ['committed'],
    verifies: 1,
    history: [
      [0, pk0, ['input', 'output']],
      [0, pk1, ['output']],
    ],
  },
  {
    name: 'MALFORMED: bytes that do not decode',
    txs: () => [Uint8Array.of(1, 2, 3)],
    want: ['MALFORMED'],
    verifies: 0,
    history: [],
  },
  {
    name: 'MALFORMED: a valid tx with a trailing byte',
    txs: () => {
      const b = pay().bytes;
      const t = new Uint8Array(b.length + 1);
      t.set(b);
      return [t];
    },
    want: ['MALFORMED'],
    verifies: 0,
    history: [],
  },
  {
    name: 'WRONG_CHAIN',
    txs: () => [build([g(0)], [out(998n, pk1)], [sk0], { chain: fill(32, 9) }).bytes],
    want: ['WRONG_CHAIN'],
    verifies: 0,
    history: [],
  },
  {
    name: 'FEE_TOO_LOW (balanced, fee below minFee)',
    txs: () => [build([g(0)], [out(999n, pk1)], [sk0], { fee: 1n }).bytes],
    want: ['FEE_TOO_LOW'],
    verifies: 0,
    history: [],
  },
  {
    name: 'UNKNOWN_INPUT: an index past the genesis outputs',
    txs: () => [build([g(5)], [out(1n, pk1)], [sk0], { fee: 2n }).bytes],
    want: ['UNKNOWN_INPUT'],
    verifies: 0,
    history: [],
  },
  {
    name: 'UNKNOWN_INPUT: a transaction that never existed (after a good input)',
    txs: () => [build([g(0), { txHash: fill(32, 3), index: 0 }], [out(998n, pk1)], [sk0]).bytes],
    want: ['UNKNOWN_INPUT'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'INPUT_SPENT: the second of two spends in one block',
    txs: () => [pay().bytes, build([g(0)], [out(998n, pk2)], [sk0]).bytes],
    want: ['committed', 'INPUT_SPENT'],
    verifies: 1,
    history: [
      [0, pk0, ['input', 'output']],
      [0, pk1, ['output']],
    ],
  },
  {
    name: 'INPUT_SPENT: after a good input of another owner (that owner has the rejection)',
    txs: () => [pay().bytes, build([g(1), g(0)], [out(1498n, pk2)], [sk0, sk1]).bytes],
    want: ['committed', 'INPUT_SPENT'],
    verifies: 1,
    history: [
      [0, pk0, ['input', 'output']],
      [0, pk1, ['output']],
      [1, pk1, ['input']],
    ],
  },
  {
    name: 'UNBALANCED: outputs + fee below the inputs',
    txs: () => [build([g(0)], [out(997n, pk1)], [sk0]).bytes],
    want: ['UNBALANCED'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'UNBALANCED: outputs + fee above the inputs',
    txs: () => [build([g(0)], [out(999n, pk1)], [sk0]).bytes],
    want: ['UNBALANCED'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'UNBALANCED: outputs whose sum overflows a u64',
    txs: () => [
      build([g(0)], [out((1n << 64n) - 1n, pk1), out((1n << 64n) - 1n, pk1)], [sk0]).bytes,
    ],
    want: ['UNBALANCED'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'BAD_SIGNATURE: signed by someone else',
    txs: () => [pay([sk1]).bytes],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'BAD_SIGNATURE: an extra signature by a non-owner',
    // Two inputs of one owner, so that two signatures are encodable (nSig <= nIn).
    txs: () => [build([g(0), g(3)], [out(1198n, pk1)], [sk0, sk2]).bytes],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'MALFORMED: more signatures than inputs does not even decode',
    txs: () => {
      const a = pay([sk0]);
      const b = pay([sk2]);
      const sigs = [...a.tx.signatures, ...b.tx.signatures].sort((x, y) =>
        hex(x.publicKey) < hex(y.publicKey) ? -1 : 1,
      );
      const body = encodeTxBody(a.tx.body);
      const tail = new Uint8Array(2 + 96 * 2);
      tail[1] = 2;
      sigs.forEach((s, i) => {
        tail.set(s.publicKey, 2 + 96 * i);
        tail.set(s.signature, 2 + 96 * i + 32);
      });
      const bytes = new Uint8Array(body.length + tail.length);
      bytes.set(body);
      bytes.set(tail, body.length);
      return [bytes];
    },
    want: ['MALFORMED'],
    verifies: 0,
    history: [],
  },
  {
    name: 'BAD_SIGNATURE: the owner key, but an altered signature',
    txs: () => {
      const t = pay();
      const sig = t.tx.signatures[0]!.signature.slice();
      sig[5]! ^= 0x01;
      return [encodeTx({ body: t.tx.body, signatures: [{ publicKey: pk0, signature: sig }] })];
    },
    want: ['BAD_SIGNATURE'],
    verifies: 1,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'BAD_SIGNATURE: a valid signature of another transaction',
    txs: () => {
      const other = pay([sk0], 3n);
      const t = pay();
      return [encodeTx({ body: t.tx.body, signatures: other.tx.signatures })];
    },
    want: ['BAD_SIGNATURE'],
    verifies: 1,
    history: [[0, pk0, ['input']]],
  },
  {
    name: 'BAD_SIGNATURE: two owners, one signature',
    txs: () => [build([g(0), g(1)], [out(1498n, pk2)], [sk0]).bytes],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    history: [
      [0, pk0, ['input']],
      [0, pk1, ['input']],
    ],
  },
  {
    name: 'order: WRONG_CHAIN before FEE_TOO_LOW',
    txs: () => [build([g(0)], [out(999n, pk1)], [sk0], { chain: fill(32, 9), fee: 1n }).bytes],
    want: ['WRONG_CHAIN'],
    verifies: 0,
    history: [],
  },
  {
    name: 'order: FEE_TOO_LOW before UNKNOWN_INPUT',
    txs: () => [build([g(9)], [out(1n, pk1)], [sk0], { fee: 0n }).bytes],
    want: ['FEE_TOO_LOW'],
    verifies: 0,
    history: [],
  },
  {
    name: 'order: inputs in order, the first failing one decides (spent, then unknown)',
    txs: () => [pay().bytes, build([g(0), g(9)], [out(998n, pk1)], [sk0]).bytes],
    want: ['committed', 'INPUT_SPENT'],
    verifies: 1,
    history: [
      [0, pk0, ['input', 'output']],
      [0, pk1, ['output']],
    ],
  },
  {
    name: 'order: UNBALANCED before BAD_SIGNATURE (no signature is checked)',
    txs: () => [build([g(0)], [out(5n, pk1)], [sk1]).bytes],
    want: ['UNBALANCED'],
    verifies: 0,
    history: [[0, pk0, ['input']]],
  },
];

for (const c of cases) {
  test(`receipt: ${c.name}`, async () => {
    const store = createMemoryStore();
    const l = await open({ store });
    // The first block writes epoch 1's validator table (its snapshot round is
    // 0), whatever it holds: an empty one first, so that the block under test
    // writes nothing but what its transactions do (epoch 2's snapshot is 8).
    assert.equal((await block(l, 0, [])).epochs, [1]);
    const before = l.stateRoot();
    const txs = c.txs();
    verifyCalls = 0;
    const { receipts, stateRoot, epochs } = await block(l, 1, txs);
    assert.equal(epochs, []);
    if (c.verifies !== undefined) assert.is(verifyCalls, c.verifies, 'verify calls');
    assert.equal(receipts.map(status), c.want);
    receipts.forEach((r, i) => {
      assert.is(r.height, 1);
      assert.is(r.index, i);
      assert.equal(decodeReceipt(encodeReceipt(r)), r);
      const id =
        r.reason === 'MALFORMED' ? malformedTxHash(txs[i]!) : txHashOf(decodeTx(txs[i]!).body);
      assert.is(hex(r.txHash), hex(id));
    });
    assert.is(l.supply(), SUPPLY);
    // The key history (docs/PROTOCOL.md 6.7): each key's entries are exactly
    // the expected ones, with the receipt's status, reason and txHash, proven
    // complete under the new root; keys the block did not touch have none.
    const written: TrieEntry[] = [];
    for (const pk of [...pks, valA, hX]) {
      const want = c.history
        .filter(([, k]) => hex(k) === hex(pk))
        .map(([i, , roles]) => {
          const r = receipts[i]!;
          const entry = historyEntry(pk, 1, i, roles, r);
          written.push(entry);
          return [hex(entry.key), hex(entry.value)];
        });
      const p = await l.proveHistory(pk);
      assert.is(hex(p.stateRoot), hex(stateRoot));
      assert.equal(
        p.entries.map((e) => [hex(e.key), hex(e.value)]),
        want,
      );
      assert.ok(verifyTrieRange(p.stateRoot, p.lo, p.hi, p.entries, p.proof));
    }
    const committed = receipts.filter((r) => r.status === 'committed').length;
    if (committed === 0) {
      // A block of rejections changes nothing but those history entries: its
      // state is the state before it plus exactly them (none for a
      // transaction refused before any input was found).
      const after = [...(await stateEntries(store, before)), ...written];
      assert.is(hex(await rootOf(after)), hex(stateRoot));
      assert.is(hex(stateRoot) === hex(before), written.length === 0);
    } else {
      assert.is.not(hex(stateRoot), hex(before));
    }
  });
}

// --- double spends, chains, owners ----------------------------------------------------------

test('double spend across blocks: the later one is INPUT_SPENT, and a replay too', async () => {
  const l = await open();
  const a = pay();
  const b = build([g(0)], [out(998n, pk2)], [sk0]);
  assert.equal((await block(l, 0, [a.bytes])).receipts.map(status), ['committed']);
  const r = await block(l, 3, [b.bytes, a.bytes]);
  assert.equal(r.receipts.map(status), ['INPUT_SPENT', 'INPUT_SPENT']);
  assert.is(l.height, 3);
  assert.equal((await l.getOutputs(pk1)).map((o) => o.output.amount).sort(), [500n, 600n]);
  assert.equal(await l.getOutputs(pk2).then((os) => os.map((o) => o.output.amount)), [300n]);
});

test('a block may spend what an earlier tx of the same block created, not the reverse', async () => {
  const l = await open();
  const a = build([g(1)], [out(498n, pk2, hB)], [sk1]);
  const b = build([{ txHash: a.hash, index: 0 }], [out(496n, pk3, hX)], [sk2]);
  assert.equal((await block(l, 0, [b.bytes, a.bytes, b.bytes])).receipts.map(status), [
    'UNKNOWN_INPUT',
    'committed',
    'committed',
  ]);
  assert.equal((await l.getOutputs(pk3)).map((o) => o.output.amount).sort(), [100n, 496n]);
  assert.is(l.stakeOf(hB), 100n);
  assert.is(l.stakeOf(hX), 696n);
  assert.is(l.burned(), 4n);
  assert.is(l.supply(), SUPPLY);
  // The intermediate output is gone, its outpoint spent.
  assert.is(await l.getOutput({ txHash: a.hash, index: 0 }), undefined);
  assert.equal(await l.getOutput({ txHash: b.hash, index: 0 }), out(496n, pk3, hX));
});

test('multi-owner inputs need every owner, once each; one owner with two inputs signs once', async () => {
  const l = await open();
  const inputs = [g(0), g(1), g(3)]; // owners pk0, pk1, pk0
  const outs = [out(1698n, pk2, hB)];
  const only0 = build(inputs, outs, [sk0]);
  const only1 = build(inputs, outs, [sk1]);
  const both = build(inputs, outs, [sk1, sk0]);
  verifyCalls = 0;
  const r = await block(l, 0, [only0.bytes, only1.bytes, both.bytes]);
  assert.equal(r.receipts.map(status), ['BAD_SIGNATURE', 'BAD_SIGNATURE', 'committed']);
  assert.is(verifyCalls, 2);
  assert.equal(await l.getOutputs(pk0), []);
  assert.equal(await l.getOutputs(pk1), []);
  assert.is(l.stakeOf(hA), 300n);
  assert.is(l.stakeOf(hB), 1798n);
  assert.is(l.stakeOf(hX), 0n);
  assert.equal(
    l.stakes().map((s) => hex(s.validatorId)),
    [hex(hA), hex(hB)].sort(),
  );
});

test('fees are burned: supply = unspent + burned, stakes move with their outputs', async () => {
  const l = await open();
  await block(l, 0, [pay([sk0], 50n).bytes]);
  assert.is(l.burned(), 50n);
  assert.is(l.unspent(), SUPPLY - 50n);
  assert.is(l.supply(), SUPPLY);
  assert.is(l.stakeOf(hA), 1300n - 1000n + 350n);
  assert.is(l.stakeOf(hB), 600n + 600n);
});

// --- checkTx -----------------------------------------------------------------------------------

test('checkTx answers from the latest committed state, including while a block is pending', async () => {
  const l = await open();
  const a = pay();
  const b = build([g(0)], [out(998n, pk2)], [sk0]);
  const ok = await l.checkTx(a.bytes);
  assert.ok(ok.ok);
  if (ok.ok) assert.equal(ok.tx, a.tx);
  assert.is(hex(ok.txHash), hex(a.hash));
  const rootBefore = l.stateRoot();
  // Applied but not committed: b still spends an unspent output as far as checkTx knows.
  await l.applyBlock(0, [a.bytes]);
  assert.ok((await l.checkTx(b.bytes)).ok);
  assert.is(hex(l.stateRoot()), hex(rootBefore));
  assert.is(l.height, null);
  assert.is(l.supply(), SUPPLY);
  assert.is(l.burned(), 0n);
  assert.equal(await l.getOutput(g(0)), out(1000n, pk0));
  await l.commit(0);
  assert.equal(await l.checkTx(b.bytes), { ok: false, txHash: b.hash, reason: 'INPUT_SPENT' });
  assert.equal(await l.checkTx(Uint8Array.of(0)), {
    ok: false,
    txHash: malformedTxHash(Uint8Array.of(0)),
    reason: 'MALFORMED',
  });
  assert.is(await l.getOutput(g(0)), undefined);
});

test('checkTx during a running applyBlock reads the committed state', async () => {
  const l = await open();
  const a = pay();
  const b = build([g(0)], [out(998n, pk2)], [sk0]);
  const applying = l.applyBlock(0, [a.bytes]);
  const during = l.checkTx(b.bytes);
  await throwsLedger(() => l.applyBlock(1, []), 'BUSY');
  assert.ok((await during).ok);
  await applying;
  await l.commit(0);
  assert.not.ok((await l.checkTx(b.bytes)).ok);
});

test('a long block is applied in slices: the event loop runs in between, results unchanged', async () => {
  // Ten chained transfers at ~1.5 ms of (noble) verification each: longer
  // than one slice, so other callbacks get turns before the block is done.
  const txs: Uint8Array[] = [];
  let prev: Outpoint = g(0);
  let amount = 1000n;
  for (let i = 0; i < 10; i++) {
    amount -= MIN_FEE;
    const t = build([prev], [out(amount, pk0)], [sk0]);
    txs.push(t.bytes);
    prev = { txHash: t.hash, index: 0 };
  }
  const sliced = await open();
  let turns = 0;
  let done = false;
  const tick = (): void => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const r = await sliced.applyBlock(0, txs);
  done = true;
  assert.ok(turns > 1, `the loop turned ${turns} times during the block`);
  assert.equal(r.receipts.map(status), Array(10).fill('committed'));
  // The same block on a fresh ledger gives the same root (slicing changes no result).
  const again = await block(await open(), 0, txs);
  assert.is(hex(r.stateRoot), hex(again.stateRoot));
});

test('a query already running when applyBlock starts never sees half the block', async () => {
  for (const store of [createMemoryStore(), undefined]) {
    const l = await open(store ? { store, maxCachedDepth: 0 } : {});
    // b spends g1, then g0; the block spends g0 (and more) while b is being checked.
    const b = build([g(1), g(3), g(0)], [out(1698n, pk2)], [sk0, sk1]);
    const checking = l.checkTx(b.bytes);
    const listing = l.getOutputs(pk0);
    const applying = l.applyBlock(0, [pay().bytes, build([g(3)], [out(198n, pk1)], [sk0]).bytes]);
    assert.equal(await checking, { ok: true, txHash: b.hash, tx: b.tx });
    assert.equal((await listing).map((o) => o.output.amount).sort(), [1000n, 200n]);
    await applying;
    await l.commit(0);
    assert.equal(await l.checkTx(b.bytes), { ok: false, txHash: b.hash, reason: 'INPUT_SPENT' });
  }
});

// --- misuse ---------------------------------------------------------------------------------------

test('misuse: typed LedgerError codes, state unchanged', async () => {
  const l = await open();
  await throwsLedger(() => l.commit(0), 'NO_PENDING_BLOCK');
  await throwsLedger(() => l.applyBlock(-1, []), 'BAD_HEIGHT');
  await throwsLedger(() => l.applyBlock(1.5, []), 'BAD_HEIGHT');
  await throwsLedger(() => l.applyBlock(0, ['00' as unknown as Uint8Array]), 'BAD_ARGUMENT');
  await l.applyBlock(5, []);
  await throwsLedger(() => l.applyBlock(6, []), 'PENDING_BLOCK');
  await throwsLedger(() => l.commit(4), 'BAD_HEIGHT');
  await l.commit(5);
  await throwsLedger(() => l.applyBlock(5, []), 'BAD_HEIGHT');
  await throwsLedger(() => l.applyBlock(2, []), 'BAD_HEIGHT');
  await throwsLedger(() => l.stateRootAt(3), 'BAD_HEIGHT'); // no block at 3
  await throwsLedger(() => l.stateRootAt(6), 'BAD_HEIGHT'); // not committed yet
  await throwsLedger(() => l.getOutputs(new Uint8Array(31)), 'BAD_ARGUMENT');
  await throwsLedger(() => l.getOutput({ txHash: chainId, index: -1 }), 'BAD_ARGUMENT');
  await throwsLedger(async () => l.stakeOf(new Uint8Array(3)), 'BAD_ARGUMENT');
  await throwsLedger(async () => l.registration(new Uint8Array(31)), 'BAD_ARGUMENT');
  await throwsLedger(() => l.proveEpochTable(2), 'BAD_ARGUMENT'); // block 5 wrote epoch 1 only
  await throwsLedger(() => createLedger({ genesis, verify, keepVersions: 1 }), 'BAD_ARGUMENT');
  await throwsLedger(() => createLedger({ genesis } as unknown as LedgerOpts), 'BAD_ARGUMENT');
  assert.is(l.height, 5);
  assert.is(hex(await l.stateRootAt(5)), hex(l.stateRoot()));
});

test('old heights: proofs against a kept earlier root', async () => {
  const l = await open();
  const genesisRoot = l.stateRoot();
  await block(l, 0, [pay().bytes]);
  await block(l, 2, [build([g(2)], [out(298n, pk0)], [sk2]).bytes]);
  assert.is(hex(await l.stateRootAt(null)), hex(genesisRoot));
  for (const height of [null, 0, 2] as const) {
    const p = await l.proveOutputs(pk0, { height });
    assert.is(p.height, height);
    assert.is(hex(p.stateRoot), hex(await l.stateRootAt(height)));
    assert.ok(verifyTrieCompleteness(p.stateRoot, p.prefix, p.entries, p.proof));
  }
  assert.equal((await l.getOutputs(pk0, { height: null })).map((o) => o.output.amount).sort(), [
    1000n,
    200n,
  ]);
  assert.equal((await l.getOutputs(pk0)).map((o) => o.output.amount).sort(), [200n, 298n, 398n]);
  await throwsLedger(() => l.getOutputs(pk0, { height: 1 }), 'BAD_HEIGHT');
});

test('a store failure during commit leaves the ledger FAILED; reopening resumes the last commit', async () => {
  const mem = createMemoryStore();
  let failNext = false;
  const store: KVStore = {
    get: (k) => mem.get(k),
    entries: (r) => mem.entries(r),
    batch: async (ops: readonly BatchOp[]) => {
      if (failNext) throw new Error('disk full');
      return mem.batch(ops);
    },
  };
  const l = await open({ store });
  await block(l, 0, [pay().bytes]);
  const root0 = l.stateRoot();
  await l.applyBlock(1, [build([g(1)], [out(498n, pk2)], [sk1]).bytes]);
  failNext = true;
  try {
    await l.commit(1);
    assert.unreachable('commit should fail');
  } catch (e) {
    assert.is((e as Error).message, 'disk full');
  }
  failNext = false;
  await throwsLedger(() => l.applyBlock(2, []), 'FAILED');
  await throwsLedger(() => l.checkTx(pay().bytes), 'FAILED');
  const again = await open({ store });
  assert.is(again.height, 0);
  assert.is(hex(again.stateRoot()), hex(root0));
  assert.is(again.supply(), SUPPLY);
  assert.equal(
    (await block(again, 1, [build([g(1)], [out(498n, pk2)], [sk1]).bytes])).receipts.map(status),
    ['committed'],
  );
});

// --- random streams against a model ------------------------------------------------------------

/** What the test knows about an output, independently of the ledger. */
interface ModelOut {
  outpoint: Outpoint;
  output: Output;
  spent: boolean;
}

class Model {
  readonly all: ModelOut[] = [];
  private readonly byKey = new Map<string, ModelOut>();
  burned = 0n;
  constructor() {
    genesis.outputs.forEach((o, i) => {
      this.add(g(i), o);
    });
  }
  private add(outpoint: Outpoint, output: Output) {
    const m = { outpoint, output, spent: false };
    this.all.push(m);
    this.byKey.set(`${hex(outpoint.txHash)}:${outpoint.index}`, m);
  }
  find(p: Outpoint) {
    return this.byKey.get(`${hex(p.txHash)}:${p.index}`);
  }
  /** The rules of docs/PROTOCOL.md 6.3 in the documented order, written again from the spec. */
  judge(t: Intent): RejectReason | 'committed' {
    if (t.built === null) return 'MALFORMED';
    const { body } = t.built.tx;
    if (hex(body.chainId) !== hex(chainId)) return 'WRONG_CHAIN';
    if (body.fee < MIN_FEE) return 'FEE_TOO_LOW';
    const ins: ModelOut[] = [];
    for (const p of body.inputs) {
      const m = this.find(p);
      if (m === undefined) return 'UNKNOWN_INPUT';
      if (m.spent) return 'INPUT_SPENT';
      ins.push(m);
    }
    const sumIn = ins.reduce((s, m) => s + m.output.amount, 0n);
    const sumOut = body.outputs.reduce((s, o) => s + o.amount, 0n);
    if (sumIn !== sumOut + body.fee) return 'UNBALANCED';
    const owners = new Set(ins.map((m) => hex(m.output.owner)));
    const signers = new Set(t.built.tx.signatures.map((s) => hex(s.publicKey)));
    if (owners.size !== signers.size || [...owners].some((o) => !signers.has(o))) {
      return 'BAD_SIGNATURE';
    }
    if (t.corrupt) return 'BAD_SIGNATURE';
    for (const m of ins) m.spent = true;
    body.outputs.forEach((o, index) => {
      this.add({ txHash: t.built!.hash, index }, o);
    });
    this.burned += body.fee;
    return 'committed';
  }
  unspent() {
    return this.all.filter((m) => !m.spent);
  }
}

interface Intent {
  bytes: Uint8Array;
  built: Built | null;
  corrupt: boolean;
}

/** Random choices, turned into a transaction against the model's current state. */
const arbChoice = fc.record({
  kind: fc.nat(99),
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  owners: fc.array(fc.nat(3), { minLength: 1, maxLength: 3 }),
  hosts: fc.array(fc.nat(2), { minLength: 1, maxLength: 3 }),
  split: fc.nat(),
});
type Choice = typeof arbChoice extends fc.Arbitrary<infer T> ? T : never;
const arbBlocks = fc.array(fc.array(arbChoice, { maxLength: 6 }), { minLength: 1, maxLength: 5 });

function intentOf(m: Model, c: Choice): Intent {
  const k = c.kind;
  if (k < 4) return { bytes: Uint8Array.of(k, 1, 2), built: null, corrupt: false };
  // Mostly outputs still unspent (so most transactions can commit), some spent ones.
  const pool = k < 80 ? m.unspent() : m.all;
  const chosen = new Map<string, ModelOut>();
  for (const p of c.picks) {
    const x = pool[p % pool.length];
    if (x) chosen.set(`${hex(x.outpoint.txHash)}:${x.outpoint.index}`, x);
  }
  const inputs = [...chosen.values()].map((x) => x.outpoint);
  if (k >= 95 || inputs.length === 0) inputs.push({ txHash: fill(32, k), index: c.split % 3 });
  const sumIn = [...chosen.values()].reduce((s, x) => s + x.output.amount, 0n);
  const fee = k >= 90 && k < 93 ? MIN_FEE - 1n : MIN_FEE + BigInt(c.split % 3);
  let rest = sumIn - fee;
  if (k >= 85 && k < 90) rest += 1n; // unbalanced
  const hosts = [hA, hB, hX];
  const outputs: Output[] = [];
  const n = Math.min(c.owners.length, Number(rest > 0n ? rest : 1n));
  for (let i = 0; i < n; i++) {
    const amount = i < n - 1 ? 1n + (BigInt(c.split) % (rest / BigInt(n))) : 0n;
    outputs.push({ amount, owner: pks[c.owners[i]!]!, host: hosts[c.hosts[i % c.hosts.length]!]! });
  }
  const used = outputs.slice(0, -1).reduce((s, o) => s + o.amount, 0n);
  const last = rest - used;
  outputs[outputs.length - 1] = { ...outputs[outputs.length - 1]!, amount: last > 0n ? last : 1n };
  // Signers: the owners, except sometimes one too few or one too many.
  const ownerKeys = new Set(
    [...chosen.values()].map((x) => pks.findIndex((p) => hex(p) === hex(x.output.owner))),
  );
  if (k >= 75 && k < 78 && ownerKeys.size > 1) ownerKeys.delete([...ownerKeys][0]!);
  if (k >= 78 && k < 80 && ownerKeys.size < inputs.length) ownerKeys.add(c.owners[0]!);
  if (ownerKeys.size === 0) ownerKeys.add(0);
  const chain = k >= 93 && k < 95 ? fill(32, 1) : chainId;
  const built = build(
    inputs,
    outputs,
    [...ownerKeys].map((i) => sks[i]!),
    { fee, chain },
  );
  let bytes = built.bytes;
  const corrupt = k >= 70 && k < 72;
  if (corrupt) {
    const tx = built.tx;
    const s0 = tx.signatures[0]!;
    const sig = s0.signature.slice();
    sig[40]! ^= 0x10;
    bytes = encodeTx({
      body: tx.body,
      signatures: [{ ...s0, signature: sig }, ...tx.signatures.slice(1)],
    });
  }
  return { bytes, built, corrupt };
}

test('property: random streams agree with the model; supply conserved; no double spend; stakes = hosted unspent', async () => {
  let committedTotal = 0;
  const reasons = new Set<string>();
  await fc.assert(
    fc.asyncProperty(arbBlocks, async (blocks) => {
      const l = await open();
      const twin = await open({ hash: sha256 }); // node:crypto SHA-256: same roots
      const m = new Model();
      const consumed = new Set<string>();
      let height = 0;
      for (const choices of blocks) {
        height += 1 + (choices.length % 2); // heights skip, as empty rounds do
        const intents: Intent[] = [];
        const want: string[] = [];
        for (const c of choices) {
          const t = intentOf(m, c);
          intents.push(t);
          want.push(m.judge(t));
        }
        const txs = intents.map((t) => t.bytes);
        const r = await block(l, height, txs);
        const r2 = await block(twin, height, txs);
        assert.is(hex(r2.stateRoot), hex(r.stateRoot));
        assert.equal(r.receipts.map(status), want);
        for (const w of want) reasons.add(w);
        r.receipts.forEach((rc, i) => {
          if (rc.status !== 'committed') return;
          committedTotal++;
          for (const p of decodeTx(txs[i]!).body.inputs) {
            const key = `${hex(p.txHash)}:${p.index}`;
            assert.not.ok(consumed.has(key), 'an output spent twice');
            consumed.add(key);
          }
        });
        assert.is(l.supply(), SUPPLY);
        assert.is(l.burned(), m.burned);
        const unspent = m.unspent();
        assert.is(
          l.unspent(),
          unspent.reduce((s, x) => s + x.output.amount, 0n),
        );
        const byHost = new Map<string, bigint>();
        for (const x of unspent) {
          byHost.set(hex(x.output.host), (byHost.get(hex(x.output.host)) ?? 0n) + x.output.amount);
        }
        for (const h of [hA, hB, hX]) assert.is(l.stakeOf(h), byHost.get(hex(h)) ?? 0n);
        assert.equal(
          l.stakes().map((s) => [hex(s.validatorId), s.stake]),
          [...byHost.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
        );
        for (const pk of pks) {
          const got = (await l.getOutputs(pk)).map(
            (o) => `${hex(o.outpoint.txHash)}:${o.outpoint.index}`,
          );
          const exp = unspent
            .filter((x) => hex(x.output.owner) === hex(pk))
            .map((x) => `${hex(x.outpoint.txHash)}:${x.outpoint.index}`);
          assert.equal(got.sort(), exp.sort());
        }
      }
    }),
    // A fixed seed: the coverage assertion below must not depend on chance
    // (unseeded, about one run in a few hundred drew no UNBALANCED reaching
    // its check, a fresh-clone CI failure). PROPERTY_SEED overrides it to
    // explore other streams.
    { numRuns: 40, seed: Number(process.env.PROPERTY_SEED ?? 20261122) },
  );
  // The streams exercised every outcome, so the property said something about each.
  assert.ok(committedTotal > 50, `${committedTotal} committed`);
  assert.equal([...reasons].sort(), [
    'BAD_SIGNATURE',
    'FEE_TOO_LOW',
    'INPUT_SPENT',
    'MALFORMED',
    'UNBALANCED',
    'UNKNOWN_INPUT',
    'WRONG_CHAIN',
    'committed',
  ]);
});

// --- storage -------------------------------------------------------------------------------------

test('memory and classic-level stores give identical roots; the level ledger resumes from disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pos-ledger-'));
  try {
    const openDb = () =>
      new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
    let db = openDb();
    const mem = await open();
    let disk = await open({ store: createLevelStore(db), maxCachedDepth: 4 });
    assert.is(hex(disk.stateRoot()), hex(mem.stateRoot()));
    const [blocks] = fc.sample(arbBlocks, { seed: 42, numRuns: 1 });
    const m = new Model();
    let height = 0;
    let committed = 0;
    for (const choices of blocks!) {
      const txs = choices.map((c) => {
        const t = intentOf(m, c);
        m.judge(t);
        return t.bytes;
      });
      height += 2;
      const a = await block(mem, height, txs);
      const b = await block(disk, height, txs);
      assert.is(hex(b.stateRoot), hex(a.stateRoot));
      assert.equal(b.receipts, a.receipts);
      committed += a.receipts.filter((r) => r.status === 'committed').length;
    }
    assert.ok(committed > 0);
    // Close, reopen: same height, root, totals, outputs; and it keeps going.
    await db.close();
    db = openDb();
    disk = await open({ store: createLevelStore(db) });
    assert.is(disk.height, mem.height);
    assert.is(hex(disk.stateRoot()), hex(mem.stateRoot()));
    assert.is(disk.supply(), SUPPLY);
    assert.is(disk.burned(), mem.burned());
    assert.equal(disk.stakes(), mem.stakes());
    for (const pk of pks) assert.equal(await disk.getOutputs(pk), await mem.getOutputs(pk));
    const p = await disk.proveOutputs(pk0);
    assert.ok(verifyTrieCompleteness(p.stateRoot, p.prefix, p.entries, p.proof));
    const next = (await mem.getOutputs(pk0))[0];
    const extra = next
      ? [build([next.outpoint], [out(next.output.amount - MIN_FEE, pk3)], [sk0]).bytes]
      : [];
    const a = await block(mem, height + 1, extra);
    const b = await block(disk, height + 1, extra);
    assert.is(hex(b.stateRoot), hex(a.stateRoot));
    // The same store under another genesis is refused.
    const other = createGenesis({ ...genesis, chainName: 'another chain' });
    await throwsLedger(
      () => createLedger({ genesis: other, verify, store: createLevelStore(db) }),
      'CHAIN_MISMATCH',
    );
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
