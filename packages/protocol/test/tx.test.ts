// Transactions (docs/PROTOCOL.md 6.2): the canonical byte layout,
// every rejection rule of the decoder, the hash that excludes signatures, the
// JSON form, receipts, output keys (docs/PROTOCOL.md 6.3) and the codec underneath.
import { ed25519 } from '@noble/curves/ed25519.js';
import { cat, fill, u16, u32, u64 } from '@pos/test-utils/bytes';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeOutpoint,
  decodeOutput,
  decodeReceipt,
  decodeTx,
  decodeTxBody,
  encodeOutpoint,
  encodeOutput,
  encodeReceipt,
  encodeTx,
  encodeTxBody,
  MAX_TX_BYTES,
  malformedTxHash,
  type Outpoint,
  type Output,
  outpointId,
  outputKey,
  ownerPrefix,
  ProtocolError,
  REGISTRATION_LIMITS,
  REJECT_REASONS,
  Reader,
  type Receipt,
  type Registration,
  receiptFromJSON,
  receiptToJSON,
  type SignedTx,
  signTx,
  TX_VERSION,
  TX_VERSION_REGISTER,
  type TxBody,
  type TxSigner,
  txFromJSON,
  txHashOf,
  txToJSON,
  Writer,
} from '../src/index.js';

const ascii = (s: string) => new TextEncoder().encode(s);

function throwsCode(fn: () => unknown, code: string, match?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.is((e as ProtocolError).code, code, (e as Error).message);
    if (match) assert.match((e as Error).message, match);
    return;
  }
  assert.unreachable(`expected ProtocolError ${code}`);
}

const signer: TxSigner = {
  sign: (sk, msg) => ed25519.sign(msg, sk),
  publicKey: (sk) => ed25519.getPublicKey(sk),
};
const sk1 = fill(32, 1);
const sk2 = fill(32, 2);
const pk1 = ed25519.getPublicKey(sk1);
const pk2 = ed25519.getPublicKey(sk2);
const chainId = sha256(ascii('test chain'));
const host = sha256(ascii('host'));

const body: TxBody = {
  chainId,
  inputs: [
    { txHash: fill(32, 0xaa), index: 3 },
    { txHash: fill(32, 0xbb), index: 0 },
  ],
  outputs: [
    { amount: 700n, owner: pk2, host },
    { amount: 290n, owner: pk1, host },
  ],
  fee: 10n,
  memo: ascii('hi'),
};

/** The body encoding, written out by hand from the layout in tx.ts. */
const bodyBytes = cat(
  Uint8Array.of(1),
  chainId,
  u16(2),
  fill(32, 0xaa),
  u16(3),
  fill(32, 0xbb),
  u16(0),
  u16(2),
  u64(700n),
  pk2,
  host,
  u64(290n),
  pk1,
  host,
  u64(10n),
  u16(2),
  ascii('hi'),
);

/** A signature section by hand: count, then (pk ‖ sig) pairs as given. */
const sigBytes = (pairs: [Uint8Array, Uint8Array][], count = pairs.length) =>
  cat(u16(count), ...pairs.flat());

const sorted = (a: Uint8Array, b: Uint8Array) => (hex(a) < hex(b) ? [a, b] : [b, a]);
const [lo, hi] = sorted(pk1, pk2) as [Uint8Array, Uint8Array];

// --- layout and hash -----------------------------------------------------------------

test('body encoding: byte layout as documented', () => {
  assert.equal(encodeTxBody(body), bodyBytes);
  assert.is(bodyBytes.length, 1 + 32 + 2 + 2 * 34 + 2 + 2 * 72 + 8 + 2 + 2);
});

test('txHash = sha256("pos/tx" ‖ body encoding)', () => {
  assert.is(hex(txHashOf(body)), hex(sha256(cat(ascii('pos/tx'), bodyBytes))));
  assert.is(hex(txHashOf(body, sha256)), hex(txHashOf(body)));
});

test('signTx: one signature per key, sorted by public key, each verifies (strict RFC 8032)', () => {
  const tx = signTx(body, [sk1, sk2], signer);
  assert.is(tx.signatures.length, 2);
  assert.equal(tx.signatures[0]!.publicKey, lo);
  assert.equal(tx.signatures[1]!.publicKey, hi);
  const h = txHashOf(body);
  for (const s of tx.signatures) {
    assert.ok(ed25519.verify(s.signature, h, s.publicKey, { zip215: false }));
  }
  // The same keys in the other order give the same (canonical) transaction.
  assert.equal(encodeTx(signTx(body, [sk2, sk1], signer)), encodeTx(tx));
  const bytes = encodeTx(tx);
  assert.equal(
    bytes,
    cat(
      bodyBytes,
      sigBytes([
        [tx.signatures[0]!.publicKey, tx.signatures[0]!.signature],
        [tx.signatures[1]!.publicKey, tx.signatures[1]!.signature],
      ]),
    ),
  );
  assert.equal(decodeTx(bytes), tx);
});

