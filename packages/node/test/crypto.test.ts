// The node's verifiers (src/crypto/crypto.ts) against the project's one acceptance
// rule (docs/PROTOCOL.md 2): the shared vector table
// (packages/test-utils/src/ed25519-vectors.ts) through verifyEd25519Sync, Async, the
// worker pool and verifyEd25519Batch, each agreeing with the wallet's
// verifyEd25519 (noble); random signatures from node:crypto and noble;
// signatures with torsion components; garbage into every entry point.
import {
  createPublicKey,
  verify as cryptoVerify,
  generateKeyPairSync,
  hash,
  sign,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ed25519PublicKey, signEd25519, verifyEd25519 } from '@pos/protocol';
import {
  ALL_CASES,
  craftTorsionCase,
  EDGE_CASES,
  L,
  RFC8032_VECTORS,
  unhex,
} from '@pos/test-utils/ed25519-vectors';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createVerifyPool,
  ED25519_INLINE_BELOW,
  ED25519_KEY_CACHE_MAX,
  type Ed25519VerifyItem,
  ed25519KeyCacheSize,
  sha256Node,
  startVerifyWorker,
  type VerifyResponse,
  verifyEd25519Async,
  verifyEd25519Batch,
  verifyEd25519BatchOnLibuv,
  verifyEd25519Few,
  verifyEd25519Sync,
} from '../src/crypto/crypto.js';

const pool = createVerifyPool({ threads: 2 });
test.after(() => pool.close());

const sha512 = (d: Uint8Array): Uint8Array => new Uint8Array(hash('sha512', d, 'buffer'));

/** node:crypto's verify with no pre-checks, as the table's `openssl` column records it. */
function rawOpenssl(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]),
      format: 'der',
      type: 'spki',
    });
    return cryptoVerify(null, msg, key, sig);
  } catch {
    return false;
  }
}

/** Every verifier's verdict on one item; all must agree. */
async function verdicts(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) {
  const item = { publicKey: pk, message: msg, signature: sig };
  const [asyncV, poolV, [batchV], [libuvBatchV]] = await Promise.all([
    verifyEd25519Async(pk, msg, sig),
    pool.verify(pk, msg, sig),
    verifyEd25519Batch([item]),
    verifyEd25519BatchOnLibuv([item]),
  ]);
  return {
    wallet: verifyEd25519(pk, msg, sig),
    sync: verifyEd25519Sync(pk, msg, sig),
    async: asyncV,
    pool: poolV,
    batch: batchV,
    libuvBatch: libuvBatchV,
  };
}

function assertAll(v: Record<string, unknown>, expected: boolean, label: string) {
  for (const [k, got] of Object.entries(v)) assert.is(got, expected, `${label}: ${k}`);
}

// --- the shared table ------------------------------------------------------------

for (const c of ALL_CASES) {
  test(`table: ${c.name}`, async () => {
    const pk = unhex(c.pk);
    const msg = unhex(c.msg);
    const sig = unhex(c.sig);
    assertAll(await verdicts(pk, msg, sig), c.valid, 'rule');
    assert.is(rawOpenssl(pk, msg, sig), c.openssl, 'raw OpenSSL');
  });
}

test('table: raw OpenSSL accepts cases the rule rejects, so the pre-checks are load-bearing', () => {
  const accepted = EDGE_CASES.filter((c) => c.openssl && !c.valid);
  assert.ok(accepted.length >= 20, `raw OpenSSL accepts ${accepted.length} rejected cases`);
});

test('table: the whole table as one pool batch and one verifyEd25519Batch', async () => {
  const items = ALL_CASES.map((c) => ({
    publicKey: unhex(c.pk),
    message: unhex(c.msg),
    signature: unhex(c.sig),
  }));
  const expected = ALL_CASES.map((c) => c.valid);
  assert.equal(await pool.verifyBatch(items), expected);
  assert.equal(await verifyEd25519Batch(items), expected);
  assert.equal(await verifyEd25519BatchOnLibuv(items), expected);
});

