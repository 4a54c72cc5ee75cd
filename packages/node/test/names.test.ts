// Names in the ledger (docs/PROTOCOL.md 6.6): registration of a free name
// with its inclusion proof, a free name's exclusion proof, first come in
// block order (within one block and across blocks), the name rule (every
// malformed name, homoglyphs and non-ASCII included, is BAD_NAME), reserved
// names, the signatures a name operation needs, the name fee, transfer and
// release by the owner, the genesis validators' names, and the order of the
// rules. Every rejection leaves the name's record (and its proof) as it was.
import { createMemoryStore, verifyTrieExclusion, verifyTrieInclusion } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  encodeTx,
  type Genesis,
  type NameOp,
  type Outpoint,
  RESERVED_NAMES,
  type RejectReason,
  validatorIdOf,
} from '@pos/protocol';
import { hex } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLedger, type Ledger, type LedgerOpts } from '../src/chain/ledger.js';
import { type Key, keyOf, O, verify as strictVerify, V } from './epoch-fixture.js';
import {
  type Built,
  buildTx,
  commitBlock,
  historyEntry,
  nameKeyOf,
  nameValueOf,
  outcome,
  rootOf,
  stateEntries,
} from './index-fixture.js';

// --- fixture --------------------------------------------------------------------------

let verifyCalls = 0;
const verify: LedgerOpts['verify'] = (pk, msg, sig) => {
  verifyCalls++;
  return strictVerify(pk, msg, sig);
};

const MIN_FEE = 2n;
/** A registration pays minFee + 100 · minFee (docs/PROTOCOL.md 6.6). */
const NAME_FEE = 101n * MIN_FEE;
const COIN = 1000n;
const COINS_EACH = 8;

/** Two validators whose display names collide: the lower validatorId owns it at genesis. */
const D = [keyOf(0x45), keyOf(0x46)] as const;
const dupOwner = hex(validatorIdOf(D[0].pk)) < hex(validatorIdOf(D[1].pk)) ? D[0] : D[1];

/**
 * Validators V0 `v0`, V1 `v1`, V2 with a display name that is no name, V3
 * with a reserved one, D0 and D1 both `dup`. O0, O1, O2 hold eight coins of
 * 1,000 each.
 */
const genesis: Genesis = createGenesis({
  chainName: 'names-test',
  genesisTime: 1_700_000_000_000,
  params: { minFee: MIN_FEE, lag: 2, epoch: 1000 },
  validators: [
    { pubkey: V[0].pk, name: 'v0', p2p: '127.0.0.1:9000' },
    { pubkey: V[1].pk, name: 'v1', p2p: '127.0.0.1:9001' },
    { pubkey: V[2].pk, name: 'Validator Two', p2p: '127.0.0.1:9002' },
    { pubkey: V[3].pk, name: 'admin', p2p: '127.0.0.1:9003' },
    { pubkey: D[0].pk, name: 'dup', p2p: '127.0.0.1:9004' },
    { pubkey: D[1].pk, name: 'dup', p2p: '127.0.0.1:9005' },
  ],
  outputs: O.flatMap((k) =>
    Array.from({ length: COINS_EACH }, () => ({ amount: COIN, owner: k.pk, host: V[0].id })),
  ),
});
const chainId = chainIdOf(genesis);

/** Coin `i` of owner O[o] (a genesis outpoint). */
const coin = (o: 0 | 1 | 2, i: number): Outpoint => ({
  txHash: chainId,
  index: o * COINS_EACH + i,
});

const open = (store = createMemoryStore()) => createLedger({ genesis, verify, store });

/**
 * A name operation paid by `payer`'s coin `i` (its change back to the
 * payer), signed by exactly `signers`; fee: the name fee for a
 * registration, minFee otherwise.
 */