test('signTx rejects a key given twice, more keys than inputs, and a bad signer', () => {
  throwsCode(() => signTx(body, [sk1, sk1], signer), 'BAD_ARGUMENT', /one public key/);
  const oneInput = { ...body, inputs: [body.inputs[0]!] };
  throwsCode(() => signTx(oneInput, [sk1, sk2], signer), 'BAD_TX');
  throwsCode(() => signTx(body, [], signer), 'BAD_TX');
  const short: TxSigner = { ...signer, sign: () => new Uint8Array(63) };
  throwsCode(() => signTx(body, [sk1], short), 'BAD_ARGUMENT');
});

test('the hash excludes signatures: other or altered signatures keep the id', () => {
  const a = signTx(body, [sk1, sk2], signer);
  const b = signTx(body, [sk1], signer);
  const altered: SignedTx = {
    body,
    signatures: a.signatures.map((s) => ({ ...s, signature: fill(64, 7) })),
  };
  const ids = [a, b, altered].map((t) => hex(txHashOf(decodeTx(encodeTx(t)).body)));
  assert.equal(ids, [hex(txHashOf(body)), hex(txHashOf(body)), hex(txHashOf(body))]);
  assert.is.not(hex(encodeTx(a)), hex(encodeTx(altered)));
  // ...while any change to the body changes it.
  assert.is.not(hex(txHashOf({ ...body, fee: 11n })), hex(txHashOf(body)));
  assert.is.not(hex(txHashOf({ ...body, memo: ascii('hj') })), hex(txHashOf(body)));
});

test('outputs and outpoints: fixed layouts and round trips', () => {
  const o: Output = { amount: (1n << 64n) - 1n, owner: pk1, host };
  assert.equal(encodeOutput(o), cat(fill(8, 0xff), pk1, host));
  assert.equal(decodeOutput(encodeOutput(o)), o);
  const p: Outpoint = { txHash: fill(32, 9), index: 0xfffe };
  assert.equal(encodeOutpoint(p), cat(fill(32, 9), u16(0xfffe)));
  assert.equal(decodeOutpoint(encodeOutpoint(p)), p);
  throwsCode(() => decodeOutput(cat(u64(0n), pk1, host)), 'BAD_ENCODING', /amount/);
  throwsCode(() => decodeOutput(cat(u64(1n), pk1, host, Uint8Array.of(0))), 'BAD_ENCODING');
  throwsCode(() => decodeOutpoint(fill(33, 0)), 'BAD_ENCODING', /truncated/);
});

test('outputKey = sha256(owner) ‖ sha256("pos/outpoint" ‖ txHash ‖ u16 index)', () => {
  const p: Outpoint = { txHash: fill(32, 0x42), index: 258 };
  const want = cat(sha256(pk1), sha256(cat(ascii('pos/outpoint'), fill(32, 0x42), u16(258))));
  assert.is(hex(outputKey(pk1, p)), hex(want));
  assert.is(hex(outputKey(pk1, p, sha256)), hex(want));
  assert.is(hex(ownerPrefix(pk1)), hex(sha256(pk1)));
  assert.is(hex(outpointId(p)), hex(want.subarray(32)));
  // One owner, two outpoints: same first half, different second half.
  const q = outputKey(pk1, { ...p, index: 259 });
  assert.is(hex(q.subarray(0, 32)), hex(want.subarray(0, 32)));
  assert.is.not(hex(q.subarray(32)), hex(want.subarray(32)));
  throwsCode(() => outputKey(new Uint8Array(31), p), 'BAD_ARGUMENT');
  throwsCode(() => outputKey(pk1, { ...p, index: 65536 }), 'BAD_TX');
});

test('malformedTxHash uses its own tag, never the body hash', () => {
  assert.is(hex(malformedTxHash(bodyBytes)), hex(sha256(cat(ascii('pos/bad-tx'), bodyBytes))));
  assert.is.not(hex(malformedTxHash(bodyBytes)), hex(txHashOf(body)));
});

// --- canonical rejections --------------------------------------------------------

const sigA = fill(64, 0x11);
const sigB = fill(64, 0x22);
const goodSigs = sigBytes([
  [lo, sigA],
  [hi, sigB],
]);
const good = cat(bodyBytes, goodSigs);

/** A body by hand, with every count and field under the test's control. */
function rawBody(o: {
  version?: number;
  inputs?: Uint8Array[];
  nIn?: number;
  outputs?: Uint8Array[];
  nOut?: number;
  fee?: bigint;
  memo?: Uint8Array;
  memoLen?: number;
}): Uint8Array {
  const inputs = o.inputs ?? [cat(fill(32, 0xaa), u16(3)), cat(fill(32, 0xbb), u16(0))];
  const outputs = o.outputs ?? [cat(u64(700n), pk2, host), cat(u64(290n), pk1, host)];
  const memo = o.memo ?? ascii('hi');
  return cat(
    Uint8Array.of(o.version ?? 1),
    chainId,
    u16(o.nIn ?? inputs.length),
    ...inputs,
    u16(o.nOut ?? outputs.length),
    ...outputs,
    u64(o.fee ?? 10n),
    u16(o.memoLen ?? memo.length),
    memo,
  );
}

