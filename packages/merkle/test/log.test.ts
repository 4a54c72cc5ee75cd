import { hash as nodeCryptoHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concatBytes, equalBytes, fromHex, toHex, u64be } from '../src/bytes.js';
import { MerkleError } from '../src/errors.js';
import { createHistoryLog, emptyRoot, type HistoryLog, leafHash, nodeHash } from '../src/log.js';
import {
  decodeLogConsistencyProof,
  decodeLogInclusionProof,
  encodeLogConsistencyProof,
  encodeLogInclusionProof,
  type LogConsistencyProof,
  type LogInclusionProof,
  logConsistencyPathLength,
  logConsistencyProofFromJSON,
  logConsistencyProofToJSON,
  logInclusionPathLength,
  logInclusionProofFromJSON,
  logInclusionProofToJSON,
  verifyLogConsistency,
  verifyLogInclusion,
} from '../src/log-proof.js';
import { type BatchOp, createLevelStore, createMemoryStore, type KVStore } from '../src/store.js';

// ---------------------------------------------------------------------------
// Helpers and an independent reference (the RFC 9162 2.1 definitions, written
// recursively over the leaf list with @noble directly, not with src/ code).
// ---------------------------------------------------------------------------

const unhex = (h: string) => fromHex(`0x${h}`);
const hex = (b: Uint8Array) => toHex(b).slice(2);
const H = (...parts: Uint8Array[]) => sha256(concatBytes(...parts));
const ZERO = Uint8Array.of(0x00);
const ONE = Uint8Array.of(0x01);

/** The largest power of two smaller than n (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Reference over a fixed leaf list, memoizing MTH(D[a:b]). */
function reference(data: readonly Uint8Array[]) {
  const memo = new Map<string, Uint8Array>();
  const mth = (a: number, b: number): Uint8Array => {
    if (b === a) return sha256(new Uint8Array(0));
    if (b - a === 1) return H(ZERO, data[a]!);
    const key = `${a},${b}`;
    let h = memo.get(key);
    if (!h) {
      const k = split(b - a);
      h = H(ONE, mth(a, a + k), mth(a + k, b));
      memo.set(key, h);
    }
    return h;
  };
  // PATH(m, D[a:b]) of RFC 9162 2.1.3.1.
  const path = (m: number, a: number, b: number): Uint8Array[] => {
    if (b - a <= 1) return [];
    const k = split(b - a);
    return m < k
      ? [...path(m, a, a + k), mth(a + k, b)]
      : [...path(m - k, a + k, b), mth(a, a + k)];
  };
  // SUBPROOF(m, D[a:b], flag) of RFC 9162 2.1.4.1.
  const subproof = (m: number, a: number, b: number, flag: boolean): Uint8Array[] => {
    if (m === b - a) return flag ? [] : [mth(a, b)];
    const k = split(b - a);
    return m <= k
      ? [...subproof(m, a, a + k, flag), mth(a + k, b)]
      : [...subproof(m - k, a + k, b, false), mth(a, a + k)];
  };
  return {
    root: (n: number) => mth(0, n),
    inclusion: (i: number, n: number) => path(i, 0, n),
    consistency: (m: number, n: number) => (m === 0 || m === n ? [] : subproof(m, 0, n, true)),
  };
}

/**
 * The sequence of hash steps a verifier performs, from the recursive
 * definitions: 'R' = path entry is a right sibling, 'L' = a left sibling, 'S'
 * = the consistency proof's first entry seeds both roots. A verifier can only
 * tell two size/index claims apart when these differ: RFC 9162 proofs do not
 * commit to the tree size (the signed tree head does).
 */
function inclShape(i: number, n: number): string {
  if (n === 1) return '';
  const k = split(n);
  return i < k ? `${inclShape(i, k)}R` : `${inclShape(i - k, n - k)}L`;
}
function consShape(m: number, n: number, flag = true): string {
  if (m === n) return flag ? '' : 'S';
  const k = split(n);
  return m <= k ? `${consShape(m, k, flag)}R` : `${consShape(m - k, n - k, false)}L`;
}

/** Deterministic pseudo-random leaf data. */
function leafData(i: number, seed = 0): Uint8Array {
  const len = (i * 7 + seed) % 41;
  return sha256(concatBytes(u64be(i), u64be(seed)))
    .subarray(0, len)
    .slice();
}

async function buildLog(data: readonly Uint8Array[], store?: KVStore): Promise<HistoryLog> {
  const log = await createHistoryLog(store ? { store } : {});
  // Mix the three append entry points and batch sizes.
  let i = 0;
  let step = 1;
  while (i < data.length) {
    const chunk = data.slice(i, i + step);
    if (chunk.length === 1) await log.append(chunk[0]!);
    else if (step % 2 === 0) await log.appendMany(chunk);
    else await log.appendLeafHashes(chunk.map((d) => leafHash(d)));
    i += chunk.length;
    step = (step % 5) + 1;
  }
  return log;
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, MerkleError);
    assert.is((e as MerkleError).code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

function throws(f: () => unknown, code?: string): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, MerkleError);
    if (code) assert.is((e as MerkleError).code, code);
    return;
  }
  assert.unreachable(`expected MerkleError ${code ?? ''}`);
}

// ---------------------------------------------------------------------------
// RFC 6962 / Certificate Transparency test vectors. Copied from
// transparency-dev/merkle: testonly/constants.go (LeafInputs, NodeHashes,
// RootHashes; commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1) and
// proof/verify_test.go (inclusionProofs, consistencyProofs; commit
// 02194e9afb6c1d95b5381350007963aa70fff472), the same vectors as
// google/certificate-transparency-go merkletree/merkle_verifier_test.go.
// Their inclusion vectors number leaves from 1; here `index` is 0-based.
// ---------------------------------------------------------------------------

const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(unhex);

/** Roots for sizes 0..8 (RootHashes). */
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Every perfect subtree of the 8-leaf tree, by level then index (NodeHashes). */
const CT_NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