test('table: verifyEd25519Few gives the same verdicts inline (small batches) and on the pool (large)', async () => {
  const items = ALL_CASES.map((c) => ({
    publicKey: unhex(c.pk),
    message: unhex(c.msg),
    signature: unhex(c.sig),
  }));
  const expected = ALL_CASES.map((c) => c.valid);
  assert.ok(items.length > ED25519_INLINE_BELOW);
  assert.equal(await verifyEd25519Few(items), expected);
  for (let i = 0; i < items.length; i += ED25519_INLINE_BELOW - 1) {
    const end = i + ED25519_INLINE_BELOW - 1;
    assert.equal(await verifyEd25519Few(items.slice(i, end)), expected.slice(i, end), `from ${i}`);
  }
  assert.equal(await verifyEd25519Few([]), []);
});

// --- random signatures -------------------------------------------------------------

function nodeKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return { pk: new Uint8Array(der.subarray(12)), privateKey };
}

const flip = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
};

test('property: node:crypto signatures verify everywhere; a flipped bit fails everywhere', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.nat(),
      async (msg, bit) => {
        const { pk, privateKey } = nodeKeyPair();
        const sig = new Uint8Array(sign(null, msg, privateKey));
        assertAll(await verdicts(pk, msg, sig), true, 'signed');
        assertAll(await verdicts(pk, msg, flip(sig, bit % 512)), false, 'sig bit');
        assertAll(await verdicts(flip(pk, bit % 256), msg, sig), false, 'key bit');
        assertAll(await verdicts(pk, flip(msg, bit % (8 * msg.length)), sig), false, 'msg bit');
      },
    ),
    { numRuns: 40 },
  );
});

test('property: noble signatures verify everywhere', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      async (sk, msg) => {
        const pk = ed25519PublicKey(sk);
        assertAll(await verdicts(pk, msg, signEd25519(sk, msg)), true, 'noble-signed');
      },
    ),
    { numRuns: 40 },
  );
});

test('property: torsion components: every verifier agrees with the wallet and the equation', async () => {
  const seen = { accepted: 0, rejected: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.bigInt({ min: 1n, max: L - 1n }),
      fc.bigInt({ min: 1n, max: L - 1n }),
      fc.nat(7),
      fc.nat(7),
      fc.uint8Array({ maxLength: 64 }),
      async (a, r, tA, tR, msg) => {
        const c = craftTorsionCase(ed25519.Point, sha512, { a, r, tA, tR, msg });
        assertAll(await verdicts(c.pk, c.msg, c.sig), c.cofactorless, 'torsion');
        seen[c.cofactorless ? 'accepted' : 'rejected']++;
      },
    ),
    { numRuns: 100 },
  );
  assert.ok(seen.accepted > 0 && seen.rejected > 0, JSON.stringify(seen));
});

// --- garbage -----------------------------------------------------------------------

const T1 = RFC8032_VECTORS[2]!; // TEST 3: a non-empty message
const good: Ed25519VerifyItem = {
  publicKey: unhex(T1.pk),
  message: unhex(T1.msg),
  signature: unhex(T1.sig),
};

const garbageItems: unknown[] = [
  null,
  undefined,
  42,
  'item',
  [],
  {},
  { ...good, publicKey: T1.pk },
  { ...good, message: T1.msg },
  { ...good, signature: [...good.signature] },
  { ...good, publicKey: good.publicKey.subarray(1) },
  { ...good, signature: good.signature.subarray(1) },
  { ...good, signature: new Uint8Array(65) },
  { ...good, publicKey: new Uint16Array(16) },
  { ...good, message: null },
  { publicKey: good.publicKey, signature: good.signature },
];

test('sha256Node: both paths (JS up to 119 bytes, node:crypto past) give SHA-256 on every length 0..400', () => {
  for (let n = 0; n <= 400; n++) {
    const data = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
    const want = hash('sha256', data, 'hex');
    assert.is(Buffer.from(sha256Node(data)).toString('hex'), want, `length ${n}`);
  }
});