const input = (b: number, i: number) => cat(fill(32, b), u16(i));
const output = (amount: bigint) => cat(u64(amount), pk1, host);
const oneSig = sigBytes([[lo, sigA]]);

test('the hand-built reference bytes decode (the rejection cases below differ in one rule)', () => {
  assert.equal(rawBody({}), bodyBytes);
  assert.ok(decodeTx(good));
  assert.ok(decodeTx(cat(rawBody({ memo: fill(256, 1) }), oneSig)));
  const many = Array.from({ length: 256 }, (_, i) => input(i, i));
  const manyOut = Array.from({ length: 256 }, () => output(1n));
  const big = cat(rawBody({ inputs: many, outputs: manyOut, memo: fill(256, 0) }), oneSig);
  assert.is(decodeTx(big).body.inputs.length, 256);
  assert.is(decodeTx(big).body.outputs.length, 256);
  assert.ok(decodeTx(cat(rawBody({ outputs: [output((1n << 64n) - 1n)] }), oneSig)));
  assert.ok(decodeTx(cat(rawBody({ fee: 0n }), oneSig)));
});

for (const [why, bytes, match] of [
  ['version 0', cat(rawBody({ version: 0 }), goodSigs), /version/],
  // A version-2 body must carry a registration: here the signature section
  // is read as one and breaks a rule of it.
  ['version 2 without registration bytes', cat(rawBody({ version: 2 }), goodSigs), /register/],
  ['version 4', cat(rawBody({ version: 4 }), goodSigs), /version/],
  ['no inputs', cat(rawBody({ inputs: [] }), goodSigs), /input count/],
  [
    '257 inputs',
    cat(rawBody({ inputs: Array.from({ length: 257 }, (_, i) => input(i & 0xff, i)) }), goodSigs),
    /input count/,
  ],
  ['no outputs', cat(rawBody({ outputs: [] }), goodSigs), /output count/],
  [
    '257 outputs',
    cat(rawBody({ outputs: Array.from({ length: 257 }, () => output(1n)) }), goodSigs),
    /output count/,
  ],
  [
    'the same input twice',
    cat(rawBody({ inputs: [input(0xaa, 3), input(0xaa, 3)] }), goodSigs),
    /twice/,
  ],
  ['a zero amount', cat(rawBody({ outputs: [output(0n)] }), goodSigs), /amount/],
  ['a 257-byte memo', cat(rawBody({ memo: fill(257, 1) }), goodSigs), /memo/],
  ['a memo length past the end', rawBody({ memoLen: 3 }), /truncated: memo/],
  ['no signatures', cat(bodyBytes, sigBytes([])), /signature count/],
  [
    'more signatures than inputs',
    cat(
      bodyBytes,
      sigBytes([
        [fill(32, 1), sigA],
        [fill(32, 2), sigA],
        [fill(32, 3), sigA],
      ]),
    ),
    /signature count/,
  ],
  [
    'unsorted signatures',
    cat(
      bodyBytes,
      sigBytes([
        [hi, sigA],
        [lo, sigB],
      ]),
    ),
    /sorted/,
  ],
  [
    'a public key twice',
    cat(
      bodyBytes,
      sigBytes([
        [lo, sigA],
        [lo, sigB],
      ]),
    ),
    /sorted/,
  ],
  ['a trailing byte', cat(good, Uint8Array.of(0)), /trailing/],
  ['a missing signature byte', good.subarray(0, good.length - 1), /truncated/],
  ['the body alone', bodyBytes, /truncated/],
  ['empty input', new Uint8Array(0), /truncated/],
  ['more than 64 KiB', cat(good, new Uint8Array(MAX_TX_BYTES + 1 - good.length)), /too large/],
] as const) {
  test(`decodeTx rejects ${why}`, () => {
    throwsCode(() => decodeTx(bytes), 'BAD_ENCODING', match);
  });
}

test('decodeTx rejects every strict prefix of a valid transaction', () => {
  for (let n = 0; n < good.length; n++)
    throwsCode(() => decodeTx(good.subarray(0, n)), 'BAD_ENCODING');
});

test('decodeTx rejects a non-Uint8Array', () => {
  throwsCode(() => decodeTx('0x00' as unknown as Uint8Array), 'BAD_ENCODING');
});

test('decodeTxBody: the body alone, canonical', () => {
  assert.equal(decodeTxBody(bodyBytes), body);
  throwsCode(() => decodeTxBody(good), 'BAD_ENCODING', /trailing/);
});