function nameTx(
  payer: 0 | 1 | 2,
  i: number,
  op: NameOp,
  signers: readonly Key[],
  opts: { fee?: bigint; unbalanced?: boolean } = {},
): Built {
  const fee = opts.fee ?? (op.op === 'register' ? NAME_FEE : MIN_FEE);
  const change = COIN - fee + (opts.unbalanced ? 1n : 0n);
  return buildTx(
    chainId,
    [coin(payer, i)],
    [{ amount: change, owner: O[payer].pk, host: V[0].id }],
    signers,
    { fee, name: op },
  );
}

const register = (name: string, owner: Key): NameOp => ({ op: 'register', name, owner: owner.pk });
const transfer = (name: string, owner: Key): NameOp => ({ op: 'transfer', name, owner: owner.pk });
const release = (name: string): NameOp => ({ op: 'release', name });

/** A name's state as the ledger proves it: the record (or none), its proof checked against the root. */
async function nameState(
  l: Ledger,
  name: string,
  height?: number | null,
): Promise<{ owner: string; since: number } | null> {
  const p = await l.proveName(name, height === undefined ? {} : { height });
  assert.is(p.name, name);
  assert.is(p.height, height === undefined ? l.height : height);
  assert.is(hex(p.stateRoot), hex(await l.stateRootAt(p.height)));
  const key = nameKeyOf(name);
  if (p.record === undefined) {
    assert.ok(verifyTrieExclusion(p.stateRoot, key, p.proof), `exclusion of ${name}`);
    return null;
  }
  assert.is(p.record.name, name);
  const value = nameValueOf(name, p.record.owner, p.record.sinceHeight);
  assert.ok(verifyTrieInclusion(p.stateRoot, key, value, p.proof), `inclusion of ${name}`);
  assert.not.ok(verifyTrieExclusion(p.stateRoot, key, p.proof));
  return { owner: hex(p.record.owner), since: p.record.sinceHeight };
}

const owned = (k: Key, since: number) => ({ owner: hex(k.pk), since });

/** Applies one block at `height` and returns its outcomes. */
async function run(l: Ledger, height: number, txs: Built[]): Promise<string[]> {
  return (
    await commitBlock(
      l,
      height,
      txs.map((t) => t.bytes),
    )
  ).receipts.map(outcome);
}

// --- the rule, the fee, the signatures: every rejection ----------------------------------------

/** Names that break the rule of docs/PROTOCOL.md 6.6: each is BAD_NAME, whatever the operation. */
const BAD_NAMES: [why: string, name: string][] = [
  ['one character (too short)', 'a'],
  ['a single space (empty-ish)', ' '],
  ['two spaces (empty-ish)', '  '],
  ['33 characters (too long)', 'a'.repeat(33)],
  ['upper case', 'Alice'],
  ['all upper case', 'ALICE'],
  ['a Cyrillic homoglyph of alice', '\u0430lice'],
  ['a full-width letter', '\uff41lice'],
  ['a space inside', 'al ice'],
  ['a dot', 'al.ice'],
  ['an @ (the address separator)', 'alice@v0'],
  ['a leading -', '-alice'],
  ['a leading _', '_alice'],
  ['an accented letter', 'caf\u00e9'],
  ['a zero-width space', 'alice\u200b'],
  ['a newline', 'alice\n'],
  ['an emoji', '\u{1f600}x'],
  ['a NUL', 'al\u0000ice'],
];

/** The reserved names as docs/PROTOCOL.md 6.6 lists them. */
const RESERVED = ['admin', 'agent', 'pos', 'root', 'system', 'validator', 'wallet'];

interface Rejection {
  name: string;
  /** Blocks committed first (heights 1, 2, ...); every transaction of them must commit. */
  setup?: () => Built[][];
  tx: () => Built;
  reason: RejectReason;
  /** Names whose state the rejected transaction must leave as it was. */
  names: string[];
  /** Signature verifications of the rejected transaction (0: refused before any). */
  verifies?: number;
}

/** Block 1: O1 registers `alice` for itself. */
const aliceByO1 = () => [[nameTx(1, 0, register('alice', O[1]), [O[1]])]];

