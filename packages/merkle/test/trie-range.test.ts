// Range completeness proofs (docs/PROTOCOL.md 3.2-3.4): the entries in
// [lo, hi] and the pruned tree that proves they are all of them, checked
// against a brute-force filter, tampered with in every way the verifier must
// notice, and held to a size of about the entries plus two boundary paths.
import { hash as nodeHash } from 'node:crypto';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bytesKey,
  compareBytes,
  createStateTrie,
  decodeTrieRangeProof,
  encodeTrieRangeProof,
  MerkleError,
  type RangeProof,
  type StateTrie,
  TRIE_RANGE_PROOF_MAX_ITEMS,
  type TrieEntry,
  type TrieRangeItem,
  type TrieRangeProof,
  trieLeafHash,
  trieNodeHash,
  trieRangeProofFromJSON,
  trieRangeProofToJSON,
  verifyTrieRange,
  ZERO_HASH,
} from '../src/index.js';

// node:crypto, independent of the library, for the fixed vector.
const sha = (...parts: Uint8Array[]) => {
  const b = nodeHash('sha256', Buffer.concat(parts), 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

const byCompare = (a: TrieEntry, b: TrieEntry) => compareBytes(a.key, b.key);
const inRange = (k: Uint8Array, lo: Uint8Array, hi: Uint8Array) =>
  compareBytes(lo, k) <= 0 && compareBytes(k, hi) <= 0;
/** The definition: every entry with lo <= key <= hi, sorted. */
const brute = (all: readonly TrieEntry[], lo: Uint8Array, hi: Uint8Array) =>
  all.filter((e) => inRange(e.key, lo, hi)).sort(byCompare);
const sortedEntries = (m: Map<string, TrieEntry>) => [...m.values()].sort(byCompare);

// --- keys ----------------------------------------------------------------------

/** Tags of 32 bytes; the first two differ only in their last bit, so their keys share 255 bits. */
const TAGS = [
  new Uint8Array(32).fill(0x5a),
  Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 0x5b : 0x5a)),
  Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff),
];
const u64be = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
};
/** The transaction index layout: `tag(32) ‖ u64be(height) ‖ u32be(i) ‖ pad(20)`, 64 bytes. */
const txKey = (tag: number, height: number, i: number) => {
  const k = new Uint8Array(64);
  k.set(TAGS[tag]!, 0);
  k.set(u64be(height), 32);
  new DataView(k.buffer).setUint32(40, i);
  return k;
};
/** The inclusive bounds of "every key of `tag` from height g to height h". */
const heights = (tag: number, g: number, h: number): [Uint8Array, Uint8Array] => {
  const lo = new Uint8Array(64);
  const hi = new Uint8Array(64).fill(0xff);
  lo.set(TAGS[tag]!, 0);
  hi.set(TAGS[tag]!, 0);
  lo.set(u64be(g), 32);
  hi.set(u64be(h), 32);
  return [lo, hi];
};
const val = (s: string) => new TextEncoder().encode(s);

/** `k` plus `delta` (-1, 0 or 1) as a big-endian integer, clamped to the key space. */
function nudge(k: Uint8Array, delta: number): Uint8Array {
  const out = Uint8Array.from(k);
  if (delta === 0) return out;
  for (let i = out.length - 1; i >= 0; i--) {
    if (delta > 0 ? out[i] !== 0xff : out[i] !== 0x00) {
      out[i] = out[i]! + delta;
      return out;
    }
    out[i] = delta > 0 ? 0x00 : 0xff;
  }
  return Uint8Array.from(k); // overflow: keep the extreme key
}

async function trieOf(keyBytes: number, entries: readonly TrieEntry[]): Promise<StateTrie> {
  const t = await createStateTrie({ keyBytes });
  await t.apply(entries.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })));
  return t;
}

/** Everything a correct answer must satisfy, for one (root, range). */
function checkAnswer(
  got: RangeProof,
  all: readonly TrieEntry[],
  root: Uint8Array,
  lo: Uint8Array,
  hi: Uint8Array,
  what: string,
) {
  assert.equal(got.entries, brute(all, lo, hi), `${what}: entries`);
  assert.ok(verifyTrieRange(root, lo, hi, got.entries, got.proof), `${what}: verify`);
  const bytes = encodeTrieRangeProof(got.proof);
  assert.ok(verifyTrieRange(root, lo, hi, got.entries, bytes), `${what}: verify bytes`);
  const decoded = decodeTrieRangeProof(bytes);
  assert.equal(decoded, got.proof, `${what}: decode(encode(p)) = p`);
  assert.equal(encodeTrieRangeProof(decoded), bytes);
  const json = JSON.parse(JSON.stringify(trieRangeProofToJSON(got.proof)));
  assert.equal(trieRangeProofFromJSON(json), got.proof, `${what}: JSON round trip`);
  assert.equal(trieRangeProofToJSON(trieRangeProofFromJSON(json)), json);
}

const expectCode = async (fn: () => unknown, code: string) => {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, MerkleError);
    assert.is((e as MerkleError).code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
};

// --- table-driven ----------------------------------------------------------------

/** Tags 0 and 1 (255 shared bits) at heights 1..12 with 1-3 keys each, tag 2 at 5..7. */
function txEntries(): TrieEntry[] {
  const out: TrieEntry[] = [];
  for (const tag of [0, 1]) {
    for (let h = 1; h <= 12; h++) {
      for (let i = 0; i < 1 + ((h * 7 + tag) % 3); i++) {
        out.push({ key: txKey(tag, h * 3, i), value: val(`t${tag} h${h} #${i}`) });
      }
    }
  }
  for (let h = 5; h <= 7; h++) out.push({ key: txKey(2, h, 0), value: val(`t2 h${h}`) });
  return out.sort(byCompare);
}