test('garbage: verifyEd25519Few answers false item by item, inline and on the pool', async () => {
  const few = [...garbageItems.slice(0, ED25519_INLINE_BELOW - 2), good] as Ed25519VerifyItem[];
  assert.equal(await verifyEd25519Few(few), [...few.slice(0, -1).map(() => false), true]);
  const many = Array.from(
    { length: ED25519_INLINE_BELOW },
    (_, i) => garbageItems[i % garbageItems.length],
  );
  assert.equal(
    await verifyEd25519Few(many as unknown as Ed25519VerifyItem[]),
    many.map(() => false),
  );
});

test('garbage: sync and async return false, never throw', async () => {
  for (const g of garbageItems) {
    const it = (g ?? {}) as Ed25519VerifyItem;
    assert.not.ok(verifyEd25519Sync(it.publicKey, it.message, it.signature));
    assert.not.ok(await verifyEd25519Async(it.publicKey, it.message, it.signature));
  }
  assert.ok(verifyEd25519Sync(good.publicKey, good.message, good.signature), 'control');
});

test('garbage: the pool answers false item by item and keeps working', async () => {
  const items = [...garbageItems, good, ...garbageItems] as Ed25519VerifyItem[];
  const res = await pool.verifyBatch(items);
  assert.equal(
    res,
    items.map((it) => it === good),
  );
  for (const g of garbageItems) {
    const it = (g ?? {}) as Ed25519VerifyItem;
    assert.not.ok(await pool.verify(it.publicKey, it.message, it.signature));
  }
  assert.equal(await verifyEd25519Batch(items), res);
  assert.equal(await verifyEd25519BatchOnLibuv(items), res);
  await assert.not.throws(() => pool.verifyBatch([]));
  assert.equal(await pool.verifyBatch([]), []);
  try {
    await pool.verifyBatch('not an array' as unknown as Ed25519VerifyItem[]);
    assert.unreachable('a non-array batch must reject');
  } catch (e) {
    assert.instance(e, TypeError);
  }
  assert.ok(await pool.verify(good.publicKey, good.message, good.signature), 'still alive');
  assert.is(pool.liveWorkers, 2);
});

test('property: the pool survives arbitrary values as items', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.anything(), { maxLength: 20 }), async (junk) => {
      const res = await pool.verifyBatch([...junk, good] as Ed25519VerifyItem[]);
      assert.equal(res, [...junk.map(() => false), true]);
    }),
    { numRuns: 100 },
  );
  assert.is(pool.liveWorkers, 2);
});

test('worker: a malformed request gets an all-false answer and the worker stays up', async () => {
  const w = startVerifyWorker();
  const replies: VerifyResponse[] = [];
  let wake: () => void = () => {};
  w.on('message', (m: VerifyResponse) => {
    replies.push(m);
    wake();
  });
  const next = () => new Promise<void>((r) => (wake = r));
  try {
    for (const bad of [null, { id: 1 }, { id: 2, n: 3, keys: 'x' }, { id: 3, n: 1e12 }]) {
      const got = next();
      w.postMessage(bad);
      await got;
      const last = replies[replies.length - 1]!;
      assert.ok(!last.results.includes(1), `answer to ${JSON.stringify(bad)}`);
    }
    const got = next();
    w.postMessage({
      id: 9,
      n: 1,
      keys: good.publicKey,
      sigs: good.signature,
      msgs: good.message,
      ends: Uint32Array.of(good.message.length),
    });
    await got;
    assert.equal(replies[replies.length - 1], { id: 9, results: Uint8Array.of(1) });
  } finally {
    await w.terminate();
  }
});

