// The params decoders of every method, table-driven (docs/PROTOCOL.md
// 10.1): each method's good positional and named params, and each kind of
// bad param with the exact `Invalid params: …` message the node answers.
import { isCoded } from '@pos/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type AnyMethodDef,
  ApiError,
  METHODS,
  RPC_INVALID_PARAMS,
  SUBSCRIPTION_METHODS,
} from '../src/index.js';

const H = `0x${'ab'.repeat(32)}`;
const HB = Uint8Array.from({ length: 32 }, () => 0xab);
const TX = '0x0102';

interface Case {
  readonly params: unknown;
  /** The decoded value, or the error message. */
  readonly ok?: unknown;
  readonly err?: string;
}

const bad = (err: string) => ({ err: `Invalid params: ${err}` });
const hex32 = (name: string) => `${name} must be 0x-prefixed hex of 32 bytes`;
const uint = (name: string) => `${name} must be an integer >= 0`;
const TX_MSG = 'tx must be 0x-prefixed hex of 1..65536 bytes';

/** Bad params every method refuses the same way. */
const structural = (names: readonly string[]): [string, Case][] => [
  ['a string', { params: 'x', ...bad('params must be an array or an object') }],
  ['a number', { params: 1, ...bad('params must be an array or an object') }],
  [
    'too many',
    {
      params: Array.from({ length: Math.max(4, names.length + 1) }, (_, i) => i + 1),
      ...bad(`at most ${names.length} params`),
    },
  ],
  ['an unknown name', { params: { nope: 1 }, ...bad('unknown param "nope"') }],
  [
    'a long unknown name (cut at 40)',
    { params: { ['n'.repeat(60)]: 1 }, ...bad(`unknown param "${'n'.repeat(40)}"`) },
  ],
];

