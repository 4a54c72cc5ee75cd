import {
  createLevelStore,
  createMemoryStore,
  createStateTrie,
  type KVStore,
  sha256Noble,
  type TrieEntry,
  verifyTrieInclusion,
  verifyTrieRange,
} from '@pos/merkle';
import {
  decodeTx,
  encodeTx,
  encodeTxBody,
  type Receipt,
  type RejectReason,
  registrationKey,
  type SignedTx,
  signTx,
} from '@pos/protocol';
import { cat, u16 } from '@pos/test-utils/bytes';
import { hex } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createLedger,
  type Ledger,
  type LedgerOpts,
  type ValidatorRecord,
} from '../src/chain/ledger.js';
import {
  Book,
  type Built,
  encodeRecord,
  type Key,
  makeGenesis,
  O,
  signer,
  verify as strictVerify,
  V,
  withLevelDir,
} from './epoch-fixture.js';
import { entryHex, historyEntry, type Role, rootOf, stateEntries } from './index-fixture.js';

let verifyCalls = 0;
const verify: LedgerOpts['verify'] = (pk, msg, sig) => {
  verifyCalls++;
  return strictVerify(pk, msg, sig);
};

/** O0 holds two outputs (so that three signatures decode), O1 one; V0, V1 are genesis validators. */
const genesis = makeGenesis('registrations-test', [
  { amount: 1000n, owner: O[0].pk, host: V[0].id }, // g0
  { amount: 500n, owner: O[0].pk, host: V[0].id }, // g1
  { amount: 300n, owner: O[1].pk, host: V[3].id }, // g2
]);
const SUPPLY = 1800n;

const status = (r: Receipt) => (r.status === 'committed' ? 'committed' : r.reason!);
const open = (extra: Partial<LedgerOpts> = {}) => createLedger({ genesis, verify, ...extra });

/** A state reader of the ledger's own store, at its latest committed root. */
async function stateOf(store: KVStore, l: Ledger) {
  const trie = await createStateTrie({ keyBytes: 64, store, hash: sha256Noble });
  return trie.at(l.stateRoot());
}

const record = (k: Key, name: string, p2p: string): ValidatorRecord => ({
  validatorId: k.id,
  pubkey: k.pk,
  name,
  p2p,
});

/** `tx` with the signature of `who` replaced by its signature of another body. */
function foreignSignature(t: Built, who: Key, other: Built): Uint8Array {
  const theirs = other.tx.signatures.find((s) => hex(s.publicKey) === hex(who.pk))!;
  const tx: SignedTx = {
    body: t.tx.body,
    signatures: t.tx.signatures.map((s) => (hex(s.publicKey) === hex(who.pk) ? theirs : s)),
  };
  return encodeTx(tx);
}

// --- one case per outcome --------------------------------------------------------------

interface Case {
  name: string;
  txs: (b: Book) => Uint8Array[];
  want: (RejectReason | 'committed')[];
  /** Signature verifications expected (0 where the signer set is refused before any). */
  verifies?: number;
  /** Names of BlockResult.registered, in order. */
  registered: string[];
  /** Each key's record after the block (`null`: none). */
  records: [Key, [string, string] | null][];
  /**
   * The key history entries the block writes (docs/PROTOCOL.md 6.7): the
   * registered key has `registered`; a rejected registration only its
   * inputs' owners (`input`), never the key it meant to register.
   */
  history: [tx: number, key: Key, roles: Role[]][];
}

/** O0's g0 registers V2 under `name`. */
const reg2 = (b: Book, name = 'v2') =>
  b.build(['g0'], [[998n, O[0], V[0].id]], { register: [V[2], name, '10.0.0.2:9000'] });