const signed = signTx(body, [sk1, sk2], signer);
for (const [why, tx] of [
  ['a 31-byte chainId', { ...signed, body: { ...body, chainId: fill(31, 0) } }],
  ['no inputs', { ...signed, body: { ...body, inputs: [] } }],
  [
    'the same input twice',
    { ...signed, body: { ...body, inputs: [body.inputs[0]!, body.inputs[0]!] } },
  ],
  [
    'an index of 65536',
    { ...signed, body: { ...body, inputs: [{ txHash: fill(32, 0), index: 65536 }] } },
  ],
  [
    'a fractional index',
    { ...signed, body: { ...body, inputs: [{ txHash: fill(32, 0), index: 1.5 }] } },
  ],
  ['no outputs', { ...signed, body: { ...body, outputs: [] } }],
  ['a zero amount', { ...signed, body: { ...body, outputs: [{ amount: 0n, owner: pk1, host }] } }],
  [
    'an amount of 2^64',
    { ...signed, body: { ...body, outputs: [{ amount: 1n << 64n, owner: pk1, host }] } },
  ],
  ['a number amount', { ...signed, body: { ...body, outputs: [{ amount: 5, owner: pk1, host }] } }],
  [
    'a 33-byte host',
    { ...signed, body: { ...body, outputs: [{ amount: 5n, owner: pk1, host: fill(33, 0) }] } },
  ],
  ['a negative fee', { ...signed, body: { ...body, fee: -1n } }],
  ['a 257-byte memo', { ...signed, body: { ...body, memo: fill(257, 0) } }],
  ['no signatures', { ...signed, signatures: [] }],
  ['unsorted signatures', { ...signed, signatures: [...signed.signatures].reverse() }],
  ['a 63-byte signature', { ...signed, signatures: [{ publicKey: lo, signature: fill(63, 0) }] }],
] as const) {
  test(`encodeTx rejects ${why}`, () => {
    throwsCode(() => encodeTx(tx as unknown as SignedTx), 'BAD_TX');
  });
}

// --- JSON --------------------------------------------------------------------------

test('JSON: the documented shape, and a round trip', () => {
  const json = txToJSON(signed);
  assert.equal(Object.keys(json), [
    'version',
    'chainId',
    'inputs',
    'outputs',
    'fee',
    'memo',
    'signatures',
  ]);
  assert.is(json.chainId, `0x${hex(chainId)}`);
  assert.equal(json.inputs[0], { txHash: `0x${'aa'.repeat(32)}`, index: 3 });
  assert.equal(json.outputs[0], { amount: '700', owner: `0x${hex(pk2)}`, host: `0x${hex(host)}` });
  assert.is(json.fee, '10');
  assert.is(json.memo, '0x6869');
  const back = txFromJSON(JSON.parse(JSON.stringify(json)));
  assert.equal(back, signed);
  assert.equal(encodeTx(back), encodeTx(signed));
});

// Edits reach into untyped parsed JSON.
// biome-ignore lint/suspicious/noExplicitAny: a JSON value as JSON.parse returns it
type Json = any;
const baseJSON = (): Json => JSON.parse(JSON.stringify(txToJSON(signed)));
for (const [why, edit, code] of [
  ['an unknown key', (j: Json) => (j.extra = 1), 'BAD_TX'],
  ['a missing key', (j: Json) => delete j.memo, 'BAD_TX'],
  ['version 2', (j: Json) => (j.version = 2), 'BAD_TX'],
  [
    'upper-case hex',
    (j: Json) => (j.chainId = j.chainId.toUpperCase().replace('0X', '0x')),
    'BAD_HEX',
  ],
  ['a short chainId', (j: Json) => (j.chainId = '0x00'), 'BAD_HEX'],
  ['an amount with a leading zero', (j: Json) => (j.outputs[0].amount = '0700'), 'BAD_AMOUNT'],
  ['an amount as a number', (j: Json) => (j.outputs[0].amount = 700), 'BAD_AMOUNT'],
  ['a zero amount', (j: Json) => (j.outputs[0].amount = '0'), 'BAD_TX'],
  ['an index of 65536', (j: Json) => (j.inputs[0].index = 65536), 'BAD_TX'],
  ['an index as a string', (j: Json) => (j.inputs[0].index = '3'), 'BAD_TX'],
  ['an unknown key in an input', (j: Json) => (j.inputs[0].extra = true), 'BAD_TX'],
  ['unsorted signatures', (j: Json) => j.signatures.reverse(), 'BAD_TX'],
  ['inputs not an array', (j: Json) => (j.inputs = {}), 'BAD_TX'],
] as const) {
  test(`txFromJSON rejects ${why}`, () => {
    const j = baseJSON();
    edit(j);
    throwsCode(() => txFromJSON(j), code);
  });
}

// --- registrations (version 2) -----------------------------------------------------

const skV = fill(32, 3);
const pkV = ed25519.getPublicKey(skV);
const registration: Registration = { pubkey: pkV, name: 'validator-ü', p2p: '127.0.0.1:9100' };
const regBody: TxBody = { ...body, register: registration };
const str = (s: string) => cat(u16(ascii(s).length), ascii(s));
/** The registration's bytes after the memo, by hand from the layout in tx.ts. */
const regTail = (r: Registration = registration) => cat(r.pubkey, str(r.name), str(r.p2p));
/** `regBody` encoded by hand: version 2, the v1 fields, then the registration. */
const regBodyBytes = cat(Uint8Array.of(2), bodyBytes.subarray(1), regTail());

