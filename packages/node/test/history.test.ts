// The key history index (docs/PROTOCOL.md 6.7): which keys a transaction
// writes entries under and with which roles (a transfer with change, a
// registration, each name operation, multi-owner inputs), what a rejected
// transaction writes (only the owners of the inputs found before it was
// refused, with its reason), range queries against a brute-force model on
// scripted and random block streams with their range proofs, `limit`
// (the newest entries, the range narrowed to the oldest kept), older
// states, tampered answers refused by `verifyTrieRange`, and misuse.
import { createMemoryStore, type TrieEntry, verifyTrieRange } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  type Genesis,
  type NameOp,
  type Outpoint,
  type Output,
  type Receipt,
  type RejectReason,
} from '@pos/protocol';
import { hex } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLedger, type Ledger, LedgerError, type LedgerOpts } from '../src/chain/ledger.js';
import { type Key, O, verify as strictVerify, V } from './epoch-fixture.js';
import {
  type Built,
  buildTx,
  commitBlock,
  entryHex,
  historyEntry,
  historyKey,
  outcome,
  ROLE_ORDER,
  type Role,
  rootOf,
  stateEntries,
} from './index-fixture.js';

// --- fixture --------------------------------------------------------------------------

const verify: LedgerOpts['verify'] = (pk, msg, sig) => strictVerify(pk, msg, sig);

const MIN_FEE = 2n;
const NAME_FEE = 101n * MIN_FEE;
const COIN = 1000n;
const COINS_EACH = 8;
/** Every key that can appear in a history here. */
const KEYS: readonly Key[] = [...O, ...V];

/** V0 `v0` and V1 `v1` are genesis validators (and own those names); O0..O2 hold eight coins each. */
const genesis: Genesis = createGenesis({
  chainName: 'history-test',
  genesisTime: 1_700_000_000_000,
  params: { minFee: MIN_FEE, lag: 2, epoch: 1000 },
  validators: [
    { pubkey: V[0].pk, name: 'v0', p2p: '127.0.0.1:9000' },
    { pubkey: V[1].pk, name: 'v1', p2p: '127.0.0.1:9001' },
  ],
  outputs: O.flatMap((k) =>
    Array.from({ length: COINS_EACH }, () => ({ amount: COIN, owner: k.pk, host: V[0].id })),
  ),
});
const chainId = chainIdOf(genesis);
const coin = (o: 0 | 1 | 2, i: number): Outpoint => ({
  txHash: chainId,
  index: o * COINS_EACH + i,
});
const out = (amount: bigint, k: Key): Output => ({ amount, owner: k.pk, host: V[0].id });

const open = (store = createMemoryStore()) => createLedger({ genesis, verify, store });

/** One expected history entry of a key. */
interface Want {
  key: Key;
  height: number;
  index: number;
  roles: Role[];
}

/** The entry `w` as the ledger must write it, with the block's receipt. */
const entryOf = (w: Want, receipts: readonly Receipt[]): TrieEntry =>
  historyEntry(w.key.pk, w.height, w.index, w.roles, receipts[w.index]!);

/**
 * Applies a block and checks the history of every key it touched against
 * `want` (and that every other key got nothing): the entries, the decoded
 * records, and the range proof. Returns the receipts.
 */
async function blockWithHistory(
  l: Ledger,
  height: number,
  txs: readonly (Built | Uint8Array)[],
  want: Omit<Want, 'height'>[],
): Promise<Receipt[]> {
  const r = await commitBlock(
    l,
    height,
    txs.map((t) => (t instanceof Uint8Array ? t : t.bytes)),
  );
  for (const k of KEYS) {
    const mine = want
      .filter((w) => w.key === k)
      .map((w) => ({ ...w, height }))
      .sort((a, b) => a.index - b.index);
    const p = await l.proveHistory(k.pk, { fromHeight: height, toHeight: height });
    assert.equal(
      entryHex(p.entries),
      entryHex(mine.map((w) => entryOf(w, r.receipts))),
      `history of ${hex(k.pk).slice(0, 8)} at ${height}`,
    );
    assert.equal(
      p.records.map((x) => [x.height, x.index, [...x.roles], x.status, x.reason, hex(x.txHash)]),
      mine.map((w) => {
        const rc = r.receipts[w.index]!;
        return [
          height,
          w.index,
          ROLE_ORDER.filter((role) => w.roles.includes(role)),
          rc.status,
          rc.reason,
          hex(rc.txHash),
        ];
      }),
    );
    assert.ok(verifyTrieRange(l.stateRoot(), p.lo, p.hi, p.entries, p.proof));
  }
  return r.receipts;
}

