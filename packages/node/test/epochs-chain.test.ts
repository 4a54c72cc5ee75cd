import { createLevelStore, createMemoryStore, verifyTrieInclusion } from '@pos/merkle';
import {
  encodeValidatorSet,
  epochTableKey,
  type Output,
  type ValidatorSet,
  validatorIdOf,
  validatorSetHash,
} from '@pos/protocol';
import { fill } from '@pos/test-utils/bytes';
import { hex } from '@pos/test-utils/node-hash';
import type { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Chain, ChainError, openChain } from '../src/chain/chain.js';
import {
  Book,
  decided,
  EPOCH,
  EPOCH0,
  epochOf,
  expectedTables,
  makeGenesis,
  O,
  type OutSpec,
  referenceTable,
  type Snapshot,
  STEPS,
  type Step,
  setHex,
  snapOf,
  snapshotOf,
  T1,
  T2,
  T3,
  TV3,
  tableOf,
  V,
  verify,
  withLevelDir,
} from './epoch-fixture.js';

const genesis = makeGenesis();

const memChain = () =>
  openChain({
    genesis,
    ledger: { store: createMemoryStore(), verify },
    store: createMemoryStore(),
  });

async function throwsChain(fn: () => Promise<unknown>, code: string) {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, ChainError);
    assert.is((e as ChainError).code, code);
    return;
  }
  assert.unreachable(`expected ChainError ${code}`);
}

/** The scenario's blocks, then block 37: round 38 starts epoch 10, V3's table. */
const BLOCK_37: Step = { name: 'block 37', height: 37, txs: () => [], epochs: [], preview: null };
const ALL = [...STEPS, BLOCK_37];
/** The set each header commits to: that of its round + 1 (epochs 0, 1, 3, 3, 7, 7, 9, 9, 10). */
const HEADER_SETS: ValidatorSet[] = [EPOCH0, T1, T2, T2, T3, T3, T3, T3, TV3];

/** Applies the scenario to `chain`, checking each block; returns the writer height of each epoch. */
async function runScenario(chain: Chain, steps: readonly Step[], book: Book) {
  const writer = new Map<number, number>();
  const done: Step[] = [];
  for (const s of steps) {
    const i = ALL.indexOf(s);
    const r = await chain.applyDecided(
      decided(
        s.height,
        s.txs(book).map((t) => t.bytes),
      ),
    );
    done.push(s);
    assert.ok(
      r.receipts.every((x) => x.status === 'committed'),
      s.name,
    );
    assert.equal(r.epochs, s.epochs, s.name);
    assert.equal(
      r.registered.map((x) => hex(x.pubkey)),
      (s.registered ?? []).map((k) => hex(k.pk)),
      s.name,
    );
    for (const k of s.epochs) writer.set(k, s.height);
    const tables = expectedTables(done);
    const next = tables[epochOf(s.height + 1)]!;
    assert.is(setHex(next), setHex(HEADER_SETS[i]!), s.name);
    assert.is(hex(r.header.validatorSetHash), hex(validatorSetHash(next)), s.name);
    assert.is(
      hex(r.header.validatorSetHash),
      hex(chain.ledger.epochTable(epochOf(s.height + 1))!.setHash),
    );
  }
  return { writer, tables: expectedTables(done) };
}

/** Every written epoch's recorded proof verifies under its block's root, and only there. */
async function checkProofs(
  chain: Chain,
  tables: ValidatorSet[],
  writer: Map<number, number>,
  what: string,
) {
  assert.is(await chain.epochProof(0), undefined, `${what}: genesis wrote epoch 0, no block`);
  for (let k = 1; k < tables.length; k++) {
    const p = await chain.epochProof(k);
    assert.ok(p, `${what}: proof of epoch ${k}`);
    assert.is(p.epoch, k);
    assert.is(p.height, writer.get(k), `${what}: epoch ${k} written at`);
    const root = (await chain.header(p.height))!.header.stateRoot;
    const value = encodeValidatorSet(tables[k]!);
    assert.ok(verifyTrieInclusion(root, epochTableKey(k), value, p.proof), `${what}: ${k}`);
    assert.not.ok(verifyTrieInclusion(root, epochTableKey(k + 1), value, p.proof));
    if (setHex(tables[k]!) !== setHex(tables[k - 1]!)) {
      const other = encodeValidatorSet(tables[k - 1]!);
      assert.not.ok(verifyTrieInclusion(root, epochTableKey(k), other, p.proof));
    }
  }
  assert.is(await chain.epochProof(tables.length), undefined);
}