test('registration: version 2 body layout as documented; a distinct txHash', () => {
  assert.is(TX_VERSION, 1);
  assert.is(TX_VERSION_REGISTER, 2);
  assert.equal(encodeTxBody(regBody), regBodyBytes);
  assert.is(regBodyBytes.length, bodyBytes.length + 32 + 2 + ascii('validator-ü').length + 2 + 14);
  assert.equal(decodeTxBody(regBodyBytes), regBody);
  assert.is(hex(txHashOf(regBody)), hex(sha256(cat(ascii('pos/tx'), regBodyBytes))));
  // The registration is hashed: a changed key, name or endpoint is another transaction.
  const ids = new Set(
    [
      body,
      regBody,
      { ...regBody, register: { ...registration, pubkey: pk1 } },
      { ...regBody, register: { ...registration, name: 'other' } },
      { ...regBody, register: { ...registration, p2p: '127.0.0.1:9101' } },
    ].map((b) => hex(txHashOf(b))),
  );
  assert.is(ids.size, 5);
});

test('registration: signed by the input owners and the registered key (nIn + 1), round trips', () => {
  const tx = signTx(regBody, [sk1, sk2, skV], signer);
  assert.is(tx.signatures.length, 3);
  const keys = tx.signatures.map((s) => hex(s.publicKey));
  assert.equal(keys, [...keys].sort());
  assert.ok(keys.includes(hex(pkV)));
  const h = txHashOf(regBody);
  for (const s of tx.signatures) {
    assert.ok(ed25519.verify(s.signature, h, s.publicKey, { zip215: false }));
  }
  const bytes = encodeTx(tx);
  assert.equal(
    bytes,
    cat(
      regBodyBytes,
      sigBytes(tx.signatures.map((s) => [s.publicKey, s.signature] as [Uint8Array, Uint8Array])),
    ),
  );
  assert.equal(decodeTx(bytes), tx);
  assert.equal(encodeTx(decodeTx(bytes)), bytes);
  // Fewer signatures decode (the codec cannot know the owners; the ledger checks them).
  assert.ok(decodeTx(encodeTx(signTx(regBody, [skV], signer))));
  // Without a registration the bound stays nIn.
  throwsCode(() => signTx(body, [sk1, sk2, skV], signer), 'BAD_TX', /signatures/);
  // With one, nIn + 1 and no more.
  const oneInput = { ...regBody, inputs: [regBody.inputs[0]!] };
  assert.is(signTx(oneInput, [sk1, skV], signer).signatures.length, 2);
  throwsCode(() => signTx(oneInput, [sk1, sk2, skV], signer), 'BAD_TX', /signatures/);
});

test('registration: the bounds of name (0..64 bytes) and p2p (1..128 bytes) decode', () => {
  for (const r of [
    { ...registration, name: '' },
    { ...registration, name: 'n'.repeat(REGISTRATION_LIMITS.nameBytes) },
    { ...registration, name: 'ü'.repeat(REGISTRATION_LIMITS.nameBytes / 2) },
    { ...registration, p2p: 'h' },
    { ...registration, p2p: 'p'.repeat(REGISTRATION_LIMITS.p2pBytes) },
  ]) {
    const b = cat(Uint8Array.of(2), bodyBytes.subarray(1), regTail(r));
    assert.equal(decodeTxBody(b), { ...body, register: r });
    assert.equal(encodeTxBody({ ...body, register: r }), b);
  }
});

const regSigs3 = sigBytes([
  [fill(32, 1), sigA],
  [fill(32, 2), sigA],
  [fill(32, 3), sigA],
]);
const regGood = cat(regBodyBytes, regSigs3);
const regWith = (tail: Uint8Array, sigs = regSigs3) =>
  cat(Uint8Array.of(2), bodyBytes.subarray(1), tail, sigs);

test('registration: the hand-built bytes decode, three signatures for two inputs', () => {
  assert.is(decodeTx(regGood).signatures.length, 3);
  assert.equal(decodeTx(regGood).body.register, registration);
});