const cases: Case[] = [
  {
    name: 'committed: a new validator key, signed by the input owner and by that key',
    txs: (b) => [reg2(b).bytes],
    want: ['committed'],
    verifies: 2,
    registered: ['v2'],
    records: [[V[2], ['v2', '10.0.0.2:9000']]],
    history: [
      [0, O[0], ['input', 'output']],
      [0, V[2], ['registered']],
    ],
  },
  {
    name: 'BAD_SIGNATURE: the registered key did not sign',
    txs: (b) => [
      b.build(['g0'], [[998n, O[0], V[0].id]], {
        register: [V[2], 'v2', '10.0.0.2:9000'],
        signers: [O[0]],
      }).bytes,
    ],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    registered: [],
    records: [[V[2], null]],
    history: [[0, O[0], ['input']]],
  },
  {
    name: 'BAD_SIGNATURE: only the registered key signed, not the input owner',
    txs: (b) => [
      b.build(['g0'], [[998n, O[0], V[0].id]], {
        register: [V[2], 'v2', '10.0.0.2:9000'],
        signers: [V[2]],
      }).bytes,
    ],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    registered: [],
    records: [[V[2], null]],
    history: [[0, O[0], ['input']]],
  },
  {
    name: 'BAD_SIGNATURE: an extra signer besides the owner and the registered key',
    // Two inputs of O0: three signatures are within the codec's bound (nIn + 1).
    txs: (b) => [
      b.build(['g0', 'g1'], [[1498n, O[0], V[0].id]], {
        register: [V[2], 'v2', '10.0.0.2:9000'],
        extra: [O[1]],
      }).bytes,
    ],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    registered: [],
    records: [[V[2], null]],
    history: [[0, O[0], ['input']]],
  },
  {
    name: "BAD_SIGNATURE: the registered key's signature is of another transaction",
    txs: (b) => [foreignSignature(reg2(b), V[2], reg2(b, 'other'))],
    want: ['BAD_SIGNATURE'],
    registered: [],
    records: [[V[2], null]],
    history: [[0, O[0], ['input']]],
  },
  {
    name: 'MALFORMED: more signatures than inputs + 1 does not even decode',
    txs: (b) => {
      const t = b.build(['g0'], [[998n, O[0], V[0].id]], {
        register: [V[2], 'v2', '10.0.0.2:9000'],
      });
      const third = b.build(['g0'], [[998n, O[0], V[0].id]], {
        register: [V[2], 'v2', '10.0.0.2:9000'],
        signers: [O[1]],
      }).tx.signatures[0]!;
      const sigs = [...t.tx.signatures, third].sort((x, y) =>
        hex(x.publicKey) < hex(y.publicKey) ? -1 : 1,
      );
      return [
        cat(encodeTxBody(t.tx.body), u16(3), ...sigs.flatMap((s) => [s.publicKey, s.signature])),
      ];
    },
    want: ['MALFORMED'],
    verifies: 0,
    registered: [],
    records: [[V[2], null]],
    history: [],
  },
  {
    name: 'committed: an owner registering its own key signs once',
    txs: (b) => [
      b.build(['g2'], [[299n, O[1], O[1].id]], { register: [O[1], 'o1', '10.0.0.9:9000'] }).bytes,
    ],
    want: ['committed'],
    verifies: 1,
    registered: ['o1'],
    records: [[O[1], ['o1', '10.0.0.9:9000']]],
    history: [[0, O[1], ['input', 'output', 'registered']]],
  },
  {
    name: 'BAD_SIGNATURE: an owner registering its own key, with a stranger signing too',
    txs: (b) => [
      b.build(['g2'], [[299n, O[1], O[1].id]], {
        register: [O[1], 'o1', '10.0.0.9:9000'],
        extra: [O[0]],
      }).bytes,
    ],
    want: ['BAD_SIGNATURE'],
    verifies: 0,
    registered: [],
    records: [[O[1], null]],
    history: [[0, O[1], ['input']]],
  },
  {
    name: 'UNBALANCED: a registration is a transfer all the same',
    txs: (b) => [
      b.build(['g0'], [[998n, O[0], V[0].id]], {
        register: [V[2], 'v2', '10.0.0.2:9000'],
        fee: 1n,
      }).bytes,
    ],
    want: ['UNBALANCED'],
    verifies: 0,
    registered: [],
    records: [[V[2], null]],
    history: [[0, O[0], ['input']]],
  },
  {
    name: 'FEE_TOO_LOW: a registration pays the fee too',
    txs: (b) => [
      b.build(['g0'], [[1000n, O[0], V[0].id]], { register: [V[2], 'v2', '10.0.0.2:9000'] }).bytes,
    ],
    want: ['FEE_TOO_LOW'],
    verifies: 0,
    registered: [],
    records: [[V[2], null]],
    history: [],
  },
  {
    name: 'INPUT_SPENT: a second registration spending the same input records nothing',
    txs: (b) => [
      reg2(b).bytes,
      b.build(['g0'], [[998n, O[0], V[0].id]], { register: [V[3], 'v3', '10.0.0.3:9000'] }).bytes,
    ],
    want: ['committed', 'INPUT_SPENT'],
    verifies: 2,
    registered: ['v2'],
    records: [
      [V[2], ['v2', '10.0.0.2:9000']],
      [V[3], null],
    ],
    history: [
      [0, O[0], ['input', 'output']],
      [0, V[2], ['registered']],
    ],
  },
  {
    name: 'two registrations of one key in a block: both commit, the later record wins',
    txs: (b) => [
      reg2(b, 'first').bytes,
      b.build(['g1'], [[499n, O[0], V[0].id]], { register: [V[2], 'second', '10.0.0.2:9001'] })
        .bytes,
    ],
    want: ['committed', 'committed'],
    verifies: 4,
    registered: ['first', 'second'],
    records: [[V[2], ['second', '10.0.0.2:9001']]],
    history: [
      [0, O[0], ['input', 'output']],
      [0, V[2], ['registered']],
      [1, O[0], ['input', 'output']],
      [1, V[2], ['registered']],
    ],
  },
  {
    name: 'a genesis validator re-registers: its record changes, no record is added',
    txs: (b) => [
      b.build(['g0'], [[998n, O[0], V[0].id]], { register: [V[0], 'v0 moved', '10.1.0.0:9000'] })
        .bytes,
    ],
    want: ['committed'],
    verifies: 2,
    registered: ['v0 moved'],
    records: [
      [V[0], ['v0 moved', '10.1.0.0:9000']],
      [V[1], ['v1', '127.0.0.1:9001']],
    ],
    history: [
      [0, O[0], ['input', 'output']],
      [0, V[0], ['registered']],
    ],
  },
];

