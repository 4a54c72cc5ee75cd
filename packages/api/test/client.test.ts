// The typed client over the HTTP transport, with an injected fetch: what it
// sends (positional params, trailing absent ones left out), and each way an
// answer turns into a result or an ApiError with its code.
import { isCoded } from '@pos/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiError, createApiClient, createHttpTransport, type FetchLike } from '../src/index.js';

interface Sent {
  url: string;
  body: unknown;
}

function fake(answer: (req: { id: number; method: string }) => unknown) {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (url, init) => {
    const body = JSON.parse(init.body);
    sent.push({ url, body });
    const out = Array.isArray(body) ? body.map(answer) : answer(body);
    return { status: 200, json: async () => out };
  };
  return { sent, client: createApiClient(createHttpTransport({ url: 'http://n.test/', fetch })) };
}

async function rejects(p: Promise<unknown>, code: ApiError['code']): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.is((e as ApiError).code, code, (e as Error).message);
    return e as ApiError;
  }
  return assert.unreachable(`expected ${code}`);
}

test('calls post positional params to /rpc; trailing absent params are left out', async () => {
  const { sent, client } = fake((r) => ({ jsonrpc: '2.0', id: r.id, result: { ok: r.method } }));
  assert.equal(await client.getBlock('latest'), { ok: 'pos_getBlock' });
  await client.getTransaction(`0x${'00'.repeat(32)}`, undefined);
  await client.status();
  assert.is(sent[0]!.url, 'http://n.test/rpc');
  assert.equal(
    sent.map((s) => (s.body as { params: unknown }).params),
    [['latest'], [`0x${'00'.repeat(32)}`], []],
  );
});

test('a JSON-RPC error is an ApiError with its code name, rpcCode and data', async () => {
  const { client } = fake((r) => ({
    jsonrpc: '2.0',
    id: r.id,
    error: { code: -32003, message: 'no', data: { code: 'CONFLICT' } },
  }));
  const e = await rejects(client.sendTransaction('0x00'), 'TX_REJECTED');
  assert.is(e.rpcCode, -32003);
  assert.equal(e.data, { code: 'CONFLICT' });
  assert.is(e.message, 'no');
  assert.ok(isCoded(e, ApiError, ['TX_REJECTED']));
  const other = fake((r) => ({ jsonrpc: '2.0', id: r.id, error: { code: -32099, message: 'x' } }));
  assert.is((await rejects(other.client.status(), 'SERVER_ERROR')).rpcCode, -32099);
});

test('answers that are not JSON-RPC responses are BAD_RESPONSE', async () => {
  for (const [answer, message] of [
    [[1], 'the JSON-RPC answer must be an object'],
    [null, 'the JSON-RPC answer must be an object'],
    [{ jsonrpc: '2.0', id: 1, error: 'x' }, 'error must be an object'],
    [{ jsonrpc: '2.0', id: 1 }, 'pos_status: no result'],
  ] as const) {
    const { client } = fake(() => answer);
    assert.is((await rejects(client.status(), 'BAD_RESPONSE')).message, message);
  }
});

test('no answer: UNREACHABLE with the cause; TIMEOUT past timeoutMs', async () => {
  const down = createApiClient(
    createHttpTransport({
      url: 'http://n.test',
      fetch: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    }),
  );
  assert.is((await rejects(down.status(), 'UNREACHABLE')).message, 'connect ECONNREFUSED');
  const unreadable = createApiClient(
    createHttpTransport({
      url: 'http://n.test',
      fetch: async () => ({
        status: 502,
        json: async () => JSON.parse('<html>'),
      }),
    }),
  );
  await rejects(unreadable.status(), 'UNREACHABLE');
  let aborted = false;
  const slow = createApiClient(
    createHttpTransport({
      url: 'http://n.test',
      timeoutMs: 20,
      fetch: (_u, init) =>
        new Promise((_, reject) => {
          (init.signal as AbortSignal).addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    }),
  );
  const e = await rejects(slow.status(), 'TIMEOUT');
  assert.is(e.message, 'The operation was aborted due to timeout');
  assert.ok(aborted, 'the request was aborted');
});

test('batch: one request, each call its result or its ApiError, in order', async () => {
  const { sent, client } = fake((r) =>
    (r as { params: number[] }).params[0] === 2
      ? { jsonrpc: '2.0', id: r.id, error: { code: -32001, message: 'no block at height 2' } }
      : { jsonrpc: '2.0', id: r.id, result: { height: (r as { params: number[] }).params[0] } },
  );
  const out = await client.batch('getBlock', [[1], [2], [3]]);
  assert.is(sent.length, 1);
  assert.equal(out[0], { height: 1 });
  assert.ok(isCoded(out[1], ApiError, ['NOT_FOUND']));
  assert.equal(out[2], { height: 3 });
  // One error for the whole batch (e.g. over 100 calls): every call gets it.
  const whole = createApiClient(
    createHttpTransport({
      url: 'http://n.test',
      fetch: async () => ({
        status: 200,
        json: async () => ({ jsonrpc: '2.0', id: null, error: { code: -32005, message: 'big' } }),
      }),
    }),
  );
  const all = await whole.batch('getBlock', [[1], [2]]);
  assert.ok(all.every((x) => isCoded(x, ApiError, ['LIMIT_EXCEEDED'])));
});

test.run();
