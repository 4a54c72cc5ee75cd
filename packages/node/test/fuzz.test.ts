// Fuzzing of the node's public surface (issue 7; docs/PROTOCOL.md 10): a
// real posd (one validator, committing blocks on its own) started in process
// on loopback, then random JSON-RPC over real HTTP: unknown method names,
// every real method with random and mutated params, random bodies, invalid
// JSON, content types, batches (empty, oversized), deep nesting, huge
// strings; and random WebSocket frames on the subscription endpoint.
//
// Every answer is a well-formed JSON-RPC 2.0 response with a standard code
// (-32700, -32600, -32601, -32602) or a documented domain code (-32001,
// -32003, -32005), or a result; never an HTTP 5xx, never -32603 (a handler
// that threw unexpectedly), never a dropped connection; the node still
// answers /status at the end. Bounded in time: see packages/test-utils/src/fuzz.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  ed25519PublicKey,
  encodeTx,
  type Genesis,
  genesisOutpoint,
  signEd25519,
  signTx,
} from '@pos/protocol';
import { fuzzTest, mutatedJson, nastyJson } from '@pos/test-utils/fuzz';
import { loud } from '@pos/test-utils/hooks';
import { freePorts } from '@pos/test-utils/ports';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { MAX_WS_FRAME_BYTES } from '../src/api/subscriptions.js';
import type { PosNode } from '../src/interface.js';
import { generateValidatorKey } from '../src/keyfile.js';
import { startNode } from '../src/node.js';

/** The codes an answer may carry: JSON-RPC 2.0's and docs/PROTOCOL.md 10's. */
const CODES = new Set([-32700, -32600, -32601, -32602, -32001, -32003, -32005]);

const dir = mkdtempSync(join(tmpdir(), 'posd-fuzz-'));
const key = generateValidatorKey();
const wallet = new Uint8Array(32).fill(0x57);
const walletPub = ed25519PublicKey(wallet);
let genesis: Genesis;
let node: PosNode;
let rpcUrl: string;
const dispatcher = new Agent({ connections: 4, keepAliveTimeout: 10_000 });

/** Valid params of every method, from the running chain: what the mutations start from. */
const valid: Record<string, unknown[][]> = {};

