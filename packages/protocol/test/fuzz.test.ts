// Fuzzing of every protocol object read from outside (docs/PROTOCOL.md 1,
// 6, 7): the binary codecs (Reader, transactions, receipts, headers,
// validator sets, certificates, genesis), the JSON edge, the epoch
// arithmetic and certificate verification.
//
// Decoders return a value whose encoding is the input, or throw
// ProtocolError, never a TypeError or RangeError. Verifiers fail closed.
// Bounded in time: see packages/test-utils/src/fuzz.ts (FUZZ_MS, FUZZ_SEED).

import {
  anyBytes,
  expectTyped,
  fuzzTest,
  heapGrowth,
  mutatedBytes,
  mutatedJson,
  nastyJson,
  outcome,
  sameBytes,
  samples,
} from '@pos/test-utils/fuzz';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type BlockHeader,
  blockHashOf,
  blockHeaderFromJSON,
  blockHeaderToJSON,
  certificateFromJSON,
  certificateToJSON,
  createGenesis,
  decodeBlockHeader,
  decodeBlockSignature,
  decodeCertificate,
  decodeGenesis,
  decodeOutpoint,
  decodeOutput,
  decodeReceipt,
  decodeTx,
  decodeTxBody,
  decodeValidatorSet,
  ed25519PublicKey,
  encodeBlockHeader,
  encodeBlockSignature,
  encodeCertificate,
  encodeGenesis,
  encodeOutpoint,
  encodeOutput,
  encodeReceipt,
  encodeTx,
  encodeTxBody,
  encodeValidatorSet,
  epochOfRound,
  epochOfTableKey,
  epochTableKey,
  type FinalityCertificate,
  formatAmount,
  fromHex,
  genesisFromJSON,
  genesisToJSON,
  makeValidatorSet,
  ProtocolError,
  parseAmount,
  Reader,
  receiptFromJSON,
  receiptToJSON,
  registrationKey,
  signEd25519,
  signTx,
  snapshotRoundOf,
  toHex,
  txFromJSON,
  txToJSON,
  type ValidatorSet,
  validatorSetFromJSON,
  validatorSetToJSON,
  verifyCertificate,
} from '../src/index.js';

const PROTOCOL = [ProtocolError];
const sk = (b: number) => new Uint8Array(32).fill(b);
const signer = { sign: signEd25519, publicKey: ed25519PublicKey };
const CHAIN_ID = new Uint8Array(32).fill(0xc1);

// --- valid samples of every format ------------------------------------------------

const keys = [sk(1), sk(2), sk(3)];
const pubs = keys.map(ed25519PublicKey);
const host = new Uint8Array(32).fill(0x48);

const body1 = {
  chainId: CHAIN_ID,
  inputs: [
    { txHash: new Uint8Array(32).fill(0xa1), index: 0 },
    { txHash: new Uint8Array(32).fill(0xa2), index: 513 },
  ],
  outputs: [
    { amount: 5n, owner: pubs[1]!, host },
    { amount: (1n << 64n) - 1n, owner: pubs[2]!, host },
  ],
  fee: 3n,
  memo: new TextEncoder().encode('rent, march'),
};
const body2 = {
  ...body1,
  register: { pubkey: pubs[2]!, name: 'validator é', p2p: '10.0.0.7:8681' },
};
const tx1 = signTx(body1, [keys[0]!, keys[1]!], signer);
const tx2 = signTx(body2, keys, signer);
const receipts = [
  { txHash: new Uint8Array(32).fill(7), status: 'committed' as const, height: 12, index: 3 },
  {
    txHash: new Uint8Array(32).fill(8),
    status: 'rejected' as const,
    reason: 'UNBALANCED' as const,
    height: 2 ** 53 - 1,
    index: 2 ** 32 - 1,
  },
];
const set: ValidatorSet = makeValidatorSet(
  pubs.map((publicKey, i) => ({ publicKey, stake: 10n ** BigInt(i + 1) })),
);
const header: BlockHeader = {
  chainId: CHAIN_ID,
  height: 41,
  leader: new Uint8Array(32).fill(0x1e),
  prevBlockHash: new Uint8Array(32).fill(0x9b),
  timestamp: 1_700_000_000_123,
  txCount: 2,
  stateRoot: new Uint8Array(32).fill(0x57),
  historyRoot: new Uint8Array(32).fill(0x4b),
  historySize: 77,
  validatorSetHash: new Uint8Array(32).fill(0x5e),
};
const blockHash = blockHashOf(header);
/** Signed by all three members of `set`, in validatorId order. */
const cert: FinalityCertificate = {
  height: header.height,
  blockHash,
  signatures: set.validators.map((v) => ({
    validatorId: v.validatorId,
    signature: signEd25519(keys[pubs.findIndex((p) => sameBytes(p, v.publicKey))]!, blockHash),
  })),
};
const genesis = createGenesis({
  chainName: 'fuzz-net',
  genesisTime: 1_700_000_000_000,
  params: { minFee: 1n, lag: 7, epoch: 16 },
  validators: pubs
    .slice(0, 2)
    .map((pubkey, i) => ({ pubkey, name: `v${i}`, p2p: `127.0.0.1:${9000 + i}` })),
  outputs: [
    { amount: 1000n, owner: pubs[0]!, host },
    { amount: 1n, owner: pubs[2]!, host: pubs[1]! },
  ],
});

