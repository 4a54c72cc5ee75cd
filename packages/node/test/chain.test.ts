// The chain (docs/PROTOCOL.md 4, 5.6, 6.3, 7, 9.2): headers linked by prevBlockHash over rounds with gaps, roots equal to
// the ledger's and to an independently built log, receipts proven against
// the header's historyRoot/historySize, a double spend in one block, two
// chains (memory/noble vs classic-level/node:crypto) agreeing byte for byte,
// crashes between the three batches of a block recovered on reopen, header
// validator-set hashes across an epoch change with the tables' recorded
// proofs (more in epochs-chain.test.ts), and misuse refused before any write.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { DecidedBlock } from '@pos/consensus';
import {
  type BatchOp,
  createHistoryLog,
  createLevelStore,
  createMemoryStore,
  createStateTrie,
  type KVStore,
  sha256Noble,
  verifyLogInclusion,
  verifyTrieInclusion,
} from '@pos/merkle';
import {
  blockHashOf,
  chainIdOf,
  createGenesis,
  encodeReceipt,
  encodeTx,
  epochOfRound,
  epochTableKey,
  type Genesis,
  makeValidatorSet,
  type Outpoint,
  type Output,
  type Receipt,
  signTx,
  type TxSigner,
  txHashOf,
  type ValidatorSet,
  validatorIdOf,
  validatorSetHash,
} from '@pos/protocol';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Chain, ChainError, type ChainOpts, openChain } from '../src/chain/chain.js';
import type { LedgerOpts } from '../src/chain/ledger.js';
import type { NodeEvent } from '../src/pipeline/dag.js';
import { crashing } from './crash-store.js';

// --- fixture --------------------------------------------------------------------------

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const signer: TxSigner = {
  sign: (sk, msg) => ed25519.sign(msg, sk),
  publicKey: (sk) => ed25519.getPublicKey(sk),
};
const verify: LedgerOpts['verify'] = (pk, msg, sig) =>
  ed25519.verify(sig, msg, pk, { zip215: false });

const sks = [1, 2, 3].map((i) => fill(32, i));
const [pk0, pk1, pk2] = sks.map((sk) => ed25519.getPublicKey(sk)) as [
  Uint8Array,
  Uint8Array,
  Uint8Array,
];
const [sk0, sk1] = sks as [Uint8Array, Uint8Array];
const valA = fill(32, 0xa0);
const valB = fill(32, 0xb0);
const hA = validatorIdOf(valA);
const MIN_FEE = 2n;

function makeGenesis(name: string): Genesis {
  return createGenesis({
    chainName: name,
    genesisTime: 1_700_000_000_000,
    params: { minFee: MIN_FEE, lag: 4, epoch: 8 },
    validators: [
      { pubkey: valA, name: 'a', p2p: '127.0.0.1:1' },
      { pubkey: valB, name: 'b', p2p: '127.0.0.1:2' },
    ],
    outputs: [
      { amount: 1000n, owner: pk0, host: hA },
      { amount: 500n, owner: pk1, host: hA },
      { amount: 300n, owner: pk2, host: hA },
    ],
  });
}
const genesis = makeGenesis('chain-test');
const chainId = chainIdOf(genesis);
const g = (index: number): Outpoint => ({ txHash: chainId, index });
const out = (amount: bigint, owner: Uint8Array): Output => ({ amount, owner, host: hA });

function tx(inputs: Outpoint[], outputs: Output[], keys: Uint8Array[]) {
  const body = { chainId, inputs, outputs, fee: MIN_FEE, memo: new Uint8Array(0) };
  return { bytes: encodeTx(signTx(body, keys, signer)), hash: txHashOf(body) };
}

/**
 * The set that signs `round` (docs/PROTOCOL.md 6.5, LAG 4): epoch 0, the genesis set
 * with valB's zero stake, for rounds 0..3; epoch 1 (the state after round 0:
 * no block there, so the genesis state) from round 4 on, valB left out for
 * want of stake. Header h commits to the set of h + 1, so the headers below
 * cross the change.
 */
const validatorSet = (round: number): ValidatorSet =>
  round < 4
    ? makeValidatorSet([
        { publicKey: valA, stake: 1800n },
        { publicKey: valB, stake: 0n },
      ])
    : makeValidatorSet([{ publicKey: valA, stake: 1800n }]);