for (const [why, bytes, match] of [
  ['a trailing byte', cat(regGood, Uint8Array.of(0)), /trailing/],
  ['version 1 with registration bytes', cat(bodyBytes, regTail(), regSigs3), /signature count/],
  [
    'version 2 with the body ending at the memo',
    cat(Uint8Array.of(2), bodyBytes.subarray(1)),
    /truncated: register.pubkey/,
  ],
  [
    'nIn + 2 signatures',
    regWith(
      regTail(),
      sigBytes([
        [fill(32, 1), sigA],
        [fill(32, 2), sigA],
        [fill(32, 3), sigA],
        [fill(32, 4), sigA],
      ]),
    ),
    /signature count/,
  ],
  ['no signatures', regWith(regTail(), sigBytes([])), /signature count/],
  ['a 65-byte name', regWith(cat(pkV, str('n'.repeat(65)), str('h:1'))), /register.name/],
  ['an empty p2p endpoint', regWith(cat(pkV, str('n'), u16(0))), /register.p2p/],
  ['a 129-byte p2p endpoint', regWith(cat(pkV, str('n'), str('p'.repeat(129)))), /register.p2p/],
  [
    'a name that is not UTF-8',
    regWith(cat(pkV, u16(2), Uint8Array.of(0xc3, 0x28), str('h:1'))),
    /UTF-8/,
  ],
  [
    'an overlong UTF-8 endpoint',
    regWith(cat(pkV, str('n'), u16(2), Uint8Array.of(0xc0, 0xaf))),
    /UTF-8/,
  ],
  [
    'a name length past the end',
    cat(regBodyBytes.subarray(0, regBodyBytes.length - 20)),
    /truncated/,
  ],
] as const) {
  test(`decodeTx rejects a registration with ${why}`, () => {
    throwsCode(() => decodeTx(bytes), 'BAD_ENCODING', match);
  });
}

for (const [why, bytes, match] of [
  ['a trailing byte', cat(regBodyBytes, Uint8Array.of(0)), /trailing/],
  ['version 1 with registration bytes', cat(bodyBytes, regTail()), /trailing/],
  ['version 2 ending at the memo', cat(Uint8Array.of(2), bodyBytes.subarray(1)), /register.pubkey/],
] as const) {
  test(`decodeTxBody rejects ${why}`, () => {
    throwsCode(() => decodeTxBody(bytes), 'BAD_ENCODING', match);
  });
}

test('decodeTx rejects every strict prefix of a registration', () => {
  for (let n = 0; n < regGood.length; n++) {
    throwsCode(() => decodeTx(regGood.subarray(0, n)), 'BAD_ENCODING');
  }
});

const regSigned = signTx(regBody, [sk1, sk2, skV], signer);
for (const [why, register] of [
  ['a 31-byte pubkey', { ...registration, pubkey: fill(31, 0) }],
  ['a 65-byte name', { ...registration, name: 'n'.repeat(65) }],
  ['a 33-character name of two-byte letters', { ...registration, name: 'ü'.repeat(33) }],
  ['an empty p2p', { ...registration, p2p: '' }],
  ['a 129-byte p2p', { ...registration, p2p: 'p'.repeat(129) }],
  ['a lone surrogate in the name', { ...registration, name: 'a\uD800' }],
  ['a number name', { ...registration, name: 5 }],
  ['null', null],
] as const) {
  test(`encodeTx rejects a registration with ${why}`, () => {
    const tx = { ...regSigned, body: { ...regBody, register } } as unknown as SignedTx;
    throwsCode(() => encodeTx(tx), 'BAD_TX');
    throwsCode(() => encodeTxBody(tx.body), 'BAD_TX');
  });
}

test('registration JSON: version 2 and a register object; a round trip', () => {
  const json = txToJSON(regSigned);
  assert.is(json.version, 2);
  assert.equal(json.register, {
    pubkey: `0x${hex(pkV)}`,
    name: 'validator-ü',
    p2p: '127.0.0.1:9100',
  });
  assert.equal(Object.keys(json), [
    'version',
    'chainId',
    'inputs',
    'outputs',
    'fee',
    'memo',
    'register',
    'signatures',
  ]);
  assert.not.ok('register' in txToJSON(signed));
  const back = txFromJSON(JSON.parse(JSON.stringify(json)));
  assert.equal(back, regSigned);
  assert.equal(encodeTx(back), encodeTx(regSigned));
});

const regJSON = (): Json => JSON.parse(JSON.stringify(txToJSON(regSigned)));
for (const [why, edit, code] of [
  ['version 1 with a register', (j: Json) => (j.version = 1), 'BAD_TX'],
  ['version 2 without a register', (j: Json) => delete j.register, 'BAD_TX'],
  ['register null', (j: Json) => (j.register = null), 'BAD_TX'],
  ['an unknown key in register', (j: Json) => (j.register.stake = '1'), 'BAD_TX'],
  ['a register without p2p', (j: Json) => delete j.register.p2p, 'BAD_TX'],
  ['a short register.pubkey', (j: Json) => (j.register.pubkey = '0x00'), 'BAD_HEX'],
  ['a 65-byte name', (j: Json) => (j.register.name = 'n'.repeat(65)), 'BAD_TX'],
  ['an empty p2p', (j: Json) => (j.register.p2p = ''), 'BAD_TX'],
  ['a number name', (j: Json) => (j.register.name = 1), 'BAD_TX'],
  [
    'nIn + 2 signatures',
    (j: Json) => {
      j.signatures.push({ publicKey: `0x${'ff'.repeat(32)}`, signature: `0x${'11'.repeat(64)}` });
    },
    'BAD_TX',
  ],
] as const) {
  test(`txFromJSON rejects a registration with ${why}`, () => {
    const j = regJSON();
    txFromJSON(j); // the unedited document parses
    edit(j);
    throwsCode(() => txFromJSON(j), code);
  });
}