const rejections: Rejection[] = [
  ...BAD_NAMES.map(
    ([why, name]): Rejection => ({
      name: `BAD_NAME: register, ${why}`,
      tx: () => nameTx(0, 0, register(name, O[0]), [O[0]]),
      reason: 'BAD_NAME',
      names: [name, 'alice'],
      verifies: 0,
    }),
  ),
  {
    name: 'BAD_NAME: transfer of an upper-case name (before NOT_NAME_OWNER)',
    setup: aliceByO1,
    tx: () => nameTx(1, 1, transfer('Alice', O[2]), [O[1]]),
    reason: 'BAD_NAME',
    names: ['alice', 'Alice'],
    verifies: 0,
  },
  {
    name: 'BAD_NAME: release of a homoglyph of a taken name',
    setup: aliceByO1,
    tx: () => nameTx(1, 1, release('\u0430lice'), [O[1]]),
    reason: 'BAD_NAME',
    names: ['alice', '\u0430lice'],
    verifies: 0,
  },
  ...RESERVED.map(
    (name): Rejection => ({
      name: `NAME_RESERVED: register ${name}`,
      tx: () => nameTx(0, 0, register(name, O[0]), [O[0]]),
      reason: 'NAME_RESERVED',
      names: [name],
      verifies: 0,
    }),
  ),
  {
    name: 'NAME_RESERVED: transfer of a reserved name (a genesis validator display name never became one)',
    tx: () => nameTx(0, 0, transfer('admin', O[1]), [O[0], V[3]]),
    reason: 'NAME_RESERVED',
    names: ['admin'],
    verifies: 0,
  },
  {
    name: 'NAME_TAKEN: a genesis validator name',
    tx: () => nameTx(0, 0, register('v0', O[0]), [O[0]]),
    reason: 'NAME_TAKEN',
    names: ['v0'],
    verifies: 0,
  },
  {
    name: 'NAME_TAKEN: a name registered in an earlier block, by its own owner again',
    setup: aliceByO1,
    tx: () => nameTx(1, 1, register('alice', O[1]), [O[1]]),
    reason: 'NAME_TAKEN',
    names: ['alice'],
    verifies: 0,
  },
  {
    name: 'order: NAME_TAKEN before BAD_SIGNATURE (the new owner did not sign either)',
    setup: aliceByO1,
    tx: () => nameTx(0, 0, register('alice', O[2]), [O[0]]),
    reason: 'NAME_TAKEN',
    names: ['alice'],
    verifies: 0,
  },
  {
    name: 'BAD_SIGNATURE: register for another key, signed by the payer only',
    tx: () => nameTx(0, 0, register('bob', O[1]), [O[0]]),
    reason: 'BAD_SIGNATURE',
    names: ['bob'],
    verifies: 0,
  },
  {
    name: 'BAD_SIGNATURE: register signed by the new owner only, not the input owner',
    tx: () => nameTx(0, 0, register('bob', O[1]), [O[1]]),
    reason: 'BAD_SIGNATURE',
    names: ['bob'],
    verifies: 0,
  },
  {
    name: 'BAD_SIGNATURE: register signed by the payer and a stranger instead of the owner',
    tx: () => nameTx(0, 0, register('bob', O[1]), [O[0], O[2]]),
    reason: 'BAD_SIGNATURE',
    names: ['bob'],
    verifies: 0,
  },
  {
    name: "BAD_SIGNATURE: register with the owner's signature of another transaction",
    tx: () => {
      const t = nameTx(0, 0, register('bob', O[1]), [O[0], O[1]]);
      const other = nameTx(0, 1, register('bob', O[1]), [O[0], O[1]]);
      const theirs = other.tx.signatures.find((s) => hex(s.publicKey) === hex(O[1].pk))!;
      const signatures = t.tx.signatures.map((s) =>
        hex(s.publicKey) === hex(O[1].pk) ? theirs : s,
      );
      return { ...t, bytes: encodeSigned(t, signatures) };
    },
    reason: 'BAD_SIGNATURE',
    names: ['bob'],
    // Both signers are the required ones, checked in public-key order up to
    // the first that fails: the owner's.
    verifies: hex(O[1].pk) < hex(O[0].pk) ? 1 : 2,
  },
  {
    name: "BAD_SIGNATURE: transfer signed by the input owner, not by the name's owner",
    setup: aliceByO1,
    tx: () => nameTx(0, 0, transfer('alice', O[2]), [O[0]]),
    reason: 'BAD_SIGNATURE',
    names: ['alice'],
    verifies: 0,
  },
  {
    name: 'BAD_SIGNATURE: transfer signed by the input owner and the new owner, not the current one',
    setup: aliceByO1,
    tx: () => nameTx(0, 0, transfer('alice', O[2]), [O[0], O[2]]),
    reason: 'BAD_SIGNATURE',
    names: ['alice'],
    verifies: 0,
  },
  {
    name: "BAD_SIGNATURE: release signed by the input owner, not by the name's owner",
    setup: aliceByO1,
    tx: () => nameTx(0, 0, release('alice'), [O[0]]),
    reason: 'BAD_SIGNATURE',
    names: ['alice'],
    verifies: 0,
  },
  {
    name: 'BAD_SIGNATURE: a validator name transferred without the validator',
    tx: () => nameTx(0, 0, transfer('v1', O[0]), [O[0]]),
    reason: 'BAD_SIGNATURE',
    names: ['v1'],
    verifies: 0,
  },
  {
    name: 'NOT_NAME_OWNER: transfer of a name nobody holds',
    tx: () => nameTx(0, 0, transfer('nobody', O[1]), [O[0]]),
    reason: 'NOT_NAME_OWNER',
    names: ['nobody'],
    verifies: 0,
  },
  {
    name: 'NOT_NAME_OWNER: release of a name nobody holds',
    tx: () => nameTx(0, 0, release('nobody'), [O[0]]),
    reason: 'NOT_NAME_OWNER',
    names: ['nobody'],
    verifies: 0,
  },
  {
    name: 'NOT_NAME_OWNER: release of a name released in an earlier block',
    setup: () => [...aliceByO1(), [nameTx(1, 1, release('alice'), [O[1]])]],
    tx: () => nameTx(1, 2, release('alice'), [O[1]]),
    reason: 'NOT_NAME_OWNER',
    names: ['alice'],
    verifies: 0,
  },
  {
    name: 'FEE_TOO_LOW: a registration one unit below the name fee',
    tx: () => nameTx(0, 0, register('bob', O[0]), [O[0]], { fee: NAME_FEE - 1n }),
    reason: 'FEE_TOO_LOW',
    names: ['bob'],
    verifies: 0,
  },
  {
    name: 'FEE_TOO_LOW: a registration paying only minFee',
    tx: () => nameTx(0, 0, register('bob', O[0]), [O[0]], { fee: MIN_FEE }),
    reason: 'FEE_TOO_LOW',
    names: ['bob'],
    verifies: 0,
  },
  {
    name: 'order: FEE_TOO_LOW before NAME_RESERVED',
    tx: () => nameTx(0, 0, register('root', O[0]), [O[0]], { fee: MIN_FEE }),
    reason: 'FEE_TOO_LOW',
    names: ['root'],
    verifies: 0,
  },
  {
    name: 'order: UNBALANCED before BAD_NAME',
    tx: () => nameTx(0, 0, register('Bob', O[0]), [O[0]], { unbalanced: true }),
    reason: 'UNBALANCED',
    names: ['Bob', 'bob'],
    verifies: 0,
  },
  {
    name: 'order: UNKNOWN_INPUT before NOT_NAME_OWNER',
    tx: () =>
      buildTx(
        chainId,
        [{ txHash: chainId, index: 3 * COINS_EACH }],
        [{ amount: COIN - MIN_FEE, owner: O[0].pk, host: V[0].id }],
        [O[0]],
        { fee: MIN_FEE, name: release('nobody') },
      ),
    reason: 'UNKNOWN_INPUT',
    names: ['nobody'],
    verifies: 0,
  },
];