const decided = (round: number, txs: Uint8Array[]): DecidedBlock<NodeEvent> => ({
  round,
  leader: { hash: sha256(Uint8Array.of(0x4c, round)) } as unknown as NodeEvent,
  events: [],
  transactions: txs,
  timestamp: 1_700_000_000_000 + 1000 * round,
  seed: new Uint8Array(32),
});

// a spends g0; b double-spends g0 in the same block.
const a = tx([g(0)], [out(600n, pk1), out(398n, pk0)], [sk0]);
const b = tx([g(0)], [out(998n, pk2)], [sk0]);
// c spends a's first output; a is replayed (INPUT_SPENT, same txHash as a committed one).
const c = tx([{ txHash: a.hash, index: 0 }], [out(598n, pk2)], [sk1]);
const d = tx([g(1)], [out(498n, pk0)], [sk1]);
/** Rounds 2, 5, 6, 9: rounds 0, 1, 3, 4, 7, 8 decided no block. */
const BLOCKS = [
  decided(2, [a.bytes, b.bytes]),
  decided(5, [c.bytes, a.bytes]),
  decided(6, []),
  decided(9, [d.bytes, b.bytes]),
];
const STATUS = [
  ['committed', 'INPUT_SPENT'],
  ['committed', 'INPUT_SPENT'],
  [],
  ['committed', 'INPUT_SPENT'],
];

const memOpts = (): ChainOpts => ({
  genesis,
  ledger: { store: createMemoryStore(), verify },
  store: createMemoryStore(),
});

const status = (r: Receipt) => (r.status === 'committed' ? 'committed' : r.reason!);

async function throwsChain(fn: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, ChainError, (e as Error).message);
    assert.is((e as ChainError).code, code, (e as Error).message);
    return;
  }
  assert.unreachable(`expected ChainError ${code}`);
}

async function withDb(fn: (openDb: () => ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'pos-chain-'));
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

const levelOpts = (db: ClassicLevel<Uint8Array, Uint8Array>, wrap = (s: KVStore) => s) => ({
  ledgerStore: wrap(createLevelStore(db, { prefix: Uint8Array.of(1) })),
  chainStore: createLevelStore(db, { prefix: Uint8Array.of(2) }),
});

// --- headers, roots, receipts ---------------------------------------------------------

test('headers: heights are rounds with gaps, linked by prevBlockHash, roots equal the ledger and an independent log', async () => {
  const chain = await openChain(memOpts());
  assert.is(chain.latest(), null);
  const ref = await createHistoryLog({ hash: sha256Noble });
  const applied = [];
  for (const [i, blk] of BLOCKS.entries()) {
    const r = await chain.applyDecided(blk);
    applied.push(r);
    assert.equal(r.receipts.map(status), STATUS[i]);
    r.receipts.forEach((rc, j) => {
      assert.is(rc.height, blk.round);
      assert.is(rc.index, j);
    });
    const h = r.header;
    assert.is(h.height, blk.round);
    assert.is(hex(h.chainId), hex(chainId));
    assert.is(hex(h.leader), hex(blk.leader.hash));
    assert.is(h.timestamp, blk.timestamp);
    assert.is(h.txCount, blk.transactions.length);
    assert.is(hex(h.stateRoot), hex(chain.ledger.stateRoot()));
    assert.is(hex(h.stateRoot), hex(await chain.ledger.stateRootAt(blk.round)));
    await ref.appendMany(r.receipts.map(encodeReceipt));
    assert.is(h.historySize, ref.size);
    assert.is(hex(h.historyRoot), hex(await ref.root()));
    // The set of the next round: the ledger's table of its epoch, as the test expects it.
    assert.is(hex(h.validatorSetHash), hex(validatorSetHash(validatorSet(blk.round + 1))));
    const next = chain.ledger.epochTable(epochOfRound(blk.round + 1, genesis.params))!;
    assert.is(hex(h.validatorSetHash), hex(next.setHash));
    assert.equal(r.epochs, i === 0 ? [1] : i === 3 ? [2] : []);
    assert.equal(r.registered, []);
    assert.is(hex(r.blockHash), hex(blockHashOf(h)));
    const prev = applied[i - 1];
    assert.is(
      hex(h.prevBlockHash),
      prev === undefined ? hex(new Uint8Array(32)) : hex(prev.blockHash),
    );
    assert.equal(chain.latest(), { header: h, blockHash: r.blockHash });
    assert.is(chain.ledger.height, blk.round);
  }
  assert.is(ref.size, 6);
  for (const r of applied) {
    assert.equal(await chain.header(r.header.height), { header: r.header, blockHash: r.blockHash });
  }
  for (const skipped of [0, 1, 3, 4, 7, 8, 10]) assert.is(await chain.header(skipped), undefined);
  // Header 2 commits to epoch 0's set, the rest to epoch 1's: the set changed.
  assert.is.not(hex(applied[0]!.header.validatorSetHash), hex(applied[1]!.header.validatorSetHash));
  // Each table's proof, recorded with the block that wrote it (2 and 9: both
  // after their snapshot rounds 0 and 8), verifies under that block's root.
  assert.is(await chain.epochProof(0), undefined); // genesis: no block wrote it
  for (const [k, height] of [
    [1, 2],
    [2, 9],
  ] as const) {
    const p = (await chain.epochProof(k))!;
    assert.equal([p.epoch, p.height], [k, height]);
    const t = chain.ledger.epochTable(k)!;
    const root = (await chain.header(height))!.header.stateRoot;
    assert.ok(verifyTrieInclusion(root, epochTableKey(k), t.encoded, p.proof));
  }
  assert.is(await chain.epochProof(3), undefined);
  assert.is(chain.ledger.supply(), 1800n);
  assert.is(chain.ledger.burned(), 6n);
});