// --- receipts ----------------------------------------------------------------------

test('receipts: byte layout, round trips for each status and reason', () => {
  const committed: Receipt = {
    txHash: fill(32, 5),
    status: 'committed',
    height: 2 ** 40 + 3,
    index: 0xfffffffe,
  };
  const bytes = encodeReceipt(committed);
  assert.equal(
    bytes,
    cat(Uint8Array.of(1), fill(32, 5), Uint8Array.of(0, 0), u64(2n ** 40n + 3n), u32(0xfffffffe)),
  );
  assert.equal(decodeReceipt(bytes), committed);
  assert.equal(receiptFromJSON(JSON.parse(JSON.stringify(receiptToJSON(committed)))), committed);
  REJECT_REASONS.forEach((reason, i) => {
    const rc: Receipt = { txHash: fill(32, 6), status: 'rejected', reason, height: 7, index: 1 };
    const b = encodeReceipt(rc);
    assert.is(b[33], 1);
    assert.is(b[34], i + 1);
    assert.equal(decodeReceipt(b), rc);
    const j = receiptToJSON(rc);
    assert.is(j.reason, reason);
    assert.equal(receiptFromJSON(JSON.parse(JSON.stringify(j))), rc);
  });
  assert.not.ok('reason' in receiptToJSON(committed));
});

const rcBytes = (status: number, reason: number, height = 1n, extra = new Uint8Array(0)) =>
  cat(Uint8Array.of(1), fill(32, 5), Uint8Array.of(status, reason), u64(height), u32(0), extra);
for (const [why, bytes] of [
  ['committed with a reason', rcBytes(0, 1)],
  ['rejected without a reason', rcBytes(1, 0)],
  ['an unknown reason', rcBytes(1, REJECT_REASONS.length + 1)],
  ['an unknown status', rcBytes(2, 1)],
  ['a height of 2^53', rcBytes(0, 0, 1n << 53n)],
  ['a trailing byte', rcBytes(0, 0, 1n, Uint8Array.of(0))],
  ['version 2', cat(Uint8Array.of(2), rcBytes(0, 0).subarray(1))],
] as const) {
  test(`decodeReceipt rejects ${why}`, () => {
    assert.ok(decodeReceipt(rcBytes(0, 0)));
    throwsCode(() => decodeReceipt(bytes), 'BAD_ENCODING');
  });
}

test('receipts: encode and JSON reject inconsistent values', () => {
  const base = { txHash: fill(32, 1), height: 1, index: 0 };
  throwsCode(() => encodeReceipt({ ...base, status: 'committed', reason: 'MALFORMED' }), 'BAD_TX');
  throwsCode(() => encodeReceipt({ ...base, status: 'rejected' }), 'BAD_TX');
  throwsCode(
    () => encodeReceipt({ ...base, status: 'rejected', reason: 'NOPE' as 'MALFORMED' }),
    'BAD_TX',
  );
  throwsCode(() => encodeReceipt({ ...base, status: 'committed', height: -1 }), 'BAD_TX');
  throwsCode(
    () =>
      receiptFromJSON({
        txHash: `0x${'01'.repeat(32)}`,
        status: 'committed',
        height: 1,
        index: 0,
        x: 1,
      }),
    'BAD_TX',
  );
  throwsCode(
    () =>
      receiptFromJSON({
        txHash: `0x${'01'.repeat(32)}`,
        status: 'committed',
        reason: null,
        height: 1,
        index: 0,
      }),
    'BAD_TX',
  );
});

// --- codec ---------------------------------------------------------------------------

test('codec: integers round-trip at their bounds, big-endian', () => {
  const b = new Writer(1)
    .u8(255)
    .u16be(0x1234)
    .u32be(0xfffffffe)
    .u64be((1n << 64n) - 1n)
    .u64safe(Number.MAX_SAFE_INTEGER)
    .bytes(Uint8Array.of(9, 8), 2)
    .varBytes(Uint8Array.of(7))
    .finish();
  assert.is(hex(b.subarray(0, 7)), 'ff1234fffffffe');
  const r = new Reader(b);
  assert.is(r.u8(), 255);
  assert.is(r.u16be(), 0x1234);
  assert.is(r.u32be(), 0xfffffffe);
  assert.is(r.u64be(), (1n << 64n) - 1n);
  assert.is(r.u64safe(), Number.MAX_SAFE_INTEGER);
  assert.equal(r.bytes(2), Uint8Array.of(9, 8));
  assert.equal(r.varBytes(), Uint8Array.of(7));
  r.end();
});