test('table: ranges over a transaction index (64-byte keys), working trie and an old root', async () => {
  const all = txEntries();
  const t = await trieOf(64, all);
  const { root } = await t.commit();
  const zero = new Uint8Array(64);
  const ones = new Uint8Array(64).fill(0xff);
  const first = all[0]!.key;
  const last = all[all.length - 1]!.key;
  const cases: Array<[string, Uint8Array, Uint8Array, number]> = [
    ['whole key space', zero, ones, all.length],
    ['before every key', zero, nudge(first, -1), 0],
    ['after every key', nudge(last, 1), ones, 0],
    ['lo = hi = a key', all[5]!.key, all[5]!.key, 1],
    ['lo = hi, absent', nudge(all[5]!.key, 1), nudge(all[5]!.key, 1), 0],
    ['first key only', zero, first, 1],
    ['last key only', last, ones, 1],
    ['tag 0, heights 9..15', ...heights(0, 9, 15), brute(all, ...heights(0, 9, 15)).length],
    ['tag 0, heights 10..11 (none)', ...heights(0, 10, 11), 0],
    [
      'tag 1, every height',
      ...heights(1, 0, 2 ** 40),
      brute(all, ...heights(1, 0, 2 ** 40)).length,
    ],
    [
      'tag 0 to tag 1 across the 255-bit split',
      ...heightsSpan(),
      brute(all, ...heightsSpan()).length,
    ],
    ['tag 2, height 6', ...heights(2, 6, 6), 1],
    ['between two adjacent keys', nudge(all[3]!.key, 1), nudge(all[4]!.key, -1), 0],
    ['two adjacent keys exactly', all[3]!.key, all[4]!.key, 2],
  ];
  for (const [name, lo, hi, n] of cases) {
    const got = await t.proveRange(lo, hi);
    assert.is(got.entries.length, n, name);
    checkAnswer(got, all, root, lo, hi, name);
  }
  // Change the trie, commit, and ask the old root the same questions.
  await t.apply([
    { type: 'del', key: all[5]!.key },
    { type: 'put', key: txKey(0, 30, 9), value: val('new') },
    { type: 'put', key: all[0]!.key, value: val('changed') },
  ]);
  const next = await t.commit();
  const now = await t.proveRange(zero, ones);
  assert.is(now.entries.length, all.length);
  assert.ok(verifyTrieRange(next.root, zero, ones, now.entries, now.proof));
  const old = t.at(root);
  for (const [name, lo, hi] of cases)
    checkAnswer(await old.proveRange(lo, hi), all, root, lo, hi, name);
});

function heightsSpan(): [Uint8Array, Uint8Array] {
  return [heights(0, 20, 0)[0], heights(1, 0, 6)[1]];
}

test('empty trie and one-entry trie', async () => {
  const empty = await createStateTrie({ keyBytes: 8 });
  const lo = new Uint8Array(8);
  const hi = new Uint8Array(8).fill(0xff);
  const e = await empty.proveRange(lo, hi);
  assert.equal(e.entries, []);
  assert.equal(e.proof.items, [{ kind: 'empty' }]);
  assert.equal([...encodeTrieRangeProof(e.proof)], [2, 4, 8, 0, 0, 0, 1, 4]);
  assert.ok(verifyTrieRange(ZERO_HASH, lo, hi, [], e.proof));
  assert.not.ok(verifyTrieRange(new Uint8Array(32).fill(1), lo, hi, [], e.proof));
  const fake = { key: new Uint8Array(8).fill(3), value: val('x') };
  assert.not.ok(verifyTrieRange(ZERO_HASH, lo, hi, [fake], e.proof));

  const k = new Uint8Array(8).fill(0x40);
  const one = await trieOf(8, [{ key: k, value: val('v') }]);
  const root = one.root();
  assert.equal(root, trieLeafHash(k, val('v')));
  const hit = await one.proveRange(nudge(k, -1), k);
  assert.equal(hit.entries, [{ key: k, value: val('v') }]);
  assert.equal(hit.proof.items, [{ kind: 'leaf' }]);
  assert.ok(verifyTrieRange(root, nudge(k, -1), k, hit.entries, hit.proof));
  assert.not.ok(verifyTrieRange(root, nudge(k, -1), k, [], hit.proof));
  const miss = await one.proveRange(nudge(k, 1), hi);
  assert.equal(miss.entries, []);
  assert.is(miss.proof.items[0]!.kind, 'other');
  assert.ok(verifyTrieRange(root, nudge(k, 1), hi, [], miss.proof));
  // The same witness cannot cover a range that holds the key.
  assert.not.ok(verifyTrieRange(root, k, hi, [], miss.proof));
  assert.not.ok(verifyTrieRange(root, lo, hi, [], miss.proof));
});