/** inclusionProofs (their {1,1}, {1,8}, {6,8}, {3,3}, {2,5}, leaf numbers made 0-based). */
const CT_INCLUSION: { index: number; size: number; path: string[] }[] = [
  { index: 0, size: 1, path: [] },
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    index: 2,
    size: 3,
    path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
  },
  {
    index: 1,
    size: 5,
    path: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

/** consistencyProofs. */
const CT_CONSISTENCY: { from: number; to: number; path: string[] }[] = [
  { from: 1, to: 1, path: [] },
  {
    from: 1,
    to: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    from: 6,
    to: 8,
    path: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    from: 2,
    to: 5,
    path: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    from: 6,
    to: 7,
    path: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const SOME_HASH = unhex('abacaba000000000000000000000000000000000000000000060061e00123456');

test('vectors: hashing primitives and the empty root', () => {
  assert.is(hex(emptyRoot()), CT_ROOTS[0]);
  assert.is(hex(leafHash(CT_LEAVES[0]!)), CT_ROOTS[1]);
  for (let i = 0; i < 8; i++) assert.is(hex(leafHash(CT_LEAVES[i]!)), CT_NODES[0]![i]);
  for (let level = 1; level < 4; level++) {
    for (let i = 0; i < CT_NODES[level]!.length; i++) {
      const l = unhex(CT_NODES[level - 1]![2 * i]!);
      const r = unhex(CT_NODES[level - 1]![2 * i + 1]!);
      assert.is(hex(nodeHash(l, r)), CT_NODES[level]![i]);
    }
  }
});

test('vectors: root at every size, appended one by one and read back at every earlier size', async () => {
  const log = await createHistoryLog();
  assert.is(hex(await log.root()), CT_ROOTS[0]);
  for (let n = 1; n <= 8; n++) {
    assert.is(await log.append(CT_LEAVES[n - 1]!), n);
    assert.is(log.size, n);
    assert.is(hex(await log.root()), CT_ROOTS[n]);
    for (let m = 0; m <= n; m++) assert.is(hex(await log.root(m)), CT_ROOTS[m]);
  }
  // All at once gives the same.
  const all = await createHistoryLog();
  await all.appendMany(CT_LEAVES);
  for (let m = 0; m <= 8; m++) assert.is(hex(await all.root(m)), CT_ROOTS[m]);
});

test('vectors: the store holds exactly the perfect subtrees (NodeHashes) and the size', async () => {
  const store = createMemoryStore();
  const log = await createHistoryLog({ store });
  await log.appendMany(CT_LEAVES.slice(0, 3));
  await log.appendMany(CT_LEAVES.slice(3));
  const seen: string[] = [];
  for await (const [k, v] of store.entries({ gte: Uint8Array.of(0x68), lt: Uint8Array.of(0x69) })) {
    assert.is(k.length, 10);
    const level = k[1]!;
    const index = Number(new DataView(k.buffer, k.byteOffset + 2, 8).getBigUint64(0));
    assert.is(hex(v), CT_NODES[level]![index], `node ${level}/${index}`);
    seen.push(`${level}/${index}`);
  }
  assert.is(seen.length, 8 + 4 + 2 + 1);
  assert.equal(await store.get(Uint8Array.of(0x73)), u64be(8));
  assert.is(store.size, 16);
});

test('vectors: inclusion proofs equal the CT paths and verify; CT corruptions fail', async () => {
  const log = await buildLog(CT_LEAVES);
  for (const v of CT_INCLUSION) {
    const proof = await log.inclusionProof(v.index, v.size);
    assert.equal(proof.path.map(hex), v.path, `PATH(${v.index}, ${v.size})`);
    assert.is(proof.leafIndex, v.index);
    assert.is(proof.treeSize, v.size);
    const root = unhex(CT_ROOTS[v.size]!);
    const leaf = CT_LEAVES[v.index]!;
    assert.ok(verifyLogInclusion(root, leaf, proof));
    assert.ok(verifyLogInclusion(root, { leafHash: leafHash(leaf) }, proof));
    assert.ok(verifyLogInclusion(root, leaf, encodeLogInclusionProof(proof)));
    assert.is(logInclusionPathLength(v.index, v.size), v.path.length);

    // The probes of transparency-dev's corruptInclusionProof.
    const path = v.path.map(unhex);
    const bad = (leafIndex: number, treeSize: number, p: Uint8Array[], r = root, l = leaf) =>
      verifyLogInclusion(r, l, { leafIndex, treeSize, path: p });
    const { index: i, size: n } = v;
    assert.not.ok(bad(i - 1, n, path), 'leafIndex - 1');
    assert.not.ok(bad(i + 1, n, path), 'leafIndex + 1');
    assert.not.ok(bad(i ^ 2, n, path), 'leafIndex ^ 2');
    assert.not.ok(bad(i, n * 2, path), 'treeSize * 2');
    assert.not.ok(bad(i, Math.floor(n / 2), path), 'treeSize / 2');
    assert.not.ok(bad(i, n, path, root, new TextEncoder().encode('WrongLeaf')), 'wrong leaf');
    assert.not.ok(bad(i, n, path, unhex(CT_ROOTS[0]!)), 'empty root');
    assert.not.ok(bad(i, n, path, SOME_HASH), 'random root');
    assert.not.ok(bad(i, n, [...path, new Uint8Array(0)]), 'trailing garbage');
    assert.not.ok(bad(i, n, [...path, root]), 'trailing root');
    assert.not.ok(bad(i, n, [new Uint8Array(0), ...path]), 'preceding garbage');
    assert.not.ok(bad(i, n, [root, ...path]), 'preceding root');
    for (let j = 0; j < path.length; j++) {
      const p = path.map((h) => h.slice());
      p[j]![0]! ^= 8;
      assert.not.ok(bad(i, n, p), `modified proof[${j}] bit 3`);
    }
    if (path.length > 0) assert.not.ok(bad(i, n, path.slice(0, -1)), 'removed component');
    if (path.length > 1) {
      assert.not.ok(bad(i, n, [path[0]!, SOME_HASH, ...path.slice(1)]), 'inserted component');
    }
  }
});

test('vectors: TestVerifyInclusion invalid probes fail', () => {
  for (const [i, n] of [
    [0, 0],
    [0, 1],
    [1, 0],
    [2, 1],
  ] as const) {
    const proof = { leafIndex: i, treeSize: n, path: [] };
    assert.not.ok(verifyLogInclusion(new Uint8Array(0), { leafHash: SOME_HASH }, proof));
    assert.not.ok(verifyLogInclusion(unhex(CT_ROOTS[0]!), { leafHash: new Uint8Array(0) }, proof));
    assert.not.ok(verifyLogInclusion(unhex(CT_ROOTS[0]!), { leafHash: SOME_HASH }, proof));
  }
  // TestVerifyInclusionSingleEntry: root and leaf hash of a 1-leaf tree coincide.
  const h = leafHash(new TextEncoder().encode('data'));
  const one = { leafIndex: 0, treeSize: 1, path: [] };
  assert.ok(verifyLogInclusion(h, { leafHash: h }, one));
  assert.not.ok(verifyLogInclusion(h, { leafHash: new Uint8Array(0) }, one));
  assert.not.ok(verifyLogInclusion(new Uint8Array(0), { leafHash: h }, one));
});

test('vectors: consistency proofs equal the CT paths and verify; CT corruptions fail', async () => {
  const log = await buildLog(CT_LEAVES);
  for (const v of CT_CONSISTENCY) {
    const proof = await log.consistencyProof(v.from, v.to);
    assert.equal(proof.path.map(hex), v.path, `PROOF(${v.from}, ${v.to})`);
    assert.is(logConsistencyPathLength(v.from, v.to), v.path.length);
    const r1 = unhex(CT_ROOTS[v.from]!);
    const r2 = unhex(CT_ROOTS[v.to]!);
    assert.ok(verifyLogConsistency(r1, r2, proof));
    assert.ok(verifyLogConsistency(r1, r2, encodeLogConsistencyProof(proof)));
    if (v.path.length === 0) continue;

    // The probes of transparency-dev's corruptConsistencyProof.
    const path = v.path.map(unhex);
    const ok = (s1: number, s2: number, a: Uint8Array, b: Uint8Array, p: Uint8Array[]) =>
      verifyLogConsistency(a, b, { fromSize: s1, toSize: s2, path: p });
    const { from: m, to: n } = v;
    const wrong = new TextEncoder().encode('WrongRoot');
    assert.not.ok(ok(m - 1, n, r1, r2, path), 'size1 - 1');
    assert.not.ok(ok(m + 1, n, r1, r2, path), 'size1 + 1');
    assert.not.ok(ok(m ^ 2, n, r1, r2, path), 'size1 ^ 2');
    assert.not.ok(ok(m, n * 2, r1, r2, path), 'size2 * 2');
    assert.not.ok(ok(m, Math.floor(n / 2), r1, r2, path), 'size2 / 2');
    assert.not.ok(ok(m, n, wrong, r2, path), 'wrong root1');
    assert.not.ok(ok(m, n, r1, wrong, path), 'wrong root2');
    assert.not.ok(ok(m, n, r2, r1, path), 'swapped roots');
    assert.not.ok(ok(m, n, r1, r2, []), 'empty proof');
    assert.not.ok(ok(m, n, r1, r2, [...path, new Uint8Array(0)]), 'trailing garbage');
    assert.not.ok(ok(m, n, r1, r2, [...path, r1]), 'trailing root1');
    assert.not.ok(ok(m, n, r1, r2, [...path, r2]), 'trailing root2');
    assert.not.ok(ok(m, n, r1, r2, [new Uint8Array(0), ...path]), 'preceding garbage');
    assert.not.ok(ok(m, n, r1, r2, [r1, ...path]), 'preceding root1');
    assert.not.ok(ok(m, n, r1, r2, [r2, ...path]), 'preceding root2');
    assert.not.ok(ok(m, n, r1, r2, [path[0]!, ...path]), 'preceding proof[0]');
    assert.not.ok(ok(m, n, r1, r2, path.slice(0, -1)), 'truncated proof');
    for (let j = 0; j < path.length; j++) {
      const p = path.map((h) => h.slice());
      p[j]![0]! ^= 16;
      assert.not.ok(ok(m, n, r1, r2, p), `modified proof[${j}] bit 4`);
    }
  }
});

test('consistency special cases: equal sizes, from 0, time travel (documented rule)', async () => {
  const empty = unhex(CT_ROOTS[0]!);
  const r1 = unhex(CT_ROOTS[1]!);
  const r5 = unhex(CT_ROOTS[5]!);
  const c = (fromSize: number, toSize: number, a: Uint8Array, b: Uint8Array, path: Uint8Array[]) =>
    verifyLogConsistency(a, b, { fromSize, toSize, path });
  // fromSize == toSize: empty path and equal roots (and the empty root at size 0).
  assert.ok(c(0, 0, empty, empty, []));
  assert.not.ok(c(0, 0, r1, r1, []));
  assert.not.ok(c(0, 0, empty, r1, []));
  assert.ok(c(1, 1, r1, r1, []));
  assert.not.ok(c(1, 1, r1, r5, []));
  assert.not.ok(c(1, 1, empty, empty, [empty]));
  assert.not.ok(c(0, 0, empty, empty, [empty]));
  // fromSize 0 < toSize: the empty log is a prefix of every log; oldRoot must be H("").
  assert.ok(c(0, 5, empty, r5, []));
  assert.not.ok(c(0, 5, r1, r5, []));
  assert.not.ok(c(0, 1, empty, empty, [empty]));
  assert.not.ok(c(0, 5, empty, new Uint8Array(31), []));
  // Time travel and empty non-trivial proofs.
  assert.not.ok(c(1, 0, r1, empty, []));
  assert.not.ok(c(2, 1, r5, r1, []));
  assert.not.ok(c(1, 2, r1, unhex(CT_ROOTS[2]!), []));
  // The builder agrees.
  const log = await buildLog(CT_LEAVES);
  for (const [m, n] of [
    [0, 0],
    [0, 5],
    [3, 3],
    [8, 8],
  ] as const) {
    const p = await log.consistencyProof(m, n);
    assert.equal(p, { fromSize: m, toSize: n, path: [] });
    assert.ok(verifyLogConsistency(await log.root(m), await log.root(n), p));
  }
  assert.equal((await log.consistencyProof(3)).toSize, 8);
});

// ---------------------------------------------------------------------------
// Against the reference, sizes 0..70
// ---------------------------------------------------------------------------

test('reference: roots, every inclusion and consistency proof for sizes 0..70', async () => {
  const N = 70;
  const data = Array.from({ length: N }, (_, i) => leafData(i, 1));
  const ref = reference(data);
  const log = await buildLog(data);
  let checked = 0;
  for (let n = 0; n <= N; n++) {
    const root = await log.root(n);
    assert.equal(root, ref.root(n), `root(${n})`);
    for (let i = 0; i < n; i++) {
      const p = await log.inclusionProof(i, n);
      assert.equal(p.path, ref.inclusion(i, n), `PATH(${i}, ${n})`);
      assert.is(p.path.length, logInclusionPathLength(i, n));
      assert.ok(verifyLogInclusion(root, data[i]!, p), `verify PATH(${i}, ${n})`);
      checked++;
    }
    for (let m = 0; m <= n; m++) {
      const p = await log.consistencyProof(m, n);
      assert.equal(p.path, ref.consistency(m, n), `PROOF(${m}, ${n})`);
      assert.is(p.path.length, logConsistencyPathLength(m, n));
      assert.ok(verifyLogConsistency(ref.root(m), root, p), `verify PROOF(${m}, ${n})`);
      checked++;
    }
  }
  assert.is(checked, (N * (N + 1)) / 2 + ((N + 1) * (N + 2)) / 2);
  for (let i = 0; i < N; i++) assert.equal(await log.leafHash(i), H(ZERO, data[i]!));
});

// ---------------------------------------------------------------------------
// Properties: tampering, garbage, round trips
// ---------------------------------------------------------------------------

const PN = 100;
const pData = Array.from({ length: PN }, (_, i) => leafData(i, 2));
const pRef = reference(pData);
const pLog = buildLog(pData);

const arbIncl = fc
  .integer({ min: 1, max: PN })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
// Non-trivial consistency pairs 0 < m < n.
const arbCons = fc
  .integer({ min: 2, max: PN })
  .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n)));