/** A transfer from `payer`'s coin `i`: `amounts` to `to`, the rest (less the fee) back as change. */
function pay(
  payer: 0 | 1 | 2,
  i: number,
  to: [bigint, Key][],
  opts: { signers?: Key[]; fee?: bigint; name?: NameOp; register?: Key } = {},
): Built {
  const fee = opts.fee ?? (opts.name?.op === 'register' ? NAME_FEE : MIN_FEE);
  const sent = to.reduce((s, [a]) => s + a, 0n);
  const outputs = [...to.map(([a, k]) => out(a, k)), out(COIN - fee - sent, O[payer])];
  const signers = opts.signers ?? [O[payer]];
  return buildTx(chainId, [coin(payer, i)], outputs, signers, {
    fee,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.register === undefined
      ? {}
      : { register: { pubkey: opts.register.pk, name: 'val', p2p: '10.0.0.1:9000' } }),
  });
}

// --- which keys, which roles --------------------------------------------------------------------

test('a transfer A -> B with change: A has {input, output}, B {output}, nobody else anything', async () => {
  const l = await open();
  const t = pay(0, 0, [[300n, O[1]]]);
  const r = await blockWithHistory(
    l,
    5,
    [t],
    [
      { key: O[0], index: 0, roles: ['input', 'output'] },
      { key: O[1], index: 0, roles: ['output'] },
    ],
  );
  assert.equal(r.map(outcome), ['committed']);
  // Without change, and to two keys: the sender is input only.
  const all = buildTx(chainId, [coin(1, 0)], [out(500n, O[0]), out(498n, O[2])], [O[1]], {
    fee: MIN_FEE,
  });
  await blockWithHistory(
    l,
    6,
    [all],
    [
      { key: O[1], index: 0, roles: ['input'] },
      { key: O[0], index: 0, roles: ['output'] },
      { key: O[2], index: 0, roles: ['output'] },
    ],
  );
});

test('multi-owner inputs: each owner one input entry; a key paid twice in a transaction has one entry', async () => {
  const l = await open();
  const t = buildTx(
    chainId,
    [coin(0, 0), coin(1, 0), coin(0, 1)],
    [out(1000n, O[2]), out(998n, O[2]), out(1000n, O[1])],
    [O[0], O[1]],
    { fee: MIN_FEE },
  );
  await blockWithHistory(
    l,
    0,
    [t],
    [
      { key: O[0], index: 0, roles: ['input'] },
      { key: O[1], index: 0, roles: ['input', 'output'] },
      { key: O[2], index: 0, roles: ['output'] },
    ],
  );
});

test('a registration writes the registered key (registered) beside the payer', async () => {
  const l = await open();
  await blockWithHistory(
    l,
    1,
    [
      pay(0, 0, [], { register: V[2], signers: [O[0], V[2]] }),
      pay(1, 0, [], { register: O[1] }),
      // A genesis validator re-registering, paid for it by O2, paying V3.
      pay(2, 0, [[10n, V[3]]], { register: V[0], signers: [O[2], V[0]] }),
    ],
    [
      { key: O[0], index: 0, roles: ['input', 'output'] },
      { key: V[2], index: 0, roles: ['registered'] },
      { key: O[1], index: 1, roles: ['input', 'output', 'registered'] },
      { key: O[2], index: 2, roles: ['input', 'output'] },
      { key: V[3], index: 2, roles: ['output'] },
      { key: V[0], index: 2, roles: ['registered'] },
    ],
  );
});

test('name operations write their parties: the new owner, the old and new owner, the releaser', async () => {
  const l = await open();
  const r = await blockWithHistory(
    l,
    2,
    [
      // O0 pays for O1's name; O2 registers its own.
      pay(0, 0, [], {
        name: { op: 'register', name: 'alice', owner: O[1].pk },
        signers: [O[0], O[1]],
      }),
      pay(2, 0, [], { name: { op: 'register', name: 'carol', owner: O[2].pk } }),
      // O0 pays for the transfer of alice from O1 to O2 (O1 signs).
      pay(0, 1, [], {
        name: { op: 'transfer', name: 'alice', owner: O[2].pk },
        signers: [O[0], O[1]],
      }),
      // O2 releases carol, paying V3 too.
      pay(2, 1, [[5n, V[3]]], { name: { op: 'release', name: 'carol' } }),
      // V0 gives its genesis name to O1; O1 pays.
      pay(1, 0, [], {
        name: { op: 'transfer', name: 'v0', owner: O[1].pk },
        signers: [O[1], V[0]],
      }),
    ],
    [
      { key: O[0], index: 0, roles: ['input', 'output'] },
      { key: O[1], index: 0, roles: ['name'] },
      { key: O[2], index: 1, roles: ['input', 'output', 'name'] },
      { key: O[0], index: 2, roles: ['input', 'output'] },
      { key: O[1], index: 2, roles: ['name'] },
      { key: O[2], index: 2, roles: ['name'] },
      { key: O[2], index: 3, roles: ['input', 'output', 'name'] },
      { key: V[3], index: 3, roles: ['output'] },
      { key: O[1], index: 4, roles: ['input', 'output', 'name'] },
      { key: V[0], index: 4, roles: ['name'] },
    ],
  );
  assert.equal(r.map(outcome), ['committed', 'committed', 'committed', 'committed', 'committed']);
});