test('verifyEd25519Batch and OnLibuv: more items than chunks / in flight, verdicts in order', async () => {
  const bad = { ...good, message: new Uint8Array(1) };
  const items = Array.from({ length: 3 * 512 + 7 }, (_, i) => (i % 3 === 0 ? bad : good));
  for (const f of [verifyEd25519Batch, verifyEd25519BatchOnLibuv]) {
    assert.equal(
      await f(items),
      items.map((it) => it === good),
      f.name,
    );
    assert.equal(await f([]), []);
    try {
      await f({} as unknown as Ed25519VerifyItem[]);
      assert.unreachable('a non-array batch must reject');
    } catch (e) {
      assert.instance(e, TypeError);
    }
  }
});

// --- lifecycle and caches ----------------------------------------------------------

test('close(): workers exit, pending and later calls reject, close twice is fine', async () => {
  const p = createVerifyPool({ threads: 2 });
  assert.is(p.threads, 2);
  assert.ok(await p.verify(good.publicKey, good.message, good.signature));
  assert.is(p.liveWorkers, 2);
  const many = Array.from({ length: 2000 }, () => good);
  // Settled into a value now: a rejection nobody awaits yet would be unhandled.
  const pending = p.verifyBatch(many).then(
    () => 'resolved',
    (e: Error) => e.message,
  );
  await p.close();
  assert.is(p.liveWorkers, 0);
  assert.match(await pending, /closed/, 'in-flight batch');
  for (const call of [
    () => p.verify(good.publicKey, good.message, good.signature),
    () => p.verifyBatch([good]),
  ]) {
    try {
      await call();
      assert.unreachable('must reject after close');
    } catch (e) {
      assert.match((e as Error).message, /closed/);
    }
  }
  await p.close();
});

test('the built package: dist/crypto/crypto.js starts dist/crypto/verify-worker.js and agrees', async () => {
  // The tests run src under tsx (the .ts worker path); a node runs dist, where
  // the worker is the compiled .js beside crypto.js. `pnpm test` builds first.
  const distUrl = new URL('../dist/crypto/crypto.js', import.meta.url);
  assert.ok(existsSync(new URL('../dist/crypto/verify-worker.js', import.meta.url)), 'built');
  const dist = (await import(distUrl.href)) as typeof import('../src/crypto/crypto.js');
  const p = dist.createVerifyPool({ threads: 1 });
  try {
    const items = ALL_CASES.map((c) => ({
      publicKey: unhex(c.pk),
      message: unhex(c.msg),
      signature: unhex(c.sig),
    }));
    assert.equal(
      await p.verifyBatch(items),
      ALL_CASES.map((c) => c.valid),
    );
  } finally {
    await p.close();
  }
  assert.is(p.liveWorkers, 0);
});

test('createVerifyPool rejects a bad thread count', () => {
  for (const threads of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => createVerifyPool({ threads }), RangeError);
  }
});

test('a pool of one thread gives the same verdicts', async () => {
  const p = createVerifyPool({ threads: 1 });
  try {
    const items = ALL_CASES.map((c) => ({
      publicKey: unhex(c.pk),
      message: unhex(c.msg),
      signature: unhex(c.sig),
    }));
    assert.equal(
      await p.verifyBatch(items),
      ALL_CASES.map((c) => c.valid),
    );
  } finally {
    await p.close();
  }
});

test('verifyEd25519Async reads its inputs before returning (caller may reuse buffers)', async () => {
  const msg = good.message.slice();
  const pending = verifyEd25519Async(good.publicKey, msg, good.signature);
  msg.fill(0);
  assert.ok(await pending);
});

test(`key cache: bounded at ${ED25519_KEY_CACHE_MAX}`, () => {
  const msg = new Uint8Array(8);
  for (let i = 0; i < ED25519_KEY_CACHE_MAX + 50; i++) {
    const { pk, privateKey } = nodeKeyPair();
    assert.ok(verifyEd25519Sync(pk, msg, new Uint8Array(sign(null, msg, privateKey))));
  }
  assert.is(ed25519KeyCacheSize(), ED25519_KEY_CACHE_MAX);
  // A cached key still verifies correctly (the cache maps key bytes to its own KeyObject).
  assert.ok(verifyEd25519Sync(good.publicKey, good.message, good.signature));
});

test.run();
