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
  TRIE_PROOF_VERSION,
  type TrieEntry,
  type TrieProof,
  trieNodeHash,
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

const sha = (...parts: Uint8Array[]) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return nodeSha(all);
};
const bitOf = (k: Uint8Array, i: number) => (k[i >> 3]! >> (7 - (i & 7))) & 1;

/**
 * From-scratch crit-bit root (docs/PROTOCOL.md 3.1), independent of the library:
 * split a set at the smallest bit on which any two of its keys differ.
 */
function scratchRoot(entries: readonly TrieEntry[]): Uint8Array {
  if (entries.length === 0) return new Uint8Array(32);
  if (entries.length === 1) {
    return sha(new Uint8Array([0]), entries[0]!.key, sha(entries[0]!.value));
  }
  const bits = entries[0]!.key.length * 8;
  for (let b = 0; b < bits; b++) {
    const zero = entries.filter((e) => bitOf(e.key, b) === 0);
    const one = entries.filter((e) => bitOf(e.key, b) === 1);
    if (zero.length === 0 || one.length === 0) continue;
    return sha(new Uint8Array([1, b >> 8, b & 0xff]), scratchRoot(zero), scratchRoot(one));
  }
  throw new Error('duplicate keys');
}

/** Reference root: the definition applied to the whole entry set at once (two ways). */
function referenceRoot(model: Map<string, TrieEntry>): Uint8Array {
  const entries = [...model.values()].sort((a, b) => compareBytes(a.key, b.key));
  const root = trieSubtreeHash(entries);
  assert.equal(root, scratchRoot(entries));
  return root;
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
const toHexStr = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

test('empty trie: zero root, exclusion proof with empty terminal', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  assert.equal(t.root(), ZERO_HASH);
  const p = await t.prove(key(7));
  assert.is(p.terminal, 'empty');
  assert.is(p.levels.length, 0);
  assert.ok(verifyTrieExclusion(t.root(), key(7), p));
  assert.not.ok(verifyTrieInclusion(t.root(), key(7), val('x'), p));
});