test('the samples are valid (else the properties prove nothing)', () => {
  assert.ok(verifyCertificate(header, cert, set).ok);
  assert.equal(decodeTx(encodeTx(tx2)), tx2);
  assert.equal(decodeGenesis(encodeGenesis(genesis)), genesis);
});

// --- binary decoders: the canonical encoding, or the typed error ------------------------

// biome-ignore lint/suspicious/noExplicitAny: each row has its own value type.
type Codec = { decode: (b: Uint8Array) => any; encode: (v: any) => Uint8Array };

const binary: {
  name: string;
  codec: Codec;
  bases: Uint8Array[];
  error: typeof ProtocolError;
}[] = [
  {
    name: 'decodeTx',
    codec: { decode: decodeTx, encode: encodeTx },
    bases: [encodeTx(tx1), encodeTx(tx2)],
    error: ProtocolError,
  },
  {
    name: 'decodeTxBody',
    codec: { decode: decodeTxBody, encode: encodeTxBody },
    bases: [encodeTxBody(body1), encodeTxBody(body2)],
    error: ProtocolError,
  },
  {
    name: 'decodeOutput',
    codec: { decode: decodeOutput, encode: encodeOutput },
    bases: body1.outputs.map(encodeOutput),
    error: ProtocolError,
  },
  {
    name: 'decodeOutpoint',
    codec: { decode: decodeOutpoint, encode: encodeOutpoint },
    bases: body1.inputs.map(encodeOutpoint),
    error: ProtocolError,
  },
  {
    name: 'decodeReceipt',
    codec: { decode: decodeReceipt, encode: encodeReceipt },
    bases: receipts.map(encodeReceipt),
    error: ProtocolError,
  },
  {
    name: 'decodeBlockHeader',
    codec: { decode: decodeBlockHeader, encode: encodeBlockHeader },
    bases: [encodeBlockHeader(header)],
    error: ProtocolError,
  },
  {
    name: 'decodeValidatorSet',
    codec: { decode: (b) => decodeValidatorSet(b), encode: (s) => encodeValidatorSet(s) },
    bases: [encodeValidatorSet(set)],
    error: ProtocolError,
  },
  {
    name: 'decodeBlockSignature',
    codec: { decode: decodeBlockSignature, encode: encodeBlockSignature },
    bases: [
      encodeBlockSignature({ height: 41, blockHash, signature: cert.signatures[0]!.signature }),
    ],
    error: ProtocolError,
  },
  {
    name: 'decodeCertificate',
    codec: { decode: decodeCertificate, encode: encodeCertificate },
    bases: [encodeCertificate(cert)],
    error: ProtocolError,
  },
  {
    name: 'decodeGenesis',
    codec: { decode: (b) => decodeGenesis(b), encode: (g) => encodeGenesis(g) },
    bases: [encodeGenesis(genesis)],
    error: ProtocolError,
  },
];

