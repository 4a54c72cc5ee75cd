// The signature cache (src/sig-cache.ts): it remembers only valid
// signatures, so it can never accept what the verifier refuses; a batch
// prefetch verifies each distinct miss once; the bound holds.
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coalescePrefetch } from '../src/crypto/sig-cache.js';
import { createSignatureCache, verifyEd25519Batch, verifyEd25519Sync } from '../src/index.js';

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  return { raw, sign: (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) };
}

function counting() {
  const calls = { one: 0, batch: 0, items: 0 };
  const cache = (max?: number, minBatch = 1) =>
    createSignatureCache({
      minBatch,
      ...(max === undefined ? {} : { maxEntries: max }),
      verify: (p, m, s) => {
        calls.one++;
        return verifyEd25519Sync(p, m, s);
      },
      verifyBatch: (items) => {
        calls.batch++;
        calls.items += items.length;
        return verifyEd25519Batch(items);
      },
    });
  return { calls, cache };
}

const k = keyPair();
const msg = (i: number) => new TextEncoder().encode(`tx ${i}`);
const good = (i: number) => ({ publicKey: k.raw, message: msg(i), signature: k.sign(msg(i)) });

test('a valid signature is verified once, then answered from the cache', () => {
  const { calls, cache } = counting();
  const c = cache();
  const g = good(1);
  assert.ok(c.verify(g.publicKey, g.message, g.signature));
  assert.ok(c.verify(g.publicKey, g.message, g.signature));
  assert.is(calls.one, 1);
  assert.is(c.hits, 1);
  assert.is(c.misses, 1);
});

test('an invalid signature is never cached and never accepted', () => {
  const { calls, cache } = counting();
  const c = cache();
  const g = good(2);
  const bad = g.signature.slice();
  bad[5]! ^= 1;
  const table: [string, Uint8Array, Uint8Array, Uint8Array][] = [
    ['flipped signature bit', g.publicKey, g.message, bad],
    ['other message', g.publicKey, msg(3), g.signature],
    ['short signature', g.publicKey, g.message, g.signature.subarray(1)],
    ['short key', g.publicKey.subarray(1), g.message, g.signature],
  ];
  for (const [name, p, m, s] of table) {
    assert.is(c.verify(p, m, s), false, name);
    assert.is(c.verify(p, m, s), false, name);
  }
  assert.is(c.size, 0);
  assert.is(calls.one, 2 * table.length);
});

test('prefetch verifies each distinct miss once, in one batch, and caches only the valid', async () => {
  const { calls, cache } = counting();
  const c = cache();
  const items = [good(10), good(11), good(10), good(12)];
  const bad = { ...good(13), message: msg(14) };
  await c.prefetch([...items, bad]);
  assert.is(calls.batch, 1);
  assert.is(calls.items, 4); // 10, 11, 12 and the bad one; the repeat of 10 is not sent
  assert.is(c.size, 3);
  for (const g of items) assert.ok(c.verify(g.publicKey, g.message, g.signature));
  assert.is(calls.one, 0);
  assert.is(c.verify(bad.publicKey, bad.message, bad.signature), false);
  assert.is(calls.one, 1);
  await c.prefetch(items); // all cached: no batch at all
  assert.is(calls.batch, 1);
});

test('prefetch of fewer than minBatch misses verifies them inline', async () => {
  const { calls, cache } = counting();
  const c = cache(undefined, 3);
  await c.prefetch([good(30), good(31)]);
  assert.is(calls.batch, 0);
  assert.is(calls.one, 2);
  assert.is(c.size, 2);
  await c.prefetch([good(32), good(33), { ...good(34), message: msg(0) }]);
  assert.is(calls.batch, 1);
  assert.is(c.size, 4);
});

test('coalesced prefetches of one turn become one batch; a later turn gets its own', async () => {
  const { calls, cache } = counting();
  const c = cache(undefined, 4);
  const prefetch = coalescePrefetch(c);
  const bad = { ...good(99), signature: good(98).signature };
  // Five submissions in one turn: 5 items, above minBatch 4, so one pool batch.
  await Promise.all([0, 1, 2, 3].map((i) => prefetch([good(i)])).concat(prefetch([bad])));
  assert.equal(calls, { one: 0, batch: 1, items: 5 });
  for (const i of [0, 1, 2, 3]) assert.ok(c.verify(good(i).publicKey, msg(i), good(i).signature));
  assert.is(calls.one, 0, 'the valid ones are cached');
  assert.not.ok(c.verify(bad.publicKey, bad.message, bad.signature), 'the invalid one is not');
  // One lone submission in the next turn: below minBatch, verified inline.
  await prefetch([good(10)]);
  assert.equal({ batch: calls.batch, one: calls.one }, { batch: 1, one: 2 });
});

test('prefetch counts what it verified; onChecked hears it once per coalesced batch', async () => {
  const { cache } = counting();
  const c = cache(undefined, 4);
  // Two fresh, one repeated within the call: two verified.
  assert.is(await c.prefetch([good(30), good(31), good(30)]), 2);
  // Now cached: nothing to verify.
  assert.is(await c.prefetch([good(30), good(31)]), 0);
  const heard: number[] = [];
  const prefetch = coalescePrefetch(c, (n) => heard.push(n));
  // One turn, three callers, one of them overlapping the cache: one batch of 3.
  await Promise.all([prefetch([good(30), good(32)]), prefetch([good(33)]), prefetch([good(34)])]);
  assert.equal(heard, [3]);
  await prefetch([good(32)]);
  assert.equal(heard, [3, 0], 'a batch with nothing new still reports, as 0');
});

test('the cache holds at most maxEntries, dropping the least recently used', () => {
  const { calls, cache } = counting();
  const c = cache(2);
  const [a, b, d] = [good(20), good(21), good(22)];
  c.verify(a.publicKey, a.message, a.signature);
  c.verify(b.publicKey, b.message, b.signature);
  c.verify(a.publicKey, a.message, a.signature); // a is now the most recent
  c.verify(d.publicKey, d.message, d.signature); // evicts b
  assert.is(c.size, 2);
  assert.is(calls.one, 3);
  c.verify(a.publicKey, a.message, a.signature);
  assert.is(calls.one, 3);
  c.verify(b.publicKey, b.message, b.signature);
  assert.is(calls.one, 4);
  const none = cache(0);
  none.verify(a.publicKey, a.message, a.signature);
  assert.is(none.size, 0);
  assert.throws(() => cache(-1));
});

test.run();