test('fixed vector: the encoding of a pruned tree, hashed with node:crypto', async () => {
  // Keys 0x00, 0x03, 0x80 (keyBytes 1): root splits at bit 0, its left child at
  // bit 6. For [0x40, 0x7f] both children of the bit-6 node lie outside the
  // range although its parent's interval (bit 0 = 0) meets it: the rule
  // expands the left child (the leftmost leaf, revealed as `other`) so that
  // the verifier learns the node's prefix 000000.
  const entries = [0x00, 0x03, 0x80].map((k) => ({
    key: Uint8Array.of(k),
    value: Uint8Array.of(k, 1),
  }));
  const t = await trieOf(1, entries);
  const leaf = (k: number) => sha(Uint8Array.of(0, k), sha(Uint8Array.of(k, 1)));
  const node = (b: number, l: Uint8Array, r: Uint8Array) => sha(Uint8Array.of(1, 0, b), l, r);
  const root = node(0, node(6, leaf(0x00), leaf(0x03)), leaf(0x80));
  assert.equal(t.root(), root);
  const lo = Uint8Array.of(0x40);
  const hi = Uint8Array.of(0x7f);
  const { entries: got, proof } = await t.proveRange(lo, hi);
  assert.equal(got, []);
  const expected = Buffer.concat([
    Uint8Array.of(0x02, 0x04, 0x01, 0, 0, 0, 5),
    Uint8Array.of(0x00, 0x00, 0x00), // node, bit 0
    Uint8Array.of(0x00, 0x00, 0x06), // node, bit 6
    Uint8Array.of(0x03, 0x00), // other: key 0x00
    sha(Uint8Array.of(0x00, 1)), //   its value hash
    Uint8Array.of(0x01), // hash: leaf 0x03
    leaf(0x03),
    Uint8Array.of(0x01), // hash: leaf 0x80
    leaf(0x80),
  ]);
  assert.equal(Buffer.from(encodeTrieRangeProof(proof)).toString('hex'), expected.toString('hex'));
  assert.ok(verifyTrieRange(root, lo, hi, [], new Uint8Array(expected)));
  // One bit lower and 0x03 is in range: the node is expanded on both sides.
  const wider = await t.proveRange(Uint8Array.of(0x02), hi);
  assert.equal(
    wider.proof.items.map((i) => i.kind),
    ['node', 'node', 'hash', 'leaf', 'hash'],
  );
  assert.equal(trieRangeProofToJSON(proof).items[2], {
    kind: 'other',
    key: '0x00',
    valueHash: `0x${Buffer.from(sha(Uint8Array.of(0, 1))).toString('hex')}`,
  });
});

test('bad arguments: key lengths, lo > hi, maxEntries', async () => {
  const t = await trieOf(
    4,
    Array.from({ length: 20 }, (_, i) => ({ key: Uint8Array.of(0, 0, i, 1), value: val(`${i}`) })),
  );
  const lo = new Uint8Array(4);
  const hi = new Uint8Array(4).fill(0xff);
  await expectCode(() => t.proveRange(new Uint8Array(3), hi), 'KEY_LENGTH');
  await expectCode(() => t.proveRange(lo, new Uint8Array(5)), 'KEY_LENGTH');
  await expectCode(() => t.proveRange(hi, lo), 'BAD_ARGUMENT');
  await expectCode(() => t.proveRange(lo, hi, { maxEntries: -1 }), 'BAD_ARGUMENT');
  await expectCode(() => t.proveRange(lo, hi, { maxEntries: 19 }), 'OUT_OF_RANGE');
  assert.is((await t.proveRange(lo, hi, { maxEntries: 20 })).entries.length, 20);
  const view = t.at((await t.commit()).root);
  await expectCode(() => view.proveRange(hi, lo), 'BAD_ARGUMENT');
  await expectCode(() => view.proveRange(lo, hi, { maxEntries: 3 }), 'OUT_OF_RANGE');
  // The range outside the entries needs no budget.
  assert.equal((await view.proveRange(hi, hi, { maxEntries: 0 })).entries, []);
});

// --- tampering -------------------------------------------------------------------

const cloneItems = (p: TrieRangeProof): TrieRangeItem[] =>
  decodeTrieRangeProof(encodeTrieRangeProof(p)).items as TrieRangeItem[];
const withItems = (p: TrieRangeProof, items: TrieRangeItem[]): TrieRangeProof => ({
  version: 2,
  keyBytes: p.keyBytes,
  items,
});