const arbHash = fc.uint8Array({ minLength: 32, maxLength: 32 });

function noThrow<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    assert.unreachable(`verifier threw: ${e}`);
    throw e;
  }
}

/** What a verifier must answer for a (possibly altered) inclusion claim with the true path. */
function inclExpected(orig: LogInclusionProof, claim: LogInclusionProof): boolean {
  if (claim.path.length !== orig.path.length) return false;
  if (!claim.path.every((h, j) => equalBytes(h, orig.path[j]!))) return false;
  if (claim.leafIndex >= claim.treeSize) return false;
  return inclShape(claim.leafIndex, claim.treeSize) === inclShape(orig.leafIndex, orig.treeSize);
}

function consExpected(orig: LogConsistencyProof, claim: LogConsistencyProof): boolean {
  if (claim.path.length !== orig.path.length) return false;
  if (!claim.path.every((h, j) => equalBytes(h, orig.path[j]!))) return false;
  if (claim.fromSize === 0 || claim.fromSize >= claim.toSize) return false; // orig path is non-empty
  return consShape(claim.fromSize, claim.toSize) === consShape(orig.fromSize, orig.toSize);
}

test('property: any single-bit flip of an encoded inclusion proof fails (unless size-ambiguous)', async () => {
  const log = await pLog;
  let ambiguous = 0;
  await fc.assert(
    fc.asyncProperty(arbIncl, fc.nat(), async ([n, i], bit) => {
      const proof = await log.inclusionProof(i, n);
      const bytes = encodeLogInclusionProof(proof);
      const b = bytes.slice();
      const at = bit % (b.length * 8);
      b[at >>> 3]! ^= 0x80 >>> (at & 7);
      let expected = false;
      try {
        expected = inclExpected(proof, decodeLogInclusionProof(b));
      } catch (e) {
        assert.instance(e, MerkleError);
      }
      if (expected) ambiguous++;
      const got = noThrow(() => verifyLogInclusion(pRef.root(n), pData[i]!, b));
      assert.is(got, expected, `flip bit ${at} of PATH(${i}, ${n})`);
      // Flips inside the path are never ambiguous.
      if (at >= 19 * 8) assert.not.ok(got);
    }),
    { numRuns: 1000 },
  );
  // Most flips fail; the few that pass only change treeSize to one with the same proof shape.
  assert.ok(ambiguous < 200);
});