test('headers commit to the next round’s table across set changes; each table’s proof verifies under the block that wrote it', async () => {
  const chain = await memChain();
  const { writer, tables } = await runScenario(chain, ALL, new Book(genesis));
  // Blocks at the snapshot round (0, 4, 12, 28, 36), past it (9), past three (25).
  assert.equal(
    [...writer.entries()],
    [
      [1, 0],
      [2, 4],
      [3, 9],
      [4, 12],
      [5, 25],
      [6, 25],
      [7, 25],
      [8, 28],
      [9, 33],
      [10, 36],
    ],
  );
  await checkProofs(chain, tables, writer, 'memory');
  // A proof does not verify under the root of the block before its writer,
  // which did not hold the table yet.
  const p3 = (await chain.epochProof(3))!;
  const before = (await chain.header(4))!.header.stateRoot;
  assert.not.ok(verifyTrieInclusion(before, epochTableKey(3), encodeValidatorSet(T2), p3.proof));
  await throwsChain(() => chain.epochProof(-1), 'BAD_ARGUMENT');
});

test('recorded proofs outlive the pruned trie versions and a reopen from disk; both chains keep agreeing', async () => {
  await withLevelDir('pos-epochs-chain-', async (openDb) => {
    const open = (db: ClassicLevel<Uint8Array, Uint8Array>) =>
      openChain({
        genesis,
        // Two trie versions kept: the roots the proofs were made under are long pruned.
        ledger: {
          store: createLevelStore(db, { prefix: Uint8Array.of(1) }),
          verify,
          keepVersions: 2,
        },
        store: createLevelStore(db, { prefix: Uint8Array.of(2) }),
      });
    let db = openDb();
    let disk = await open(db);
    const mem = await memChain();
    const book = new Book(genesis);
    const first = ALL.slice(0, 7);
    const blocks = first.map((s) =>
      decided(
        s.height,
        s.txs(book).map((t) => t.bytes),
      ),
    );
    for (const b of blocks) {
      const x = await mem.applyDecided(b);
      const y = await disk.applyDecided(b);
      assert.equal(y.header, x.header);
    }
    try {
      await disk.ledger.stateRootAt(0);
      assert.unreachable('version 1 should be pruned');
    } catch (e) {
      assert.ok(!(e instanceof assert.Assertion), String(e));
    }
    await db.close();
    db = openDb();
    disk = await open(db);
    assert.equal(disk.latest(), mem.latest());
    const writer = new Map<number, number>();
    for (const s of first) for (const k of s.epochs) writer.set(k, s.height);
    await checkProofs(disk, expectedTables(first), writer, 'reopened');
    for (let k = 1; k <= 9; k++) assert.equal(await disk.epochProof(k), await mem.epochProof(k));
    // On: block 36 writes V3's table, block 37's header commits to it.
    for (const s of ALL.slice(7)) {
      const b = decided(
        s.height,
        s.txs(book).map((t) => t.bytes),
      );
      const x = await mem.applyDecided(b);
      const y = await disk.applyDecided(b);
      assert.equal(y.header, x.header);
      assert.equal(y.epochs, s.epochs);
    }
    assert.is(hex(disk.latest()!.header.validatorSetHash), hex(validatorSetHash(TV3)));
    for (const s of ALL.slice(7)) for (const k of s.epochs) writer.set(k, s.height);
    await checkProofs(disk, expectedTables(ALL), writer, 'continued');
    await db.close();
  });
});

// --- property: random heights, transfers and registrations against a reference -------------------

/** Hosts: the four validator keys' ids and one that no key behind it ever registers. */
const X = validatorIdOf(fill(32, 0x77));
const HOSTS = [V[0].id, V[1].id, V[2].id, V[3].id, X];
const propGenesis = makeGenesis('epochs-property', [
  { amount: 600n, owner: O[0].pk, host: V[0].id },
  { amount: 300n, owner: O[1].pk, host: V[1].id },
  { amount: 250n, owner: O[2].pk, host: V[3].id },
  { amount: 150n, owner: O[0].pk, host: X },
] satisfies Output[]);
const PROP_SUPPLY = 1300n;

const arbAction = fc.record({
  register: fc.boolean(),
  pick: fc.nat(),
  owner: fc.nat(2),
  host: fc.nat(HOSTS.length - 1),
  host2: fc.nat(HOSTS.length - 1),
  split: fc.nat(1000),
  who: fc.nat(3),
});
const arbBlocks = fc.array(
  fc.record({
    gap: fc.integer({ min: 1, max: 9 }),
    actions: fc.array(arbAction, { maxLength: 3 }),
  }),
  { minLength: 1, maxLength: 8 },
);