for (const row of binary) {
  const canonical = (bytes: Uint8Array) => {
    const o = expectTyped(
      outcome(() => row.codec.decode(bytes)),
      [row.error],
      ['BAD_ENCODING'],
    );
    if (o.ok) assert.ok(sameBytes(row.codec.encode(o.value), bytes), 'decoded, but not canonical');
  };
  fuzzTest(`${row.name}: random bytes`, () =>
    fc.property(anyBytes(row.bases[0]!.length * 2), canonical),
  );
  fuzzTest(`${row.name}: mutations of valid encodings`, () =>
    fc.property(mutatedBytes(row.bases), canonical),
  );
}

fuzzTest('decoders: non-bytes input is a typed error', () =>
  fc.property(fc.anything(), (x) => {
    for (const row of binary) {
      expectTyped(
        outcome(() => row.codec.decode(x as Uint8Array)),
        [row.error],
        ['BAD_ENCODING'],
      );
    }
  }),
);

// --- the Reader itself -----------------------------------------------------------------

type Op =
  | { op: 'u8' | 'u16be' | 'u32be'; min: number; max: number }
  | { op: 'u64be'; min: bigint; max: bigint }
  | { op: 'u64safe'; min: number; max: number }
  | { op: 'bytes'; n: number }
  | { op: 'varBytes'; min: number; max: number }
  | { op: 'end' };

const range = (max: number) =>
  fc
    .tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max }))
    .map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) }));
const readerOp: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(fc.constantFrom('u8' as const), range(0xff)).map(([op, r]) => ({ op, ...r })),
  fc.tuple(fc.constantFrom('u16be' as const), range(0xffff)).map(([op, r]) => ({ op, ...r })),
  fc.tuple(fc.constantFrom('u32be' as const), range(0xffffffff)).map(([op, r]) => ({ op, ...r })),
  fc
    .tuple(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    )
    .map(([a, b]) => ({
      op: 'u64be' as const,
      ...(a <= b ? { min: a, max: b } : { min: b, max: a }),
    })),
  range(Number.MAX_SAFE_INTEGER).map((r) => ({ op: 'u64safe' as const, ...r })),
  fc.integer({ min: 0, max: 70 }).map((n) => ({ op: 'bytes' as const, n })),
  range(0xffff).map((r) => ({ op: 'varBytes' as const, ...r })),
  fc.constant({ op: 'end' as const }),
);

fuzzTest('Reader: any sequence of reads on any bytes: in range, or BAD_ENCODING', () =>
  fc.property(
    fc.oneof(
      anyBytes(64),
      fc.uint8Array({ minLength: 0, maxLength: 64 }).map((b) => b.fill(0xff)),
    ),
    fc.array(readerOp, { maxLength: 12 }),
    (bytes, ops) => {
      const r = new Reader(bytes);
      for (const o of ops) {
        const before = r.offset;
        const res = expectTyped(
          outcome((): unknown => {
            switch (o.op) {
              case 'u8':
              case 'u16be':
              case 'u32be':
              case 'u64safe':
                return r[o.op](o.min, o.max);
              case 'u64be':
                return r.u64be(o.min, o.max);
              case 'bytes':
                return r.bytes(o.n);
              case 'varBytes':
                return r.varBytes(o.min, o.max);
              case 'end':
                return r.end();
            }
          }),
          PROTOCOL,
          ['BAD_ENCODING'],
        );
        assert.is(r.offset + r.remaining, bytes.length);
        assert.ok(r.offset >= before && r.offset <= bytes.length);
        if (!res.ok) continue;
        const v = res.value;
        if (o.op === 'bytes') assert.is((v as Uint8Array).length, o.n);
        else if (o.op === 'varBytes') {
          const n = (v as Uint8Array).length;
          assert.ok(n >= o.min && n <= o.max && r.offset === before + 2 + n);
        } else if (o.op === 'end') assert.is(r.remaining, 0);
        else assert.ok((v as number) >= o.min && (v as number) <= o.max);
      }
    },
  ),
);

