// Deferred flushes (`flushEvery` > 1, docs/PROTOCOL.md 3.5): a trie that
// writes to its store only every F commits answers exactly as one that
// writes every commit (roots, values, proofs at every kept version), writes
// fewer node records, and after a crash (its memory gone, the store as the
// last flush left it) opens at that flush's version; redoing the later
// commits gives the same roots again.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createMemoryStore,
  createStateTrie,
  type KVStore,
  MerkleError,
  type StateTrie,
  type TrieOp,
} from '../src/index.js';

const KEY_BYTES = 4;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const keyArb = fc.integer({ min: 0, max: 47 }).map((i) => {
  // Shared prefixes so that branches split deep as well as at the top.
  const k = new Uint8Array(KEY_BYTES);
  k[0] = i & 3;
  k[3] = i;
  return k;
});
const opArb: fc.Arbitrary<TrieOp> = fc.oneof(
  fc
    .tuple(keyArb, fc.uint8Array({ minLength: 0, maxLength: 6 }))
    .map(([key, value]) => ({ type: 'put' as const, key, value })),
  keyArb.map((key) => ({ type: 'del' as const, key })),
);
const stepsArb = fc.array(fc.array(opArb, { minLength: 0, maxLength: 8 }), {
  minLength: 1,
  maxLength: 40,
});

const nodeRecords = async (store: KVStore) => {
  let n = 0;
  for await (const [k] of store.entries({ gte: Uint8Array.of(0x6e), lt: Uint8Array.of(0x6f) })) {
    if (k.length === 33) n++;
  }
  return n;
};

async function answers(trie: StateTrie, version: number) {
  const root = await trie.rootAt(version);
  const r = trie.at(root);
  const out: unknown[] = [hex(root)];
  for (let i = 0; i < 48; i += 5) {
    const key = Uint8Array.of(i & 3, 0, 0, i);
    out.push((await r.get(key)) ?? null, await r.prove(key));
  }
  out.push(await r.provePrefix(Uint8Array.of(1)));
  return out;
}

test('every F commits: the same roots, values and proofs at every kept version, fewer writes', async () => {
  await fc.assert(
    fc.asyncProperty(
      stepsArb,
      fc.integer({ min: 2, max: 6 }),
      fc.integer({ min: 2, max: 12 }),
      async (steps, flushEvery, keepVersions) => {
        const eager = await createStateTrie({ keyBytes: KEY_BYTES, keepVersions });
        const store = createMemoryStore();
        const lazy = await createStateTrie({
          keyBytes: KEY_BYTES,
          keepVersions,
          flushEvery,
          store,
        });
        for (const [v, ops] of steps.entries()) {
          await eager.apply(ops);
          await lazy.apply(ops);
          const a = await eager.commit(v);
          const b = await lazy.commit(v);
          assert.is(hex(b.root), hex(a.root), `root of version ${v}`);
          for (let u = Math.max(0, v - keepVersions + 1); u <= v; u++) {
            assert.equal(await answers(lazy, u), await answers(eager, u), `version ${u} at ${v}`);
          }
          assert.ok(v - (lazy.flushedVersion ?? -1) < flushEvery, 'flushed on time');
        }
      },
    ),
    { numRuns: 40 },
  );
});