/** `t`'s body with `signatures` (already sorted by public key). */
function encodeSigned(t: Built, signatures: Built['tx']['signatures']): Uint8Array {
  return encodeTx({ body: t.tx.body, signatures });
}

for (const c of rejections) {
  test(`rejected: ${c.name}`, async () => {
    const store = createMemoryStore();
    const l = await open(store);
    // Block 0 writes epoch 1's table (its snapshot round is 0): an empty one
    // first, so that the block under test writes only what its transaction does.
    assert.equal((await commitBlock(l, 0, [])).epochs, [1]);
    let height = 0;
    for (const txs of c.setup?.() ?? []) {
      height++;
      assert.equal(
        await run(l, height, txs),
        txs.map(() => 'committed'),
        'setup',
      );
    }
    const before = await Promise.all(c.names.map((n) => nameState(l, n)));
    const rootBefore = l.stateRoot();
    const t = c.tx();
    const input = await l.getOutput(t.tx.body.inputs[0]!);
    // The mempool's check and the block agree.
    const check = await l.checkTx(t.bytes);
    assert.is(check.ok ? 'committed' : check.reason, c.reason, 'checkTx');
    verifyCalls = 0;
    const r = await commitBlock(l, height + 1, [t.bytes]);
    assert.equal(r.receipts.map(outcome), [c.reason]);
    assert.is(hex(r.receipts[0]!.txHash), hex(t.hash));
    if (c.verifies !== undefined) assert.is(verifyCalls, c.verifies, 'verify calls');
    // Every name as it was, proven under the new root; and under the old one still.
    const after = await Promise.all(c.names.map((n) => nameState(l, n)));
    assert.equal(after, before);
    assert.equal(await Promise.all(c.names.map((n) => nameState(l, n, height))), before);
    // Nothing else changed either: the state is the one before plus, when
    // the input was found, its owner's history entry (docs/PROTOCOL.md 6.7).
    const found = c.reason !== 'FEE_TOO_LOW' && c.reason !== 'UNKNOWN_INPUT';
    assert.is(input !== undefined, c.reason !== 'UNKNOWN_INPUT');
    const added = found
      ? [historyEntry(input!.owner, height + 1, 0, ['input'], r.receipts[0]!)]
      : [];
    const expected = [...(await stateEntries(store, rootBefore)), ...added];
    assert.is(hex(await rootOf(expected)), hex(l.stateRoot()));
  });
}