// --- the JSON edge ------------------------------------------------------------------------

const json: {
  name: string;
  parse: (j: unknown) => unknown;
  // biome-ignore lint/suspicious/noExplicitAny: each row has its own value type.
  print: (v: any) => unknown;
  bases: unknown[];
  error: typeof ProtocolError;
  codes: string[];
  /** Absent optional members take defaults, so only print ∘ parse is idempotent. */
  defaults?: boolean;
}[] = [
  {
    name: 'txFromJSON',
    parse: txFromJSON,
    print: txToJSON,
    bases: [txToJSON(tx1), txToJSON(tx2)],
    error: ProtocolError,
    codes: ['BAD_TX', 'BAD_HEX', 'BAD_AMOUNT'],
  },
  {
    name: 'receiptFromJSON',
    parse: receiptFromJSON,
    print: receiptToJSON,
    bases: receipts.map(receiptToJSON),
    error: ProtocolError,
    codes: ['BAD_TX', 'BAD_HEX'],
  },
  {
    name: 'blockHeaderFromJSON',
    parse: blockHeaderFromJSON,
    print: blockHeaderToJSON,
    bases: [blockHeaderToJSON(header)],
    error: ProtocolError,
    codes: ['BAD_ARGUMENT', 'BAD_HEX'],
  },
  {
    name: 'validatorSetFromJSON',
    parse: (j) => validatorSetFromJSON(j),
    print: (s) => validatorSetToJSON(s),
    bases: [validatorSetToJSON(set)],
    error: ProtocolError,
    codes: ['BAD_ARGUMENT', 'BAD_HEX', 'BAD_AMOUNT'],
  },
  {
    name: 'certificateFromJSON',
    parse: certificateFromJSON,
    print: certificateToJSON,
    bases: [certificateToJSON(cert)],
    error: ProtocolError,
    codes: ['BAD_ARGUMENT', 'BAD_HEX'],
  },
  {
    name: 'genesisFromJSON',
    parse: (j) => genesisFromJSON(j),
    print: (g) => genesisToJSON(g),
    bases: [genesisToJSON(genesis)],
    error: ProtocolError,
    codes: ['BAD_GENESIS'],
    defaults: true,
  },
];

for (const row of json) {
  const strict = (j: unknown) => {
    const o = expectTyped(
      outcome(() => row.parse(j)),
      [row.error],
      row.codes,
    );
    if (!o.ok) return;
    const printed = row.print(o.value);
    if (row.defaults) assert.equal(row.print(row.parse(printed)), printed);
    else assert.equal(printed, j);
  };
  fuzzTest(`${row.name}: random JSON`, () => fc.property(nastyJson, strict));
  fuzzTest(`${row.name}: mutations of valid JSON`, () =>
    fc.property(
      fc.nat().chain((i) => mutatedJson(row.bases[i % row.bases.length])),
      strict,
    ),
  );
}

fuzzTest('fromHex and parseAmount: one spelling per value, or BAD_HEX / BAD_AMOUNT', () =>
  fc.property(
    fc.oneof(
      nastyJson,
      fc.uint8Array({ maxLength: 40 }).map(toHex),
      fc.bigInt({ min: 0n, max: 1n << 65n }).map(String),
    ),
    fc.option(
      fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom(1.5, Number.NaN, 2 ** 53)),
      { nil: undefined },
    ),
    (s, len) => {
      const h = expectTyped(
        outcome(() => fromHex(s, len)),
        PROTOCOL,
        ['BAD_HEX', 'BAD_ARGUMENT'],
      );
      if (h.ok) {
        assert.is(toHex(h.value), s);
        if (len !== undefined) assert.is(h.value.length, len);
      }
      const a = expectTyped(
        outcome(() => parseAmount(s)),
        PROTOCOL,
        ['BAD_AMOUNT'],
      );
      if (a.ok) assert.is(formatAmount(a.value), s);
    },
  ),
);

// --- epochs ------------------------------------------------------------------------------