test('property: single-bit flip of an encoded consistency proof fails (unless size-ambiguous)', async () => {
  const log = await pLog;
  await fc.assert(
    fc.asyncProperty(arbCons, fc.nat(), async ([m, n], bit) => {
      const proof = await log.consistencyProof(m, n);
      const b = encodeLogConsistencyProof(proof);
      const at = bit % (b.length * 8);
      b[at >>> 3]! ^= 0x80 >>> (at & 7);
      let expected = false;
      try {
        expected = consExpected(proof, decodeLogConsistencyProof(b));
      } catch (e) {
        assert.instance(e, MerkleError);
      }
      const got = noThrow(() => verifyLogConsistency(pRef.root(m), pRef.root(n), b));
      assert.is(got, expected, `flip bit ${at} of PROOF(${m}, ${n})`);
      if (at >= 19 * 8) assert.not.ok(got);
    }),
    { numRuns: 1000 },
  );
});

test('property: path tampering (flip, truncate, extend, swap) fails', async () => {
  const log = await pLog;
  await fc.assert(
    fc.asyncProperty(
      arbIncl,
      arbCons,
      fc.nat(),
      fc.nat(),
      arbHash,
      async ([n, i], [cm, cn], x, y, extra) => {
        const ip = await log.inclusionProof(i, n);
        const cp = await log.consistencyProof(cm, cn);
        const root = pRef.root(n);
        const leaf = pData[i]!;
        const r1 = pRef.root(cm);
        const r2 = pRef.root(cn);
        const vi = (path: Uint8Array[]) =>
          noThrow(() => verifyLogInclusion(root, leaf, { ...ip, path }));
        const vc = (path: Uint8Array[]) =>
          noThrow(() => verifyLogConsistency(r1, r2, { ...cp, path }));
        const variants = (path: Uint8Array[]): Uint8Array[][] => {
          const out: Uint8Array[][] = [];
          if (path.length > 0) {
            const flipped = path.map((h) => h.slice());
            const j = x % path.length;
            flipped[j]![y % 32]! ^= 1 << (x % 8);
            out.push(flipped, path.slice(0, -1), path.slice(1));
            out.push([...path.slice(0, j), extra, ...path.slice(j + 1)]);
          }
          out.push([...path, extra], [extra, ...path], [...path, root]);
          if (path.length > 1) {
            const a = x % path.length;
            const b = (a + 1 + (y % (path.length - 1))) % path.length;
            const swapped = path.slice();
            [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
            out.push(swapped);
          }
          return out;
        };
        for (const p of variants(ip.path)) assert.not.ok(vi(p));
        for (const p of variants(cp.path)) assert.not.ok(vc(p));
        // Encoded: truncated anywhere, or extended by 32 bytes, fails.
        const ib = encodeLogInclusionProof(ip);
        const cb = encodeLogConsistencyProof(cp);
        assert.not.ok(verifyLogInclusion(root, leaf, ib.subarray(0, x % ib.length)));
        assert.not.ok(verifyLogConsistency(r1, r2, cb.subarray(0, x % cb.length)));
        assert.not.ok(verifyLogInclusion(root, leaf, concatBytes(ib, extra)));
        assert.not.ok(verifyLogConsistency(r1, r2, concatBytes(cb, extra)));
        // Extended with the count bumped too: non-canonical, still fails.
        const ib2 = concatBytes(ib, extra);
        ib2[18]!++;
        assert.not.ok(verifyLogInclusion(root, leaf, ib2));
        const cb2 = concatBytes(cb, extra);
        cb2[18]!++;
        assert.not.ok(verifyLogConsistency(r1, r2, cb2));
        throws(() => decodeLogInclusionProof(ib2), 'BAD_ENCODING');
        throws(() => decodeLogConsistencyProof(cb2), 'BAD_ENCODING');
      },
    ),
    { numRuns: 500 },
  );
});

test('property: wrong leaf, wrong root, wrong index or size fail (sizes: unless shape-identical)', async () => {
  const log = await pLog;
  let sameShape = 0;
  await fc.assert(
    fc.asyncProperty(
      arbIncl,
      arbCons,
      fc.integer({ min: 0, max: 2 * PN }),
      fc.integer({ min: 0, max: 2 * PN }),
      arbHash,
      fc.uint8Array({ maxLength: 40 }),
      async ([n, i], [cm, cn], a, b, someRoot, someLeaf) => {
        const ip = await log.inclusionProof(i, n);
        const cp = await log.consistencyProof(cm, cn);
        const root = pRef.root(n);
        const leaf = pData[i]!;
        const r1 = pRef.root(cm);
        const r2 = pRef.root(cn);
        if (!equalBytes(someLeaf, leaf)) assert.not.ok(verifyLogInclusion(root, someLeaf, ip));
        assert.not.ok(verifyLogInclusion(root, { leafHash: someRoot }, ip));
        assert.not.ok(verifyLogInclusion(someRoot, leaf, ip));
        assert.not.ok(verifyLogConsistency(someRoot, r2, cp));
        assert.not.ok(verifyLogConsistency(r1, someRoot, cp));
        assert.not.ok(verifyLogConsistency(r2, r1, cp));
        // Another leaf of the same tree at this index, or this leaf at another index.
        const j = a % n;
        if (j !== i) {
          // Two leaves may hold equal data (leafData gives some empty ones).
          if (!equalBytes(pData[j]!, leaf)) {
            assert.not.ok(verifyLogInclusion(root, pData[j]!, ip));
          }
          assert.not.ok(verifyLogInclusion(root, leaf, { ...ip, leafIndex: j }));
        }
        // Another index/size claim with the same path: the RFC algorithm can tell
        // them apart exactly when the hashing steps differ.
        const claimI = { ...ip, leafIndex: a % (PN * 2), treeSize: b };
        if (claimI.leafIndex !== i || claimI.treeSize !== n) {
          const want = inclExpected(ip, claimI);
          if (want) sameShape++;
          assert.is(
            noThrow(() => verifyLogInclusion(root, leaf, claimI)),
            want,
          );
        }
        const claimC = { ...cp, fromSize: a, toSize: b };
        if (a !== cm || b !== cn) {
          const want = consExpected(cp, claimC);
          assert.is(
            noThrow(() => verifyLogConsistency(r1, r2, claimC)),
            want,
          );
        }
        for (const claim of [
          { ...ip, leafIndex: -1 },
          { ...ip, leafIndex: i + 0.5 },
          { ...ip, treeSize: Number.NaN },
          { ...ip, treeSize: 2 ** 53 },
          { ...ip, path: null },
        ]) {
          assert.not.ok(verifyLogInclusion(root, leaf, claim as unknown as LogInclusionProof));
        }
      },
    ),
    { numRuns: 500 },
  );
  assert.ok(sameShape < 1000);
});

test('size-ambiguity is inherent to RFC 9162: the root must come with its size', async () => {
  // PATH(0, D[3]) and PATH(0, D[4]) take the same hashing steps, and so do
  // PATH(2, D[3]) and PATH(1, D[2]): only a signed (size, root) pair binds them.
  const log = await buildLog(CT_LEAVES);
  const root3 = unhex(CT_ROOTS[3]!);
  const p = await log.inclusionProof(0, 3);
  assert.ok(verifyLogInclusion(root3, CT_LEAVES[0]!, { ...p, treeSize: 4 }));
  const q = await log.inclusionProof(2, 3);
  assert.ok(verifyLogInclusion(root3, CT_LEAVES[2]!, { ...q, leafIndex: 1, treeSize: 2 }));
  assert.is(inclShape(0, 3), inclShape(0, 4));
});

test('property: garbage to decoders throws MerkleError (or is canonical); to verifiers, false', async () => {
  const root = pRef.root(PN);
  await fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        // Garbage with a plausible header, to get past the first checks.
        fc
          .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 17, maxLength: 180 }))
          .map(([t, rest]) => concatBytes(Uint8Array.of(1, t), rest)),
      ),
      arbHash,
      (b, someRoot) => {
        for (const [dec, enc] of [
          [decodeLogInclusionProof, encodeLogInclusionProof],
          [decodeLogConsistencyProof, encodeLogConsistencyProof],
        ] as const) {
          try {
            const p = dec(b);
            // A decodable input must be canonical.
            assert.equal(enc(p as never), b);
          } catch (e) {
            assert.instance(e, MerkleError);
          }
        }
        assert.not.ok(noThrow(() => verifyLogInclusion(root, pData[0]!, b)));
        assert.not.ok(noThrow(() => verifyLogInclusion(someRoot, { leafHash: someRoot }, b)));
        assert.not.ok(noThrow(() => verifyLogConsistency(someRoot, root, b)));
        assert.not.ok(noThrow(() => verifyLogConsistency(root, someRoot, b)));
      },
    ),
    { numRuns: 3000 },
  );
  await fc.assert(
    fc.property(fc.anything(), fc.anything(), fc.anything(), (x, y, z) => {
      for (const parse of [logInclusionProofFromJSON, logConsistencyProofFromJSON]) {
        try {
          parse(x);
        } catch (e) {
          assert.instance(e, MerkleError);
        }
      }
      const v = (f: () => boolean) => assert.not.ok(noThrow(f));
      v(() => verifyLogInclusion(x as Uint8Array, y as Uint8Array, z as LogInclusionProof));
      v(() => verifyLogInclusion(root, y as Uint8Array, z as LogInclusionProof));
      v(() => verifyLogInclusion(root, pData[0]!, z as LogInclusionProof));
      v(() => verifyLogConsistency(x as Uint8Array, y as Uint8Array, z as LogConsistencyProof));
      v(() => verifyLogConsistency(root, root, z as LogConsistencyProof));
    }),
    { numRuns: 1000 },
  );
});