test('the reserved names are the documented ones', () => {
  assert.equal([...RESERVED_NAMES].sort(), [...RESERVED].sort());
});

// --- committed operations -----------------------------------------------------------------------

test('genesis: each validator owns its display name if it is a valid one; the lower validatorId wins a duplicate', async () => {
  const l = await open();
  assert.equal(await nameState(l, 'v0'), owned(V[0], 0));
  assert.equal(await nameState(l, 'v1'), owned(V[1], 0));
  assert.equal(await nameState(l, 'dup'), owned(dupOwner, 0));
  // Not a name, or reserved: no record, under either spelling.
  for (const n of ['Validator Two', 'validator two', 'validator-two', 'admin']) {
    assert.is(await nameState(l, n), null, n);
  }
  // A block of plain transfers leaves them as they were; the genesis state proves them too.
  const pay = buildTx(
    chainId,
    [coin(0, 0)],
    [{ amount: COIN - MIN_FEE, owner: O[1].pk, host: V[0].id }],
    [O[0]],
    { fee: MIN_FEE },
  );
  assert.equal(await run(l, 0, [pay]), ['committed']);
  assert.equal(await nameState(l, 'v0'), owned(V[0], 0));
  assert.equal(await nameState(l, 'v0', null), owned(V[0], 0));
});