test('single leaf: the root is the leaf hash (a one-leaf subtree is its leaf)', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  await t.put(key(1), val('a'));
  assert.equal(t.root(), trieSubtreeHash([{ key: key(1), value: val('a') }]));
  const p = await t.prove(key(1));
  assert.is(p.levels.length, 0);
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
    ['put', 0x80000001, 'b'], // long shared prefix: one branch at bit 31, no chain
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
        fc.record({ kind: fc.constant('splitBit' as const), at: fc.nat(), bit: fc.nat(31) }),
        fc.record({ kind: fc.constant('dropLevel' as const), at: fc.nat() }),
        fc.record({
          kind: fc.constant('addLevel' as const),
          at: fc.nat(),
          bit: fc.nat(31),
          sibling: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        }),
        fc.record({ kind: fc.constant('terminal' as const), t: fc.nat(3) }),
      ),
      (i, m) => {
        const good = encodeTrieProof(proofs[i]!);
        let bytes: Uint8Array | TrieProof = good.slice();
        let r = root;
        const edit = (f: (p: TrieProof) => boolean) => {
          const p = decodeTrieProof(good);
          if (!f(p)) return false;
          // Hand the verifier the object when it has no canonical encoding.
          try {
            bytes = encodeTrieProof(p);
          } catch {
            bytes = p;
          }
          return true;
        };
        if (m.kind === 'flip') (bytes as Uint8Array)[m.at % good.length]! ^= 1 << m.bit;
        else if (m.kind === 'truncate') bytes = good.slice(0, m.at % good.length);
        else if (m.kind === 'extend') bytes = new Uint8Array([...good, ...m.extra]);
        else if (m.kind === 'otherRoot') {
          r = root.slice();
          r[m.bit >> 3]! ^= 1 << (m.bit & 7);
        } else if (m.kind === 'swap') {
          // Reorder two sibling hashes (they never coincide: leaves are distinct).
          if (
            !edit((p) => {
              if (p.levels.length < 2) return false;
              const a = m.a % p.levels.length;
              const b = m.b % p.levels.length;
              if (a === b) return false;
              const s = p.levels[a]!.sibling;
              p.levels[a]!.sibling = p.levels[b]!.sibling;
              p.levels[b]!.sibling = s;
              return true;
            })
          )
            return;
        } else if (m.kind === 'splitBit') {
          // Claim another split bit at one level (the bit is committed in the hash).
          if (
            !edit((p) => {
              if (p.levels.length === 0) return false;
              const l = p.levels[m.at % p.levels.length]!;
              if (l.bit === m.bit) return false;
              l.bit = m.bit;
              return true;
            })
          )
            return;
        } else if (m.kind === 'dropLevel') {
          if (
            !edit((p) => {
              if (p.levels.length === 0) return false;
              p.levels.splice(m.at % p.levels.length, 1);
              return true;
            })
          )
            return;
        } else if (m.kind === 'addLevel') {
          edit((p) => {
            p.levels.splice(m.at % (p.levels.length + 1), 0, {
              bit: m.bit,
              sibling: m.sibling,
            });
            return true;
          });
        } else {
          const t = (['empty', 'leaf', 'other', 'subtree'] as const)[m.t]!;
          if (t === 'leaf') return;
          edit((p) => {
            p.terminal = t;
            if (t === 'other') {
              p.otherKey = keys[(i + 1) % keys.length]!;
              p.otherValueHash = nodeSha(key((i + 1) % keys.length, 3));
            }
            return true;
          });
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
    { terminal: 'leaf', keyBytes: 4, levels: 'x' },
    { terminal: 'leaf', keyBytes: 4, levels: [null] },
    { terminal: 'leaf', keyBytes: 4, levels: [{ bit: 1, sibling: new Uint8Array(31) }] },
    { terminal: 'leaf', keyBytes: 4, levels: [{ bit: 32, sibling: new Uint8Array(32).fill(1) }] },
    { terminal: 'leaf', keyBytes: 4, levels: [{ bit: -1, sibling: new Uint8Array(32).fill(1) }] },
    { terminal: 'leaf', keyBytes: 4, levels: [{ bit: '1', sibling: new Uint8Array(32).fill(1) }] },
    {
      terminal: 'leaf',
      keyBytes: 4,
      levels: Array.from({ length: 33 }, (_, bit) => ({ bit, sibling: new Uint8Array(32) })),
    },
    { terminal: 'leaf', keyBytes: 4, siblings: [] },
    { terminal: 'nope', keyBytes: 4, levels: [] },
    new Uint8Array(0),
    new Uint8Array([2, 1, 4, 0xff, 0xff]),
    new Uint8Array([1, 0x11, 4, 0, 0]),
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
  const sib = (n: number) => new Uint8Array(32).fill(n);
  const good = encodeTrieProof({
    terminal: 'leaf',
    keyBytes: 4,
    levels: [
      { bit: 3, sibling: sib(7) },
      { bit: 9, sibling: sib(8) },
    ],
  });
  assert.is(good.length, 5 + 2 * 34);
  assert.equal([...good.slice(0, 7)], [TRIE_PROOF_VERSION, 0x11, 4, 0, 2, 0, 3]);
  assert.equal(decodeTrieProof(good).levels.length, 2);
  const at = (f: (b: Uint8Array) => void) => {
    const b = good.slice();
    f(b);
    return b;
  };
  const bad = [
    at((b) => {
      b[0] = 1; // version 1 (the pre-crit-bit format) is refused
    }),
    at((b) => {
      b[0] = 3;
    }),
    at((b) => {
      b[1] = 0x12; // not a trie proof type
    }),
    at((b) => {
      b[1] = 0x41; // terminal 4
    }),
    at((b) => {
      b[2] = 0; // zero key length
    }),
    at((b) => {
      b[3] = 0;
      b[4] = 33; // more levels than a 4-byte key has bits
    }),
    at((b) => {
      b[4] = 3; // count says 3, two present
    }),
    at((b) => {
      b[4] = 1; // count says 1: trailing bytes
    }),
    at((b) => {
      b[40] = 3; // second bit equal to the first: not strictly increasing
    }),
    at((b) => {
      b[40] = 2; // decreasing
    }),
    at((b) => {
      b[39] = 1; // second bit 0x0109 ≥ 32
    }),
    at((b) => {
      b[5] = 0;
      b[6] = 32; // first bit = 32 beyond the key (and ≥ the next)
    }),
    at((b) => {
      b.fill(0, 7, 39); // a ZERO sibling
    }),
    at((b) => {
      b[1] = 0x01; // terminal empty with levels
    }),
    at((b) => {
      b[1] = 0x21; // terminal other without the leaf
    }),
    good.slice(0, -1),
    new Uint8Array([...good, 0]),
    good.slice(0, 4),
  ];
  for (const b of bad) {
    assert.throws(
      () => decodeTrieProof(b),
      (e: unknown) => (e as MerkleError).code === 'BAD_ENCODING',
      `should refuse ${Buffer.from(b).toString('hex')}`,
    );
  }
  // A version-1 proof as the old format wrote it (no levels, one zero bitmap byte).
  assert.throws(() => decodeTrieProof(new Uint8Array([1, 0x11, 4, 0, 1, 0])));
  // Encoding refuses proof objects that have no canonical form.
  for (const levels of [
    [
      { bit: 4, sibling: sib(1) },
      { bit: 4, sibling: sib(2) },
    ],
    [{ bit: 32, sibling: sib(1) }],
    [{ bit: 1, sibling: new Uint8Array(32) }],
  ]) {
    assert.throws(() => encodeTrieProof({ terminal: 'leaf', keyBytes: 4, levels }));
  }
  assert.throws(() =>
    encodeTrieProof({ terminal: 'empty', keyBytes: 4, levels: [{ bit: 1, sibling: sib(1) }] }),
  );

  // JSON: strict like the binary form.
  const json = trieProofToJSON(decodeTrieProof(good));
  assert.equal(json, {
    version: 2,
    terminal: 'leaf',
    keyBytes: 4,
    levels: [
      { bit: 3, sibling: `0x${'07'.repeat(32)}` },
      { bit: 9, sibling: `0x${'08'.repeat(32)}` },
    ],
  });
  assert.equal(encodeTrieProof(trieProofFromJSON(JSON.parse(JSON.stringify(json)))), good);
  const lv = (bit: unknown, sibling: unknown, extra = {}) => ({
    ...json,
    levels: [{ bit, sibling, ...extra }],
  });
  for (const badJson of [
    { ...json, extra: 1 },
    { ...json, version: 1 },
    { ...json, otherKey: '0x00000000' },
    { ...json, terminal: 'empty' },
    { ...json, keyBytes: 0 },
    { ...json, levels: [json.levels[1], json.levels[0]] },
    { ...json, siblings: [] },
    lv(1, `0x${'AB'.repeat(32)}`),
    lv(1, `0x${'ab'.repeat(31)}`),
    lv(1, `0x${'00'.repeat(32)}`),
    lv(1, 'ab'.repeat(32)),
    lv(32, `0x${'ab'.repeat(32)}`),
    lv(1.5, `0x${'ab'.repeat(32)}`),
    lv('1', `0x${'ab'.repeat(32)}`),
    lv(1, `0x${'ab'.repeat(32)}`, { extra: 0 }),
    { ...json, levels: [null] },
    { ...json, levels: {} },
  ]) {
    assert.throws(() => trieProofFromJSON(badJson), undefined, JSON.stringify(badJson));
  }
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
      // Tampered proofs: every level, every split bit, the terminal.
      const tampered: TrieProof[] = [];
      const clone = (): TrieProof => decodeTrieProof(encodeTrieProof(proof));
      for (let j = 0; j < proof.levels.length; j++) {
        const dropped = clone();
        dropped.levels.splice(j, 1);
        tampered.push(dropped);
        const moved = clone();
        moved.levels[j]!.bit ^= 1;
        tampered.push(moved);
        const altered = clone();
        altered.levels[j]!.sibling[0]! ^= 1;
        tampered.push(altered);
      }
      const added = clone();
      added.levels.push({ bit: 31, sibling: new Uint8Array(32).fill(9) });
      tampered.push(added);
      for (const terminal of ['empty', 'leaf', 'other', 'subtree'] as const) {
        if (terminal === proof.terminal) continue;
        const p = clone();
        p.terminal = terminal;
        delete p.otherKey;
        delete p.otherValueHash;
        if (terminal === 'other') {
          p.otherKey = ownerKey((owner + 1) & 7, 0);
          p.otherValueHash = new Uint8Array(32).fill(3);
        }
        tampered.push(p);
      }
      if (proof.terminal === 'other') {
        const p = clone();
        p.otherKey![3]! ^= 1;
        tampered.push(p);
      }
      for (const p of tampered) {
        assert.not.ok(verifyTrieCompleteness(root, prefix, entries, p), 'tampered');
      }
    }),
    { numRuns: 200 },
  );
});