async function post(body: string | Uint8Array, contentType: string | null = 'application/json') {
  const res = await request(`${rpcUrl}/rpc`, {
    method: 'POST',
    headers: contentType === null ? {} : { 'content-type': contentType },
    body,
    dispatcher,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

async function call(
  method: string,
  params: unknown,
): Promise<{ result?: unknown; error?: { code: number } }> {
  const { text } = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  return JSON.parse(text);
}

test.before(
  loud(async () => {
    const [rpcPort, p2pPort] = await freePorts(2);
    genesis = createGenesis({
      chainName: 'fuzz',
      genesisTime: Date.now(),
      params: { minFee: 1n, lag: 2, epoch: 4 },
      validators: [{ pubkey: key.publicKey, name: 'solo', p2p: `127.0.0.1:${p2pPort}` }],
      outputs: [
        { amount: 1_000_000n, owner: key.publicKey, host: key.validatorId },
        { amount: 5000n, owner: walletPub, host: key.validatorId },
      ],
    });
    // One validator: it creates events but orders no block (rounds need
    // other creators), so the methods answer from the genesis state and the
    // mempool; their params checks and not-found paths are what is fuzzed.
    node = await startNode({
      config: {
        dataDir: dir,
        rpcHost: '127.0.0.1',
        rpcPort: rpcPort!,
        p2pHost: '127.0.0.1',
        p2pPort: p2pPort!,
        logLevel: 'fatal',
        peers: [],
        explorerDir: null,
      },
      genesis,
      key,
    });
    rpcUrl = node.rpcUrl.replace(/\/+$/, '');
    // A real signed transfer: it enters the mempool, and its mutations reach
    // the node's transaction decoder.
    const chainId = chainIdOf(genesis);
    const tx = signTx(
      {
        chainId,
        inputs: [genesisOutpoint(chainId, 1)],
        outputs: [{ amount: 4000n, owner: key.publicKey, host: key.validatorId }],
        fee: 1000n,
        memo: new Uint8Array(0),
      },
      [wallet],
      { sign: signEd25519, publicKey: ed25519PublicKey },
    );
    const txHex = toHex(encodeTx(tx));
    const sent = await call('pos_sendTransaction', [txHex]);
    const txHash = (sent.result as { txHash: string }).txHash;
    if (typeof txHash !== 'string') throw new Error(`sendTransaction: ${JSON.stringify(sent)}`);
    const owner = toHex(key.publicKey);
    const hash = toHex(new Uint8Array(32).fill(0xee));
    Object.assign(valid, {
      pos_status: [[]],
      pos_sendTransaction: [[txHex]],
      pos_getTransaction: [[txHash], [txHash, 0], { txHash, atHeight: 1 }],
      pos_getBlock: [[0], ['latest'], { height: 3 }],
      pos_getCertificate: [[0]],
      pos_getOutputs: [[owner], [owner, 0], { owner: toHex(walletPub) }],
      pos_getConsistencyProof: [
        [1, 1],
        [1, 5],
      ],
      pos_getValidators: [[], [0], [1]],
      pos_getEvent: [[hash]],
      pos_getEventTransactions: [[hash]],
      pos_getDag: [[0, 3], [1]],
      pos_getEquivocations: [[]],
    });
  }),
);

// uvu runs no after hook when a before hook failed: close the node on exit
// too, or its timers keep the process alive.
process.once('beforeExit', () => void node?.close());

test.after(async () => {
  await node?.close();
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

// --- checking answers -----------------------------------------------------------------

/** One Response object: exactly jsonrpc, id, and result or an error with an allowed code. */
function checkResponse(r: unknown, id?: unknown): void {
  assert.type(r, 'object');
  const o = r as Record<string, unknown>;
  assert.is(o.jsonrpc, '2.0');
  assert.ok('id' in o, 'id member');
  if (id !== undefined) assert.is(o.id, id);
  assert.is('result' in o, !('error' in o), 'result xor error');
  if ('error' in o) {
    const e = o.error as { code: unknown; message: unknown };
    assert.type(e.message, 'string');
    assert.ok(CODES.has(e.code as number), `error code ${String(e.code)}: ${String(e.message)}`);
  }
}

/** An HTTP answer: a JSON-RPC body with an allowed code, 204 for notifications; never 5xx. */
function checkHttp(
  a: { status: number; text: string },
  expect: 'single' | 'batch' | 'any',
  id?: unknown,
) {
  assert.ok(a.status < 500, `HTTP ${a.status}: ${a.text.slice(0, 200)}`);
  if (a.status === 204) {
    assert.is(a.text, '');
    return;
  }
  assert.ok([200, 400, 405, 413, 415].includes(a.status), `HTTP ${a.status}`);
  const body = JSON.parse(a.text) as unknown;
  if (Array.isArray(body)) {
    assert.ok(expect !== 'single', 'a batch answer to a single request');
    assert.ok(body.length > 0);
    for (const r of body) checkResponse(r);
  } else checkResponse(body, expect === 'single' ? id : undefined);
}

// --- arbitraries ----------------------------------------------------------------------

const METHODS = [
  'pos_status',
  'pos_sendTransaction',
  'pos_getTransaction',
  'pos_getBlock',
  'pos_getCertificate',
  'pos_getOutputs',
  'pos_getConsistencyProof',
  'pos_getValidators',
  'pos_getEvent',
  'pos_getEventTransactions',
  'pos_getDag',
  'pos_getEquivocations',
] as const;

const methodName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
  fc.constantFrom(
    'rpc.discover',
    'toString',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'pos_subscribe',
    'POS_STATUS',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

/** Params for `method`: nasty values, or a mutation of real params. */
const paramsFor = (method: string): fc.Arbitrary<unknown> => {
  const bases = Object.hasOwn(valid, method) ? valid[method]! : [[]];
  return fc.oneof(
    fc.constantFrom(...bases),
    fc.nat().chain((i) => mutatedJson(bases[i % bases.length], 3)),
    nastyJson,
    fc.array(nastyJson, { maxLength: 4 }),
  );
};

const rpcId = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.double());

const requestObject = fc
  .tuple(methodName, rpcId, fc.boolean(), fc.boolean())
  .chain(([method, id, withId, withParams]) =>
    paramsFor(method).map((params) => ({
      jsonrpc: '2.0',
      method,
      ...(withId ? { id } : {}),
      ...(withParams ? { params } : {}),
    })),
  );

// --- properties -------------------------------------------------------------------------

fuzzTest('JSON-RPC: every real method with random and mutated params', () =>
  fc.asyncProperty(
    fc.constantFrom(...METHODS).chain((m) => fc.tuple(fc.constant(m), paramsFor(m))),
    fc.integer(),
    async ([method, params], id) => {
      const a = await post(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      checkHttp(a, 'single', id);
    },
  ),
);

fuzzTest('JSON-RPC: random requests and batches (empty, mixed, notifications, oversized)', () =>
  fc.asyncProperty(
    fc.oneof(
      { weight: 3, arbitrary: requestObject },
      fc.array(fc.oneof(requestObject, nastyJson), { minLength: 0, maxLength: 12 }),
      fc
        .integer({ min: 101, max: 400 })
        .map((n) =>
          Array.from({ length: n }, () => ({ jsonrpc: '2.0', id: 1, method: 'pos_status' })),
        ),
    ),
    async (body) => {
      const text = JSON.stringify(body);
      const a = await post(text);
      // An invalid id cannot be echoed (it becomes null): only the shape is checked.
      checkHttp(a, Array.isArray(body) ? 'batch' : 'any');
    },
  ),
);

fuzzTest('HTTP: random bodies, invalid JSON, deep nesting, huge strings, any content type', () =>
  fc.asyncProperty(
    fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue().map((j) => JSON.stringify(j).slice(0, -1)),
      fc.integer({ min: 1, max: 100_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      fc.integer({ min: 1, max: 100_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
      fc.integer({ min: 1, max: 2_000_000 }).map((n) =>
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'pos_getEvent',
          params: ['x'.repeat(n)],
        }),
      ),
      fc.constantFrom(
        '',
        'null',
        '[]',
        '{}',
        '[[]]',
        '[1]',
        '"x"',
        '\u0000',
        '{"jsonrpc":"2.0","method":"pos_status","id":1,"id":2}',
      ),
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant<string | null>('application/json') },
      fc.constantFrom<string | null>(
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'APPLICATION/JSON',
        '',
        null,
      ),
      fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
    ),
    async (body, contentType) => {
      const a = await post(body, contentType);
      checkHttp(a, 'any');
    },
  ),
);

fuzzTest('WebSocket: random frames get JSON-RPC answers and the socket keeps serving', () =>
  fc.asyncProperty(
    fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.oneof(requestObject, nastyJson).map((j) => JSON.stringify(j)) },
        fc
          .tuple(
            fc.constantFrom('pos_subscribe', 'pos_unsubscribe'),
            fc.oneof(
              nastyJson,
              mutatedJson(['txStatus', `0x${'ab'.repeat(32)}`]),
              mutatedJson(['newBlocks']),
            ),
          )
          .map(([method, params]) => JSON.stringify({ jsonrpc: '2.0', id: 7, method, params })),
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.uint8Array({ maxLength: 100 }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    async (frames) => {
      const ws = new WebSocket(`${rpcUrl.replace(/^http/, 'ws')}/ws`);
      const answers: unknown[] = [];
      let probe: (() => void) | undefined;
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { id?: unknown; method?: string };
        if (m.id === 'probe') probe?.();
        else if (m.method !== 'pos_subscription') answers.push(m);
      });
      try {
        await new Promise<void>((res, rej) => {
          ws.once('open', () => res());
          ws.once('error', rej);
        });
        // A frame over 64 KiB closes the socket with 1009 (subscriptions.ts).
        const tooBig = frames.some((f) => Buffer.byteLength(f) > MAX_WS_FRAME_BYTES);
        const closed = new Promise<number>((res) => ws.once('close', res));
        for (const f of frames) ws.send(f);
        if (tooBig) {
          assert.is(await closed, 1009);
          return;
        }
        // A probe after the frames: once it is answered, every frame before it was.
        await new Promise<void>((res, rej) => {
          probe = res;
          ws.once('close', (code) => rej(new Error(`socket closed ${code}`)));
          ws.send(
            JSON.stringify({
              jsonrpc: '2.0',
              id: 'probe',
              method: 'pos_unsubscribe',
              params: ['0x00'],
            }),
          );
        });
        for (const r of answers) {
          if (Array.isArray(r)) for (const x of r) checkResponse(x);
          else checkResponse(r);
        }
      } finally {
        ws.terminate();
      }
    },
  ),
);

test('oversized bodies are 413 with -32005; the node still answers /status', async () => {
  const big = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'pos_status',
    params: ['x'.repeat(2 * 1024 * 1024)],
  });
  const a = await post(big);
  assert.is(a.status, 413);
  checkHttp(a, 'any');
  const res = await request(`${rpcUrl}/status`, { dispatcher });
  assert.is(res.statusCode, 200);
  const status = (await res.body.json()) as { chainId: string };
  assert.is(status.chainId, toHex(chainIdOf(genesis)));
});

test.run();
