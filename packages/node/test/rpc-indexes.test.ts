// pos_getHistory and pos_resolveName over real HTTP (docs/PROTOCOL.md 6.6,
// 6.7, 10): the node's JSON-RPC methods and error mapping, as `startNode`
// wires them, over a real chain (memory stores) with blocks at heights 1, 3
// and 4. Answers equal the ledger's proofs and verify from their JSON alone
// (range, inclusion and exclusion proofs against the answer's state root);
// bad params are -32602, a height with no block -32001.

import { openRpcDocument } from '@pos/api';
import {
  createMemoryStore,
  fromHex,
  trieProofFromJSON,
  trieRangeProofFromJSON,
  trieRangeProofToJSON,
  verifyTrieExclusion,
  verifyTrieInclusion,
  verifyTrieRange,
} from '@pos/merkle';
import { chainIdOf, createGenesis, type Genesis, type Outpoint, type Receipt } from '@pos/protocol';
import { hex } from '@pos/test-utils/node-hash';
import { resultValidators, schemaErrors } from '@pos/test-utils/openrpc';
import fastify, { type FastifyInstance } from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createRpcDispatcher,
  RPC_INVALID_PARAMS,
  RPC_NOT_FOUND,
  registerRpcRoute,
} from '../src/api/dispatcher.js';
import { mapNodeError } from '../src/api/errors.js';
import type { NodeView } from '../src/api/interface.js';
import { createNodeRpcMethods } from '../src/api/methods/index.js';
import { type Chain, openChain } from '../src/chain/chain.js';
import { decided, type Key, O, V, verify } from './epoch-fixture.js';
import {
  buildTx,
  entryHex,
  historyEntry,
  historyKey,
  nameKeyOf,
  nameValueOf,
  outcome,
  type Role,
} from './index-fixture.js';

// --- fixture --------------------------------------------------------------------------

const MIN_FEE = 2n;
const genesis: Genesis = createGenesis({
  chainName: 'rpc-indexes-test',
  genesisTime: 1_700_000_000_000,
  params: { minFee: MIN_FEE, lag: 2, epoch: 1000 },
  validators: [
    { pubkey: V[0].pk, name: 'v0', p2p: '127.0.0.1:9000' },
    { pubkey: V[1].pk, name: 'v1', p2p: '127.0.0.1:9001' },
  ],
  outputs: O.flatMap((k) => [0, 1, 2].map(() => ({ amount: 1000n, owner: k.pk, host: V[0].id }))),
});
const chainId = chainIdOf(genesis);
const coin = (o: 0 | 1 | 2, i: number): Outpoint => ({ txHash: chainId, index: 3 * o + i });
const out = (amount: bigint, k: Key) => ({ amount, owner: k.pk, host: V[0].id });

/** Block 1: O0 pays O1 (change back), and a transfer of O0's coin 1 signed by O1 (BAD_SIGNATURE). */
const t1 = buildTx(chainId, [coin(0, 0)], [out(300n, O[1]), out(698n, O[0])], [O[0]], {
  fee: MIN_FEE,
});
const t1bad = buildTx(chainId, [coin(0, 1)], [out(998n, O[2])], [O[1]], { fee: MIN_FEE });
/** Block 3: O1 registers `alice` for itself. */
const t3 = buildTx(chainId, [coin(1, 0)], [out(1000n - 101n * MIN_FEE, O[1])], [O[1]], {
  fee: 101n * MIN_FEE,
  name: { op: 'register', name: 'alice', owner: O[1].pk },
});
/** Block 4: O0 pays O2 from its coin 2. */
const t4 = buildTx(chainId, [coin(0, 2)], [out(998n, O[2])], [O[0]], { fee: MIN_FEE });

let chain: Chain;
let app: FastifyInstance;
let url = '';
const receipts = new Map<number, Receipt[]>();