// --- rejected transactions ----------------------------------------------------------------------

test('rejected transactions write only the owners of the inputs found before the refusal, with the reason; nothing else changes', async () => {
  const l = await open();
  // Block 0 writes epoch 1's table; block 1 gives O0 the name alice.
  await commitBlock(l, 0, []);
  await blockWithHistory(
    l,
    1,
    [pay(0, 7, [], { name: { op: 'register', name: 'alice', owner: O[0].pk } })],
    [{ key: O[0], index: 0, roles: ['input', 'output', 'name'] }],
  );
  const before = l.stateRoot();
  const unknown: Outpoint = { txHash: new Uint8Array(32).fill(9), index: 0 };
  const txs: (Built | Uint8Array)[] = [
    // 0 MALFORMED, 1 WRONG_CHAIN, 2 FEE_TOO_LOW, 3 UNKNOWN_INPUT first: nothing.
    Uint8Array.of(1, 2, 3),
    buildTx(new Uint8Array(32).fill(7), [coin(0, 0)], [out(998n, O[1])], [O[0]], { fee: 2n }),
    buildTx(chainId, [coin(0, 0)], [out(999n, O[1])], [O[0]], { fee: 1n }),
    buildTx(chainId, [unknown, coin(0, 0)], [out(998n, O[1])], [O[0]], { fee: 2n }),
    // 4 a good spend of O2's coin 0 (so that 6 can find it spent).
    pay(2, 0, [[100n, O[1]]]),
    // 5 UNKNOWN_INPUT after O0's good input: O0.
    buildTx(chainId, [coin(0, 0), unknown], [out(998n, O[1])], [O[0]], { fee: 2n }),
    // 6 INPUT_SPENT after O1's good input: O1 (not O2, whose coin it was).
    buildTx(chainId, [coin(1, 0), coin(2, 0)], [out(1998n, O[1])], [O[1], O[2]], { fee: 2n }),
    // 7 UNBALANCED over O0's and O1's coins: both.
    buildTx(chainId, [coin(0, 0), coin(1, 0)], [out(1999n, O[2])], [O[0], O[1]], { fee: 2n }),
    // 8 BAD_SIGNATURE paying O2: O0 only, never the payee.
    pay(0, 0, [[500n, O[2]]], { signers: [O[1]] }),
    // 9 a registration V2 did not sign: O0 only, never V2.
    pay(0, 0, [], { register: V[2], signers: [O[0]] }),
    // 10 NAME_TAKEN (O1 registers alice for O2): O1 only.
    pay(1, 0, [], {
      name: { op: 'register', name: 'alice', owner: O[2].pk },
      signers: [O[1], O[2]],
    }),
    // 11 BAD_NAME: O1.
    pay(1, 0, [], { name: { op: 'register', name: 'Alice', owner: O[1].pk } }),
    // 12 NAME_RESERVED: O1.
    pay(1, 0, [], { name: { op: 'register', name: 'root', owner: O[1].pk } }),
    // 13 NOT_NAME_OWNER: O1.
    pay(1, 0, [], { name: { op: 'release', name: 'bob' } }),
    // 14 a transfer of alice (O0's) by O1 alone: BAD_SIGNATURE under O1 only, not O0 or O2.
    pay(1, 0, [], { name: { op: 'transfer', name: 'alice', owner: O[2].pk } }),
    // 15 a second spend of O2's coin 0, first input: nothing.
    pay(2, 0, [[1n, O[0]]]),
  ];
  const want: Omit<Want, 'height'>[] = [
    { key: O[2], index: 4, roles: ['input', 'output'] },
    { key: O[1], index: 4, roles: ['output'] },
    { key: O[0], index: 5, roles: ['input'] },
    { key: O[1], index: 6, roles: ['input'] },
    { key: O[0], index: 7, roles: ['input'] },
    { key: O[1], index: 7, roles: ['input'] },
    { key: O[0], index: 8, roles: ['input'] },
    { key: O[0], index: 9, roles: ['input'] },
    ...[10, 11, 12, 13, 14].map((index) => ({ key: O[1], index, roles: ['input'] as Role[] })),
  ];
  const r = await blockWithHistory(l, 2, txs, want);
  const reasons: (RejectReason | 'committed')[] = [
    'MALFORMED',
    'WRONG_CHAIN',
    'FEE_TOO_LOW',
    'UNKNOWN_INPUT',
    'committed',
    'UNKNOWN_INPUT',
    'INPUT_SPENT',
    'UNBALANCED',
    'BAD_SIGNATURE',
    'BAD_SIGNATURE',
    'NAME_TAKEN',
    'BAD_NAME',
    'NAME_RESERVED',
    'NOT_NAME_OWNER',
    'BAD_SIGNATURE',
    'INPUT_SPENT',
  ];
  assert.equal(r.map(outcome), reasons);
  // The rejections change nothing but their entries: without transaction 4,
  // the same block leaves the state before it plus exactly those entries.
  const twinStore = createMemoryStore();
  const twin = await open(twinStore);
  await commitBlock(twin, 0, []);
  await commitBlock(twin, 1, [
    pay(0, 7, [], { name: { op: 'register', name: 'alice', owner: O[0].pk } }).bytes,
  ]);
  assert.is(hex(twin.stateRoot()), hex(before));
  const rejected = txs.map((t) => (t instanceof Uint8Array ? t : t.bytes));
  rejected[4] = Uint8Array.of(0); // MALFORMED in its place: same indexes, no entry
  rejected[6] = buildTx(chainId, [coin(1, 0)], [out(997n, O[1])], [O[1]], { fee: 2n }).bytes; // UNBALANCED, O1 input
  rejected[15] = Uint8Array.of(0);
  const tr = await commitBlock(twin, 2, rejected);
  assert.ok(tr.receipts.every((x) => x.status === 'rejected'));
  const entries = want
    .filter((w) => w.index !== 4)
    .map((w) => entryOf({ ...w, height: 2 }, tr.receipts));
  const expected = [...(await stateEntries(twinStore, before)), ...entries];
  assert.is(hex(await rootOf(expected)), hex(twin.stateRoot()));
});