test('completeness: a missing prefix below a deeper split has a witness reached past the prefix', async () => {
  const t = await createStateTrie({ keyBytes: 4 });
  // Only owner 0's outputs: the root splits below bit 16, past every owner prefix.
  await t.apply(
    [1, 2, 3, 0x8000].map((i) => ({ type: 'put', key: ownerKey(0, i), value: key(i) })),
  );
  const root = t.root();
  const prefix = ownerPrefix(3);
  const { entries, proof } = await t.provePrefix(prefix);
  assert.is(entries.length, 0);
  assert.is(proof.terminal, 'other');
  assert.ok(proof.levels.length >= 1 && proof.levels.every((l) => l.bit >= 16));
  assert.ok(verifyTrieCompleteness(root, prefix, entries, proof));
  // The witness must lie off the prefix, and agree with the directions taken.
  const onPrefix = decodeTrieProof(encodeTrieProof(proof));
  onPrefix.otherKey = ownerKey(3, 1);
  assert.not.ok(verifyTrieCompleteness(root, prefix, [], onPrefix));
  // The owner's real outputs: the subtree node at the root, no levels.
  const mine = await t.provePrefix(ownerPrefix(0));
  assert.is(mine.entries.length, 4);
  assert.is(mine.proof.terminal, 'subtree');
  assert.is(mine.proof.levels.length, 0);
  assert.ok(verifyTrieCompleteness(root, ownerPrefix(0), mine.entries, mine.proof));
  // A one-entry trie answers a missing prefix with the entry as witness, no levels.
  const one = await createStateTrie({ keyBytes: 4 });
  await one.put(ownerKey(1, 5), val('x'));
  const none = await one.provePrefix(ownerPrefix(2));
  assert.is(none.proof.terminal, 'other');
  assert.ok(verifyTrieCompleteness(one.root(), ownerPrefix(2), [], none.proof));
  const single = await one.provePrefix(ownerPrefix(1));
  assert.is(single.proof.terminal, 'leaf');
  assert.ok(verifyTrieCompleteness(one.root(), ownerPrefix(1), single.entries, single.proof));
  // The empty trie: terminal empty, and only with zero levels.
  const empty = await createStateTrie({ keyBytes: 4 });
  const e = await empty.provePrefix(ownerPrefix(1));
  assert.is(e.proof.terminal, 'empty');
  assert.ok(verifyTrieCompleteness(ZERO_HASH, ownerPrefix(1), [], e.proof));
  assert.not.ok(verifyTrieCompleteness(root, ownerPrefix(1), [], e.proof));
});

