import { hash as nodeHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bytesKey,
  compareBytes,
  createLevelStore,
  createMemoryStore,
  createStateTrie,
  decodeTrieProof,
  encodeTrieProof,
  MerkleError,
  type StateTrie,
  type TrieEntry,
  trieProofFromJSON,
  trieProofToJSON,
  trieSubtreeHash,
  verifyTrieCompleteness,
  verifyTrieExclusion,
  verifyTrieInclusion,
  ZERO_HASH,
} from '../src/index.js';

// node:crypto returns a Buffer; a plain view keeps outputs plain Uint8Arrays (uvu compares constructors).
const nodeSha = (d: Uint8Array) => {
  const b = nodeHash('sha256', d, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** Reference root: the definition applied to the whole sorted entry set at once. */
function referenceRoot(model: Map<string, TrieEntry>): Uint8Array {
  const entries = [...model.values()].sort((a, b) => compareBytes(a.key, b.key));
  return trieSubtreeHash(entries, 0);
}

const key = (n: number, bytes = 4) => {
  const k = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    k[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  return k;
};
const val = (s: string) => new TextEncoder().encode(s);

test('empty trie: zero root, exclusion proof with empty terminal', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  assert.equal(t.root(), ZERO_HASH);
  const p = await t.prove(key(7));
  assert.is(p.terminal, 'empty');
  assert.is(p.siblings.length, 0);
  assert.ok(verifyTrieExclusion(t.root(), key(7), p));
  assert.not.ok(verifyTrieInclusion(t.root(), key(7), val('x'), p));
});

test('single leaf: the root is the leaf hash (a one-leaf subtree is its leaf)', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  await t.put(key(1), val('a'));
  assert.equal(t.root(), trieSubtreeHash([{ key: key(1), value: val('a') }], 0));
  const p = await t.prove(key(1));
  assert.is(p.siblings.length, 0);
  assert.ok(verifyTrieInclusion(t.root(), key(1), val('a'), p));
  const q = await t.prove(key(2));
  assert.is(q.terminal, 'other');
  assert.ok(verifyTrieExclusion(t.root(), key(2), q));
});

test('get/put/del/apply agree with a reference model, root equals the definition', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  const model = new Map<string, TrieEntry>();
  const cases: Array<[string, number, string?]> = [
    ['put', 0x80000000, 'a'],
    ['put', 0x80000001, 'b'], // long shared prefix: a chain of one-sided branches
    ['put', 0x00000001, 'c'],
    ['put', 0x80000001, 'b2'], // overwrite
    ['del', 0x80000000],
    ['del', 0x12345678], // absent
    ['put', 0x40000000, 'd'],
    ['del', 0x80000001],
    ['del', 0x00000001],
    ['del', 0x40000000],
  ];
  for (const [op, k, v] of cases) {
    if (op === 'put') {
      await t.put(key(k), val(v!));
      model.set(bytesKey(key(k)), { key: key(k), value: val(v!) });
    } else {
      const had = model.delete(bytesKey(key(k)));
      assert.is(await t.del(key(k)), had);
    }
    assert.equal(t.root(), referenceRoot(model), `root after ${op} ${k.toString(16)}`);
    for (const e of model.values()) assert.equal(await t.get(e.key), e.value);
  }
  assert.equal(t.root(), ZERO_HASH);
});

test('keys of the wrong length are refused with KEY_LENGTH', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  for (const bad of [new Uint8Array(3), new Uint8Array(5)]) {
    try {
      await t.put(bad, val('x'));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, MerkleError);
      assert.is((e as MerkleError).code, 'KEY_LENGTH');
    }
  }
});

// --- property tests --------------------------------------------------------

const arbKey = fc.uint8Array({ minLength: 4, maxLength: 4 });
const arbVal = fc.uint8Array({ minLength: 0, maxLength: 40 });
const arbOps = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant('put' as const), key: arbKey, value: arbVal }),
    fc.record({ type: fc.constant('del' as const), key: arbKey }),
  ),
  { maxLength: 60 },
);

test('property: operation sequences match the model; root independent of order', async () => {
  await fc.assert(
    fc.asyncProperty(arbOps, fc.integer(), async (ops, seed) => {
      const t = await createStateTrie({ keyBytes: 4 });
      const model = new Map<string, TrieEntry>();
      for (const op of ops) {
        if (op.type === 'put') model.set(bytesKey(op.key), { key: op.key, value: op.value });
        else model.delete(bytesKey(op.key));
      }
      await t.apply(ops);
      const root = t.root();
      assert.equal(root, referenceRoot(model));
      // The final entries inserted in a shuffled order give the same root.
      const shuffled = [...model.values()];
      let s = seed >>> 0;
      for (let i = shuffled.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const j = s % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const u = await createStateTrie({ keyBytes: 4 });
      await u.apply(shuffled.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })));
      assert.equal(u.root(), root);
    }),
    { numRuns: 150 },
  );
});