test('receipts: each verifies against the latest header; the double spend is rejected, the replay keeps the committed receipt', async () => {
  const chain = await openChain(memOpts());
  for (const blk of BLOCKS) await chain.applyDecided(blk);
  const head = chain.latest()!;
  const expect: [Uint8Array, string, number, number][] = [
    // txHash, status, height, leafIndex
    [a.hash, 'committed', 2, 0],
    [c.hash, 'committed', 5, 2],
    [d.hash, 'committed', 9, 4],
    [b.hash, 'INPUT_SPENT', 9, 5], // rejected twice: the latest is kept
  ];
  for (const [hash, st, height, leafIndex] of expect) {
    const p = await chain.receipt(hash);
    assert.ok(p, hex(hash));
    assert.is(status(p.receipt), st);
    assert.is(p.height, height);
    assert.is(p.receipt.height, height);
    assert.is(p.leafIndex, leafIndex);
    assert.is(hex(p.receipt.txHash), hex(hash));
    assert.is(p.historySize, head.header.historySize);
    assert.is(hex(p.historyRoot), hex(head.header.historyRoot));
    assert.is(p.inclusionProof.treeSize, head.header.historySize);
    assert.is(p.inclusionProof.leafIndex, leafIndex);
    assert.ok(
      verifyLogInclusion(head.header.historyRoot, encodeReceipt(p.receipt), p.inclusionProof),
    );
    // A receipt with another status or position does not verify.
    const forged: Receipt =
      p.receipt.status === 'committed'
        ? { ...p.receipt, status: 'rejected', reason: 'INPUT_SPENT' }
        : { txHash: p.receipt.txHash, status: 'committed', height, index: p.receipt.index };
    assert.not.ok(
      verifyLogInclusion(head.header.historyRoot, encodeReceipt(forged), p.inclusionProof),
    );
    assert.not.ok(
      verifyLogInclusion(
        (await chain.header(2))!.header.historyRoot,
        encodeReceipt(p.receipt),
        p.inclusionProof,
      ),
    );
  }
  assert.is(await chain.receipt(fill(32, 0x99)), undefined);
  await throwsChain(() => chain.receipt(fill(31, 0)), 'BAD_ARGUMENT');
});

test('double spend in one block: the first spend commits, the second is rejected INPUT_SPENT', async () => {
  const chain = await openChain(memOpts());
  const { receipts } = await chain.applyDecided(decided(3, [b.bytes, a.bytes]));
  assert.equal(receipts.map(status), ['committed', 'INPUT_SPENT']);
  assert.is(hex(receipts[0]!.txHash), hex(b.hash));
  assert.equal((await chain.ledger.getOutputs(pk2)).map((o) => o.output.amount).sort(), [
    300n,
    998n,
  ]);
  assert.is(status((await chain.receipt(a.hash))!.receipt), 'INPUT_SPENT');
  assert.is(status((await chain.receipt(b.hash))!.receipt), 'committed');
});