// --- queries against a model ---------------------------------------------------------------------

/** What the test expects each key's history to be, built from the blocks it applied. */
class Model {
  private readonly outs = new Map<string, { owner: Uint8Array; spent: boolean }>();
  private readonly names = new Map<string, Uint8Array>([
    ['v0', V[0].pk],
    ['v1', V[1].pk],
  ]);
  /** Every entry: key hex → entries in (height, index) order. */
  readonly entries = new Map<string, TrieEntry[]>();
  /** Kinds of committed transactions seen (`transfer`, `register`, `name:<op>`). */
  readonly kinds = new Set<string>();

  constructor() {
    genesis.outputs.forEach((o, index) => {
      this.outs.set(`${hex(chainId)}:${index}`, { owner: o.owner, spent: false });
    });
  }

  /** Unspent outpoints, with their owners (creation order). */
  unspent(): { outpoint: Outpoint; owner: Uint8Array }[] {
    const res: { outpoint: Outpoint; owner: Uint8Array }[] = [];
    for (const [k, v] of this.outs) {
      if (v.spent) continue;
      const [h, i] = k.split(':') as [string, string];
      res.push({ outpoint: { txHash: Buffer.from(h, 'hex'), index: Number(i) }, owner: v.owner });
    }
    return res;
  }

  nameOwner(name: string): Uint8Array | undefined {
    return this.names.get(name);
  }

  /**
   * Records one block from its transactions and the ledger's receipts: the
   * model decides the keys and roles (docs/PROTOCOL.md 6.7), the receipts
   * the outcomes; where the model can tell (an input unknown or spent), the
   * receipt must agree.
   */
  apply(height: number, txs: readonly (Built | null)[], receipts: readonly Receipt[]): void {
    txs.forEach((t, index) => {
      const rc = receipts[index]!;
      if (t === null) {
        assert.is(rc.reason, 'MALFORMED');
        return;
      }
      const { body } = t.tx;
      const touched = new Map<string, { pk: Uint8Array; roles: Set<Role> }>();
      const touch = (pk: Uint8Array, role: Role) => {
        const e = touched.get(hex(pk)) ?? { pk, roles: new Set<Role>() };
        e.roles.add(role);
        touched.set(hex(pk), e);
      };
      const fee = body.name?.op === 'register' ? NAME_FEE : MIN_FEE;
      const early =
        hex(body.chainId) !== hex(chainId) ? 'WRONG_CHAIN' : body.fee < fee ? 'FEE_TOO_LOW' : null;
      if (early !== null) {
        assert.is(rc.reason, early);
        return;
      }
      let failed: RejectReason | null = null;
      for (const p of body.inputs) {
        const o = this.outs.get(`${hex(p.txHash)}:${p.index}`);
        if (o === undefined || o.spent) {
          failed = o === undefined ? 'UNKNOWN_INPUT' : 'INPUT_SPENT';
          break;
        }
        touch(o.owner, 'input');
      }
      if (failed !== null) assert.is(rc.reason, failed);
      if (rc.status === 'committed') {
        for (const p of body.inputs) this.outs.get(`${hex(p.txHash)}:${p.index}`)!.spent = true;
        body.outputs.forEach((o, i) => {
          this.outs.set(`${hex(t.hash)}:${i}`, { owner: o.owner, spent: false });
          touch(o.owner, 'output');
        });
        if (body.register !== undefined) touch(body.register.pubkey, 'registered');
        const n = body.name;
        this.kinds.add(n === undefined ? 'transfer' : `name:${n.op}`);
        if (n !== undefined) {
          const current = this.names.get(n.name);
          if (n.op !== 'register') touch(current!, 'name');
          if (n.op === 'release') this.names.delete(n.name);
          else {
            touch(n.owner!, 'name');
            this.names.set(n.name, n.owner!);
          }
        }
      }
      for (const { pk, roles } of touched.values()) {
        const list = this.entries.get(hex(pk)) ?? [];
        list.push(historyEntry(pk, height, index, [...roles], rc));
        this.entries.set(hex(pk), list);
      }
    });
  }