test('register a free name: its record at the block height, proven; a free name proven absent', async () => {
  const l = await open();
  assert.is(await nameState(l, 'alice'), null);
  const t = nameTx(0, 0, register('alice', O[1]), [O[0], O[1]]);
  verifyCalls = 0;
  assert.equal(await run(l, 3, [t]), ['committed']);
  assert.is(verifyCalls, 2);
  assert.equal(await nameState(l, 'alice'), owned(O[1], 3));
  // The proof shows exactly that record: another owner or height does not verify.
  const p = await l.proveName('alice');
  const key = nameKeyOf('alice');
  assert.not.ok(verifyTrieInclusion(p.stateRoot, key, nameValueOf('alice', O[0].pk, 3), p.proof));
  assert.not.ok(verifyTrieInclusion(p.stateRoot, key, nameValueOf('alice', O[1].pk, 2), p.proof));
  // A free name: its exclusion proof verifies, and is no proof for a taken one.
  const free = await l.proveName('bob');
  assert.is(free.record, undefined);
  assert.ok(verifyTrieExclusion(free.stateRoot, nameKeyOf('bob'), free.proof));
  assert.not.ok(verifyTrieExclusion(free.stateRoot, key, free.proof));
  // Before the block, alice was free: proven against the genesis root.
  assert.is(await nameState(l, 'alice', null), null);
  // The name fee is burned with the rest.
  assert.is(l.burned(), NAME_FEE);
});

test('register: the shortest and longest names, digits, - and _; the payer as owner signs once; exactly the name fee', async () => {
  const l = await open();
  const names = ['ab', 'z'.repeat(32), '0-x_', '9lives', 'a--', 'b__'];
  const txs = names.map((n, i) => nameTx(0, i, register(n, O[0]), [O[0]]));
  verifyCalls = 0;
  assert.equal(
    await run(l, 0, txs),
    names.map(() => 'committed'),
  );
  assert.is(verifyCalls, names.length);
  for (const n of names) assert.equal(await nameState(l, n), owned(O[0], 0), n);
  assert.is(l.burned(), NAME_FEE * BigInt(names.length));
});

test('two registrations of one name in ONE block: the first wins, the second is NAME_TAKEN', async () => {
  const l = await open();
  const first = nameTx(0, 0, register('carol', O[0]), [O[0]]);
  const second = nameTx(1, 0, register('carol', O[1]), [O[1]]);
  assert.equal(await run(l, 4, [first, second]), ['committed', 'NAME_TAKEN']);
  assert.equal(await nameState(l, 'carol'), owned(O[0], 4));
  // The loser's coin is unspent, its fee not burned.
  assert.is(l.burned(), NAME_FEE);
  assert.ok(await l.getOutput(coin(1, 0)));
});

test('in block order: register, release, register again in one block; the last owner holds it', async () => {
  const l = await open();
  const txs = [
    nameTx(0, 0, register('erin', O[0]), [O[0]]),
    nameTx(1, 0, register('erin', O[1]), [O[1]]),
    nameTx(0, 1, release('erin'), [O[0]]),
    nameTx(1, 1, register('erin', O[1]), [O[1]]),
    nameTx(2, 0, register('erin', O[2]), [O[2]]),
  ];
  assert.equal(await run(l, 2, txs), [
    'committed',
    'NAME_TAKEN',
    'committed',
    'committed',
    'NAME_TAKEN',
  ]);
  assert.equal(await nameState(l, 'erin'), owned(O[1], 2));
});

test('two registrations of one name in CONSECUTIVE blocks: the later one is NAME_TAKEN', async () => {
  const l = await open();
  assert.equal(await run(l, 1, [nameTx(0, 0, register('dave', O[0]), [O[0]])]), ['committed']);
  assert.equal(await run(l, 2, [nameTx(1, 0, register('dave', O[1]), [O[1]])]), ['NAME_TAKEN']);
  assert.equal(await nameState(l, 'dave'), owned(O[0], 1));
  assert.equal(await nameState(l, 'dave', 1), owned(O[0], 1));
});