for (const c of cases) {
  test(`registration: ${c.name}`, async () => {
    const store = createMemoryStore();
    const l = await open({ store });
    const book = new Book(genesis);
    const txs = c.txs(book);
    verifyCalls = 0;
    const r = await l.applyBlock(0, txs);
    await l.commit(0);
    if (c.verifies !== undefined) assert.is(verifyCalls, c.verifies, 'verify calls');
    assert.equal(r.receipts.map(status), c.want);
    assert.equal(
      r.registered.map((x) => x.name),
      c.registered,
    );
    // checkTx on a fresh ledger judges the first transaction alike.
    const fresh = await open();
    const check = await fresh.checkTx(txs[0]!);
    assert.is(check.ok ? 'committed' : check.reason, c.want[0]);
    const state = await stateOf(store, l);
    const ids = new Set([V[0], V[1]].map((k) => hex(k.id)));
    for (const [k, want] of c.records) {
      const got = l.registration(k.id);
      const raw = await state.get(registrationKey(k.id));
      if (want === null) {
        assert.is(got, undefined, hex(k.pk));
        assert.is(raw, undefined);
        continue;
      }
      ids.add(hex(k.id));
      assert.equal(got, record(k, ...want));
      // The trie holds the record as documented, proven under the state root.
      const encoded = encodeRecord({ pubkey: k.pk, name: want[0], p2p: want[1] });
      assert.is(hex(raw!), hex(encoded));
      const proof = await state.prove(registrationKey(k.id));
      assert.ok(verifyTrieInclusion(l.stateRoot(), registrationKey(k.id), encoded, proof));
    }
    assert.equal(
      l.registrations().map((x) => hex(x.validatorId)),
      [...ids].sort(),
    );
    // The key history: exactly the expected entries under every key, proven complete.
    const written: TrieEntry[] = [];
    for (const k of [...O, ...V]) {
      const want = c.history
        .filter(([, key]) => key === k)
        .map(([i, , roles]) => historyEntry(k.pk, 0, i, roles, r.receipts[i]!));
      written.push(...want);
      const p = await l.proveHistory(k.pk);
      assert.equal(entryHex(p.entries), entryHex(want), hex(k.pk));
      assert.ok(verifyTrieRange(l.stateRoot(), p.lo, p.hi, p.entries, p.proof));
    }
    // A block of rejections leaves the state as an empty block does, plus
    // those history entries and nothing else.
    if (!c.want.includes('committed')) {
      const twinStore = createMemoryStore();
      const twin = await open({ store: twinStore });
      await twin.applyBlock(0, []);
      const empty = (await twin.commit(0)).stateRoot;
      const after = [...(await stateEntries(twinStore, empty)), ...written];
      assert.is(hex(await rootOf(after)), hex(l.stateRoot()));
      assert.is(hex(empty) === hex(l.stateRoot()), written.length === 0);
    }
    assert.is(l.supply(), SUPPLY);
  });
}

