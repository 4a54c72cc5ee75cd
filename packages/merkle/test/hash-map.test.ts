// HashMap (src/hash-map.ts): the trie's map of nodes by hash, against a JS
// Map as the model: random sets, deletes and reads, with keys that share
// their slot bytes (collisions and probe runs that wrap around the table) as
// often as not, and growth from the smallest table.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashMap } from '../src/hash-map.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A 32-byte key: a few slot prefixes (many collisions), then a few tails. */
const keyArb = fc
  .tuple(
    fc.constantFrom(0x00000000, 0xffffffff, 0x0000000f, 0x7fffffff, 0x12345678),
    fc.integer({ min: 0, max: 40 }),
  )
  .map(([prefix, tail]) => {
    const k = new Uint8Array(32);
    new DataView(k.buffer).setUint32(0, prefix >>> 0);
    k[31] = tail;
    return k;
  });

const opArb = fc.oneof(
  fc.record({ t: fc.constant('set' as const), k: keyArb, v: fc.integer() }),
  fc.record({ t: fc.constant('del' as const), k: keyArb }),
  fc.record({ t: fc.constant('get' as const), k: keyArb }),
);

test('property: the same answers as a Map under random sets, deletes and reads', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
      const m = new HashMap<number>(1);
      const model = new Map<string, number>();
      for (const op of ops) {
        const k = hex(op.k);
        if (op.t === 'set') {
          m.set(op.k, op.v);
          model.set(k, op.v);
        } else if (op.t === 'del') {
          assert.is(m.delete(op.k), model.delete(k));
        } else {
          assert.is(m.get(op.k), model.get(k));
          assert.is(m.has(op.k), model.has(k));
        }
        assert.is(m.size, model.size);
      }
      const seen = new Map<string, number>();
      m.forEach((v, k) => {
        seen.set(hex(k), v);
      });
      assert.equal([...seen].sort(), [...model].sort());
      // Every key the model holds is found after all the shifting.
      for (const [k, v] of model) assert.is(m.get(Buffer.from(k, 'hex')), v);
    }),
    { numRuns: 300 },
  );
});

test('keys are copied in: changing the caller’s array later changes nothing', () => {
  const m = new HashMap<string>();
  const k = new Uint8Array(32).fill(3);
  m.set(k, 'a');
  k[0] = 9;
  assert.is(m.get(new Uint8Array(32).fill(3)), 'a');
  assert.is(m.get(k), undefined);
});

test('random SHA-256-like keys: 100,000 entries, half deleted, the rest found', () => {
  const m = new HashMap<number>();
  const keys = Array.from({ length: 100_000 }, () => crypto.getRandomValues(new Uint8Array(32)));
  for (const [i, k] of keys.entries()) m.set(k, i);
  for (let i = 0; i < keys.length; i += 2) assert.ok(m.delete(keys[i]!));
  assert.is(m.size, 50_000);
  for (let i = 0; i < keys.length; i++) assert.is(m.get(keys[i]!), i % 2 === 0 ? undefined : i);
  m.clear();
  assert.is(m.size, 0);
  assert.is(m.get(keys[1]!), undefined);
});

test('a key that is not 32 bytes is refused', () => {
  assert.throws(() => new HashMap<number>().get(new Uint8Array(31)), RangeError);
});

test.run();