  /** Brute force: `pk`'s entries with heights in [from, to], the newest `limit`. */
  query(pk: Uint8Array, from: number, to: number, limit: number): TrieEntry[] {
    const inRange = (this.entries.get(hex(pk)) ?? []).filter((e) => {
      const h = Number(new DataView(e.key.buffer, e.key.byteOffset).getBigUint64(32));
      return h >= from && h <= to;
    });
    return inRange.slice(Math.max(0, inRange.length - limit));
  }
}

/** `historyRange`'s bounds, written again: lo the first key of `from`, hi past the last of `to`. */
function rangeOf(pk: Uint8Array, from: number, to: number): { lo: Uint8Array; hi: Uint8Array } {
  const lo = historyKey(pk, from, 0);
  const hi = historyKey(pk, to, 0xffffffff);
  hi.fill(0xff, 44);
  return { lo, hi };
}

/** Checks one query against the model: entries, bounds, proof. */
async function checkQuery(
  l: Ledger,
  m: Model,
  k: Key,
  from: number,
  to: number,
  limit: number,
  height?: number,
): Promise<void> {
  const what = `${hex(k.pk).slice(0, 8)} [${from}, ${to}] limit ${limit} at ${height ?? 'latest'}`;
  const p = await l.proveHistory(k.pk, {
    fromHeight: from,
    toHeight: to,
    limit,
    ...(height === undefined ? {} : { height }),
  });
  const want = m.query(k.pk, from, to, limit);
  assert.equal(entryHex(p.entries), entryHex(want), what);
  assert.is(p.records.length, want.length);
  const range = rangeOf(k.pk, from, to);
  assert.is(hex(p.hi), hex(range.hi), what);
  const all = m.query(k.pk, from, to, Number.MAX_SAFE_INTEGER);
  // Narrowed to the oldest kept entry exactly when entries were left out.
  const lo = all.length > limit ? want[0]!.key : range.lo;
  assert.is(hex(p.lo), hex(lo), what);
  assert.is(hex(p.stateRoot), hex(await l.stateRootAt(height ?? l.height)));
  assert.ok(verifyTrieRange(p.stateRoot, p.lo, p.hi, p.entries, p.proof), what);
  if (all.length > limit) {
    // The proof is of the narrowed range: against the full one it fails.
    assert.not.ok(verifyTrieRange(p.stateRoot, range.lo, p.hi, p.entries, p.proof), what);
  }
}

/** A scripted stream: blocks at heights with gaps, every kind of entry. */
test('range queries: every [from, to] of every key, with limits and older states, equal the brute-force model', async () => {
  const l = await open();
  const m = new Model();
  const blocks: [number, () => (Built | null)[]][] = [
    [0, () => [pay(0, 0, [[100n, O[1]]]), pay(1, 0, [[50n, O[2]]])]],
    [
      2,
      () => [
        pay(0, 1, [], { name: { op: 'register', name: 'alice', owner: O[0].pk } }),
        pay(2, 0, [[10n, O[0]]], { signers: [O[1]] }), // BAD_SIGNATURE: O2 input
        null,
      ],
    ],
    [3, () => [pay(1, 1, [[1n, O[1]]], { register: V[2], signers: [O[1], V[2]] })]],
    [
      7,
      () => [
        pay(0, 2, [], { name: { op: 'transfer', name: 'alice', owner: O[2].pk } }),
        pay(2, 1, [
          [7n, O[0]],
          [8n, O[1]],
        ]),
        pay(2, 2, [], { name: { op: 'register', name: 'alice', owner: O[2].pk } }), // NAME_TAKEN
      ],
    ],
    [8, () => []],
    [
      11,
      () => [pay(2, 3, [], { name: { op: 'release', name: 'alice' } }), pay(0, 3, [[3n, O[2]]])],
    ],
  ];
  const applied: [number, (Built | null)[], Receipt[]][] = [];
  for (const [height, make] of blocks) {
    const txs = make();
    const r = await commitBlock(
      l,
      height,
      txs.map((t) => (t === null ? Uint8Array.of(9) : t.bytes)),
    );
    m.apply(height, txs, r.receipts);
    applied.push([height, txs, r.receipts]);
  }
  assert.equal(
    applied.map(([, , rs]) => rs.map(outcome)),
    [
      ['committed', 'committed'],
      ['committed', 'BAD_SIGNATURE', 'MALFORMED'],
      ['committed'],
      ['committed', 'committed', 'NAME_TAKEN'],
      [],
      ['committed', 'committed'],
    ],
  );
  assert.is(m.entries.get(hex(O[0].pk))?.length, 5);
  const heights = [0, 1, 2, 3, 5, 7, 8, 11, 12];
  for (const k of KEYS) {
    for (const from of heights) {
      for (const to of heights) {
        if (to < from) continue;
        for (const limit of [1, 2, 100]) await checkQuery(l, m, k, from, to, limit);
      }
    }
  }
  // Older states: the state at height h holds the model of the blocks up to h.
  for (const h of [0, 2, 7]) {
    const old = new Model();
    for (const [height, txs, receipts] of applied)
      if (height <= h) old.apply(height, txs, receipts);
    for (const k of KEYS) {
      await checkQuery(l, old, k, 0, h, 100, h);
      await checkQuery(l, old, k, 0, 12, 2, h);
    }
  }
});