test('property: binary and JSON round trips', async () => {
  const log = await pLog;
  await fc.assert(
    fc.asyncProperty(arbIncl, arbCons, async ([n, i], [cm, cn]) => {
      const ip = await log.inclusionProof(i, n);
      const cp = await log.consistencyProof(cm, cn);
      const ib = encodeLogInclusionProof(ip);
      const cb = encodeLogConsistencyProof(cp);
      assert.is(ib.length, 19 + 32 * ip.path.length);
      assert.equal(decodeLogInclusionProof(ib), ip);
      assert.equal(encodeLogInclusionProof(decodeLogInclusionProof(ib)), ib);
      assert.equal(decodeLogConsistencyProof(cb), cp);
      assert.equal(encodeLogConsistencyProof(decodeLogConsistencyProof(cb)), cb);
      const ij = JSON.parse(JSON.stringify(logInclusionProofToJSON(ip)));
      const cj = JSON.parse(JSON.stringify(logConsistencyProofToJSON(cp)));
      assert.equal(Object.keys(ij), ['leafIndex', 'treeSize', 'path']);
      assert.equal(Object.keys(cj), ['fromSize', 'toSize', 'path']);
      assert.equal(logInclusionProofFromJSON(ij), ip);
      assert.equal(logConsistencyProofFromJSON(cj), cp);
      assert.equal(logInclusionProofToJSON(logInclusionProofFromJSON(ij)), ij);
      assert.equal(logConsistencyProofToJSON(logConsistencyProofFromJSON(cj)), cj);
    }),
    { numRuns: 300 },
  );
});