test('tampering: every change to the entries, the proof, the range or the root fails', async () => {
  const all = txEntries();
  const t = await trieOf(64, all);
  const root = t.root();
  // Bounds just past a key on each side: those two leaves are revealed as `other`.
  const lo = nudge(all[4]!.key, 1);
  const hi = nudge(all[12]!.key, -1);
  const { entries, proof } = await t.proveRange(lo, hi);
  assert.is(entries.length, 7);
  assert.ok(verifyTrieRange(root, lo, hi, entries, proof));
  const no = (what: string, e: readonly TrieEntry[], p: TrieRangeProof | Uint8Array = proof) =>
    assert.not.ok(verifyTrieRange(root, lo, hi, e, p), what);

  no('dropped first', entries.slice(1));
  no('dropped last', entries.slice(0, -1));
  no(
    'dropped middle',
    entries.filter((_, i) => i !== 2),
  );
  const outside = all.find((e) => !inRange(e.key, lo, hi) && compareBytes(e.key, lo) > 0)!;
  no('added a real key from outside the range', [...entries, outside].sort(byCompare));
  const fake = { key: nudge(entries[1]!.key, 1), value: val('forged') };
  no('added a fake key inside the range', [...entries, fake].sort(byCompare));
  no(
    'altered value',
    entries.map((e, i) => (i === 1 ? { key: e.key, value: val('x') } : e)),
  );
  const swapped = [...entries];
  [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
  no('reordered', swapped);
  no(
    'key of an entry changed',
    entries.map((e, i) => (i === 0 ? { key: fake.key, value: e.value } : e)),
  );

  const hashes = proof.items.flatMap((it, i) => (it.kind === 'hash' ? [i] : []));
  assert.ok(hashes.length >= 2);
  for (const i of hashes) {
    const items = cloneItems(proof);
    const other = proof.items[hashes[(hashes.indexOf(i) + 1) % hashes.length]!] as {
      hash: Uint8Array;
    };
    items[i] = { kind: 'hash', hash: other.hash };
    no(`hash ${i} swapped for another`, entries, withItems(proof, items));
    const flipped = cloneItems(proof);
    (flipped[i] as { hash: Uint8Array }).hash[31]! ^= 1;
    no(`hash ${i} changed`, entries, withItems(proof, flipped));
  }
  for (let i = 0; i < proof.items.length; i++) {
    if (proof.items[i]!.kind !== 'node') continue;
    for (const d of [-1, 1]) {
      const items = cloneItems(proof);
      (items[i] as { bit: number }).bit += d;
      no(`split bit ${i} moved by ${d}`, entries, withItems(proof, items));
    }
  }
  const others = proof.items.flatMap((it, i) => (it.kind === 'other' ? [i] : []));
  assert.ok(others.length > 0);
  for (const i of others) {
    const it = proof.items[i] as { key: Uint8Array; valueHash: Uint8Array };
    const items = cloneItems(proof);
    items[i] = { kind: 'other', key: nudge(lo, 1), valueHash: it.valueHash };
    no(`other ${i} moved inside the range`, entries, withItems(proof, items));
    // The real witness, claimed under a range that holds it.
    const wide = [
      compareBytes(it.key, lo) < 0 ? it.key : lo,
      compareBytes(it.key, hi) > 0 ? it.key : hi,
    ];
    assert.not.ok(
      verifyTrieRange(root, wide[0]!, wide[1]!, entries, proof),
      `range over other ${i}`,
    );
  }
  // A prover hiding entries behind hashes: a leaf, then a node over two leaves.
  for (let i = 0, e = 0; i < proof.items.length; i++) {
    if (proof.items[i]!.kind !== 'leaf') continue;
    const items = cloneItems(proof);
    items[i] = { kind: 'hash', hash: trieLeafHash(entries[e]!.key, entries[e]!.value) };
    no(
      `leaf ${i} hidden`,
      entries.filter((_, j) => j !== e),
      withItems(proof, items),
    );
    e++;
  }
  const pair = proof.items.findIndex(
    (it, i) =>
      it.kind === 'node' &&
      proof.items[i + 1]?.kind === 'leaf' &&
      proof.items[i + 2]?.kind === 'leaf',
  );
  assert.ok(pair >= 0);
  const firstLeaf = proof.items.slice(0, pair).filter((it) => it.kind === 'leaf').length;
  const [ea, eb] = [entries[firstLeaf]!, entries[firstLeaf + 1]!];
  const hidden = cloneItems(proof);
  hidden.splice(pair, 3, {
    kind: 'hash',
    hash: trieNodeHash(
      (proof.items[pair] as { bit: number }).bit,
      trieLeafHash(ea.key, ea.value),
      trieLeafHash(eb.key, eb.value),
    ),
  });
  no(
    'subtree hidden',
    entries.filter((_, j) => j !== firstLeaf && j !== firstLeaf + 1),
    withItems(proof, hidden),
  );

  // A leaf turned into a witness, and a witness into a leaf.
  const leafAt = proof.items.findIndex((it) => it.kind === 'leaf');
  const asOther = cloneItems(proof);
  asOther[leafAt] = { kind: 'other', key: entries[0]!.key, valueHash: sha(entries[0]!.value) };
  no('leaf revealed as other', entries.slice(1), withItems(proof, asOther));

  // Narrower and wider ranges than proven, each with a key of the trie on the edge.
  const below = all[4]!;
  const above = all[12]!;
  assert.not.ok(verifyTrieRange(root, below.key, hi, entries, proof), 'wider below');
  assert.not.ok(verifyTrieRange(root, lo, above.key, entries, proof), 'wider above');
  assert.not.ok(verifyTrieRange(root, nudge(entries[0]!.key, 1), hi, entries, proof), 'narrower');
  assert.not.ok(verifyTrieRange(root, lo, nudge(entries.at(-1)!.key, -1), entries, proof));
  assert.not.ok(verifyTrieRange(root, hi, lo, entries, proof), 'lo > hi');

  // Another root: the same trie with one more key, or any other hash.
  const u = await trieOf(64, [...all, { key: txKey(2, 1, 1), value: val('more') }]);
  assert.not.ok(verifyTrieRange(u.root(), lo, hi, entries, proof), 'another root');
  assert.not.ok(verifyTrieRange(ZERO_HASH, lo, hi, entries, proof));

  // Bytes: every truncation and an extension either fail to decode or fail to verify.
  const bytes = encodeTrieRangeProof(proof);
  for (let n = 0; n < bytes.length; n++) no(`truncated to ${n}`, entries, bytes.subarray(0, n));
  for (const tail of [[0], [2], [1, ...new Uint8Array(32).fill(7)]]) {
    const ext = Uint8Array.from([...bytes, ...tail]);
    no('extended', entries, ext);
    assert.throws(
      () => decodeTrieRangeProof(ext),
      (e: unknown) => (e as MerkleError).code === 'BAD_ENCODING',
    );
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = Uint8Array.from(bytes);
    b[i]! ^= 1 << (i % 8);
    no(`byte ${i} flipped`, entries, b);
  }
});

test("a dishonest tree: keys on the wrong side or off their node's prefix are refused", () => {
  // Hash binding alone cannot catch these, since the root is built to match:
  // the verifier's own checks must.
  const leafH = (k: number) => trieLeafHash(Uint8Array.of(k), Uint8Array.of(k));
  const valueHash = (k: number) => sha(Uint8Array.of(k));
  const lone = (k: number) => [{ key: Uint8Array.of(k), value: Uint8Array.of(k) }];
  const check = (bit: number, left: number, right: number, lo: number, hi: number) => {
    const root = trieNodeHash(bit, leafH(left), leafH(right));
    const proof: TrieRangeProof = {
      version: 2,
      keyBytes: 1,
      items: [
        { kind: 'node', bit },
        { kind: 'other', key: Uint8Array.of(left), valueHash: valueHash(left) },
        { kind: 'leaf' },
      ],
    };
    return verifyTrieRange(root, Uint8Array.of(lo), Uint8Array.of(hi), lone(right), proof);
  };
  // Each dishonest case passes every other check: only the one named fails.
  assert.ok(check(4, 0x80, 0x88, 0x81, 0x88), 'the honest shape verifies');
  assert.not.ok(check(4, 0x8c, 0x88, 0x84, 0x88), 'left key with bit 1');
  assert.not.ok(check(4, 0x80, 0x84, 0x81, 0x88), 'right key with bit 0');
  assert.not.ok(check(4, 0x00, 0x88, 0x01, 0x88), 'keys differing above the split bit');
});

// --- properties against brute force ---------------------------------------------

/** A bound: an existing key nudged by -1, 0 or +1, the extremes, or a random key. */
type BoundSpec =
  | { kind: 'key'; i: number; d: number }
  | { kind: 'min' | 'max' }
  | { kind: 'rnd'; b: Uint8Array };
const arbBound = (keyBytes: number): fc.Arbitrary<BoundSpec> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('key' as const),
        i: fc.nat(),
        d: fc.integer({ min: -1, max: 1 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('min' as const, 'max' as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('rnd' as const),
        b: fc.uint8Array({ minLength: keyBytes, maxLength: keyBytes }),
      }),
    },
  );