test('a crash loses the commits after the last flush; redoing them gives the same roots', async () => {
  await fc.assert(
    fc.asyncProperty(
      stepsArb,
      fc.integer({ min: 2, max: 6 }),
      fc.nat(),
      async (steps, flushEvery, crashSeed) => {
        const keepVersions = 8;
        const eager = await createStateTrie({ keyBytes: KEY_BYTES, keepVersions });
        const roots: string[] = [];
        for (const [v, ops] of steps.entries()) {
          await eager.apply(ops);
          roots.push(hex((await eager.commit(v)).root));
        }
        const crashAt = crashSeed % steps.length;
        const store = createMemoryStore();
        const opts = { keyBytes: KEY_BYTES, keepVersions, flushEvery, store };
        const before = await createStateTrie(opts);
        for (let v = 0; v <= crashAt; v++) {
          await before.apply(steps[v]!);
          await before.commit(v);
        }
        const flushed = before.flushedVersion;
        // The process dies: only the store is left.
        const after = await createStateTrie(opts);
        assert.is(after.version, flushed);
        if (flushed !== null) assert.is(hex(after.root()), roots[flushed]);
        for (let v = (flushed ?? -1) + 1; v < steps.length; v++) {
          await after.apply(steps[v]!);
          assert.is(hex((await after.commit(v)).root), roots[v], `version ${v} after the crash`);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('flushes at random points over a small memory budget: superseded nodes written too, memory within it, answers and reopens unchanged, no more records than an eager trie', async () => {
  await fc.assert(
    fc.asyncProperty(
      stepsArb,
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      fc.integer({ min: 2, max: 12 }),
      fc.integer({ min: 1, max: 30 }),
      async (steps, flushAt, keepVersions, budget) => {
        const eagerStore = createMemoryStore();
        const eager = await createStateTrie({
          keyBytes: KEY_BYTES,
          keepVersions,
          store: eagerStore,
        });
        const store = createMemoryStore();
        const opts = {
          keyBytes: KEY_BYTES,
          keepVersions,
          flushEvery: Number.POSITIVE_INFINITY,
          maxUnflushedNodes: budget,
          store,
        };
        const lazy = await createStateTrie(opts);
        for (const [v, ops] of steps.entries()) {
          await eager.apply(ops);
          await lazy.apply(ops);
          await eager.commit(v);
          await lazy.commit(v);
          if (flushAt[v] === true) {
            await lazy.flush();
            assert.is(lazy.flushedVersion, v);
            // A flush leaves at most the budget in memory.
            assert.ok(
              lazy.unflushedNodes <= budget,
              `${lazy.unflushedNodes} held, budget ${budget}`,
            );
            // The process dies here: the store alone answers the flushed version.
            const reopened = await createStateTrie(opts);
            assert.equal(await answers(reopened, v), await answers(eager, v));
          }
          for (let u = Math.max(0, v - keepVersions + 1); u <= v; u++) {
            assert.equal(await answers(lazy, u), await answers(eager, u), `version ${u} at ${v}`);
          }
        }
        // Once every version written so far has left the window, pruning
        // has reached spilled nodes too: both stores hold the live nodes only.
        for (let v = steps.length; v <= steps.length + keepVersions; v++) {
          await eager.commit(v);
          await lazy.commit(v);
          await lazy.flush();
        }
        assert.is(await nodeRecords(store), await nodeRecords(eagerStore));
      },
    ),
    { numRuns: 60 },
  );
});

test('flush() writes what waits; a reopen then has the latest version', async () => {
  const store = createMemoryStore();
  const trie = await createStateTrie({ keyBytes: KEY_BYTES, flushEvery: 100, store });
  for (let v = 0; v < 5; v++) {
    await trie.put(Uint8Array.of(0, 0, 0, v), Uint8Array.of(v));
    await trie.commit(v);
  }
  assert.is(trie.flushedVersion, null);
  await trie.flush();
  assert.is(trie.flushedVersion, 4);
  const reopened = await createStateTrie({ keyBytes: KEY_BYTES, flushEvery: 100, store });
  assert.is(reopened.version, 4);
  assert.is(hex(reopened.root()), hex(trie.root()));
  assert.equal(await reopened.get(Uint8Array.of(0, 0, 0, 3)), Uint8Array.of(3));
});

test('flushEvery Infinity writes only at flush(), whatever waits; unflushedNodes counts what waits', async () => {
  const store = createMemoryStore();
  // keepVersions 1: no older version still reads a superseded node, so a
  // flush leaves nothing in memory.
  const opts = {
    keyBytes: KEY_BYTES,
    flushEvery: Number.POSITIVE_INFINITY,
    keepVersions: 1,
    store,
  };
  const trie = await createStateTrie(opts);
  assert.is(trie.unflushedNodes, 0);
  for (let v = 0; v < 300; v++) {
    await trie.put(Uint8Array.of(0, 0, v >> 8, v & 0xff), Uint8Array.of(v & 0xff));
    await trie.commit(v);
  }
  assert.is(trie.flushedVersion, null);
  assert.is(await nodeRecords(store), 0, 'nothing written before flush()');
  assert.ok(trie.unflushedNodes >= 300, `${trie.unflushedNodes} nodes wait`);
  await trie.flush();
  assert.is(trie.flushedVersion, 299);
  assert.is(trie.unflushedNodes, 0);
  const reopened = await createStateTrie(opts);
  assert.is(hex(reopened.root()), hex(trie.root()));
});

test('nodes made and superseded between two flushes are never written', async () => {
  const eagerStore = createMemoryStore();
  const lazyStore = createMemoryStore();
  const eager = await createStateTrie({ keyBytes: KEY_BYTES, store: eagerStore });
  const lazy = await createStateTrie({ keyBytes: KEY_BYTES, store: lazyStore, flushEvery: 16 });
  for (let v = 0; v < 64; v++) {
    // One key rewritten every version: its leaf and the path above it change each time.
    const ops: TrieOp[] = [
      { type: 'put', key: Uint8Array.of(1, 0, 0, v % 8), value: Uint8Array.of(v) },
      { type: 'put', key: Uint8Array.of(2, 0, 0, 0), value: Uint8Array.of(v, v) },
    ];
    await eager.apply(ops);
    await lazy.apply(ops);
    await eager.commit(v);
    await lazy.commit(v);
  }
  await lazy.flush();
  const e = await nodeRecords(eagerStore);
  const l = await nodeRecords(lazyStore);
  assert.ok(l < e, `deferred store holds ${l} node records, eager ${e}`);
});

test('bad options are refused', async () => {
  for (const o of [
    { flushEvery: 0 },
    { flushEvery: 1.5 },
    { flushEvery: Number.NaN },
    { flushEvery: Number.NEGATIVE_INFINITY },
    { maxUnflushedNodes: 0 },
  ]) {
    try {
      await createStateTrie({ keyBytes: KEY_BYTES, ...o });
      assert.unreachable(JSON.stringify(o));
    } catch (e) {
      assert.instance(e, MerkleError);
    }
  }
});

test.run();
