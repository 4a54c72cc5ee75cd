import {
  createLevelStore,
  createMemoryStore,
  createStateTrie,
  type KVStore,
  sha256Noble,
  verifyTrieInclusion,
} from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  encodeTx,
  encodeValidatorSet,
  epochTableKey,
  type Output,
  registrationKey,
  type ValidatorSet,
  validatorIdOf,
} from '@pos/protocol';
import { fill } from '@pos/test-utils/bytes';
import { hex } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLedger, type Ledger, LedgerError } from '../src/chain/ledger.js';
import {
  Book,
  EPOCH0,
  encodeRecord,
  expectedTables,
  makeGenesis,
  referenceTable,
  type Snapshot,
  STEPS,
  type Step,
  setHex,
  setOf,
  snapshotOf,
  T3,
  V,
  verify,
  withLevelDir,
} from './epoch-fixture.js';

const genesis = makeGenesis();
const SUPPLY = 1550n;

async function throwsLedger(fn: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, LedgerError, (e as Error).message);
    assert.is((e as LedgerError).code, code, (e as Error).message);
    return;
  }
  assert.unreachable(`expected LedgerError ${code}`);
}

/** Asserts the ledger's tables: values, proofs under the latest root, nothing beyond. */
async function checkTables(l: Ledger, want: ValidatorSet[], what: string): Promise<void> {
  const last = want.length - 1;
  assert.is(l.lastTableEpoch, last, what);
  for (let k = 0; k <= last; k++) {
    const t = l.epochTable(k);
    assert.ok(t, `${what}: epoch ${k}`);
    assert.is(t.epoch, k);
    assert.is(setHex(t.set), setHex(want[k]!), `${what}: table of epoch ${k}`);
    assert.is(hex(t.encoded), hex(encodeValidatorSet(want[k]!)));
    const proof = await l.proveEpochTable(k);
    assert.ok(
      verifyTrieInclusion(l.stateRoot(), epochTableKey(k), encodeValidatorSet(want[k]!), proof),
      `${what}: proof of epoch ${k}`,
    );
  }
  assert.is(l.epochTable(last + 1), undefined, what);
  await throwsLedger(() => l.proveEpochTable(last + 1), 'BAD_ARGUMENT');
  // V3's id hosts stake from genesis on, but is no member before it registers.
  const v3 = l.registration(V[3].id) !== undefined;
  for (let k = 0; k <= last; k++) {
    const ids = l.epochTable(k)!.set.validators.map((v) => hex(v.validatorId));
    if (!v3) assert.not.ok(ids.includes(hex(V[3].id)), `${what}: unregistered V3 in ${k}`);
  }
}

/** Runs `steps` on `l` (and `book`), checking each block's epochs, tables and preview. */
async function run(l: Ledger, book: Book, steps: readonly Step[], history?: Snapshot[]) {
  const done: Step[] = [];
  for (const s of steps) {
    const before = l.previewTable();
    const txs = s.txs(book);
    const r = await l.applyBlock(
      s.height,
      txs.map((t) => t.bytes),
    );
    await l.commit(s.height);
    assert.equal(
      r.receipts.map((x) => x.status),
      txs.map(() => 'committed'),
      s.name,
    );
    assert.equal(r.epochs, s.epochs, s.name);
    assert.equal(
      r.registered.map((x) => hex(x.pubkey)),
      (s.registered ?? []).map((k) => hex(k.pk)),
      s.name,
    );
    if (s.preview === 'written') assert.is(setHex(before), setHex(s.table!), s.name);
    else if (s.preview !== null) assert.is(setHex(before), setHex(s.preview), s.name);
    done.push(s);
    await checkTables(l, expectedTables(done), s.name);
    assert.is(l.supply(), SUPPLY);
    assert.is(l.burned(), book.burned);
    history?.push(snapshotOf(book, s.height));
  }
}

test('tables: written at the right block, from the right state, across set changes', async () => {
  const l = await createLedger({ genesis, verify });
  const book = new Book(genesis);
  await checkTables(l, [EPOCH0], 'genesis');
  assert.is(setHex(l.previewTable()), setHex(setOf([[V[0], 1000n]])));
  const history: Snapshot[] = [snapshotOf(book, -1)];
  await run(l, book, STEPS, history);
  // The test's own reference computation (used by the chain property) agrees
  // with every hand-written table.
  expectedTables(STEPS).forEach((t, k) => {
    assert.is(setHex(referenceTable(genesis, history, k)), setHex(t), `reference ${k}`);
  });
});