// --- random streams ------------------------------------------------------------------------------

const arbChoice = fc.record({
  kind: fc.nat(99),
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  to: fc.array(fc.nat(KEYS.length - 1), { minLength: 0, maxLength: 2 }),
  who: fc.nat(KEYS.length - 1),
  name: fc.constantFrom('alice', 'alice', 'bob', 'v0', 'v1', 'Bad', 'root'),
});
type Choice = typeof arbChoice extends fc.Arbitrary<infer T> ? T : never;
const arbBlocks = fc.array(fc.array(arbChoice, { maxLength: 5 }), { minLength: 1, maxLength: 6 });

const keyOfPk = (pk: Uint8Array): Key => KEYS.find((k) => hex(k.pk) === hex(pk))!;

/** A transaction from random choices against the model's unspent outputs (or null: malformed bytes). */
function intentOf(m: Model, c: Choice): Built | null {
  const k = c.kind;
  if (k < 3) return null;
  const pool = m.unspent();
  const chosen = new Map<string, { outpoint: Outpoint; owner: Uint8Array }>();
  for (const p of c.picks) {
    const x = pool[p % pool.length];
    if (x) chosen.set(`${hex(x.outpoint.txHash)}:${x.outpoint.index}`, x);
  }
  const ins = [...chosen.values()];
  const inputs = ins.map((x) => x.outpoint);
  // Some unknown inputs, first or last.
  if (k >= 90 && k < 93) inputs.unshift({ txHash: new Uint8Array(32).fill(k), index: 0 });
  if (k >= 93 && k < 96) inputs.push({ txHash: new Uint8Array(32).fill(k), index: 1 });
  if (inputs.length === 0) return null;
  let name: NameOp | undefined;
  const who = KEYS[c.who]!;
  if (k >= 35 && k < 50) name = { op: 'register', name: c.name, owner: who.pk };
  else if (k >= 50 && k < 58) name = { op: 'transfer', name: c.name, owner: who.pk };
  else if (k >= 58 && k < 68) name = { op: 'release', name: c.name };
  const fee = name?.op === 'register' ? NAME_FEE : MIN_FEE;
  const signers = new Map<string, Key>();
  for (const x of ins) signers.set(hex(x.owner), keyOfPk(x.owner));
  if (name !== undefined) {
    const signer = name.op === 'register' ? who : keyOfPk(m.nameOwner(c.name) ?? who.pk);
    if (k % 5 !== 0) signers.set(hex(signer.pk), signer); // sometimes the name's signer is missing
  }
  if (k >= 70 && k < 75 && signers.size > 1) signers.delete([...signers.keys()][0]!);
  if (signers.size === 0) signers.set(hex(O[0].pk), O[0]);
  const outputs = c.to.map((i) => out(1n, KEYS[i]!));
  return spendAll(inputs, outputs, [...signers.values()], fee, name, k >= 85 && k < 90);
}

/** Known amounts of the outpoints the stream creates (the model tracks owners only). */
const amounts = new Map<string, bigint>();
genesis.outputs.forEach((o, i) => {
  amounts.set(`${hex(chainId)}:${i}`, o.amount);
});

/**
 * Spends `inputs` into `outputs` plus one change output to the first signer
 * carrying the rest, so that the transaction balances when every input is
 * known (`unbalanced`: one unit too many).
 */