test.before(async () => {
  chain = await openChain({
    genesis,
    ledger: { store: createMemoryStore(), verify },
    store: createMemoryStore(),
  });
  for (const [round, txs] of [
    [1, [t1, t1bad]],
    [3, [t3]],
    [4, [t4]],
  ] as const) {
    const r = await chain.applyDecided(
      decided(
        round,
        txs.map((t) => t.bytes),
      ),
    );
    receipts.set(round, r.receipts);
  }
  assert.equal(
    [1, 3, 4].map((h) => receipts.get(h)!.map(outcome)),
    [['committed', 'BAD_SIGNATURE'], ['committed'], ['committed']],
  );
  // The methods and error mapping of the node; only the chain is read.
  const view = { chain } as unknown as NodeView;
  app = fastify({ logger: false });
  registerRpcRoute(
    app,
    createRpcDispatcher({ methods: createNodeRpcMethods(view), mapError: mapNodeError }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  url = `http://127.0.0.1:${addr.port}/rpc`;
});

test.after(async () => {
  await app?.close();
});

type Answer = { result?: unknown; error?: { code: number; message: string } };

/** The result schemas of the OpenRPC document the node serves. */
const validators = resultValidators(openRpcDocument() as never);

/** One call over HTTP; a result must validate against the method's result schema. */
async function call(method: string, params: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  assert.is(res.status, 200);
  const a = (await res.json()) as Answer;
  if (a.error === undefined) {
    assert.equal(schemaErrors(validators.get(method)!, a.result), [], JSON.stringify(a.result));
  }
  return a;
}

interface HistoryAnswer {
  key: string;
  height: number | null;
  stateRoot: string;
  lo: string;
  hi: string;
  entries: { key: string; value: string }[];
  proof: unknown;
  history: {
    height: number;
    index: number;
    roles: string[];
    status: string;
    reason?: string;
    txHash: string;
  }[];
}

async function history(params: unknown): Promise<HistoryAnswer> {
  const a = await call('pos_getHistory', params);
  assert.is(a.error, undefined, JSON.stringify(a.error));
  return a.result as HistoryAnswer;
}

/** The answer verifies from its JSON alone, and equals the ledger's own proof. */
async function checkHistoryAnswer(
  a: HistoryAnswer,
  k: Key,
  query: { fromHeight?: number; toHeight?: number; limit?: number; height?: number },
): Promise<void> {
  const entries = a.entries.map((e) => ({ key: fromHex(e.key), value: fromHex(e.value) }));
  const proof = trieRangeProofFromJSON(a.proof);
  assert.ok(verifyTrieRange(fromHex(a.stateRoot), fromHex(a.lo), fromHex(a.hi), entries, proof));
  assert.is(a.key, keyHex(k));
  const p = await chain.ledger.proveHistory(k.pk, query);
  assert.is(a.height, p.height);
  assert.is(a.stateRoot, `0x${hex(p.stateRoot)}`);
  assert.is(a.stateRoot, `0x${hex(await chain.ledger.stateRootAt(p.height))}`);
  assert.is(a.lo, `0x${hex(p.lo)}`);
  assert.is(a.hi, `0x${hex(p.hi)}`);
  assert.equal(
    entries.map((e) => [hex(e.key), hex(e.value)]),
    entryHex(p.entries),
  );
  assert.equal(a.proof, trieRangeProofToJSON(p.proof));
}

/** One expected history item, from a block's receipt. */
function item(height: number, index: number, roles: Role[]) {
  const rc = receipts.get(height)![index]!;
  return {
    height,
    index,
    roles,
    status: rc.status,
    ...(rc.reason === undefined ? {} : { reason: rc.reason }),
    txHash: `0x${hex(rc.txHash)}`,
  };
}

const keyHex = (k: Key) => `0x${hex(k.pk)}`;

// --- pos_getHistory -----------------------------------------------------------------------------

test('pos_getHistory: every entry of a key, committed and rejected, proven; entries as the ledger writes them', async () => {
  const a = await history([keyHex(O[0])]);
  assert.is(a.height, 4);
  assert.equal(a.history, [
    item(1, 0, ['input', 'output']),
    item(1, 1, ['input']),
    item(4, 0, ['input']),
  ]);
  assert.equal(
    a.entries.map((e) => [e.key.slice(2), e.value.slice(2)]),
    entryHex([
      historyEntry(O[0].pk, 1, 0, ['input', 'output'], receipts.get(1)![0]!),
      historyEntry(O[0].pk, 1, 1, ['input'], receipts.get(1)![1]!),
      historyEntry(O[0].pk, 4, 0, ['input'], receipts.get(4)![0]!),
    ]),
  );
  assert.is(a.history[1]!.reason, 'BAD_SIGNATURE');
  await checkHistoryAnswer(a, O[0], {});
  // O1: paid at 1, its name at 3; never its rejected signature at 1 (not its input).
  const b = await history([keyHex(O[1])]);
  assert.equal(b.history, [item(1, 0, ['output']), item(3, 0, ['input', 'output', 'name'])]);
  await checkHistoryAnswer(b, O[1], {});
  // A key with no history: an empty, proven answer.
  const none = await history([keyHex(V[3])]);
  assert.equal(none.history, []);
  assert.equal(none.entries, []);
  await checkHistoryAnswer(none, V[3], {});
});

test('pos_getHistory: from, to, limit, height; by position and by name', async () => {
  const range = await history([keyHex(O[0]), 2, 4]);
  assert.equal(range.history, [item(4, 0, ['input'])]);
  assert.is(range.lo, `0x${hex(historyKey(O[0].pk, 2, 0))}`);
  await checkHistoryAnswer(range, O[0], { fromHeight: 2, toHeight: 4 });
  const upTo1 = await history([keyHex(O[0]), 0, 1]);
  assert.equal(upTo1.history, [item(1, 0, ['input', 'output']), item(1, 1, ['input'])]);
  await checkHistoryAnswer(upTo1, O[0], { fromHeight: 0, toHeight: 1 });
  // limit 2: the newest two, the range narrowed to start at the older of them.
  const newest = await history({ key: keyHex(O[0]), limit: 2 });
  assert.equal(newest.history, [item(1, 1, ['input']), item(4, 0, ['input'])]);
  assert.is(newest.lo, `0x${hex(historyKey(O[0].pk, 1, 1))}`);
  await checkHistoryAnswer(newest, O[0], { limit: 2 });
  // The limits' bounds are accepted.
  assert.is((await history([keyHex(O[0]), 0, 4, 1])).history.length, 1);
  assert.is((await history([keyHex(O[0]), 0, 4, 1000])).history.length, 3);
  // At height 3 (a state with a block): what that state held, to its height by default.
  const at3 = await history({ key: keyHex(O[1]), height: 3 });
  assert.is(at3.height, 3);
  assert.equal(at3.history, [item(1, 0, ['output']), item(3, 0, ['input', 'output', 'name'])]);
  await checkHistoryAnswer(at3, O[1], { height: 3 });
  const at1 = await history([keyHex(O[2]), 0, 1, 10, 1]);
  assert.equal(at1.history, []);
  await checkHistoryAnswer(at1, O[2], { fromHeight: 0, toHeight: 1, limit: 10, height: 1 });
  const o2 = await history([keyHex(O[2])]);
  assert.equal(o2.history, [item(4, 0, ['output'])]);
});

// --- pos_resolveName ----------------------------------------------------------------------------

interface NameAnswer {
  name: string;
  height: number | null;
  stateRoot: string;
  owner: string | null;
  sinceHeight: number | null;
  proof: unknown;
}

async function resolve(params: unknown): Promise<NameAnswer> {
  const a = await call('pos_resolveName', params);
  assert.is(a.error, undefined, JSON.stringify(a.error));
  return a.result as NameAnswer;
}

test('pos_resolveName: an owned name with its inclusion proof, a free one with its exclusion proof, at a height', async () => {
  const alice = await resolve(['alice']);
  assert.equal(
    { ...alice, proof: undefined },
    {
      name: 'alice',
      height: 4,
      stateRoot: `0x${hex(chain.ledger.stateRoot())}`,
      owner: keyHex(O[1]),
      sinceHeight: 3,
      proof: undefined,
    },
  );
  const root = fromHex(alice.stateRoot);
  const proof = trieProofFromJSON(alice.proof);
  assert.ok(verifyTrieInclusion(root, nameKeyOf('alice'), nameValueOf('alice', O[1].pk, 3), proof));
  assert.not.ok(
    verifyTrieInclusion(root, nameKeyOf('alice'), nameValueOf('alice', O[0].pk, 3), proof),
  );
  // A genesis validator's name.
  const v0 = await resolve({ name: 'v0' });
  assert.is(v0.owner, keyHex(V[0]));
  assert.is(v0.sinceHeight, 0);
  assert.ok(
    verifyTrieInclusion(
      fromHex(v0.stateRoot),
      nameKeyOf('v0'),
      nameValueOf('v0', V[0].pk, 0),
      trieProofFromJSON(v0.proof),
    ),
  );
  // Free: null owner, an exclusion proof; so is alice at height 1, before block 3.
  for (const [params, name, height] of [
    [['bob'], 'bob', 4],
    [['alice', 1], 'alice', 1],
    [['Alice'], 'Alice', 4],
    [['x'.repeat(64)], 'x'.repeat(64), 4],
  ] as const) {
    const a = await resolve(params);
    assert.is(a.name, name);
    assert.is(a.height, height);
    assert.is(a.owner, null);
    assert.is(a.sinceHeight, null);
    assert.is(a.stateRoot, `0x${hex(await chain.ledger.stateRootAt(height))}`);
    assert.ok(
      verifyTrieExclusion(fromHex(a.stateRoot), nameKeyOf(name), trieProofFromJSON(a.proof)),
      name,
    );
  }
});

// --- errors -----------------------------------------------------------------------------------

test('invalid params are -32602: a bad key, a limit out of 1..1000, to above the state height, from above to, a name over 64 characters', async () => {
  const k = keyHex(O[0]);
  const bad: [string, unknown, RegExp][] = [
    ['pos_getHistory', [], /missing key/],
    ['pos_getHistory', ['0x12'], /key must be 0x-prefixed hex of 32 bytes/],
    ['pos_getHistory', [`0x${'zz'.repeat(32)}`], /key must be/],
    ['pos_getHistory', [hex(O[0].pk).padStart(66, '0')], /key must be/],
    ['pos_getHistory', [`0x${hex(O[0].pk)}00`], /key must be/],
    ['pos_getHistory', [7], /key must be/],
    ['pos_getHistory', [k, 0, 4, 0], /limit must be in 1\.\.1000/],
    ['pos_getHistory', [k, 0, 4, 1001], /limit must be in 1\.\.1000/],
    ['pos_getHistory', { key: k, limit: 1001 }, /limit must be in 1\.\.1000/],
    ['pos_getHistory', [k, 0, 5], /to must be at most the state height 4/],
    ['pos_getHistory', [k, 0, 4, 10, 3], /to must be at most the state height 3/],
    ['pos_getHistory', [k, 3, 1], /from must be at most to/],
    ['pos_getHistory', [k, 5], /from must be at most to/],
    ['pos_getHistory', [k, -1], /from must be an integer >= 0/],
    ['pos_getHistory', [k, 0, 4, 1.5], /limit must be an integer >= 0/],
    ['pos_getHistory', [k, 0, 4, 10, 4, 1], /at most 5 params/],
    ['pos_resolveName', [], /missing name/],
    ['pos_resolveName', ['x'.repeat(65)], /name must be a string of at most 64 characters/],
    ['pos_resolveName', [42], /name must be a string/],
    ['pos_resolveName', ['alice', -1], /height must be an integer >= 0/],
  ];
  for (const [method, params, message] of bad) {
    const a = await call(method, params);
    const what = `${method} ${JSON.stringify(params)}: ${JSON.stringify(a)}`;
    assert.is(a.error?.code, RPC_INVALID_PARAMS, what);
    assert.match(a.error!.message, message, what);
  }
});

test('a height with no block, or above the latest, is -32001', async () => {
  const k = keyHex(O[0]);
  for (const [method, params] of [
    ['pos_getHistory', [k, 0, 0, 10, 0]],
    ['pos_getHistory', [k, 0, 2, 10, 2]],
    ['pos_getHistory', { key: k, height: 5 }],
    ['pos_resolveName', ['alice', 2]],
    ['pos_resolveName', ['alice', 0]],
    ['pos_resolveName', { name: 'alice', height: 9 }],
  ] as const) {
    const a = await call(method, params);
    assert.is(a.error?.code, RPC_NOT_FOUND, `${method} ${JSON.stringify(params)}`);
  }
});

test.run();