// --- determinism -------------------------------------------------------------------------

test('two chains fed the same blocks (memory + noble, classic-level + node:crypto) give identical headers', async () => {
  await withDb(async (openDb) => {
    const db = openDb();
    const { ledgerStore, chainStore } = levelOpts(db);
    const mem = await openChain(memOpts());
    const disk = await openChain({
      genesis,
      ledger: { store: ledgerStore, verify, maxCachedDepth: 2 },
      store: chainStore,
      hash: sha256,
    });
    for (const blk of BLOCKS) {
      const x = await mem.applyDecided(blk);
      const y = await disk.applyDecided(blk);
      assert.equal(y.header, x.header);
      assert.is(hex(y.blockHash), hex(x.blockHash));
      assert.equal(y.receipts, x.receipts);
    }
    // Restart: the disk chain resumes with the same head and keeps going.
    await db.close();
    const db2 = openDb();
    const again = levelOpts(db2);
    const resumed = await openChain({
      genesis,
      ledger: { store: again.ledgerStore, verify },
      store: again.chainStore,
      hash: sha256,
    });
    assert.equal(resumed.latest(), mem.latest());
    assert.equal(await resumed.header(5), await mem.header(5));
    for (const k of [1, 2]) {
      assert.ok(await mem.epochProof(k));
      assert.equal(await resumed.epochProof(k), await mem.epochProof(k));
    }
    const p = (await resumed.receipt(c.hash))!;
    assert.ok(verifyLogInclusion(p.historyRoot, encodeReceipt(p.receipt), p.inclusionProof));
    const next = decided(12, [tx([g(2)], [out(298n, pk0)], [sks[2]!]).bytes]);
    const x = await mem.applyDecided(next);
    const y = await resumed.applyDecided(next);
    assert.is(hex(y.blockHash), hex(x.blockHash));
    assert.is(hex(y.header.prevBlockHash), hex((await mem.header(9))!.blockHash));
    // Another genesis over these stores is refused.
    await throwsChain(
      () =>
        openChain({
          genesis: makeGenesis('other'),
          ledger: { store: again.ledgerStore, verify },
          store: again.chainStore,
        }),
      'CHAIN_MISMATCH',
    );
    await db2.close();
  });
});

// --- crash recovery -----------------------------------------------------------------------

/** The reference: every block applied without a crash. */
async function reference() {
  const chain = await openChain(memOpts());
  const out = [];
  for (const blk of BLOCKS) out.push(await chain.applyDecided(blk));
  return { chain, applied: out };
}