test('codecs: exact layout, strictness', async () => {
  const log = await buildLog(CT_LEAVES);
  const ip = await log.inclusionProof(5, 8);
  const b = encodeLogInclusionProof(ip);
  assert.is(
    hex(b),
    `0102${'0000000000000005'}${'0000000000000008'}03${CT_INCLUSION[2]!.path.join('')}`,
  );
  const cb = encodeLogConsistencyProof(await log.consistencyProof(2, 5));
  assert.is(hex(cb.subarray(0, 19)), `0103${'0000000000000002'}${'0000000000000005'}02`);
  assert.is(hex(encodeLogConsistencyProof({ fromSize: 0, toSize: 7, path: [] })).length, 38);

  // Binary: wrong version, wrong type, sizes above 2^53 - 1, index >= size, from > to.
  const mut = (f: (x: Uint8Array) => void, src = b) => {
    const x = src.slice();
    f(x);
    return x;
  };
  throws(() => decodeLogInclusionProof(mut((x) => (x[0] = 2))), 'BAD_ENCODING');
  throws(() => decodeLogInclusionProof(mut((x) => (x[1] = 3))), 'BAD_ENCODING');
  throws(() => decodeLogConsistencyProof(b), 'BAD_ENCODING');
  throws(() => decodeLogInclusionProof(mut((x) => (x[10] = 0x00 | 0x20))), 'BAD_ENCODING');
  throws(() => decodeLogInclusionProof(mut((x) => (x[17] = 5))), 'BAD_ENCODING');
  throws(() => decodeLogInclusionProof(new Uint8Array(0)), 'BAD_ENCODING');
  throws(() => decodeLogInclusionProof('0x01' as unknown as Uint8Array), 'BAD_ENCODING');
  throws(() => decodeLogConsistencyProof(encode3(6, 5, [])), 'BAD_ENCODING');
  // Sizes 2^53 - 1 are representable.
  const big = Number.MAX_SAFE_INTEGER;
  const bp = { fromSize: big, toSize: big, path: [] };
  assert.equal(decodeLogConsistencyProof(encodeLogConsistencyProof(bp)), bp);

  // Encoders refuse non-canonical objects.
  throws(() => encodeLogInclusionProof({ ...ip, path: ip.path.slice(1) }), 'BAD_PROOF');
  throws(() => encodeLogInclusionProof({ ...ip, leafIndex: 8 }), 'BAD_PROOF');
  throws(() => logInclusionProofToJSON({ ...ip, path: [...ip.path, SOME_HASH] }), 'BAD_PROOF');
  throws(
    () => encodeLogConsistencyProof({ fromSize: 0, toSize: 3, path: [SOME_HASH] }),
    'BAD_PROOF',
  );

  // JSON: exact keys, safe non-negative integers, 32-byte lowercase hex, canonical length.
  const j = logInclusionProofToJSON(ip);
  const bad = (o: unknown, code?: string) => throws(() => logInclusionProofFromJSON(o), code);
  bad({ ...j, extra: 1 }, 'BAD_ENCODING');
  bad({ leafIndex: 5, treeSize: 8 }, 'BAD_ENCODING');
  bad({ ...j, leafIndex: '5' }, 'BAD_ENCODING');
  bad({ ...j, leafIndex: 5.5 }, 'BAD_ENCODING');
  bad({ ...j, leafIndex: -1 }, 'BAD_ENCODING');
  bad({ ...j, treeSize: 2 ** 53 }, 'BAD_ENCODING');
  bad({ ...j, path: 'x' }, 'BAD_ENCODING');
  bad({ ...j, path: j.path.slice(1) }, 'BAD_ENCODING');
  bad({ ...j, path: [...j.path, j.path[0]] }, 'BAD_ENCODING');
  bad(
    { ...j, path: [j.path[0]!.toUpperCase().replace('0X', '0x'), ...j.path.slice(1)] },
    'BAD_HEX',
  );
  bad({ ...j, path: [j.path[0]!.slice(2), ...j.path.slice(1)] }, 'BAD_HEX');
  bad({ ...j, path: [`${j.path[0]!}00`, ...j.path.slice(1)] }, 'BAD_HEX');
  bad([j], 'BAD_ENCODING');
  bad(null, 'BAD_ENCODING');
  throws(() => logConsistencyProofFromJSON({ fromSize: 5, toSize: 2, path: [] }), 'BAD_ENCODING');
  throws(
    () => logConsistencyProofFromJSON({ leafIndex: 0, treeSize: 1, path: [] }),
    'BAD_ENCODING',
  );
});

function encode3(a: number, b: number, path: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(1, 3), u64be(a), u64be(b), Uint8Array.of(path.length), ...path);
}

test('path lengths and verification past 2^32 (synthetic proofs from the recursive definition)', () => {
  // BigInt reference of the shape for huge sizes (one branch per level).
  const bsplit = (n: bigint) => {
    let k = 1n;
    while (k * 2n < n) k *= 2n;
    return k;
  };
  const bIncl = (i: bigint, n: bigint): string => {
    let s = '';
    while (n > 1n) {
      const k = bsplit(n);
      if (i < k) {
        s = `R${s}`;
        n = k;
      } else {
        s = `L${s}`;
        i -= k;
        n -= k;
      }
    }
    return s;
  };
  const bCons = (m: bigint, n: bigint): string => {
    let s = '';
    let flag = true;
    while (m !== n) {
      const k = bsplit(n);
      if (m <= k) {
        s = `R${s}`;
        n = k;
      } else {
        s = `L${s}`;
        m -= k;
        n -= k;
        flag = false;
      }
    }
    return flag ? s : `S${s}`;
  };
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
      fc.integer({ min: 0, max: 1000 }),
      (n0, x, seed) => {
        const n = Number(n0);
        const i = Number(x % n0);
        // Inclusion.
        const shape = bIncl(BigInt(i), n0);
        assert.is(logInclusionPathLength(i, n), shape.length);
        const leaf = H(u64be(seed));
        const path = [...shape].map((_, j) => H(u64be(seed), u64be(j)));
        let r = leafHash(leaf);
        [...shape].forEach((op, j) => {
          r = op === 'R' ? nodeHash(r, path[j]!) : nodeHash(path[j]!, r);
        });
        assert.ok(verifyLogInclusion(r, leaf, { leafIndex: i, treeSize: n, path }));
        // Consistency from m = i + 1 (0 < m <= n).
        const m = i + 1;
        const cshape = m === n ? '' : bCons(BigInt(m), n0);
        // With 'S' the path starts with the seed; otherwise the seed is the old root itself.
        assert.is(logConsistencyPathLength(m, n), cshape.length);
        if (m === n) return;
        const cpath = [...cshape].map((_, j) => H(u64be(seed + 1), u64be(j)));
        const seeded = cshape.startsWith('S');
        let fr: Uint8Array = seeded ? cpath[0]! : H(u64be(seed + 2));
        let sr: Uint8Array = fr;
        for (let j = seeded ? 1 : 0; j < cshape.length; j++) {
          if (cshape[j] === 'R') {
            sr = nodeHash(sr, cpath[j]!);
          } else {
            fr = nodeHash(cpath[j]!, fr);
            sr = nodeHash(cpath[j]!, sr);
          }
        }
        const oldRoot = fr;
        assert.ok(verifyLogConsistency(oldRoot, sr, { fromSize: m, toSize: n, path: cpath }));
        assert.not.ok(verifyLogConsistency(sr, oldRoot, { fromSize: m, toSize: n, path: cpath }));
      },
    ),
    { numRuns: 200 },
  );
});