test('keys sharing a long prefix: about log2(N) levels per proof, not one per shared bit', async () => {
  // The ledger's layout: sha256(owner) ‖ 32-byte outpoint id, 16 owners × 64 outputs.
  const t = await createStateTrie({ keyBytes: 64 });
  const owners = Array.from({ length: 16 }, (_, o) => nodeSha(key(o)));
  const entries: TrieEntry[] = [];
  for (const [o, owner] of owners.entries()) {
    for (let i = 0; i < 64; i++) {
      entries.push({
        key: new Uint8Array([...owner, ...nodeSha(key(o * 1000 + i))]),
        value: key(i),
      });
    }
  }
  await t.apply(entries.map((e) => ({ type: 'put' as const, ...e })));
  const root = t.root();
  const n = entries.length; // 1024: log2 = 10
  let total = 0;
  let worst = 0;
  for (const e of entries.slice(0, 200)) {
    const p = await t.prove(e.key);
    assert.ok(verifyTrieInclusion(root, e.key, e.value, p));
    total += p.levels.length;
    worst = Math.max(worst, p.levels.length);
  }
  const mean = total / 200;
  assert.ok(mean < Math.log2(n) + 4, `mean ${mean} levels`);
  assert.ok(worst <= 24, `worst ${worst} levels`);
  assert.ok(encodeTrieProof(await t.prove(entries[0]!.key)).length < 1000);
  // An owner's completeness proof: ~log2(16) levels above its subtree.
  const { entries: mine, proof } = await t.provePrefix(owners[5]!);
  assert.is(mine.length, 64);
  assert.ok(proof.levels.length <= 10, `${proof.levels.length} levels`);
  assert.ok(verifyTrieCompleteness(root, owners[5]!, mine, proof));
  // Absent keys under a present owner prefix: exclusion proofs stay short too.
  const absent = new Uint8Array([...owners[5]!, ...new Uint8Array(32).fill(0xee)]);
  const x = await t.prove(absent);
  assert.is(x.terminal, 'other');
  assert.ok(x.levels.length < 24);
  assert.ok(verifyTrieExclusion(root, absent, x));
  // Deleting an owner's outputs down to one leaves no chain either.
  await t.apply(mine.slice(1).map((e) => ({ type: 'del' as const, key: e.key })));
  const last = await t.prove(mine[0]!.key);
  assert.ok(last.levels.length <= 8);
  assert.ok(verifyTrieInclusion(t.root(), mine[0]!.key, mine[0]!.value, last));
});