// The write order (chain.ts module comment): log, trie commit in memory,
// block record, trie flush. `log`: the record batch fails (the log is one
// block ahead); `record`: the flush fails (the trie is one block behind).
for (const crashAfter of ['log', 'record'] as const) {
  for (const k of [0, 1, 3]) {
    test(`crash after the ${crashAfter} batch of block #${k}: reopen recovers, re-executing and re-applying give the same blockHashes`, async () => {
      const ref = await reference();
      await withDb(async (openDb) => {
        const db = openDb();
        let armed = false;
        const isRecord = (ops: readonly BatchOp[]) =>
          ops.some((o) => o.key.length === 1 && o.key[0] === 0x6c);
        const stores = levelOpts(db, (s) =>
          crashAfter === 'record' ? crashing(s, () => armed) : s,
        );
        const chainStore =
          crashAfter === 'log'
            ? crashing(stores.chainStore, (ops) => armed && isRecord(ops))
            : stores.chainStore;
        const chain = await openChain({
          genesis,
          ledger: { store: stores.ledgerStore, verify },
          store: chainStore,
        });
        for (const blk of BLOCKS.slice(0, k)) await chain.applyDecided(blk);
        armed = true;
        try {
          await chain.applyDecided(BLOCKS[k]!);
          assert.unreachable('the crash did not happen');
        } catch (e) {
          assert.is((e as Error).message, 'simulated crash');
        }
        await throwsChain(() => chain.applyDecided(BLOCKS[k]!), 'FAILED');
        const prevHeight = k === 0 ? null : BLOCKS[k - 1]!.round;
        const prevSize = k === 0 ? 0 : ref.applied[k - 1]!.header.historySize;
        // The crash really left the log past the last record, and the trie behind block k.
        const raw = levelOpts(db);
        const log = await createHistoryLog({ store: raw.chainStore });
        assert.is(log.size, ref.applied[k]!.header.historySize);
        assert.ok(log.size > prevSize || BLOCKS[k]!.transactions.length === 0);
        const trie = await createStateTrie({ keyBytes: 64, store: raw.ledgerStore });
        assert.is(trie.version, (prevHeight ?? -1) + 1);
        await db.close();

        // Restart and recover.
        const db2 = openDb();
        const s2 = levelOpts(db2);
        const opts = {
          genesis,
          ledger: { store: s2.ledgerStore, verify },
          store: s2.chainStore,
        };
        const rec = await openChain(opts);
        assert.is(rec.ledger.height, prevHeight);
        if (k === 0) {
          assert.is(hex(rec.ledger.stateRoot()), hex(await ref.chain.ledger.stateRootAt(null)));
        } else {
          assert.is(hex(rec.ledger.stateRoot()), hex(ref.applied[k - 1]!.header.stateRoot));
        }
        // The tables of the lost state are gone with it.
        for (const e of ref.applied[k]!.epochs) assert.is(rec.ledger.epochTable(e), undefined);
        let from = k;
        if (crashAfter === 'log') {
          assert.equal(
            rec.latest(),
            k === 0
              ? null
              : { header: ref.applied[k - 1]!.header, blockHash: ref.applied[k - 1]!.blockHash },
          );
          assert.is(rec.reexecuteTo, null);
          assert.is((await createHistoryLog({ store: s2.chainStore })).size, prevSize);
          assert.is(await rec.header(BLOCKS[k]!.round), undefined);
          for (const e of ref.applied[k]!.epochs) assert.is(await rec.epochProof(e), undefined);
        } else {
          // Block k is recorded: it is re-executed, not applied again.
          assert.equal(rec.latest(), {
            header: ref.applied[k]!.header,
            blockHash: ref.applied[k]!.blockHash,
          });
          assert.is(rec.reexecuteTo, BLOCKS[k]!.round);
          await throwsChain(() => rec.applyDecided(BLOCKS[k]!), 'BAD_HEIGHT');
          const next = BLOCKS[k + 1];
          if (next !== undefined) await throwsChain(() => rec.applyDecided(next), 'BAD_HEIGHT');
          if (k > 0) assert.is(await rec.reexecute(BLOCKS[k - 1]!), false);
          assert.is(await rec.reexecute(BLOCKS[k]!), true);
          assert.is(rec.reexecuteTo, null);
          assert.is(hex(rec.ledger.stateRoot()), hex(ref.applied[k]!.header.stateRoot));
          from = k + 1;
        }
        // Applying the rest gives the reference chain.
        for (let i = from; i < BLOCKS.length; i++) {
          const r = await rec.applyDecided(BLOCKS[i]!);
          assert.equal(r.header, ref.applied[i]!.header);
          assert.is(hex(r.blockHash), hex(ref.applied[i]!.blockHash));
          assert.equal(r.epochs, ref.applied[i]!.epochs);
        }
        for (const e of [1, 2])
          assert.equal(await rec.epochProof(e), await ref.chain.epochProof(e));
        const p = (await rec.receipt(d.hash))!;
        assert.ok(verifyLogInclusion(p.historyRoot, encodeReceipt(p.receipt), p.inclusionProof));
        await db2.close();
        // And it reopens cleanly with nothing to roll back or redo.
        const db3 = openDb();
        const s3 = levelOpts(db3);
        const again = await openChain({
          ...opts,
          ledger: { store: s3.ledgerStore, verify },
          store: s3.chainStore,
        });
        assert.equal(again.latest(), ref.chain.latest());
        assert.is(again.reexecuteTo, null);
        await db3.close();
      });
    });
  }
}