test('builder past 2^32: a synthetic store of identical leaves, real hashes', async () => {
  // With every leaf empty, the perfect subtree of level L has the same hash P[L]
  // wherever it is, so a store can serve a real log of 2^40 + 7 leaves.
  const P: Uint8Array[] = [leafHash(new Uint8Array(0))];
  for (let l = 1; l <= 53; l++) P.push(nodeHash(P[l - 1]!, P[l - 1]!));
  const N = 2 ** 40 + 7;
  const batches: BatchOp[][] = [];
  let size = N;
  const store: KVStore = {
    async get(key) {
      if (key.length === 1 && key[0] === 0x73) return u64be(size);
      assert.is(key.length, 10);
      assert.is(key[0], 0x68);
      const level = key[1]!;
      const index = new DataView(key.buffer, key.byteOffset + 2, 8).getBigUint64(0);
      // Only perfect, aligned, complete subtrees are ever read.
      assert.ok((index + 1n) << BigInt(level) <= BigInt(size), `read ${level}/${index}`);
      return P[level];
    },
    async batch(ops) {
      batches.push([...ops]);
    },
    async *entries() {},
  };
  const expectedRoot = (n: number) => {
    let r: Uint8Array | undefined;
    for (let l = 0; l <= 53; l++) {
      if (Math.floor(n / 2 ** l) % 2 === 1) r = r ? nodeHash(P[l]!, r) : P[l]!;
    }
    return r!;
  };
  const log = await createHistoryLog({ store });
  assert.is(log.size, N);
  assert.equal(await log.root(), expectedRoot(N));
  for (const m of [1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 39 + 12345, N - 1]) {
    assert.equal(await log.root(m), expectedRoot(m));
    const cp = await log.consistencyProof(m);
    assert.is(cp.path.length, logConsistencyPathLength(m, N));
    assert.ok(verifyLogConsistency(expectedRoot(m), expectedRoot(N), cp));
    assert.ok(
      verifyLogConsistency(expectedRoot(m), expectedRoot(N), encodeLogConsistencyProof(cp)),
    );
    for (const i of [0, m - 1, Math.floor(m / 3)]) {
      const ip = await log.inclusionProof(i, m);
      assert.is(ip.path.length, logInclusionPathLength(i, m));
      assert.ok(verifyLogInclusion(expectedRoot(m), new Uint8Array(0), ip));
    }
  }
  // Appending carries through bits 0..2 of 2^40 + 7: writes 0/N, 1/(N>>1), 2/(N>>2), 3/(N>>3), size.
  assert.is(await log.append(new Uint8Array(0)), N + 1);
  size = N + 1;
  assert.is(batches.length, 1);
  const keys = batches[0]!.map((op) => hex(op.key));
  assert.equal(keys, [
    `6800${hex(u64be(N))}`,
    `6801${hex(u64be(Math.floor(N / 2)))}`,
    `6802${hex(u64be(Math.floor(N / 4)))}`,
    `6803${hex(u64be(Math.floor(N / 8)))}`,
    '73',
  ]);
  assert.equal(await log.root(), expectedRoot(N + 1));
});

// ---------------------------------------------------------------------------
// The log: store contract, concurrency, errors
// ---------------------------------------------------------------------------

/** A memory store that counts calls and can fail or delay batches. */
function instrumented() {
  const inner = createMemoryStore();
  const s = {
    gets: 0,
    batches: 0,
    ops: 0,
    failNext: false,
    delay: false,
    inner,
    async get(key: Uint8Array) {
      s.gets++;
      return inner.get(key);
    },
    async batch(ops: readonly BatchOp[]) {
      if (s.delay) await new Promise((r) => setTimeout(r, Math.random() * 3));
      if (s.failNext) {
        s.failNext = false;
        throw new Error('disk full');
      }
      s.batches++;
      s.ops += ops.length;
      return inner.batch(ops);
    },
    entries: inner.entries.bind(inner),
  };
  return s;
}

test('log: one atomic batch of O(log n) writes per call; no reads to append or read the root', async () => {
  const store = instrumented();
  const log = await createHistoryLog({ store });
  const data = Array.from({ length: 300 }, (_, i) => leafData(i, 3));
  const ref = reference(data);
  store.gets = 0;
  for (let i = 0; i < 255; i++) {
    const before = store.ops;
    await log.append(data[i]!);
    // One leaf, its carries (trailing ones of the old size), and the size.
    assert.ok(store.ops - before <= 2 + Math.log2(i + 1) + 1);
  }
  assert.is(store.batches, 255);
  assert.is(await log.appendMany(data.slice(255, 290)), 290);
  assert.is(store.batches, 256);
  assert.is(await log.appendMany([]), 290);
  assert.is(await log.appendLeafHashes([]), 290);
  assert.is(store.batches, 256);
  assert.is(await log.appendLeafHashes(data.slice(290).map((d) => leafHash(d))), 300);
  assert.is(store.batches, 257);
  assert.is(store.gets, 0);
  assert.equal(await log.root(), ref.root(300));
  assert.is(store.gets, 0);
  // Proofs cost O(log n) reads.
  await log.inclusionProof(123);
  assert.ok(store.gets <= 2 * 9, `${store.gets} reads`);
  store.gets = 0;
  await log.consistencyProof(77);
  assert.ok(store.gets <= 2 * 9, `${store.gets} reads`);
  // 2n - popcount(n) subtree hashes and the size.
  assert.is(store.inner.size, 2 * 300 - 4 + 1);
});

test('log: concurrent appends are serialized in call order; a failed batch changes nothing', async () => {
  const store = instrumented();
  store.delay = true;
  const log = await createHistoryLog({ store });
  const data = Array.from({ length: 120 }, (_, i) => leafData(i, 4));
  const ref = reference(data);
  const pending: Promise<number>[] = [];
  const expected: number[] = [];
  let i = 0;
  while (i < 100) {
    const k = Math.min((i % 4) + 1, 100 - i);
    pending.push(k === 1 ? log.append(data[i]!) : log.appendMany(data.slice(i, i + k)));
    i += k;
    expected.push(i);
  }
  // A caller reusing its buffer after the call does not change what was appended.
  const reused = data[100]!.slice();
  pending.push(log.append(reused));
  reused.fill(0xff);
  expected.push(101);
  assert.equal(await Promise.all(pending), expected);
  assert.equal(await log.root(), ref.root(101));

  store.failNext = true;
  await log.append(data[101]!).then(
    () => assert.unreachable('should fail'),
    (e: Error) => assert.is(e.message, 'disk full'),
  );
  assert.is(log.size, 101);
  assert.equal(await log.root(), ref.root(101));
  assert.is(await log.appendMany(data.slice(101)), 120);
  assert.equal(await log.root(), ref.root(120));
  // And the store agrees after reopening.
  const again = await createHistoryLog({ store: store.inner });
  assert.is(again.size, 120);
  assert.equal(await again.root(77), ref.root(77));
});