test('property: delete then re-insert restores the root', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(arbKey, { selector: bytesKey, minLength: 1, maxLength: 40 }),
      async (keys) => {
        const t = await createStateTrie({ keyBytes: 4 });
        await t.apply(keys.map((k, i) => ({ type: 'put', key: k, value: key(i) })));
        const root = t.root();
        const victim = keys[keys.length >> 1]!;
        const v = (await t.get(victim))!;
        assert.ok(await t.del(victim));
        assert.not.equal(t.root(), root);
        assert.not.ok(await t.del(victim));
        await t.put(victim, v);
        assert.equal(t.root(), root);
      },
    ),
    { numRuns: 150 },
  );
});

test('property: every inclusion and exclusion proof verifies; binary and JSON round-trip', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(arbKey, { selector: bytesKey, maxLength: 40 }),
      fc.array(arbKey, { maxLength: 10 }),
      async (keys, probes) => {
        const t = await createStateTrie({ keyBytes: 4 });
        await t.apply(keys.map((k, i) => ({ type: 'put', key: k, value: key(i, 2) })));
        const root = t.root();
        const present = new Set(keys.map(bytesKey));
        for (let i = 0; i < keys.length; i++) {
          const p = await t.prove(keys[i]!);
          assert.ok(verifyTrieInclusion(root, keys[i]!, key(i, 2), p));
          assert.not.ok(verifyTrieExclusion(root, keys[i]!, p));
          const bin = encodeTrieProof(p);
          assert.equal(encodeTrieProof(decodeTrieProof(bin)), bin);
          assert.ok(verifyTrieInclusion(root, keys[i]!, key(i, 2), bin));
          assert.equal(trieProofFromJSON(JSON.parse(JSON.stringify(trieProofToJSON(p)))), p);
        }
        for (const k of probes) {
          if (present.has(bytesKey(k))) continue;
          const p = await t.prove(k);
          assert.ok(verifyTrieExclusion(root, k, p));
          assert.ok(verifyTrieExclusion(root, k, encodeTrieProof(p)));
          assert.not.ok(verifyTrieInclusion(root, k, new Uint8Array(0), p));
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('property: any tampering with an encoded proof fails verification and never throws', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  const keys = Array.from({ length: 64 }, (_, i) => key(Math.imul(i + 1, 0x9e3779b1) >>> 0));
  await t.apply(keys.map((k, i) => ({ type: 'put', key: k, value: key(i, 3) })));
  const root = t.root();
  const proofs = await Promise.all(keys.map((k) => t.prove(k)));
  await fc.assert(
    fc.property(
      fc.nat(keys.length - 1),
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
        fc.record({
          kind: fc.constant('extend' as const),
          extra: fc.uint8Array({ minLength: 1, maxLength: 40 }),
        }),
        fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
        fc.record({ kind: fc.constant('otherRoot' as const), bit: fc.nat(255) }),
      ),
      (i, m) => {
        const good = encodeTrieProof(proofs[i]!);
        let bytes = good.slice();
        let r = root;
        if (m.kind === 'flip') bytes[m.at % bytes.length]! ^= 1 << m.bit;
        else if (m.kind === 'truncate') bytes = bytes.slice(0, m.at % bytes.length);
        else if (m.kind === 'extend') bytes = new Uint8Array([...bytes, ...m.extra]);
        else if (m.kind === 'otherRoot') {
          r = root.slice();
          r[m.bit >> 3]! ^= 1 << (m.bit & 7);
        } else {
          // Reorder two sibling hashes (a no-op when they coincide: skip then).
          const p = decodeTrieProof(good);
          const present = p.siblings.map((s, d) => (s ? d : -1)).filter((d) => d >= 0);
          if (present.length < 2) return;
          const a = present[m.a % present.length]!;
          const b = present[m.b % present.length]!;
          if (a === b) return;
          [p.siblings[a], p.siblings[b]] = [p.siblings[b]!, p.siblings[a]!];
          bytes = encodeTrieProof(p);
        }
        assert.not.ok(verifyTrieInclusion(r, keys[i]!, key(i, 3), bytes));
        assert.not.ok(verifyTrieExclusion(r, keys[i]!, bytes));
      },
    ),
    { numRuns: 2000 },
  );
  // A proof is bound to its key and value.
  assert.not.ok(verifyTrieInclusion(root, keys[0]!, key(0, 3), proofs[1]!));
  assert.not.ok(verifyTrieInclusion(root, keys[0]!, key(1, 3), proofs[0]!));
});

test('hostile inputs to verifiers: garbage, wrong types, foreign shapes → false', () => {
  const root = new Uint8Array(32).fill(1);
  const junk: unknown[] = [
    null,
    undefined,
    42,
    'proof',
    {},
    { terminal: 'leaf', keyBytes: 4, siblings: 'x' },
    { terminal: 'leaf', keyBytes: 4, siblings: [new Uint8Array(31)] },
    { terminal: 'leaf', keyBytes: 4, siblings: new Array(33).fill(null) },
    { terminal: 'nope', keyBytes: 4, siblings: [] },
    new Uint8Array(0),
    new Uint8Array([1, 1, 4, 0xff, 0xff]),
  ];
  for (const j of junk) {
    assert.not.ok(verifyTrieInclusion(root, key(1), val('a'), j as never));
    assert.not.ok(verifyTrieExclusion(root, key(1), j as never));
    assert.not.ok(verifyTrieCompleteness(root, key(1, 2), [], j as never));
  }
  assert.not.ok(verifyTrieInclusion('00' as never, key(1), val('a'), new Uint8Array(5)));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      assert.not.ok(verifyTrieInclusion(root, key(1), val('a'), b));
      assert.not.ok(verifyTrieExclusion(root, key(1), b));
      try {
        decodeTrieProof(b);
      } catch (e) {
        assert.instance(e, MerkleError);
      }
    }),
    { numRuns: 3000 },
  );
});