const CASES: Record<string, [string, Case][]> = {
  pos_status: [
    ['absent', { params: undefined, ok: {} }],
    ['[]', { params: [], ok: {} }],
    ['{}', { params: {}, ok: {} }],
    ...structural([]),
  ],
  pos_getEquivocations: [
    ['absent', { params: undefined, ok: {} }],
    ['[]', { params: [], ok: {} }],
    ['one positional', { params: [1], ...bad('at most 0 params') }],
  ],
  pos_sendTransaction: [
    ['positional', { params: [TX], ok: { tx: Uint8Array.of(1, 2) } }],
    ['named', { params: { tx: TX }, ok: { tx: Uint8Array.of(1, 2) } }],
    ['missing', { params: [], ...bad('missing tx') }],
    ['null', { params: [null], ...bad(TX_MSG) }],
    ['a number', { params: [12], ...bad(TX_MSG) }],
    ['empty', { params: ['0x'], ...bad(TX_MSG) }],
    ['odd length', { params: ['0x012'], ...bad(TX_MSG) }],
    ['upper case', { params: ['0xAB'], ...bad(TX_MSG) }],
    ['too long', { params: [`0x${'00'.repeat(65_537)}`], ...bad(TX_MSG) }],
    ...structural(['tx']),
  ],
  pos_getTransaction: [
    ['positional', { params: [H], ok: { txHash: HB, atHeight: undefined } }],
    ['positional with height', { params: [H, 3], ok: { txHash: HB, atHeight: 3 } }],
    ['named', { params: { txHash: H, atHeight: 0 }, ok: { txHash: HB, atHeight: 0 } }],
    ['null height', { params: [H, null], ok: { txHash: HB, atHeight: undefined } }],
    ['missing', { params: {}, ...bad('missing txHash') }],
    ['short hash', { params: ['0xab'], ...bad(hex32('txHash')) }],
    ['upper-case hash', { params: [H.toUpperCase().replace('0X', '0x')], ...bad(hex32('txHash')) }],
    ['negative height', { params: [H, -1], ...bad(uint('atHeight')) }],
    ['fractional height', { params: [H, 1.5], ...bad(uint('atHeight')) }],
    ['string height', { params: [H, '1'], ...bad(uint('atHeight')) }],
    ['bad hash before bad height', { params: ['x', -1], ...bad(hex32('txHash')) }],
    ...structural(['txHash', 'atHeight']),
  ],
  pos_getBlock: [
    ['positional', { params: [5], ok: { height: 5 } }],
    ['latest', { params: ['latest'], ok: { height: 'latest' } }],
    ['named', { params: { height: 0 }, ok: { height: 0 } }],
    ['missing', { params: [], ...bad('missing height') }],
    ['null', { params: [null], ...bad(uint('height')) }],
    ['Latest', { params: ['Latest'], ...bad(uint('height')) }],
    ['unsafe', { params: [2 ** 53], ...bad(uint('height')) }],
    ...structural(['height']),
  ],
  pos_getCertificate: [
    ['positional', { params: [5], ok: { height: 5 } }],
    ['named', { params: { height: 7 }, ok: { height: 7 } }],
    ['missing (named)', { params: {}, ...bad('missing height') }],
    ['latest', { params: ['latest'], ...bad(uint('height')) }],
    ...structural(['height']),
  ],
  pos_getOutputs: [
    ['positional', { params: [H], ok: { owner: HB, height: undefined } }],
    ['positional with height', { params: [H, 9], ok: { owner: HB, height: 9 } }],
    ['named', { params: { owner: H, height: null }, ok: { owner: HB, height: undefined } }],
    ['missing', { params: [], ...bad('missing owner') }],
    ['bad owner', { params: [`${H}00`], ...bad(hex32('owner')) }],
    ['bad height', { params: [H, true], ...bad(uint('height')) }],
    ...structural(['owner', 'height']),
  ],
  pos_getOutpoint: [
    ['positional', { params: [H, 0], ok: { txHash: HB, index: 0, height: undefined } }],
    ['with height', { params: [H, 65535, 9], ok: { txHash: HB, index: 65535, height: 9 } }],
    ['named', { params: { index: 3, txHash: H }, ok: { txHash: HB, index: 3, height: undefined } }],
    ['missing index', { params: [H], ...bad('missing index') }],
    ['index too large', { params: [H, 65536], ...bad('index must be an integer in 0..65535') }],
    ['negative index', { params: [H, -1], ...bad('index must be an integer in 0..65535') }],
    ['fractional index', { params: [H, 1.5], ...bad('index must be an integer in 0..65535') }],
    ['string index', { params: [H, '1'], ...bad('index must be an integer in 0..65535') }],
    ['bad txHash', { params: [`${H}00`, 0], ...bad(hex32('txHash')) }],
    ['bad height', { params: [H, 0, -1], ...bad(uint('height')) }],
    ...structural(['txHash', 'index', 'height']),
  ],
  pos_getHistory: [
    [
      'positional',
      {
        params: [H],
        ok: { key: HB, from: undefined, to: undefined, limit: undefined, height: undefined },
      },
    ],
    [
      'everything',
      { params: [H, 1, 9, 50, 12], ok: { key: HB, from: 1, to: 9, limit: 50, height: 12 } },
    ],
    [
      'named',
      {
        params: { limit: 5, key: H },
        ok: { key: HB, from: undefined, to: undefined, limit: 5, height: undefined },
      },
    ],
    ['missing key', { params: [], ...bad('missing key') }],
    ['bad key', { params: [`${H}00`], ...bad(hex32('key')) }],
    ['bad from', { params: [H, -1], ...bad(uint('from')) }],
    ['bad limit', { params: [H, 0, 1, 1.5], ...bad(uint('limit')) }],
    ...structural(['key', 'from', 'to', 'limit', 'height']),
  ],
  pos_resolveName: [
    ['positional', { params: ['alice'], ok: { name: 'alice', height: undefined } }],
    ['named with height', { params: { name: 'v0', height: 3 }, ok: { name: 'v0', height: 3 } }],
    // Any string up to 64 characters decodes: the name rule is the answer's
    // business (an exclusion proof), not a params error.
    ['not a name', { params: ['Alice'], ok: { name: 'Alice', height: undefined } }],
    ['missing', { params: [], ...bad('missing name') }],
    ['not a string', { params: [5], ...bad('name must be a string of at most 64 characters') }],
    [
      'too long',
      { params: ['a'.repeat(65)], ...bad('name must be a string of at most 64 characters') },
    ],
    ...structural(['name', 'height']),
  ],
  pos_getConsistencyProof: [
    ['positional', { params: [1, 2], ok: { fromSize: 1, toSize: 2 } }],
    ['named', { params: { toSize: 4, fromSize: 3 }, ok: { fromSize: 3, toSize: 4 } }],
    ['missing toSize', { params: [1], ...bad('missing toSize') }],
    ['missing fromSize (named)', { params: { toSize: 1 }, ...bad('missing fromSize') }],
    ['bad fromSize', { params: ['1', 2], ...bad(uint('fromSize')) }],
    ['bad toSize', { params: [1, -2], ...bad(uint('toSize')) }],
    ...structural(['fromSize', 'toSize']),
  ],
  pos_getValidators: [
    ['absent', { params: undefined, ok: { epoch: undefined } }],
    ['positional', { params: [2], ok: { epoch: 2 } }],
    ['named', { params: { epoch: 0 }, ok: { epoch: 0 } }],
    ['null', { params: [null], ok: { epoch: undefined } }],
    ['bad', { params: ['0'], ...bad(uint('epoch')) }],
    ...structural(['epoch']),
  ],
  pos_getEvent: [
    ['positional', { params: [H], ok: { hash: HB } }],
    ['named', { params: { hash: H }, ok: { hash: HB } }],
    ['missing', { params: [], ...bad('missing hash') }],
    ['not hex', { params: [`0x${'zz'.repeat(32)}`], ...bad(hex32('hash')) }],
    ...structural(['hash']),
  ],
  pos_getEventTransactions: [
    ['positional', { params: [H], ok: { hash: HB } }],
    ['named', { params: { hash: H }, ok: { hash: HB } }],
    ['missing', { params: [], ...bad('missing hash') }],
    ['31 bytes', { params: [`0x${'ab'.repeat(31)}`], ...bad(hex32('hash')) }],
    ...structural(['hash']),
  ],
  pos_getDag: [
    ['one round', { params: [3], ok: { fromRound: 3, toRound: 3 } }],
    ['a range', { params: [3, 18], ok: { fromRound: 3, toRound: 18 } }],
    ['named', { params: { fromRound: 0, toRound: 1 }, ok: { fromRound: 0, toRound: 1 } }],
    ['missing', { params: [], ...bad('missing fromRound') }],
    ['null toRound (refused, as always)', { params: [1, null], ...bad(uint('toRound')) }],
    ['bad fromRound', { params: [-1], ...bad(uint('fromRound')) }],
    ['reversed', { params: [5, 4], ...bad('toRound must be >= fromRound') }],
    ['17 rounds', { params: [0, 16], ...bad('at most 16 rounds') }],
    ...structural(['fromRound', 'toRound']),
  ],
  pos_subscribe: [
    ['newBlocks', { params: ['newBlocks'], ok: { kind: 'newBlocks' } }],
    [
      'txStatus',
      {
        params: ['txStatus', H.toUpperCase().replace('0X', '0x')],
        ok: { kind: 'txStatus', txHash: H },
      },
    ],
    ...[
      'newBlocks',
      { kind: 'newBlocks' },
      ['newBlocks', 1],
      ['txStatus'],
      ['txStatus', '0x12'],
      undefined,
    ].map((params, i): [string, Case] => [
      `bad ${i}`,
      { params, ...bad('expected ["newBlocks"] or ["txStatus", "0x<32-byte tx hash>"]') },
    ]),
  ],
  pos_unsubscribe: [
    ['an id', { params: ['0x01'], ok: '0x01' }],
    ...[[], [1], ['a', 'b'], { subscriptionId: 'a' }, undefined].map(
      (params, i): [string, Case] => [`bad ${i}`, { params, ...bad('expected [subscriptionId]') }],
    ),
  ],
};

const ALL: Record<string, AnyMethodDef> = { ...METHODS, ...SUBSCRIPTION_METHODS };

test('every method has its table of cases', () => {
  assert.equal(Object.keys(CASES).sort(), Object.keys(ALL).sort());
});

for (const [method, cases] of Object.entries(CASES)) {
  for (const [name, c] of cases) {
    test(`${method}: ${name}`, () => {
      const def = ALL[method]!;
      if (c.err === undefined) {
        assert.equal(def.decode(c.params), c.ok);
        return;
      }
      try {
        def.decode(c.params);
      } catch (e) {
        assert.ok(isCoded(e, ApiError, ['INVALID_PARAMS']), String(e));
        assert.is((e as ApiError).rpcCode, RPC_INVALID_PARAMS);
        assert.is((e as ApiError).message, c.err);
        return;
      }
      assert.unreachable(`${method} ${name}: decoded`);
    });
  }
}

test.run();