function spendAll(
  inputs: Outpoint[],
  outputs: Output[],
  signers: Key[],
  fee: bigint,
  name: NameOp | undefined,
  unbalanced: boolean,
): Built {
  const sumIn = inputs.reduce((s, p) => s + (amounts.get(`${hex(p.txHash)}:${p.index}`) ?? 0n), 0n);
  const sent = outputs.reduce((s, o) => s + o.amount, 0n);
  let change = sumIn - fee - sent + (unbalanced ? 1n : 0n);
  if (change < 1n) change = 1n;
  const all = [...outputs, out(change, signers[0]!)];
  const nSig = inputs.length + (name === undefined ? 0 : 1);
  const t = buildTx(chainId, inputs, all, signers.slice(0, nSig), {
    fee,
    ...(name === undefined ? {} : { name }),
  });
  all.forEach((o, i) => {
    amounts.set(`${hex(t.hash)}:${i}`, o.amount);
  });
  return t;
}

test('property: random streams: every key history equals the model in random ranges and limits, proven', async () => {
  const outcomes = new Set<string>();
  const kinds = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      arbBlocks,
      fc.array(fc.tuple(fc.nat(20), fc.nat(20), fc.integer({ min: 1, max: 6 })), {
        minLength: 3,
        maxLength: 6,
      }),
      async (blocks, queries) => {
        const l = await open();
        const m = new Model();
        let height = 0;
        for (const choices of blocks) {
          const txs = choices.map((c) => intentOf(m, c));
          const r = await commitBlock(
            l,
            height,
            txs.map((t) => (t === null ? Uint8Array.of(1, 2, 3) : t.bytes)),
          );
          for (const rc of r.receipts) outcomes.add(outcome(rc));
          m.apply(height, txs, r.receipts);
          height += 1 + (choices.length % 3);
        }
        for (const kind of m.kinds) kinds.add(kind);
        for (const k of KEYS) {
          await checkQuery(l, m, k, 0, height, 1000);
          for (const [a, b, limit] of queries) {
            await checkQuery(l, m, k, Math.min(a, b), Math.max(a, b), limit);
          }
        }
      },
    ),
    { numRuns: 30, seed: Number(process.env.PROPERTY_SEED ?? 20260611) },
  );
  // The streams had every kind of commit and most kinds of rejection (that
  // the entries were right for each is what the property checked).
  assert.equal([...kinds].sort(), ['name:register', 'name:release', 'name:transfer', 'transfer']);
  assert.equal([...outcomes].sort(), [
    'BAD_NAME',
    'BAD_SIGNATURE',
    'INPUT_SPENT',
    'MALFORMED',
    'NAME_RESERVED',
    'NAME_TAKEN',
    'NOT_NAME_OWNER',
    'UNBALANCED',
    'UNKNOWN_INPUT',
    'committed',
  ]);
});

// --- limit, tampering, misuse ----------------------------------------------------------------------

test('limit: the default keeps the newest 100 of 105 entries, lo narrowed to the oldest kept', async () => {
  const l = await open();
  // 105 chained self-transfers of O0 in one block, then one more block.
  const txs: Built[] = [];
  let prev = coin(0, 0);
  let amount = COIN;
  for (let i = 0; i < 105; i++) {
    amount -= MIN_FEE;
    const t = buildTx(chainId, [prev], [out(amount, O[0])], [O[0]], { fee: MIN_FEE });
    txs.push(t);
    prev = { txHash: t.hash, index: 0 };
  }
  const r = await commitBlock(
    l,
    4,
    txs.map((t) => t.bytes),
  );
  assert.ok(r.receipts.every((x) => x.status === 'committed'));
  const all = r.receipts.map((rc, i) => historyEntry(O[0].pk, 4, i, ['input', 'output'], rc));
  const p = await l.proveHistory(O[0].pk);
  assert.is(p.entries.length, 100);
  assert.equal(entryHex(p.entries), entryHex(all.slice(5)));
  assert.equal(
    p.records.map((x) => x.index),
    Array.from({ length: 100 }, (_, i) => i + 5),
  );
  assert.is(hex(p.lo), hex(historyKey(O[0].pk, 4, 5)));
  assert.ok(verifyTrieRange(p.stateRoot, p.lo, p.hi, p.entries, p.proof));
  // The full range with the same entries and proof does not verify: entries are missing from it.
  const full = rangeOf(O[0].pk, 0, 4);
  assert.is(hex(p.hi), hex(full.hi));
  assert.not.ok(verifyTrieRange(p.stateRoot, full.lo, p.hi, p.entries, p.proof));
  // A larger limit gets them all, over the whole range.
  const q = await l.proveHistory(O[0].pk, { limit: 1000 });
  assert.equal(entryHex(q.entries), entryHex(all));
  assert.is(hex(q.lo), hex(full.lo));
  assert.ok(verifyTrieRange(q.stateRoot, q.lo, q.hi, q.entries, q.proof));
  // limit 1: the newest; exactly 105: all, not narrowed.
  const one = await l.proveHistory(O[0].pk, { limit: 1 });
  assert.equal(entryHex(one.entries), entryHex(all.slice(104)));
  assert.is(hex(one.lo), hex(historyKey(O[0].pk, 4, 104)));
  const exact = await l.proveHistory(O[0].pk, { limit: 105 });
  assert.is(hex(exact.lo), hex(full.lo));
  assert.is(exact.entries.length, 105);
});