test('log: out-of-range and bad arguments throw; corrupt stores are refused', async () => {
  const log = await buildLog(CT_LEAVES);
  await rejects(log.root(9), 'OUT_OF_RANGE');
  await rejects(log.root(-1), 'OUT_OF_RANGE');
  await rejects(log.root(1.5), 'BAD_ARGUMENT');
  await rejects(log.leafHash(8), 'OUT_OF_RANGE');
  await rejects(log.inclusionProof(8), 'OUT_OF_RANGE');
  await rejects(log.inclusionProof(3, 3), 'OUT_OF_RANGE');
  await rejects(log.inclusionProof(0, 0), 'OUT_OF_RANGE');
  await rejects(log.inclusionProof(0, 9), 'OUT_OF_RANGE');
  await rejects(log.consistencyProof(5, 3), 'OUT_OF_RANGE');
  await rejects(log.consistencyProof(9), 'OUT_OF_RANGE');
  await rejects(log.consistencyProof(0, 9), 'OUT_OF_RANGE');
  await rejects(log.append('x' as unknown as Uint8Array), 'BAD_ARGUMENT');
  await rejects(log.appendMany([CT_LEAVES[0]!, 7 as unknown as Uint8Array]), 'BAD_ARGUMENT');
  await rejects(log.appendLeafHashes([new Uint8Array(31)]), 'BAD_ARGUMENT');
  assert.is(log.size, 8);

  const short = createMemoryStore();
  await short.batch([{ type: 'put', key: Uint8Array.of(0x73), value: new Uint8Array(3) }]);
  await rejects(createHistoryLog({ store: short }), 'CORRUPT_STORE');
  const missing = createMemoryStore();
  await missing.batch([{ type: 'put', key: Uint8Array.of(0x73), value: u64be(5) }]);
  await rejects(createHistoryLog({ store: missing }), 'CORRUPT_STORE');
});

test('atSize: reopening truncated forgets later appends; the log grows again correctly', async () => {
  const store = createMemoryStore();
  const leaf = (i: number, salt: number) => u64be(i * 1000 + salt);
  const full = await createHistoryLog({ store });
  await full.appendMany(Array.from({ length: 100 }, (_, i) => leaf(i, 1)));
  const rootAt60 = await full.root(60);

  const cut = await createHistoryLog({ store, atSize: 60 });
  assert.is(cut.size, 60);
  assert.equal(await cut.root(), rootAt60);
  try {
    await cut.root(61);
    assert.unreachable();
  } catch (e) {
    assert.is((e as MerkleError).code, 'OUT_OF_RANGE');
  }
  // Other leaves from 60 on: the result equals a log built that way from scratch.
  await cut.appendMany(Array.from({ length: 45 }, (_, i) => leaf(60 + i, 2)));
  const fresh = await createHistoryLog();
  await fresh.appendMany(Array.from({ length: 60 }, (_, i) => leaf(i, 1)));
  await fresh.appendMany(Array.from({ length: 45 }, (_, i) => leaf(60 + i, 2)));
  assert.equal(await cut.root(), await fresh.root());
  for (const [from, to] of [
    [60, 105],
    [64, 100],
    [99, 105],
  ] as const) {
    const p = await cut.consistencyProof(from, to);
    assert.ok(verifyLogConsistency(await fresh.root(from), await fresh.root(to), p));
  }
  const reopened = await createHistoryLog({ store });
  assert.is(reopened.size, 105);
  assert.equal(await reopened.root(), await fresh.root());
  try {
    await createHistoryLog({ store, atSize: 106 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as MerkleError).code, 'OUT_OF_RANGE');
  }
});

test('hash injection: node:crypto gives the same roots and proofs as the default', async () => {
  const nodeSha = (d: Uint8Array) => nodeCryptoHash('sha256', d, 'buffer');
  const data = Array.from({ length: 45 }, (_, i) => leafData(i, 5));
  const a = await createHistoryLog();
  const b = await createHistoryLog({ hash: nodeSha });
  await a.appendMany(data);
  for (const d of data) await b.append(d);
  assert.is(hex(emptyRoot({ hash: nodeSha })), CT_ROOTS[0]);
  for (let n = 0; n <= 45; n++) assert.is(hex(await b.root(n)), hex(await a.root(n)));
  for (const [i, n] of [
    [0, 1],
    [17, 45],
    [44, 45],
  ] as const) {
    const pa = await a.inclusionProof(i, n);
    const pb = await b.inclusionProof(i, n);
    assert.equal(pb.path.map(hex), pa.path.map(hex));
    assert.ok(verifyLogInclusion(await b.root(n), data[i]!, pb, { hash: nodeSha }));
  }
  const ca = await a.consistencyProof(13, 45);
  const cb = await b.consistencyProof(13, 45);
  assert.equal(cb.path.map(hex), ca.path.map(hex));
  assert.ok(verifyLogConsistency(await b.root(13), await b.root(45), cb, { hash: nodeSha }));
  const v = await createHistoryLog({ hash: nodeSha });
  await v.appendMany(CT_LEAVES);
  assert.is(hex(await v.root()), CT_ROOTS[8]);
});

test('classic-level: 1000 leaves in batches, reopen, same roots and proofs, appends continue', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pos-log-'));
  const open = () =>
    new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    const data = Array.from({ length: 1037 }, (_, i) => leafData(i, 6));
    const ref = reference(data);
    let db = open();
    let log = await createHistoryLog({ store: createLevelStore(db) });
    assert.is(log.size, 0);
    let at = 0;
    for (const k of [1, 2, 3, 100, 250, 1, 143, 500]) {
      if (k === 1) await log.append(data[at]!);
      else await log.appendMany(data.slice(at, at + k));
      at += k;
      assert.is(log.size, at);
      assert.equal(await log.root(), ref.root(at));
    }
    assert.is(at, 1000);
    await db.close();

    db = open();
    log = await createHistoryLog({ store: createLevelStore(db) });
    assert.is(log.size, 1000);
    for (const m of [0, 1, 2, 3, 6, 106, 356, 357, 500, 512, 999, 1000]) {
      assert.equal(await log.root(m), ref.root(m), `root(${m})`);
    }
    for (const [i, n] of [
      [0, 1000],
      [999, 1000],
      [511, 512],
      [357, 700],
    ] as const) {
      const p = await log.inclusionProof(i, n);
      assert.equal(p.path, ref.inclusion(i, n));
      assert.ok(verifyLogInclusion(ref.root(n), data[i]!, encodeLogInclusionProof(p)));
    }
    for (const [m, n] of [
      [1, 1000],
      [6, 1000],
      [512, 1000],
      [357, 999],
    ] as const) {
      const p = await log.consistencyProof(m, n);
      assert.equal(p.path, ref.consistency(m, n));
      assert.ok(verifyLogConsistency(ref.root(m), ref.root(n), p));
    }
    assert.is(await log.appendMany(data.slice(1000, 1030)), 1030);
    for (const d of data.slice(1030)) await log.append(d);
    assert.equal(await log.root(), ref.root(1037));
    assert.ok(
      verifyLogConsistency(ref.root(1000), await log.root(), await log.consistencyProof(1000)),
    );
    await db.close();

    db = open();
    log = await createHistoryLog({ store: createLevelStore(db) });
    assert.is(log.size, 1037);
    assert.equal(await log.root(), ref.root(1037));
    assert.equal(await log.leafHash(1036), H(ZERO, data[1036]!));
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