test('the first block writes epoch 1 onwards from the genesis state, however late it comes', async () => {
  const genesisTable = setOf([[V[0], 1000n]]); // V1 has no stake, V3 is not registered
  for (const [height, epochs] of [
    [0, [1]],
    [1, [1]],
    [3, [1]],
    [4, [1, 2]],
    [5, [1, 2]],
    [8, [1, 2, 3]],
    [13, [1, 2, 3, 4]],
  ] as const) {
    const l = await createLedger({ genesis, verify });
    const r = await l.applyBlock(height, []);
    await l.commit(height);
    assert.equal(r.epochs, [...epochs], `block ${height}`);
    await checkTables(l, [EPOCH0, ...epochs.map(() => genesisTable)], `block ${height}`);
  }
});

test("a block's tables: readable by epochTable before the commit, proven and counted after it", async () => {
  const l = await createLedger({ genesis, verify });
  const genesisRoot = l.stateRoot();
  const r = await l.applyBlock(5, []);
  assert.equal(r.epochs, [1, 2]);
  // The chain needs the next set's hash for the block's own header.
  assert.is(setHex(l.epochTable(2)!.set), setHex(setOf([[V[0], 1000n]])));
  assert.is(l.lastTableEpoch, 0);
  await throwsLedger(() => l.proveEpochTable(1), 'BAD_ARGUMENT');
  assert.is(hex(l.stateRoot()), hex(genesisRoot));
  // Epoch 0's proof answers from the committed (genesis) state meanwhile.
  const p0 = await l.proveEpochTable(0);
  assert.ok(verifyTrieInclusion(genesisRoot, epochTableKey(0), encodeValidatorSet(EPOCH0), p0));
  await l.commit(5);
  await checkTables(l, [EPOCH0, setOf([[V[0], 1000n]]), setOf([[V[0], 1000n]])], 'after commit');
});

test('the table holds the 1,024 largest stakes, ties to the lower validatorId, minStake included', async () => {
  // 1,030 registrations, each a validator that owns and hosts its output:
  // 1,000 at 500, 26 tied at exactly minStake (two too many) and 4 just below.
  // Signatures are not checked here (verify accepts anything), only the table.
  const keys = Array.from({ length: 1030 }, (_, i) => {
    const pk = new Uint8Array(32);
    pk[0] = 0x80 | (i >> 8);
    pk[1] = i & 0xff;
    return { pk, id: validatorIdOf(pk) };
  });
  const stake = (i: number) => (i < 1000 ? 500n : i < 1026 ? 100n : 99n);
  const outputs: Output[] = keys.map((k, i) => ({ amount: stake(i), owner: k.pk, host: k.id }));
  const g = createGenesis({
    chainName: 'cap',
    genesisTime: 1_700_000_000_000,
    params: { minFee: 0n, lag: 2, epoch: 4, minStake: 100n },
    validators: [{ pubkey: V[0].pk, name: 'v0', p2p: '127.0.0.1:9000' }],
    outputs,
  });
  const chainId = chainIdOf(g);
  const txs = keys.map((k, i) =>
    encodeTx({
      body: {
        chainId,
        inputs: [{ txHash: chainId, index: i }],
        outputs: [outputs[i]!],
        fee: 0n,
        memo: new Uint8Array(0),
        register: { pubkey: k.pk, name: '', p2p: `10.0.${i >> 8}.${i & 0xff}:1` },
      },
      signatures: [{ publicKey: k.pk, signature: new Uint8Array(64) }],
    }),
  );
  const l = await createLedger({ genesis: g, verify: () => true });
  const r = await l.applyBlock(0, txs);
  await l.commit(0);
  assert.is(r.receipts.filter((x) => x.status === 'committed').length, 1030);
  assert.is(r.registered.length, 1030);
  assert.is(l.registrations().length, 1031);
  const set = l.epochTable(1)!.set;
  assert.is(set.validators.length, 1024);
  const tied = keys
    .slice(1000, 1026)
    .map((k) => hex(k.id))
    .sort();
  const want = new Set([...keys.slice(0, 1000).map((k) => hex(k.id)), ...tied.slice(0, 24)]);
  const got = set.validators.map((v) => hex(v.validatorId));
  assert.equal(got, [...want].sort()); // sorted by validatorId
  for (const v of set.validators) assert.ok(v.stake >= 100n);
  assert.not.ok(got.includes(hex(validatorIdOf(V[0].pk)))); // genesis V0 hosts nothing
});

// --- storage -------------------------------------------------------------------------------