function bound(spec: BoundSpec, keys: readonly TrieEntry[], keyBytes: number): Uint8Array {
  if (spec.kind === 'min') return new Uint8Array(keyBytes);
  if (spec.kind === 'max') return new Uint8Array(keyBytes).fill(0xff);
  if (spec.kind === 'rnd' || keys.length === 0)
    return spec.kind === 'rnd' ? spec.b : new Uint8Array(keyBytes);
  return nudge(keys[spec.i % keys.length]!.key, spec.d);
}
const rangeOf = (a: BoundSpec, b: BoundSpec, keys: readonly TrieEntry[], kb: number) => {
  const x = bound(a, keys, kb);
  const y = bound(b, keys, kb);
  return compareBytes(x, y) <= 0 ? [x, y] : [y, x];
};

/** Key sets: the transaction layout (long shared prefixes), random 32-byte keys, dense 2-byte keys. */
const arbVal = fc.uint8Array({ maxLength: 12 });
const arbSets = {
  tx: fc
    .uniqueArray(fc.tuple(fc.nat(2), fc.nat(40), fc.nat(3), arbVal), {
      selector: ([a, b, c]) => `${a}/${b}/${c}`,
      maxLength: 70,
    })
    .map((xs) => xs.map(([tag, h, i, value]) => ({ key: txKey(tag, h, i), value }))),
  random: fc
    .uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
      selector: bytesKey,
      maxLength: 60,
    })
    .chain((keys) =>
      fc.tuple(
        fc.constant(keys),
        fc.array(arbVal, { minLength: keys.length, maxLength: keys.length }),
      ),
    )
    .map(([keys, vals]) => keys.map((key, i) => ({ key, value: vals[i]! }))),
  dense: fc
    .uniqueArray(fc.integer({ min: 0, max: 0x3ff }), { maxLength: 120 })
    .map((ns) =>
      ns.map((n) => ({ key: Uint8Array.of(n >> 8, n & 0xff), value: Uint8Array.of(n & 7) })),
    ),
};
const KB = { tx: 64, random: 32, dense: 2 } as const;

for (const kind of ['tx', 'random', 'dense'] as const) {
  const kb = KB[kind];
  test(`property (${kind} keys): entries = brute force, proofs verify and round-trip, at the working trie and an old root`, async () => {
    await fc.assert(
      fc.asyncProperty(
        arbSets[kind],
        arbSets[kind],
        fc.array(fc.tuple(arbBound(kb), arbBound(kb)), { minLength: 1, maxLength: 4 }),
        async (first, second, ranges) => {
          const t = await trieOf(kb, first);
          const { root: oldRoot } = await t.commit();
          const m = new Map(first.map((e) => [bytesKey(e.key), e]));
          // Half of `second` replaces or adds, and a third of `first` goes.
          const ops = [
            ...first
              .filter((_, i) => i % 3 === 1)
              .map((e) => ({ type: 'del' as const, key: e.key })),
            ...second.filter((_, i) => i % 2 === 0).map((e) => ({ type: 'put' as const, ...e })),
          ];
          for (const op of ops) {
            if (op.type === 'del') m.delete(bytesKey(op.key));
            else m.set(bytesKey(op.key), { key: op.key, value: op.value });
          }
          await t.apply(ops);
          const now = sortedEntries(m);
          const root = t.root();
          const old = t.at(oldRoot);
          for (const [a, b] of ranges) {
            const [lo, hi] = rangeOf(a, b, now, kb) as [Uint8Array, Uint8Array];
            checkAnswer(await t.proveRange(lo, hi), now, root, lo, hi, 'working');
            const [lo2, hi2] = rangeOf(a, b, first, kb) as [Uint8Array, Uint8Array];
            checkAnswer(await old.proveRange(lo2, hi2), first, oldRoot, lo2, hi2, 'old root');
          }
        },
      ),
      { numRuns: kind === 'dense' ? 120 : 80 },
    );
  });
}