test('property: every table equals one recomputed from scratch at its snapshot point; epochs 1..last written once each; headers and proofs agree', async () => {
  const seen = { exact: 0, past: 0, multi: 0, registrations: 0, changes: 0, repeats: 0 };
  await fc.assert(
    fc.asyncProperty(arbBlocks, async (blocks) => {
      const chain = await openChain({
        genesis: propGenesis,
        ledger: { store: createMemoryStore(), verify },
        store: createMemoryStore(),
      });
      const book = new Book(propGenesis);
      const history: Snapshot[] = [snapshotOf(book, -1)];
      const written: number[] = [];
      const writer = new Map<number, number>();
      let height = -1;
      let prevSetHash = '';
      for (const { gap, actions } of blocks) {
        const prev = height;
        height += gap;
        const txs: Uint8Array[] = [];
        const registered: string[] = [];
        for (const a of actions) {
          const names = book.names().filter((n) => book.get(n).output.amount >= 2n);
          if (names.length === 0) break;
          const input = names[a.pick % names.length]!;
          const rest = book.get(input).output.amount - 1n; // fee 1
          const x = 1n + ((rest - 1n) * BigInt(a.split)) / 1000n;
          const outs: OutSpec[] = [[x, O[a.owner]!, HOSTS[a.host]!]];
          if (x < rest) outs.push([rest - x, O[(a.owner + 1) % 3]!, HOSTS[a.host2]!]);
          const reg = a.register
            ? ([V[a.who]!, `v${a.who}`, `10.0.0.${a.who}:${9000 + a.split}`] as const)
            : undefined;
          const t = book.spend([input], outs, reg === undefined ? {} : { register: [...reg] });
          txs.push(t.bytes);
          if (reg !== undefined) registered.push(hex(reg[0].pk));
        }
        const r = await chain.applyDecided(decided(height, txs));
        history.push(snapshotOf(book, height));
        assert.ok(r.receipts.every((x) => x.status === 'committed'));
        assert.equal(
          r.registered.map((x) => hex(x.pubkey)),
          registered,
        );
        // The epochs whose snapshot round is in (prev, height], in order.
        const want: number[] = [];
        for (let k = 1; snapOf(k) <= height; k++) if (snapOf(k) > prev) want.push(k);
        assert.equal(r.epochs, want);
        for (const k of r.epochs) {
          written.push(k);
          writer.set(k, height);
        }
        const nextSet = referenceTable(propGenesis, history, epochOf(height + 1));
        const h = hex(validatorSetHash(nextSet));
        assert.is(hex(r.header.validatorSetHash), h);
        if (prevSetHash !== '' && h !== prevSetHash) seen.changes++;
        prevSetHash = h;
        if (want.length > 0 && snapOf(want[want.length - 1]!) === height && txs.length > 0) {
          seen.exact++;
        }
        if (want.length > 0 && snapOf(want[0]!) < height) seen.past++;
        if (want.length > 1) seen.multi++;
        seen.registrations += registered.length;
      }
      // Epochs 1..last, each written once, by the block after its snapshot round.
      const last = Math.floor(height / EPOCH) + 1;
      assert.equal(
        written,
        Array.from({ length: last }, (_, i) => i + 1),
      );
      assert.is(chain.ledger.lastTableEpoch, last);
      for (let k = 0; k <= last; k++) {
        const ref = referenceTable(propGenesis, history, k);
        const t = chain.ledger.epochTable(k)!;
        assert.is(setHex(t.set), setHex(ref), `epoch ${k}`);
        if (k === 0) continue;
        if (setHex(ref) === setHex(referenceTable(propGenesis, history, k - 1))) seen.repeats++;
        const p = (await chain.epochProof(k))!;
        assert.is(p.height, writer.get(k));
        const root = (await chain.header(p.height))!.header.stateRoot;
        assert.ok(verifyTrieInclusion(root, epochTableKey(k), encodeValidatorSet(ref), p.proof));
      }
      // The preview is the table the state now gives, or the last one.
      const now =
        tableOf(book.regKeys(), book.stakes()) ?? referenceTable(propGenesis, history, last);
      assert.is(setHex(chain.ledger.previewTable()), setHex(now));
      assert.equal(
        chain.ledger.registrations().map((r) => [hex(r.validatorId), r.name, r.p2p]),
        [...book.regs.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([id, r]) => [id, r.name, r.p2p]),
      );
      assert.is(chain.ledger.supply(), PROP_SUPPLY);
      assert.is(chain.ledger.burned(), book.burned);
    }),
    // A fixed seed, so that the coverage below does not depend on chance;
    // PROPERTY_SEED explores other streams.
    { numRuns: 25, seed: Number(process.env.PROPERTY_SEED ?? 20261123) },
  );
  // The streams went through every case the property is about.
  for (const [what, n] of Object.entries(seen))
    assert.ok(n > 0, `no ${what}: ${JSON.stringify(seen)}`);
});

test.run();