fuzzTest('epoch keys: epochOfTableKey inverts epochTableKey and refuses everything else', () =>
  fc.property(
    fc.oneof(
      anyBytes(80),
      mutatedBytes([epochTableKey(0), epochTableKey(5), epochTableKey(2 ** 53 - 1)]),
    ),
    fc.anything(),
    (key, junk) => {
      const k = epochOfTableKey(key);
      if (k !== undefined) assert.ok(sameBytes(epochTableKey(k), key));
      assert.is(epochOfTableKey(junk as Uint8Array), undefined);
      for (const f of [
        () => epochTableKey(junk as number),
        () => registrationKey(junk as Uint8Array),
        () => epochOfRound(junk as number, { lag: 7, epoch: 16 }),
        () => snapshotRoundOf(junk as number, { lag: 7, epoch: 16 }),
      ]) {
        expectTyped(outcome(f), PROTOCOL, ['BAD_ARGUMENT']);
      }
    },
  ),
);

// --- certificate verification ------------------------------------------------------------

const certBytes = encodeCertificate(cert);
const headerBytes = encodeBlockHeader(header);
const setBytes = encodeValidatorSet(set);

fuzzTest(
  'verifyCertificate: a changed certificate, header or set never verifies, never throws',
  () =>
    fc.property(
      fc.oneof(
        mutatedBytes([certBytes]).map((c) => ({ c, h: headerBytes, s: setBytes })),
        mutatedBytes([headerBytes]).map((h) => ({ c: certBytes, h, s: setBytes })),
        mutatedBytes([setBytes]).map((s) => ({ c: certBytes, h: headerBytes, s })),
      ),
      ({ c, h, s }) => {
        const dc = outcome(() => decodeCertificate(c));
        const dh = outcome(() => decodeBlockHeader(h));
        const ds = outcome(() => decodeValidatorSet(s));
        if (!dc.ok || !dh.ok || !ds.ok) return;
        const v = verifyCertificate(dh.value, dc.value, ds.value);
        if (!v.ok) return;
        // The set is the caller's to authenticate (its hash is in the previous
        // header): another set may verify, with other stakes, but only with
        // the same keys behind the signers. The header and the signatures are
        // what the certificate binds: neither may change (fewer signers may
        // still hold 2/3 of the stake).
        assert.ok(sameBytes(h, headerBytes), 'a changed header verified');
        for (const sig of dc.value.signatures) {
          assert.ok(
            cert.signatures.some(
              (x) =>
                sameBytes(x.signature, sig.signature) && sameBytes(x.validatorId, sig.validatorId),
            ),
            'a changed signature verified',
          );
          const member = ds.value.validators.find((m) =>
            sameBytes(m.validatorId, sig.validatorId),
          )!;
          const orig = set.validators.find((m) => sameBytes(m.validatorId, sig.validatorId))!;
          assert.ok(
            sameBytes(member.publicKey, orig.publicKey),
            'a signer with another key verified',
          );
        }
      },
    ),
);

fuzzTest('verifyCertificate: garbage in any argument is a refusal, never a throw', () =>
  fc.property(fc.anything(), fc.nat(2), (junk, which) => {
    const args: [unknown, unknown, unknown] = [header, cert, set];
    args[which] = junk;
    const v = verifyCertificate(...(args as [BlockHeader, FinalityCertificate, ValidatorSet]));
    assert.is(v.ok, false);
  }),
);

// --- memory ------------------------------------------------------------------------------

test('memory: decoding many hostile inputs keeps nothing alive', async () => {
  const inputs = binary.map((row) => samples(mutatedBytes(row.bases), 200));
  const jsons = json.map((row) => samples(mutatedJson(row.bases[0]), 100));
  const growth = await heapGrowth(2_000, (i) => {
    for (let r = 0; r < binary.length; r++)
      outcome(() => binary[r]!.codec.decode(inputs[r]![i % 200]!));
    for (let r = 0; r < json.length; r++) outcome(() => json[r]!.parse(jsons[r]![i % 100]));
    verifyCertificate(header, cert, set, () => false);
  });
  assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${growth} bytes`);
});

test.run();