test('tables, registrations and the preview survive a reopen from disk; both ledgers keep agreeing', async () => {
  await withLevelDir('pos-epochs-', async (openDb) => {
    let db = openDb();
    const mem = await createLedger({ genesis, verify });
    let disk = await createLedger({ genesis, verify, store: createLevelStore(db) });
    const book = new Book(genesis);
    const first = STEPS.slice(0, 6);
    // Both fed the same bytes: the book builds each block's transactions once.
    const blocks = first.map((s) => ({ height: s.height, txs: s.txs(book).map((t) => t.bytes) }));
    for (const { height, txs } of blocks) {
      for (const l of [mem, disk]) {
        await l.applyBlock(height, txs);
        await l.commit(height);
      }
    }
    await db.close();
    db = openDb();
    disk = await createLedger({ genesis, verify, store: createLevelStore(db) });
    assert.is(disk.height, 28);
    assert.is(hex(disk.stateRoot()), hex(mem.stateRoot()));
    await checkTables(disk, expectedTables(first), 'reopened');
    assert.is(setHex(disk.previewTable()), setHex(mem.previewTable()));
    assert.equal(disk.registrations(), mem.registrations());
    assert.equal(
      disk.registrations().map((r) => hex(r.validatorId)),
      [V[0], V[1], V[2]].map((k) => hex(k.id)).sort(),
    );
    assert.equal(disk.registration(V[2].id), {
      validatorId: V[2].id,
      pubkey: V[2].pk,
      name: 'v2',
      p2p: '10.0.0.2:9000',
    });
    // And on: block 33 registers V3, block 36 writes its table, on both.
    const rest = STEPS.slice(6);
    for (const s of rest) {
      const txs = s.txs(book).map((t) => t.bytes);
      const a = await mem.applyBlock(s.height, txs);
      const b = await disk.applyBlock(s.height, txs);
      assert.equal(b.epochs, a.epochs);
      assert.is(
        hex((await disk.commit(s.height)).stateRoot),
        hex((await mem.commit(s.height)).stateRoot),
      );
    }
    await checkTables(disk, expectedTables(STEPS), 'continued');
    await db.close();
  });
});

/** A store whose state was tampered with by `mutate`, committed as the next trie version. */
async function tampered(
  mutate: (trie: Awaited<ReturnType<typeof createStateTrie>>) => Promise<unknown>,
) {
  const store: KVStore = createMemoryStore();
  const l = await createLedger({ genesis, verify, store });
  const book = new Book(genesis);
  for (const s of STEPS.slice(0, 4)) {
    await l.applyBlock(
      s.height,
      s.txs(book).map((t) => t.bytes),
    );
    await l.commit(s.height);
  }
  assert.is(l.lastTableEpoch, 4); // heights 0, 4, 9, 12: snapshots 0, 4, 8, 12
  const trie = await createStateTrie({ keyBytes: 64, store, hash: sha256Noble });
  await mutate(trie);
  await trie.commit(); // version 14: height 13, whose last snapshot round is still 12
  return store;
}

const otherKey = fill(32, 0x99);
const CORRUPTIONS: [
  string,
  (t: Awaited<ReturnType<typeof createStateTrie>>) => Promise<unknown>,
][] = [
  ["a table in the middle (epoch 2's) deleted", (t) => t.del(epochTableKey(2))],
  ["the last table (epoch 4's) deleted", (t) => t.del(epochTableKey(4))],
  ["epoch 0's table deleted", (t) => t.del(epochTableKey(0))],
  [
    'a table of epoch 5, whose snapshot round 16 is past the height',
    (t) => t.put(epochTableKey(5), encodeValidatorSet(T3)),
  ],
  ['a table that does not decode', (t) => t.put(epochTableKey(3), Uint8Array.of(0, 0))],
  [
    'a key under the epoch-table prefix with a non-zero tail',
    (t) => {
      const k = epochTableKey(3);
      k[63] = 1;
      return t.put(k, encodeValidatorSet(T3));
    },
  ],
  [
    "a validator record under another validator's id",
    (t) =>
      t.put(
        registrationKey(validatorIdOf(otherKey)),
        encodeRecord({ pubkey: V[2].pk, name: 'x', p2p: 'x:1' }),
      ),
  ],
  [
    'a validator record that does not decode',
    (t) => t.put(registrationKey(V[2].id), Uint8Array.of(1, 2, 3)),
  ],
];

test('reopen: the untampered state opens at the next height with its tables', async () => {
  const store = await tampered(async () => undefined);
  const l = await createLedger({ genesis, verify, store });
  assert.is(l.height, 13);
  await checkTables(l, expectedTables(STEPS.slice(0, 4)), 'untampered');
});

for (const [name, mutate] of CORRUPTIONS) {
  test(`reopen: CORRUPT_STATE for ${name}`, async () => {
    const store = await tampered(mutate);
    await throwsLedger(() => createLedger({ genesis, verify, store }), 'CORRUPT_STATE');
  });
}

test.run();
