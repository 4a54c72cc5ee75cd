// The wire and state forms of the two indexes (docs/PROTOCOL.md 6.2, 6.6,
// 6.7): the name rule, table-driven; addresses; name and history records;
// version-3 transactions in binary and JSON, and the shapes they refuse.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeHistoryRecord,
  decodeNameRecord,
  decodeTx,
  encodeHistoryRecord,
  encodeNameRecord,
  encodeTx,
  historyKeyOf,
  historyPosition,
  historyPrefix,
  historyRange,
  isHistoryKey,
  isNameKey,
  type NameOp,
  nameKey,
  nameProblem,
  type ProtocolError,
  parseNameAddress,
  type SignedTx,
  txFromJSON,
  txToJSON,
} from '../src/index.js';

const K = (b: number) => new Uint8Array(32).fill(b);

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as ProtocolError).code;
  }
  return 'none';
};

test('the name rule: 2-32 of a-z 0-9 - _, a letter or digit first; reserved names', () => {
  const table: [string, ReturnType<typeof nameProblem>][] = [
    ['alice', null],
    ['v0', null],
    ['a1-b_c', null],
    ['9lives', null],
    ['a'.repeat(32), null],
    ['a', 'BAD_NAME'],
    ['a'.repeat(33), 'BAD_NAME'],
    ['Alice', 'BAD_NAME'],
    ['\u0430lice', 'BAD_NAME'], // Cyrillic а: a homoglyph is not a name
    ['al ice', 'BAD_NAME'],
    ['al.ice', 'BAD_NAME'],
    ['al@ice', 'BAD_NAME'],
    ['-alice', 'BAD_NAME'],
    ['_alice', 'BAD_NAME'],
    ['alic\u00e9', 'BAD_NAME'],
    ['', 'BAD_NAME'],
    ['admin', 'NAME_RESERVED'],
    ['pos', 'NAME_RESERVED'],
    ['validator', 'NAME_RESERVED'],
  ];
  for (const [name, want] of table) assert.is(nameProblem(name), want, JSON.stringify(name));
});

test('addresses: wallet@agent, both names, no folding', () => {
  assert.equal(parseNameAddress('alice@v0'), { wallet: 'alice', agent: 'v0' });
  for (const bad of ['alice', 'alice@', '@v0', 'a@b@c', 'Alice@v0', 'alice@V0', 'admin@v0']) {
    assert.is(
      code(() => parseNameAddress(bad)),
      'BAD_ARGUMENT',
      bad,
    );
  }
});

test('name records round-trip; keys are distinct per name and marked', () => {
  const r = { name: 'alice', owner: K(7), sinceHeight: 12 };
  assert.equal(decodeNameRecord(encodeNameRecord(r)), r);
  assert.ok(isNameKey(nameKey('alice')));
  assert.not.equal(nameKey('alice'), nameKey('alicf'));
  // A record of a malformed name never decodes.
  const bytes = encodeNameRecord(r);
  bytes[bytes.length - 1] = 'A'.charCodeAt(0);
  assert.is(
    code(() => decodeNameRecord(bytes)),
    'BAD_ENCODING',
  );
  assert.is(
    code(() => decodeNameRecord(encodeNameRecord(r).subarray(1))),
    'BAD_ENCODING',
  );
});

test('history keys order by (height, index) under the key prefix; records round-trip', () => {
  const p = historyPrefix(K(1));
  const a = historyKeyOf(p, 5, 2);
  const b = historyKeyOf(p, 5, 3);
  const c = historyKeyOf(p, 6, 0);
  const cmp = (x: Uint8Array, y: Uint8Array) => Buffer.compare(x, y);
  assert.ok(cmp(a, b) < 0 && cmp(b, c) < 0);
  assert.ok(isHistoryKey(a));
  assert.equal(historyPosition(b, p), { height: 5, index: 3 });
  assert.is(historyPosition(b, historyPrefix(K(2))), undefined);
  const { lo, hi } = historyRange(K(1), 5, 5);
  assert.ok(cmp(lo, a) <= 0 && cmp(b, hi) <= 0 && cmp(c, hi) > 0);
  const rec = {
    roles: ['input', 'output'] as const,
    status: 'rejected' as const,
    reason: 'NAME_TAKEN' as const,
    txHash: K(9),
  };
  assert.equal(decodeHistoryRecord(encodeHistoryRecord({ ...rec, roles: [...rec.roles] })), {
    ...rec,
    roles: ['input', 'output'],
  });
  assert.is(
    code(() => encodeHistoryRecord({ roles: [], status: 'committed', txHash: K(1) })),
    'BAD_ARGUMENT',
  );
});

const body = (name: NameOp) => ({
  chainId: K(3),
  inputs: [{ txHash: K(4), index: 0 }],
  outputs: [{ amount: 5n, owner: K(5), host: K(6) }],
  fee: 101n,
  memo: new Uint8Array(0),
  name,
});
const sig = { publicKey: K(5), signature: new Uint8Array(64).fill(1) };

test('version-3 transactions round-trip in binary and JSON, each operation', () => {
  const ops: NameOp[] = [
    { op: 'register', name: 'alice', owner: K(5) },
    { op: 'transfer', name: 'alice', owner: K(8) },
    { op: 'release', name: 'alice' },
    // Decoding takes any 1..64 bytes of UTF-8: the ledger's rule refuses
    // them with a receipt (BAD_NAME), so they must reach it.
    { op: 'register', name: 'Alice', owner: K(5) },
  ];
  for (const n of ops) {
    const tx: SignedTx = { body: body(n), signatures: [sig] };
    const bytes = encodeTx(tx);
    assert.is(bytes[0], 3);
    assert.equal(decodeTx(bytes), tx);
    const json = txToJSON(tx);
    assert.is(json.version, 3);
    assert.equal(txFromJSON(JSON.parse(JSON.stringify(json))), tx);
  }
});

test('version-3 shapes refused: release with an owner, register without, name and register, long names', () => {
  const bad: [string, Partial<NameOp> & { op: string }][] = [
    ['release with an owner', { op: 'release', name: 'alice', owner: K(1) }],
    ['register without an owner', { op: 'register', name: 'alice' }],
    ['an unknown op', { op: 'steal', name: 'alice', owner: K(1) }],
    ['an empty name', { op: 'register', name: '', owner: K(1) }],
    ['65 bytes', { op: 'register', name: 'a'.repeat(65), owner: K(1) }],
  ];
  for (const [why, n] of bad) {
    const tx = { body: body(n as NameOp), signatures: [sig] };
    assert.is(
      code(() => encodeTx(tx)),
      'BAD_TX',
      why,
    );
  }
  const both = {
    body: {
      ...body({ op: 'release', name: 'alice' }),
      register: { pubkey: K(1), name: 'x', p2p: 'h:1' },
    },
    signatures: [sig],
  };
  assert.is(
    code(() => encodeTx(both)),
    'BAD_TX',
  );
});