test('fixed vector: a three-entry trie, its root, proof and stored branch record', async () => {
  // Computed from the hash rules alone (docs/PROTOCOL.md 3.1, 3.3), by hand:
  //   keys 0x1000 ↦ "a", 0x1800 ↦ "b", 0x8000 ↦ "c" (keyBytes 2)
  //   0x1000 and 0x8000 part at bit 0; 0x1000 and 0x1800 at bit 4.
  //   L(k, v) = sha256(0x00 ‖ k ‖ sha256(v)); N(b, l, r) = sha256(0x01 ‖ u16be(b) ‖ l ‖ r)
  //   root = N(0, N(4, L(0x1000,a), L(0x1800,b)), L(0x8000,c))
  const L = (k: number[], v: string) => sha(new Uint8Array([0]), new Uint8Array(k), sha(val(v)));
  const N = (b: number, l: Uint8Array, r: Uint8Array) =>
    sha(new Uint8Array([1, b >> 8, b & 0xff]), l, r);
  const l1 = L([0x10, 0], 'a');
  const l2 = L([0x18, 0], 'b');
  const l3 = L([0x80, 0], 'c');
  const mid = N(4, l1, l2);
  const scratch = N(0, mid, l3);
  const ROOT = '0x215f8444c3a77349182e9d5e7ec01808f9628ea602927a3eed5fb16fa571355d';
  // Inclusion of 0x1800 ↦ "b": version 2, type 1 | terminal leaf (1) << 4, keyBytes 2,
  // two levels: (bit 0, sibling L(0x8000,c)), (bit 4, sibling L(0x1000,a)).
  const PROOF =
    '0x0211020002' +
    '0000a3b827551bd8b2b378a07b4c5e7297c38e4c541437e8a5cfa51b346a2da1118c' +
    '00044788015e7ec7538ba2c8c5b5b486216d6d801d06445702251dd3371e4c32c1c5';
  assert.is(toHexStr(scratch), ROOT);
  assert.is(toHexStr(new Uint8Array([2, 0x11, 2, 0, 2, 0, 0, ...l3, 0, 4, ...l1])), PROOF);

  const store = createMemoryStore();
  const t = await createStateTrie({ keyBytes: 2, store });
  await t.apply([
    { type: 'put', key: new Uint8Array([0x80, 0]), value: val('c') },
    { type: 'put', key: new Uint8Array([0x18, 0]), value: val('b') },
    { type: 'put', key: new Uint8Array([0x10, 0]), value: val('a') },
  ]);
  assert.is(toHexStr(t.root()), ROOT);
  assert.equal(trieNodeHash(0, trieNodeHash(4, l1, l2), l3), scratch);
  const proof = await t.prove(new Uint8Array([0x18, 0]));
  assert.is(toHexStr(encodeTrieProof(proof)), PROOF);
  assert.ok(verifyTrieInclusion(scratch, new Uint8Array([0x18, 0]), val('b'), proof));
  // Exclusion of 0x1c00: the search goes left at bit 0, right at bit 4, ends at 0x1800.
  const x = await t.prove(new Uint8Array([0x1c, 0]));
  assert.is(
    toHexStr(encodeTrieProof(x)),
    `0x0221020002${'0000'}${toHexStr(l3).slice(2)}${'0004'}${toHexStr(l1).slice(2)}1800${toHexStr(sha(val('b'))).slice(2)}`,
  );
  assert.ok(verifyTrieExclusion(scratch, new Uint8Array([0x1c, 0]), x));

  // Stored branch record: 'n' ‖ hash → u64be(version) ‖ 0x01 ‖ u16be(bit) ‖ left ‖ right.
  await t.commit(7);
  const rec = await store.get(new Uint8Array([0x6e, ...scratch]));
  assert.equal(rec, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 0, ...mid, ...l3]));
  const inner = await store.get(new Uint8Array([0x6e, ...mid]));
  assert.equal(inner, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 4, ...l1, ...l2]));
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

test('property: with keepVersions 1 the store holds exactly the live nodes (no leak)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(arbOps, { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      async (rounds, evict) => {
        const store = createMemoryStore();
        const t = await createStateTrie({
          keyBytes: 4,
          store,
          keepVersions: 1,
          maxCachedDepth: evict ? 1 : Number.POSITIVE_INFINITY,
        });
        const model = new Map<string, TrieEntry>();
        for (const ops of rounds) {
          await t.apply(ops);
          for (const op of ops) {
            if (op.type === 'put') model.set(bytesKey(op.key), { key: op.key, value: op.value });
            else model.delete(bytesKey(op.key));
          }
          const { root } = await t.commit();
          assert.equal(root, referenceRoot(model));
          let nodes = 0;
          for await (const [k] of store.entries({
            gte: new Uint8Array([0x6e]),
            lt: new Uint8Array([0x6f]),
          })) {
            assert.is(k.length, 33);
            nodes++;
          }
          // A crit-bit tree of N leaves has N - 1 branches.
          assert.is(nodes, model.size === 0 ? 0 : 2 * model.size - 1);
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