test('property: any single dropped, added or altered entry, and any other range with other keys, fails', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        arbSets.tx,
        arbSets.dense.map((s) => s.map((e) => ({ key: padTo64(e.key), value: e.value }))),
      ),
      arbBound(64),
      arbBound(64),
      fc.array(fc.tuple(arbBound(64), arbBound(64)), { maxLength: 6 }),
      fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { maxLength: 3 }),
      async (set, a, b, others, fakes) => {
        const all = [...set].sort(byCompare);
        const t = await trieOf(64, all);
        const root = t.root();
        const [lo, hi] = rangeOf(a, b, all, 64) as [Uint8Array, Uint8Array];
        const { entries, proof } = await t.proveRange(lo, hi);
        const bytes = encodeTrieRangeProof(proof);
        assert.ok(verifyTrieRange(root, lo, hi, entries, bytes));
        for (let i = 0; i < entries.length; i++) {
          const dropped = entries.filter((_, j) => j !== i);
          assert.not.ok(verifyTrieRange(root, lo, hi, dropped, bytes), `dropped ${i}`);
          const e = entries[i]!;
          const altered = entries.map((x, j) =>
            j === i ? { key: x.key, value: Uint8Array.of(...e.value, 1) } : x,
          );
          assert.not.ok(verifyTrieRange(root, lo, hi, altered, bytes), `altered ${i}`);
        }
        // Every key of the trie outside the range, and fake keys (inside when possible).
        const extras = [
          ...all.filter((e) => !inRange(e.key, lo, hi)),
          ...fakes.map((f) => ({
            key: inRange(f, lo, hi) ? f : nudge(lo, compareBytes(lo, hi) < 0 ? 1 : 0),
            value: f,
          })),
          { key: lo, value: val('lo') },
          { key: hi, value: val('hi') },
        ];
        for (const x of extras) {
          if (entries.some((e) => compareBytes(e.key, x.key) === 0)) continue;
          const added = [...entries, x].sort(byCompare);
          assert.not.ok(verifyTrieRange(root, lo, hi, added, bytes), 'added');
        }
        // Soundness across ranges: whatever range the proof passes for, the
        // entries are exactly that range's.
        for (const [c, d] of others) {
          const [lo2, hi2] = rangeOf(c, d, all, 64) as [Uint8Array, Uint8Array];
          if (verifyTrieRange(root, lo2, hi2, entries, bytes)) {
            assert.equal(entries, brute(all, lo2, hi2), 'verified for another range');
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});

function padTo64(k: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  out.set(k, 0);
  return out;
}

// --- size ------------------------------------------------------------------------

test('size: about the entries plus two boundary paths, not the whole prefix', async () => {
  // 4,000 random 64-byte keys, and 3,000 heights under one tag.
  const entries: TrieEntry[] = [];
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 4000; i++)
    entries.push({ key: Uint8Array.from({ length: 64 }, rnd), value: val(`r${i}`) });
  for (let h = 0; h < 3000; h++) entries.push({ key: txKey(0, h, 0), value: val(`h${h}`) });
  const t = await trieOf(64, entries);
  const root = t.root();
  // The deepest leaf, from inclusion proofs: the boundary paths are at most this long.
  let depth = 0;
  for (const e of entries) depth = Math.max(depth, (await t.prove(e.key)).levels.length);
  assert.ok(depth < 40, `depth ${depth}`);
  for (const [g, h] of [
    [1500, 1500],
    [1000, 1099],
    [10, 2990],
    [2999, 5000],
    [4000, 5000],
  ] as const) {
    const [lo, hi] = heights(0, g, h);
    const { entries: got, proof } = await t.proveRange(lo, hi);
    const n = got.length;
    assert.is(n, Math.max(0, Math.min(h, 2999) - g + 1));
    assert.ok(verifyTrieRange(root, lo, hi, got, proof));
    const items = proof.items.length;
    assert.ok(items <= 2 * n + 4 * (8 * 64), `${items} items for ${n} entries`);
    // And tighter, with the real depth: two boundary paths, each with at most
    // one leftmost descent below it.
    assert.ok(items <= 2 * n + 8 * (depth + 1), `${items} items for ${n} entries, depth ${depth}`);
  }
  const whole = await t.proveRange(new Uint8Array(64), new Uint8Array(64).fill(0xff));
  assert.is(whole.proof.items.length, 2 * entries.length - 1);
});