test('tampered answers fail verifyTrieRange: an entry dropped, added from another key, altered, reordered, moved out of range', async () => {
  const l = await open();
  await commitBlock(l, 1, [pay(0, 0, [[10n, O[1]]]).bytes, pay(1, 0, [[10n, O[0]]]).bytes]);
  await commitBlock(l, 3, [pay(0, 1, [[10n, O[2]]]).bytes]);
  const p = await l.proveHistory(O[0].pk);
  assert.is(p.entries.length, 3);
  const root = p.stateRoot;
  const ok = (es: TrieEntry[], lo = p.lo, hi = p.hi) => verifyTrieRange(root, lo, hi, es, p.proof);
  assert.ok(ok(p.entries));
  for (let i = 0; i < p.entries.length; i++) {
    assert.not.ok(ok(p.entries.filter((_, j) => j !== i)), `drop ${i}`);
  }
  // An entry of another key (O1's, or a made-up one of O2 at a height in range), inserted in order.
  const other = (await l.proveHistory(O[1].pk)).entries[0]!;
  const sorted = (es: TrieEntry[]) =>
    [...es].sort((a, b) => (hex(a.key) < hex(b.key) ? -1 : hex(a.key) > hex(b.key) ? 1 : 0));
  assert.not.ok(ok(sorted([...p.entries, other])));
  const fake = historyEntry(O[0].pk, 2, 0, ['output'], {
    status: 'committed',
    txHash: new Uint8Array(32).fill(1),
  });
  assert.not.ok(ok(sorted([...p.entries, fake])));
  // An altered value: roles, status, txHash.
  for (const byte of [1, 2, 4, 35]) {
    const altered = p.entries.map((e, i) => (i === 1 ? { key: e.key, value: e.value.slice() } : e));
    altered[1]!.value[byte]! ^= 1;
    assert.not.ok(ok(altered), `byte ${byte}`);
  }
  assert.not.ok(ok([p.entries[1]!, p.entries[0]!, p.entries[2]!]));
  // Another root (the state before the last block), or another range, with the same answer.
  assert.not.ok(verifyTrieRange(await l.stateRootAt(1), p.lo, p.hi, p.entries, p.proof));
  assert.not.ok(ok(p.entries, rangeOf(O[0].pk, 2, 3).lo));
  // An empty history is proven empty; claiming an entry for it fails.
  const none = await l.proveHistory(V[3].pk);
  assert.equal(none.entries, []);
  assert.ok(verifyTrieRange(none.stateRoot, none.lo, none.hi, [], none.proof));
  assert.not.ok(verifyTrieRange(none.stateRoot, none.lo, none.hi, [other], none.proof));
});

test('misuse: typed errors for a bad key, range, limit or height', async () => {
  const l = await open();
  await commitBlock(l, 2, [pay(0, 0, [[10n, O[1]]]).bytes]);
  const throws = async (fn: () => Promise<unknown>, code: string) => {
    try {
      await fn();
    } catch (e) {
      assert.instance(e, LedgerError);
      assert.is((e as LedgerError).code, code, (e as Error).message);
      return;
    }
    assert.unreachable(`expected ${code}`);
  };
  await throws(() => l.proveHistory(new Uint8Array(31)), 'BAD_ARGUMENT');
  await throws(() => l.proveHistory('00' as unknown as Uint8Array), 'BAD_ARGUMENT');
  await throws(() => l.proveHistory(O[0].pk, { fromHeight: 3, toHeight: 2 }), 'BAD_ARGUMENT');
  await throws(() => l.proveHistory(O[0].pk, { fromHeight: -1 }), 'BAD_ARGUMENT');
  await throws(() => l.proveHistory(O[0].pk, { fromHeight: 5 }), 'BAD_ARGUMENT'); // past the state's height 2
  await throws(() => l.proveHistory(O[0].pk, { limit: 0 }), 'BAD_ARGUMENT');
  await throws(() => l.proveHistory(O[0].pk, { limit: 1.5 }), 'BAD_ARGUMENT');
  await throws(() => l.proveHistory(O[0].pk, { height: 1 }), 'BAD_HEIGHT'); // no block at 1
  await throws(() => l.proveHistory(O[0].pk, { height: 3 }), 'BAD_HEIGHT'); // not committed
  await throws(() => l.proveHistory(O[0].pk, { height: -1 }), 'BAD_HEIGHT');
  // At genesis: nothing, proven.
  const g = await l.proveHistory(O[0].pk, { height: null });
  assert.is(g.height, null);
  assert.equal(g.entries, []);
  assert.ok(verifyTrieRange(g.stateRoot, g.lo, g.hi, g.entries, g.proof));
  assert.is(hex(g.stateRoot), hex(await l.stateRootAt(null)));
});

test.run();