test('decoder rejects non-canonical encodings', () => {
  const sib = new Uint8Array(32).fill(7);
  const good = encodeTrieProof({ terminal: 'leaf', keyBytes: 4, siblings: [sib, null, null] });
  assert.equal(decodeTrieProof(good).siblings.length, 3);
  const padded = good.slice();
  padded[5]! |= 0x01; // a bitmap bit beyond the depth
  const zeroSib = encodeTrieProof({ terminal: 'leaf', keyBytes: 4, siblings: [null] });
  const withZero = new Uint8Array([...zeroSib.slice(0, 5), 0x80, ...new Uint8Array(32)]);
  const deep = good.slice();
  deep[3] = 0;
  deep[4] = 33; // deeper than a 4-byte key allows
  const version = good.slice();
  version[0] = 2;
  for (const bad of [
    padded,
    withZero,
    deep,
    version,
    good.slice(0, -1),
    new Uint8Array([...good, 0]),
  ]) {
    assert.throws(
      () => decodeTrieProof(bad),
      (e: unknown) => (e as MerkleError).code === 'BAD_ENCODING',
    );
  }
  assert.throws(() => trieProofFromJSON({ ...trieProofToJSON(decodeTrieProof(good)), extra: 1 }));
  assert.throws(() =>
    trieProofFromJSON({
      version: 1,
      terminal: 'leaf',
      keyBytes: 4,
      siblings: [`0x${'AB'.repeat(32)}`],
    }),
  );
});

// --- completeness proofs -----------------------------------------------------

/** Keys like the ledger's outputs: owner (2 bytes here) ‖ output id (2 bytes). */
const arbOwnerKeys = fc.uniqueArray(
  fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0xffff })),
  { selector: ([o, i]) => o * 65536 + i, maxLength: 50 },
);
const ownerPrefix = (o: number) => new Uint8Array([0xa0 | o, 0x5c]);
const ownerKey = (o: number, i: number) => new Uint8Array([...ownerPrefix(o), i >> 8, i & 0xff]);