// --- the record, its proof, its life -------------------------------------------------------------

test('genesis validators are registered from the genesis state on, proven under the genesis root', async () => {
  const store = createMemoryStore();
  const l = await open({ store });
  assert.equal(l.registrations(), [
    ...[record(V[0], 'v0', '127.0.0.1:9000'), record(V[1], 'v1', '127.0.0.1:9001')].sort((a, b) =>
      hex(a.validatorId) < hex(b.validatorId) ? -1 : 1,
    ),
  ]);
  const state = await stateOf(store, l);
  for (const [k, name, p2p] of [
    [V[0], 'v0', '127.0.0.1:9000'],
    [V[1], 'v1', '127.0.0.1:9001'],
  ] as const) {
    const encoded = encodeRecord({ pubkey: k.pk, name, p2p });
    const proof = await state.prove(registrationKey(k.id));
    assert.ok(verifyTrieInclusion(l.stateRoot(), registrationKey(k.id), encoded, proof));
    // Another name under the same key does not verify.
    const forged = encodeRecord({ pubkey: k.pk, name: `${name}!`, p2p });
    assert.not.ok(verifyTrieInclusion(l.stateRoot(), registrationKey(k.id), forged, proof));
  }
  assert.is(l.registration(V[2].id), undefined);
});

test('a registration shows only once its block is committed; checkTx answers from the committed state', async () => {
  const l = await open();
  const book = new Book(genesis);
  const t = book.spend(['g0'], [[998n, O[0], V[0].id]], {
    register: [V[2], 'v2', '10.0.0.2:9000'],
  });
  assert.equal(await l.checkTx(t.bytes), { ok: true, txHash: t.hash, tx: decodeTx(t.bytes) });
  const r = await l.applyBlock(3, [t.bytes]);
  assert.equal(r.registered, [record(V[2], 'v2', '10.0.0.2:9000')]);
  assert.is(l.registration(V[2].id), undefined);
  assert.is(l.registrations().length, 2);
  assert.ok((await l.checkTx(t.bytes)).ok); // its input is unspent as far as the committed state goes
  await l.commit(3);
  assert.equal(l.registration(V[2].id), record(V[2], 'v2', '10.0.0.2:9000'));
  assert.is(l.registrations().length, 3);
  assert.equal(await l.checkTx(t.bytes), { ok: false, txHash: t.hash, reason: 'INPUT_SPENT' });
});