test('a store of the eager order (log appended, trie written, no block record): reopen rolls the trie back to the previous block', async () => {
  const ref = await reference();
  await withDb(async (openDb) => {
    const db = openDb();
    const s = levelOpts(db);
    const opts = {
      genesis,
      ledger: { store: s.ledgerStore, verify },
      store: s.chainStore,
    };
    const chain: Chain = await openChain(opts);
    await chain.applyDecided(BLOCKS[0]!);
    // Block 1's steps by hand, stopping before the block record.
    const blk = BLOCKS[1]!;
    const { receipts } = await chain.ledger.applyBlock(blk.round, blk.transactions);
    const log = await createHistoryLog({ store: s.chainStore });
    await log.appendMany(receipts.map(encodeReceipt));
    await chain.ledger.commit(blk.round);
    await chain.ledger.flush(); // what an older node's commit wrote
    assert.is(chain.ledger.height, blk.round);
    await db.close();
    const db2 = openDb();
    const s2 = levelOpts(db2);
    const rec = await openChain({
      ...opts,
      ledger: { store: s2.ledgerStore, verify },
      store: s2.chainStore,
    });
    assert.is(rec.ledger.height, BLOCKS[0]!.round);
    assert.is(hex(rec.ledger.stateRoot()), hex(ref.applied[0]!.header.stateRoot));
    assert.is(await rec.receipt(c.hash), undefined);
    const r = await rec.applyDecided(blk);
    assert.is(hex(r.blockHash), hex(ref.applied[1]!.blockHash));
    await db2.close();
  });
});

// --- misuse -------------------------------------------------------------------------------

test('misuse: non-increasing rounds, a bad leader, timestamp or transaction list are refused before any write (chain still usable)', async () => {
  const chain = await openChain(memOpts());
  await chain.applyDecided(BLOCKS[1]!);
  const head = chain.latest();
  const root = hex(chain.ledger.stateRoot());
  const refusals: [string, DecidedBlock<NodeEvent>, string][] = [
    ['the same round again', BLOCKS[1]!, 'BAD_HEIGHT'],
    ['an earlier round', BLOCKS[0]!, 'BAD_HEIGHT'],
    ['a negative round', { ...BLOCKS[3]!, round: -1 }, 'BAD_HEIGHT'],
    ['a fractional round', { ...BLOCKS[3]!, round: 9.5 }, 'BAD_HEIGHT'],
    [
      'a 31-byte leader hash',
      { ...BLOCKS[3]!, leader: { hash: fill(31, 1) } as unknown as NodeEvent },
      'BAD_ARGUMENT',
    ],
    ['no leader', { ...BLOCKS[3]!, leader: undefined as unknown as NodeEvent }, 'BAD_ARGUMENT'],
    ['a negative timestamp', { ...BLOCKS[3]!, timestamp: -1 }, 'BAD_ARGUMENT'],
    ['a fractional timestamp', { ...BLOCKS[3]!, timestamp: 1.5 }, 'BAD_ARGUMENT'],
    [
      'transactions not an array',
      { ...BLOCKS[3]!, transactions: 'x' as unknown as Uint8Array[] },
      'BAD_ARGUMENT',
    ],
    ['not a block', null as unknown as DecidedBlock<NodeEvent>, 'BAD_ARGUMENT'],
  ];
  for (const [what, blk, code] of refusals) {
    try {
      await chain.applyDecided(blk);
      assert.unreachable(`accepted ${what}`);
    } catch (e) {
      assert.instance(e, ChainError, `${what}: ${(e as Error).message}`);
      assert.is((e as ChainError).code, code, what);
    }
    // Nothing was written: same head, same state, no table or proof of a later epoch.
    assert.equal(chain.latest(), head, what);
    assert.is(hex(chain.ledger.stateRoot()), root, what);
    assert.is(chain.ledger.lastTableEpoch, 1, what);
    assert.is(await chain.epochProof(2), undefined, what);
  }
  // Still usable: the next block applies and links to the last one.
  const r = await chain.applyDecided(BLOCKS[3]!);
  assert.is(hex(r.header.prevBlockHash), hex(head!.blockHash));
  assert.equal(r.epochs, [2]);
  await throwsChain(() => chain.header(-1), 'BAD_HEIGHT');
  await throwsChain(() => chain.blockTxHashes(1.5), 'BAD_HEIGHT');
  await throwsChain(() => chain.epochProof(-1), 'BAD_ARGUMENT');
  await throwsChain(() => chain.epochProof(0.5), 'BAD_ARGUMENT');
  await throwsChain(() => chain.consistencyProof(2, 1), 'BAD_ARGUMENT');
  await throwsChain(
    () => openChain({ ...memOpts(), ledger: undefined as unknown as ChainOpts['ledger'] }),
    'BAD_ARGUMENT',
  );
  await throwsChain(
    () => openChain({ ...memOpts(), ledger: { verify } as unknown as ChainOpts['ledger'] }),
    'BAD_ARGUMENT',
  );
});

test.run();