test('property: completeness proofs verify, and reject a dropped, added or altered entry', async () => {
  await fc.assert(
    fc.asyncProperty(arbOwnerKeys, fc.integer({ min: 0, max: 7 }), async (pairs, owner) => {
      const t = await createStateTrie({ keyBytes: 4 });
      await t.apply(
        pairs.map(([o, i]) => ({ type: 'put', key: ownerKey(o, i), value: key(o * 7 + i, 3) })),
      );
      const root = t.root();
      const prefix = ownerPrefix(owner);
      const { entries, proof } = await t.provePrefix(prefix);
      const expected = pairs.filter(([o]) => o === owner).length;
      assert.is(entries.length, expected);
      assert.ok(verifyTrieCompleteness(root, prefix, entries, proof));
      assert.ok(verifyTrieCompleteness(root, prefix, entries, encodeTrieProof(proof)));
      if (entries.length > 0) {
        for (let d = 0; d < entries.length; d++) {
          const dropped = entries.filter((_, j) => j !== d);
          assert.not.ok(verifyTrieCompleteness(root, prefix, dropped, proof), 'dropped');
        }
        const altered = entries.map((e, j) => (j === 0 ? { key: e.key, value: val('forged') } : e));
        assert.not.ok(verifyTrieCompleteness(root, prefix, altered, proof), 'altered');
        assert.not.ok(
          verifyTrieCompleteness(root, prefix, [...entries].reverse(), proof) && entries.length > 1,
        );
      }
      // An added entry: an output of this owner that is not in the trie.
      for (let i = 0; i < 0x10000; i += 4099) {
        if (pairs.some(([o, j]) => o === owner && j === i)) continue;
        const extra = [...entries, { key: ownerKey(owner, i), value: val('minted') }].sort((a, b) =>
          compareBytes(a.key, b.key),
        );
        assert.not.ok(verifyTrieCompleteness(root, prefix, extra, proof), 'added');
        break;
      }
      // Proof for another owner's prefix must not pass for this one.
      const other = ownerPrefix((owner + 1) & 7);
      const theirs = await t.provePrefix(other);
      if (theirs.entries.length > 0 || entries.length > 0) {
        assert.not.ok(verifyTrieCompleteness(root, prefix, theirs.entries, theirs.proof));
      }
    }),
    { numRuns: 200 },
  );
});

test('provePrefix: empty prefix covers everything; maxEntries bounds the answer', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  await t.apply(
    Array.from({ length: 20 }, (_, i) => ({
      type: 'put' as const,
      key: key(i * 7919),
      value: key(i),
    })),
  );
  const all = await t.provePrefix(new Uint8Array(0));
  assert.is(all.entries.length, 20);
  assert.ok(verifyTrieCompleteness(t.root(), new Uint8Array(0), all.entries, all.proof));
  try {
    await t.provePrefix(new Uint8Array(0), { maxEntries: 5 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as MerkleError).code, 'OUT_OF_RANGE');
  }
});

// --- versions, stores, hashing ---------------------------------------------------

async function fill(t: StateTrie, n: number, salt: number) {
  await t.apply(
    Array.from({ length: n }, (_, i) => ({
      type: 'put' as const,
      key: nodeSha(key(i)).subarray(0, 32),
      value: key(i * 31 + salt),
    })),
  );
}

test('node:crypto and @noble/hashes give identical roots and proofs', async () => {
  const a = await createStateTrie({ keyBytes: 32 });
  const b = await createStateTrie({ keyBytes: 32, hash: nodeSha });
  await fill(a, 300, 1);
  await fill(b, 300, 1);
  assert.equal(a.root(), b.root());
  const k = nodeSha(key(5));
  assert.ok(verifyTrieInclusion(b.root(), k, key(5 * 31 + 1), await b.prove(k), { hash: nodeSha }));
  assert.ok(verifyTrieInclusion(a.root(), k, key(5 * 31 + 1), await b.prove(k)));
});

test('reads at a committed root reuse decoded nodes, within readCacheNodes', async () => {
  const base = createMemoryStore();
  let gets = 0;
  const store = {
    ...base,
    get: (k: Uint8Array) => {
      gets++;
      return base.get(k);
    },
    getSync: (k: Uint8Array) => {
      gets++;
      return base.getSync!(k);
    },
  };
  for (const [cache, second] of [
    [65_536, 'none'],
    [0, 'all'],
  ] as const) {
    const t = await createStateTrie({ keyBytes: 32, store, readCacheNodes: cache });
    await fill(t, 200, 0);
    const { root } = await t.commit();
    const k0 = nodeSha(key(0));
    gets = 0;
    assert.equal(await t.at(root).get(k0), key(0));
    const first = gets;
    assert.ok(first > 0);
    gets = 0;
    const view = t.at(root);
    assert.equal(await view.get(k0), key(0));
    assert.ok(verifyTrieInclusion(root, k0, key(0), await view.prove(k0)));
    if (second === 'none') assert.is(gets, 0);
    else assert.ok(gets >= 2 * first);
  }
  for (const bad of [-1, 1.5, Number.NaN]) {
    try {
      await createStateTrie({ keyBytes: 32, readCacheNodes: bad });
      assert.unreachable();
    } catch (e) {
      assert.is((e as MerkleError).code, 'BAD_ARGUMENT');
    }
  }
});