test('registrations survive a reopen from disk, and a later re-registration replaces the record', async () => {
  await withLevelDir('pos-registrations-', async (openDb) => {
    let db = openDb();
    let l = await open({ store: createLevelStore(db) });
    const book = new Book(genesis);
    const txs = [
      book.spend(['g0'], [[998n, O[0], V[2].id]], { register: [V[2], 'v2', '10.0.0.2:9000'] }),
      book.spend(['g2'], [[298n, O[1], O[1].id]], { register: [O[1], 'o1', '10.0.0.9:9000'] }),
    ];
    await l.applyBlock(
      0,
      txs.map((t) => t.bytes),
    );
    await l.commit(0);
    const before = l.registrations();
    const root = hex(l.stateRoot());
    await db.close();
    db = openDb();
    l = await open({ store: createLevelStore(db) });
    assert.is(hex(l.stateRoot()), root);
    assert.equal(l.registrations(), before);
    assert.is(before.length, 4);
    assert.equal(l.registration(O[1].id), record(O[1], 'o1', '10.0.0.9:9000'));
    // V2 moves: same id, new endpoint; the count stays.
    const again = book.spend(['t0.0'], [[997n, O[0], V[2].id]], {
      register: [V[2], 'v2', '10.0.0.22:9000'],
    });
    const r = await l.applyBlock(1, [again.bytes]);
    await l.commit(1);
    assert.equal(r.receipts.map(status), ['committed']);
    assert.equal(l.registration(V[2].id), record(V[2], 'v2', '10.0.0.22:9000'));
    assert.is(l.registrations().length, 4);
    await db.close();
    db = openDb();
    l = await open({ store: createLevelStore(db) });
    assert.equal(l.registration(V[2].id), record(V[2], 'v2', '10.0.0.22:9000'));
    await db.close();
  });
});

test('supply: registrations burn their fees like any transaction; stakes follow their outputs', async () => {
  const l = await open();
  const book = new Book(genesis);
  // Each block's transactions are built when it comes, so that the book is one block behind.
  const blocks: [number, () => Built[]][] = [
    [
      0,
      () => [
        book.spend(['g0'], [[990n, O[0], V[2].id]], { register: [V[2], 'v2', '10.0.0.2:9000'] }),
        book.spend(['g2'], [[295n, O[1], O[1].id]], { register: [O[1], 'o1', '10.0.0.9:9000'] }),
      ],
    ],
    [
      5,
      () => [
        book.spend(
          ['t0.0', 'g1'],
          [
            [700n, O[2], V[2].id],
            [750n, O[0], V[3].id],
          ],
          { register: [V[3], 'v3', '10.0.0.3:9000'] },
        ),
        book.spend(['t1.0'], [[290n, O[1], V[0].id]]),
      ],
    ],
  ];
  for (const [height, make] of blocks) {
    const txs = make();
    const r = await l.applyBlock(
      height,
      txs.map((t) => t.bytes),
    );
    await l.commit(height);
    assert.ok(r.receipts.every((x) => x.status === 'committed'));
    assert.is(l.burned(), book.burned);
    assert.is(l.unspent(), book.unspent());
    assert.is(l.supply(), SUPPLY);
    assert.equal(new Map(l.stakes().map((x) => [hex(x.validatorId), x.stake])), book.stakes());
  }
  assert.is(book.burned, 10n + 5n + 40n + 5n);
  assert.is(l.registrations().length, 5);
});

// Signing needs the registered key: signTx with a secret key whose public
// key is not the registered one yields a transaction the ledger refuses.
test('a registration signed with the wrong secret key is BAD_SIGNATURE', async () => {
  const l = await open();
  const book = new Book(genesis);
  const t = book.build(['g0'], [[998n, O[0], V[0].id]], {
    register: [V[2], 'v2', '10.0.0.2:9000'],
  });
  const wrong = signTx(t.tx.body, [O[0].sk, V[3].sk], signer);
  const r = await l.applyBlock(0, [encodeTx(wrong)]);
  assert.equal(r.receipts.map(status), ['BAD_SIGNATURE']);
});

test.run();