test('a chain 2,040 nodes deep (keyBytes 255) proves and verifies', async () => {
  // Key i has bits 0..i-1 set and the rest clear: each splits off at bit i.
  const keyOf = (i: number) => {
    const k = new Uint8Array(255);
    for (let b = 0; b < i; b++) k[b >> 3]! |= 0x80 >> (b & 7);
    return k;
  };
  const entries = Array.from({ length: 2041 }, (_, i) => ({
    key: keyOf(i),
    value: Uint8Array.of(i & 0xff),
  }));
  const t = await trieOf(255, entries);
  const root = t.root();
  const last = keyOf(2040);
  for (const [lo, hi] of [
    [last, last],
    [keyOf(0), keyOf(0)],
    [keyOf(1000), last],
    [new Uint8Array(255), new Uint8Array(255).fill(0xff)],
  ] as const) {
    const got = await t.proveRange(lo, hi);
    checkAnswer(got, entries, root, lo, hi, 'deep');
  }
});

// --- strict decoders -------------------------------------------------------------

const H = (b: number) => Array.from(new Uint8Array(32).fill(b));
const enc = (keyBytes: number, items: number[][], count?: number) => {
  const body = items.flat();
  const n = count ?? items.length;
  return Uint8Array.from([
    2,
    4,
    keyBytes,
    n >>> 24,
    (n >>> 16) & 0xff,
    (n >>> 8) & 0xff,
    n & 0xff,
    ...body,
  ]);
};
const NODE = (b: number) => [0, b >> 8, b & 0xff];
const HASH = (b: number) => [1, ...H(b)];
const LEAF = [2];
const OTHER = (k: number[]) => [3, ...k, ...H(9)];
const EMPTY = [4];

test('decoder: canonical encodings decode, everything else is BAD_ENCODING', () => {
  const good: Array<[number, number[][]]> = [
    [1, [EMPTY]],
    [1, [LEAF]],
    [1, [OTHER([5])]],
    [1, [NODE(0), LEAF, HASH(1)]],
    [1, [NODE(0), HASH(1), NODE(3), LEAF, OTHER([0xf0])]],
    [2, [NODE(15), LEAF, LEAF]],
  ];
  for (const [kb, items] of good) {
    const b = enc(kb, items);
    assert.equal(encodeTrieRangeProof(decodeTrieRangeProof(b)), b);
  }
  const bad: Array<[string, Uint8Array]> = [
    ['empty input', new Uint8Array(0)],
    ['short header', Uint8Array.of(2, 4, 1, 0, 0, 0)],
    ['version 1', Uint8Array.from([1, ...enc(1, [LEAF]).subarray(1)])],
    ['path proof type', Uint8Array.from([2, 1, ...enc(1, [LEAF]).subarray(2)])],
    ['range type in the high nibble', Uint8Array.from([2, 0x14, ...enc(1, [LEAF]).subarray(2)])],
    ['zero keyBytes', enc(0, [LEAF])],
    ['no items', enc(1, [])],
    ['count above the cap', enc(1, [LEAF], TRIE_RANGE_PROOF_MAX_ITEMS + 1)],
    ['count above the input', enc(1, [LEAF], 2)],
    ['count below the items', enc(1, [NODE(0), LEAF, LEAF], 2)],
    ['unknown tag', enc(1, [[5]])],
    ['empty not alone', enc(1, [NODE(0), EMPTY, LEAF])],
    ['two empties', enc(1, [EMPTY, EMPTY])],
    ['node without children', enc(1, [NODE(0)])],
    ['node with one child', enc(1, [NODE(0), LEAF])],
    ['bits not increasing', enc(1, [NODE(3), NODE(3), LEAF, LEAF, LEAF])],
    ['bits decreasing', enc(1, [NODE(3), NODE(2), LEAF, LEAF, LEAF])],
    ['bit beyond the key', enc(1, [NODE(8), LEAF, LEAF])],
    ['zero hash', enc(1, [NODE(0), LEAF, [1, ...new Array(32).fill(0)]])],
    ['hash at the root', enc(1, [HASH(1)])],
    ['node over two hashes', enc(1, [NODE(0), LEAF, NODE(2), HASH(1), HASH(2)])],
    ['items after the tree', enc(1, [LEAF, LEAF])],
    ['truncated hash', enc(1, [NODE(0), LEAF, HASH(1)]).subarray(0, 20)],
    ['truncated other', enc(2, [OTHER([1])])],
    ['trailing bytes', Uint8Array.from([...enc(1, [LEAF]), 0])],
  ];
  for (const [name, b] of bad) {
    assert.throws(
      () => decodeTrieRangeProof(b),
      (e: unknown) => e instanceof MerkleError && e.code === 'BAD_ENCODING',
      name,
    );
    assert.not.ok(verifyTrieRange(ZERO_HASH, Uint8Array.of(0), Uint8Array.of(0xff), [], b), name);
  }
  // Encoders refuse malformed objects too.
  for (const items of [
    [],
    [{ kind: 'hash', hash: new Uint8Array(32).fill(1) }],
    [{ kind: 'node', bit: 0 }],
  ]) {
    const p = { version: 2, keyBytes: 1, items } as TrieRangeProof;
    assert.throws(
      () => encodeTrieRangeProof(p),
      (e: unknown) => (e as MerkleError).code === 'BAD_PROOF',
    );
    assert.throws(
      () => trieRangeProofToJSON(p),
      (e: unknown) => (e as MerkleError).code === 'BAD_PROOF',
    );
  }
});