test('old roots stay readable for keepVersions commits, then are pruned', async () => {
  const store = createMemoryStore();
  const t = await createStateTrie({ keyBytes: 32, store, keepVersions: 3 });
  const roots: Uint8Array[] = [];
  const k0 = nodeSha(key(0));
  for (let v = 0; v < 8; v++) {
    await fill(t, 50 + v * 10, v);
    const c = await t.commit();
    assert.is(c.version, v);
    roots.push(c.root);
  }
  for (let v = 5; v < 8; v++) {
    assert.equal(await t.rootAt(v), roots[v]);
    const view = t.at(roots[v]!);
    assert.equal(await view.get(k0), key(v));
    const p = await view.prove(k0);
    assert.ok(verifyTrieInclusion(roots[v]!, k0, key(v), p));
  }
  for (let v = 0; v < 5; v++) {
    try {
      await t.rootAt(v);
      assert.unreachable();
    } catch (e) {
      assert.is((e as MerkleError).code, 'PRUNED');
    }
  }
  // Pruning freed the nodes only old versions used: the store holds about
  // three versions' worth, not eight.
  const live = store.size;
  const fresh = createMemoryStore();
  const u = await createStateTrie({ keyBytes: 32, store: fresh, keepVersions: 100 });
  for (let v = 0; v < 8; v++) {
    await fill(u, 50 + v * 10, v);
    await u.commit();
  }
  assert.ok(live < fresh.size * 0.75, `pruned store ${live} vs unpruned ${fresh.size}`);
});

test('property: pruning never removes a node that a kept version needs', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(arbOps, { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 3 }),
      async (rounds, keep) => {
        const t = await createStateTrie({ keyBytes: 4, keepVersions: keep });
        const snapshots: Map<string, TrieEntry>[] = [];
        const model = new Map<string, TrieEntry>();
        for (const ops of rounds) {
          await t.apply(ops);
          for (const op of ops) {
            if (op.type === 'put') model.set(bytesKey(op.key), { key: op.key, value: op.value });
            else model.delete(bytesKey(op.key));
          }
          await t.commit();
          snapshots.push(new Map(model));
        }
        for (let v = Math.max(0, rounds.length - keep); v < rounds.length; v++) {
          const root = await t.rootAt(v);
          const view = t.at(root);
          for (const e of snapshots[v]!.values()) {
            assert.equal(await view.get(e.key), e.value);
            assert.ok(verifyTrieInclusion(root, e.key, e.value, await view.prove(e.key)));
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('maxCachedDepth: evicted nodes reload from the store transparently', async () => {
  const t = await createStateTrie({ keyBytes: 32, maxCachedDepth: 2 });
  await fill(t, 200, 0);
  await t.commit();
  const k = nodeSha(key(42));
  assert.equal(await t.get(k), key(42 * 31));
  await t.put(k, val('new'));
  await t.del(nodeSha(key(43)));
  const c = await t.commit();
  const ref = await createStateTrie({ keyBytes: 32 });
  await fill(ref, 200, 0);
  await ref.put(k, val('new'));
  await ref.del(nodeSha(key(43)));
  assert.equal(c.root, ref.root());
});

test('classic-level: reopen gives the same roots, reads and proofs; atVersion rolls back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pos-trie-'));
  try {
    let db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    let t = await createStateTrie({ keyBytes: 32, store: createLevelStore(db), hash: nodeSha });
    const roots: Uint8Array[] = [];
    for (let v = 0; v < 4; v++) {
      await fill(t, 100 + 50 * v, v);
      roots.push((await t.commit()).root);
    }
    await db.close();

    db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    t = await createStateTrie({ keyBytes: 32, store: createLevelStore(db), hash: nodeSha });
    assert.is(t.version, 3);
    assert.equal(t.root(), roots[3]);
    const k = nodeSha(key(120));
    assert.equal(await t.get(k), key(120 * 31 + 3));
    assert.ok(verifyTrieInclusion(roots[3]!, k, key(120 * 31 + 3), await t.prove(k)));
    const old = t.at(roots[1]!);
    assert.equal(await old.get(nodeSha(key(10))), key(10 * 31 + 1));
    assert.is(await old.get(nodeSha(key(160))), undefined);
    // Further writes continue from the reopened state.
    await fill(t, 10, 9);
    const next = await t.commit();
    assert.is(next.version, 4);
    await db.close();

    // Roll back to version 2 (as if the caller's own commit of 3 and 4 never landed).
    db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    t = await createStateTrie({ keyBytes: 32, store: createLevelStore(db), atVersion: 2 });
    assert.is(t.version, 2);
    assert.equal(t.root(), roots[2]);
    try {
      await t.rootAt(3);
      assert.unreachable();
    } catch (e) {
      assert.is((e as MerkleError).code, 'UNKNOWN_ROOT');
    }
    await fill(t, 100 + 50 * 3, 3);
    assert.equal((await t.commit(3)).root, roots[3]);
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