test('codec: the reader rejects truncation, trailing bytes, out-of-range values', () => {
  throwsCode(() => new Reader(Uint8Array.of(1)).u16be(), 'BAD_ENCODING', /truncated/);
  throwsCode(
    () => new Reader(Uint8Array.of(1, 2)).u8() && new Reader(Uint8Array.of(1, 2)).end(),
    'BAD_ENCODING',
  );
  const r = new Reader(Uint8Array.of(1, 2));
  r.u8();
  throwsCode(() => r.end(), 'BAD_ENCODING', /trailing/);
  throwsCode(() => new Reader(Uint8Array.of(5)).u8(0, 4), 'BAD_ENCODING', /outside/);
  throwsCode(() => new Reader(u64(1n << 53n)).u64safe(), 'BAD_ENCODING', /2\^53/);
  throwsCode(() => new Reader(u64(0n)).u64be(1n), 'BAD_ENCODING', /outside/);
  throwsCode(() => new Reader(Uint8Array.of(0, 3, 1)).varBytes(), 'BAD_ENCODING', /truncated/);
  throwsCode(() => new Reader(Uint8Array.of(0, 3, 1, 2, 3)).varBytes(0, 2), 'BAD_ENCODING');
});

test('codec: the writer rejects values that do not fit', () => {
  throwsCode(() => new Writer().u8(256), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().u16be(-1), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().u32be(2 ** 32), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().u64be(1n << 64n), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().u64be(1 as unknown as bigint), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().u64safe(2 ** 53), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().bytes(Uint8Array.of(1), 2), 'BAD_ARGUMENT');
  throwsCode(() => new Writer().varBytes(new Uint8Array(5), 4), 'BAD_ARGUMENT');
});

// --- properties ---------------------------------------------------------------------

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbOutput = fc.record({
  amount: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
  owner: bytes32,
  host: bytes32,
});
const arbTx: fc.Arbitrary<SignedTx> = fc
  .record({
    chainId: bytes32,
    inputs: fc.uniqueArray(
      fc.record({ txHash: bytes32, index: fc.integer({ min: 0, max: 0xffff }) }),
      {
        minLength: 1,
        maxLength: 12,
        selector: (p) => `${hex(p.txHash)}:${p.index}`,
      },
    ),
    outputs: fc.array(arbOutput, { minLength: 1, maxLength: 12 }),
    fee: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    memo: fc.uint8Array({ maxLength: 256 }),
    keys: fc.uniqueArray(bytes32, { minLength: 1, maxLength: 13, selector: hex }),
    sig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    register: fc.option(
      fc.record({
        pubkey: bytes32,
        name: fc.string({ maxLength: 16 }),
        p2p: fc.string({ minLength: 1, maxLength: 32 }),
      }),
      { nil: undefined },
    ),
  })
  // Plain objects: fc.record may build null-prototype ones, and uvu's deep
  // equality compares constructors.
  .map(({ keys, sig, register, ...b }) => ({
    body: {
      chainId: b.chainId,
      inputs: b.inputs.map((p) => ({ txHash: p.txHash, index: p.index })),
      outputs: b.outputs.map((o) => ({ amount: o.amount, owner: o.owner, host: o.host })),
      fee: b.fee,
      memo: b.memo,
      ...(register === undefined
        ? {}
        : { register: { pubkey: register.pubkey, name: register.name, p2p: register.p2p } }),
    },
    signatures: [...keys]
      .sort((x, y) => (hex(x) < hex(y) ? -1 : 1))
      .slice(0, b.inputs.length + (register === undefined ? 0 : 1))
      .map((publicKey) => ({ publicKey, signature: sig })),
  }));

test('property: decode(encode(x)) = x and encode(decode(b)) = b', () => {
  fc.assert(
    fc.property(arbTx, (tx) => {
      const b = encodeTx(tx);
      const back = decodeTx(b);
      assert.equal(back, tx);
      assert.equal(encodeTx(back), b);
      assert.equal(txFromJSON(JSON.parse(JSON.stringify(txToJSON(tx)))), tx);
    }),
    { numRuns: 300 },
  );
});

test('property: any byte string that decodes re-encodes to itself (mutations of valid txs)', () => {
  let decodedCount = 0;
  let rejectedCount = 0;
  fc.assert(
    fc.property(
      arbTx,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.integer({ min: -2, max: 2 }),
      (tx, edits, resize) => {
        const b = encodeTx(tx);
        const m = new Uint8Array(Math.max(0, b.length + resize));
        m.set(b.subarray(0, m.length));
        for (const [at, v] of edits) if (m.length > 0) m[at % m.length] = v;
        let decoded: SignedTx;
        try {
          decoded = decodeTx(m);
        } catch (e) {
          assert.instance(e, ProtocolError);
          assert.is((e as ProtocolError).code, 'BAD_ENCODING');
          rejectedCount++;
          return;
        }
        decodedCount++;
        assert.equal(encodeTx(decoded), m);
      },
    ),
    { numRuns: 500 },
  );
  // Both branches ran: the property said something about each.
  assert.ok(decodedCount > 20 && rejectedCount > 20, `${decodedCount} / ${rejectedCount}`);
});

test.run();
