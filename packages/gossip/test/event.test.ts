// The event wire format (docs/PROTOCOL.md 6.1): round trips, one
// encoding per event, every refusal a BAD_ENCODING, signatures over the hash.
import { createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeEvent,
  encodeUnsignedEvent,
  eventHash,
  GossipError,
  MAX_EVENT_BYTES,
  PayloadKind,
  signEvent,
  type UnsignedEvent,
} from '../src/index.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const rawPub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
const signer = (h: Uint8Array) => new Uint8Array(sign(null, h, privateKey));
const b = (n: number, v = 7) => new Uint8Array(n).fill(v);

const base: UnsignedEvent = {
  chainId: b(32, 1),
  creator: rawPub,
  seq: 3,
  selfParent: b(32, 2),
  otherParent: { hash: b(32, 3), creator: b(32, 4), seq: 9 },
  timestamp: 1_700_000_000_000,
  transactions: [Uint8Array.of(1, 2, 3), b(100, 5)],
  payloads: [{ kind: PayloadKind.BLOCK_SIGNATURE, data: b(104, 6) }],
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GossipError) return e.code;
    return `other: ${e}`;
  }
  return 'none';
}

test('sign, encode, decode: same fields, hash, signature; the signature verifies', () => {
  const ev = signEvent(base, signer, sha256);
  const d = decodeEvent(ev.bytes, sha256);
  assert.equal(hex(d.hash), hex(ev.hash));
  assert.equal(hex(d.hash), hex(eventHash(base, sha256)));
  assert.equal(d.seq, 3);
  assert.equal(d.timestamp, base.timestamp);
  assert.equal(d.transactions.map(hex), base.transactions.map(hex));
  assert.equal(hex(d.otherParent!.creator), hex(b(32, 4)));
  assert.is(d.otherParent!.seq, 9);
  assert.is(d.payloads[0]!.kind, 1);
  const key = createPrivateKey({ key: privateKey.export({ format: 'pem', type: 'pkcs8' }) });
  assert.ok(verify(null, d.hash, publicKey, d.signature));
  assert.ok(key);
});

test('the hash covers every field but not the signature', () => {
  const h0 = hex(eventHash(base, sha256));
  const variants: UnsignedEvent[] = [
    { ...base, chainId: b(32, 9) },
    { ...base, seq: 4 },
    { ...base, selfParent: b(32, 8) },
    { ...base, otherParent: null },
    { ...base, otherParent: { ...base.otherParent!, seq: 10 } },
    { ...base, otherParent: { ...base.otherParent!, creator: b(32, 8) } },
    { ...base, timestamp: base.timestamp + 1 },
    { ...base, transactions: base.transactions.slice(0, 1) },
    { ...base, payloads: [] },
  ];
  for (const v of variants) assert.is.not(hex(eventHash(v, sha256)), h0);
  const a = signEvent(base, signer, sha256);
  const other = signEvent(base, () => b(64, 1), sha256);
  assert.is(hex(a.hash), hex(other.hash));
});

test('a first event (seq 0) has no self-parent; a later one must have one', () => {
  const first = { ...base, seq: 0, selfParent: null, otherParent: null };
  const ev = signEvent(first, signer, sha256);
  assert.is(decodeEvent(ev.bytes, sha256).selfParent, null);
  assert.is(
    code(() => encodeUnsignedEvent({ ...base, selfParent: null })),
    'BAD_ARGUMENT',
  );
  assert.is(
    code(() => encodeUnsignedEvent({ ...first, selfParent: b(32) })),
    'BAD_ARGUMENT',
  );
});

test('hostile bytes: every malformed encoding is BAD_ENCODING', () => {
  const good = signEvent(base, signer, sha256).bytes;
  const body = good.subarray(0, good.length - 64);
  const sig = good.subarray(good.length - 64);
  const withBody = (f: (x: Uint8Array) => Uint8Array) => {
    const nb = f(body.slice());
    const out = new Uint8Array(nb.length + 64);
    out.set(nb);
    out.set(sig, nb.length);
    return out;
  };
  const flagsAt = 1 + 32 + 32 + 8;
  const set = (x: Uint8Array, i: number, v: number) => {
    x[i] = v;
    return x;
  };
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['only a signature', b(64)],
    ['truncated by one byte', good.subarray(0, good.length - 1)],
    ['a trailing byte', Uint8Array.of(...good, 0)],
    ['version 2', withBody((x) => set(x, 0, 2))],
    ['unknown flag bit', withBody((x) => set(x, flagsAt, 7))],
    ['no selfParent flag at seq 3', withBody((x) => set(x, flagsAt, 2))],
    ['payload kind 0', withBody((x) => set(x, x.length - 1 - 104 - 2, 0))],
    ['tx count beyond the bytes', withBody((x) => set(x, flagsAt + 1 + 32 + 72 + 8, 0xff))],
    ['over the size cap', new Uint8Array(MAX_EVENT_BYTES + 1)],
  ];
  for (const [what, bytes] of cases)
    assert.is(
      code(() => decodeEvent(bytes, sha256)),
      'BAD_ENCODING',
      what,
    );
  // An other-parent by the creator itself is refused at the door.
  const self = signEvent(
    { ...base, otherParent: { ...base.otherParent!, creator: base.creator } },
    signer,
    sha256,
  );
  assert.is(
    code(() => decodeEvent(self.bytes, sha256)),
    'BAD_ENCODING',
  );
  assert.is(
    code(() => decodeEvent('x' as unknown as Uint8Array, sha256)),
    'BAD_ENCODING',
  );
});

test('property: decode(encode(x)) = x and encode(decode(b)) = b; random bytes never throw anything else', () => {
  const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const arb = fc
    .record({
      seq: fc.integer({ min: 0, max: 2 ** 40 }),
      sp: bytes32,
      op: fc.option(fc.record({ hash: bytes32, creator: bytes32, seq: fc.nat() }), { nil: null }),
      ts: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      txs: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }),
      pls: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 3 }),
      chainId: bytes32,
    })
    .filter((r) => r.op === null || hex(r.op.creator) !== hex(rawPub));
  fc.assert(
    fc.property(arb, (r) => {
      const e: UnsignedEvent = {
        chainId: r.chainId,
        creator: rawPub,
        seq: r.seq,
        selfParent: r.seq === 0 ? null : r.sp,
        otherParent: r.op,
        timestamp: r.ts,
        transactions: r.txs,
        payloads: r.pls.map((data) => ({ kind: PayloadKind.BLOCK_SIGNATURE, data })),
      };
      const ev = signEvent(e, signer, sha256);
      const d = decodeEvent(ev.bytes, sha256);
      assert.is(hex(d.hash), hex(ev.hash));
      const again = signEvent(d, () => d.signature, sha256);
      assert.is(hex(again.bytes), hex(ev.bytes));
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const c = code(() => decodeEvent(bytes, sha256));
      assert.ok(c === 'BAD_ENCODING' || c === 'none', c);
    }),
    { numRuns: 2000 },
  );
});

test.run();