test('JSON: strict keys, lowercase hex, exact lengths', async () => {
  const t = await trieOf(
    2,
    [1, 2, 0x100, 0x8000].map((n) => ({
      key: Uint8Array.of(n >> 8, n & 0xff),
      value: val(`${n}`),
    })),
  );
  const { proof } = await t.proveRange(Uint8Array.of(0, 3), Uint8Array.of(1, 0));
  const json = trieRangeProofToJSON(proof);
  assert.equal(Object.keys(json), ['version', 'keyBytes', 'items']);
  assert.ok(json.items.some((i) => i.kind === 'hash'));
  assert.ok(json.items.some((i) => i.kind === 'other'));
  assert.equal(trieRangeProofFromJSON(JSON.parse(JSON.stringify(json))), proof);
  const edit = (f: (j: Record<string, unknown> & { items: Record<string, unknown>[] }) => void) => {
    const j = JSON.parse(JSON.stringify(json));
    f(j);
    return j;
  };
  const hashAt = json.items.findIndex((i) => i.kind === 'hash');
  const otherAt = json.items.findIndex((i) => i.kind === 'other');
  const nodeAt = json.items.findIndex((i) => i.kind === 'node');
  const bad: Array<[string, unknown, string]> = [
    ['not an object', [], 'BAD_ENCODING'],
    ['unknown top-level key', edit((j) => (j.extra = 1)), 'BAD_ENCODING'],
    ['version 1', edit((j) => (j.version = 1)), 'BAD_ENCODING'],
    ['keyBytes as a string', edit((j) => (j.keyBytes = '2')), 'BAD_ENCODING'],
    ['keyBytes 0', edit((j) => (j.keyBytes = 0)), 'BAD_ENCODING'],
    ['items not an array', edit((j) => (j.items = {})), 'BAD_ENCODING'],
    ['unknown item kind', edit((j) => (j.items[0]!.kind = 'branch')), 'BAD_ENCODING'],
    ['unknown item key', edit((j) => (j.items[hashAt]!.bit = 1)), 'BAD_ENCODING'],
    [
      'upper-case hex',
      edit(
        (j) =>
          (j.items[hashAt]!.hash = (j.items[hashAt]!.hash as string)
            .toUpperCase()
            .replace('0X', '0x')),
      ),
      'BAD_HEX',
    ],
    [
      'no 0x',
      edit((j) => (j.items[hashAt]!.hash = (j.items[hashAt]!.hash as string).slice(2))),
      'BAD_HEX',
    ],
    [
      'short hash',
      edit((j) => (j.items[hashAt]!.hash = (j.items[hashAt]!.hash as string).slice(0, -2))),
      'BAD_HEX',
    ],
    ['zero hash', edit((j) => (j.items[hashAt]!.hash = `0x${'00'.repeat(32)}`)), 'BAD_ENCODING'],
    [
      'long other key',
      edit((j) => (j.items[otherAt]!.key = `${j.items[otherAt]!.key}00`)),
      'BAD_HEX',
    ],
    ['missing valueHash', edit((j) => delete j.items[otherAt]!.valueHash), 'BAD_HEX'],
    ['fractional bit', edit((j) => (j.items[nodeAt]!.bit = 1.5)), 'BAD_ENCODING'],
    ['bit beyond the key', edit((j) => (j.items[nodeAt]!.bit = 16)), 'BAD_ENCODING'],
    ['a node dropped', edit((j) => j.items.splice(nodeAt, 1)), 'BAD_ENCODING'],
    ['a trailing item', edit((j) => j.items.push({ kind: 'leaf' })), 'BAD_ENCODING'],
    ['empty inside', edit((j) => (j.items[otherAt] = { kind: 'empty' })), 'BAD_ENCODING'],
  ];
  for (const [name, j, code] of bad) {
    assert.throws(
      () => trieRangeProofFromJSON(j),
      (e: unknown) => e instanceof MerkleError && e.code === code,
      name,
    );
  }
});

test('hostile inputs to the verifier: garbage in any argument is false, never a throw', async () => {
  const all = txEntries();
  const t = await trieOf(64, all);
  const root = t.root();
  const [lo, hi] = heights(1, 3, 20);
  const { entries, proof } = await t.proveRange(lo, hi);
  const junk: unknown[] = [
    undefined,
    null,
    0,
    'x',
    {},
    [],
    [null],
    new Uint8Array(0),
    new Uint8Array(31),
    { version: 2, keyBytes: 64, items: null },
    { version: 2, keyBytes: 64, items: [{ kind: 'node' }] },
    { version: 2, keyBytes: 64, items: [{ kind: 'other', key: 'a', valueHash: 'b' }] },
    { ...proof, keyBytes: 63 },
    { ...proof, version: 1 },
    [{ key: new Uint8Array(64) }],
    [{ key: new Uint8Array(63), value: new Uint8Array(0) }],
  ];
  const v = verifyTrieRange as (...a: unknown[]) => boolean;
  for (const j of junk) {
    assert.is(v(j, lo, hi, entries, proof), false);
    assert.is(v(root, j, hi, entries, proof), false);
    assert.is(v(root, lo, j, entries, proof), false);
    if (!Array.isArray(j) || j.length > 0) assert.is(v(root, lo, hi, j, proof), false);
    assert.is(v(root, lo, hi, entries, j), false);
  }
  assert.is(v(root, lo, hi, entries, proof, { hash: () => new Uint8Array(32) }), false);
  assert.is(
    v(root, lo, hi, entries, proof, {
      hash: () => {
        throw new Error('boom');
      },
    }),
    false,
  );
  assert.ok(v(root, lo, hi, entries, proof));
});

test.run();