test('transfer by the owner: the record moves, sinceHeight is the transfer block; a third party may pay', async () => {
  const l = await open();
  assert.equal(await run(l, 1, aliceByO1()[0]!), ['committed']);
  // The owner pays and signs, with minFee (no name fee for a transfer).
  assert.equal(await run(l, 4, [nameTx(1, 1, transfer('alice', O[2]), [O[1]])]), ['committed']);
  assert.equal(await nameState(l, 'alice'), owned(O[2], 4));
  assert.equal(await nameState(l, 'alice', 1), owned(O[1], 1));
  // Now O0 pays and O2, the owner, signs: it goes back to O1.
  assert.equal(await run(l, 6, [nameTx(0, 0, transfer('alice', O[1]), [O[0], O[2]])]), [
    'committed',
  ]);
  assert.equal(await nameState(l, 'alice'), owned(O[1], 6));
  // The former owner can no longer move it.
  assert.equal(await run(l, 7, [nameTx(2, 0, transfer('alice', O[2]), [O[2]])]), ['BAD_SIGNATURE']);
  assert.equal(await nameState(l, 'alice'), owned(O[1], 6));
  // A genesis validator gives its name away (someone else pays the fee).
  assert.equal(await run(l, 8, [nameTx(0, 1, transfer('v1', O[0]), [O[0], V[1]])]), ['committed']);
  assert.equal(await nameState(l, 'v1'), owned(O[0], 8));
  assert.is(l.burned(), NAME_FEE + 3n * MIN_FEE);
});

test('release by the owner: the record is gone (exclusion proof), the old state still proves it, and the name is free again', async () => {
  const l = await open();
  assert.equal(await run(l, 1, aliceByO1()[0]!), ['committed']);
  assert.equal(await run(l, 5, [nameTx(1, 1, release('alice'), [O[1]])]), ['committed']);
  assert.is(await nameState(l, 'alice'), null);
  assert.equal(await nameState(l, 'alice', 1), owned(O[1], 1));
  assert.equal(await run(l, 6, [nameTx(2, 0, register('alice', O[2]), [O[2]])]), ['committed']);
  assert.equal(await nameState(l, 'alice'), owned(O[2], 6));
});

test('a validator re-registering under another display name keeps its name record', async () => {
  const l = await open();
  const t = buildTx(
    chainId,
    [coin(0, 0)],
    [{ amount: COIN - MIN_FEE, owner: O[0].pk, host: V[0].id }],
    [O[0], V[0]],
    { fee: MIN_FEE, register: { pubkey: V[0].pk, name: 'zero', p2p: '10.0.0.1:9000' } },
  );
  assert.equal(await run(l, 0, [t]), ['committed']);
  assert.is(l.registration(V[0].id)?.name, 'zero');
  assert.equal(await nameState(l, 'v0'), owned(V[0], 0));
  assert.is(await nameState(l, 'zero'), null);
});

test('names survive a reopen of the store: same root, same records', async () => {
  const store = createMemoryStore();
  const l = await open(store);
  assert.equal(await run(l, 1, aliceByO1()[0]!), ['committed']);
  assert.equal(await run(l, 2, [nameTx(0, 0, register('bob', O[0]), [O[0]])]), ['committed']);
  assert.equal(await run(l, 3, [nameTx(0, 1, release('bob'), [O[0]])]), ['committed']);
  const again = await open(store);
  assert.is(hex(again.stateRoot()), hex(l.stateRoot()));
  for (const n of ['alice', 'bob', 'v0', 'dup']) {
    assert.equal(await nameState(again, n), await nameState(l, n), n);
  }
  assert.equal(await nameState(again, 'alice'), owned(O[1], 1));
});

test.run();
