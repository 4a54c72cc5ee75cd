// The API contract against a real posd (the built binary, real HTTP on
// loopback, a one-validator dev chain from `posd init`): `rpc.discover`
// answers exactly the OpenRPC document @pos/api generates, that document is
// valid OpenRPC (ajv against @open-rpc/meta-schema, scripts/testing/openrpc.ts),
// and real answers (status, block, certificate, outputs, transaction,
// validators, events, equivocations, a consistency proof, newBlocks
// notifications) validate against their result schemas. Every call goes
// through the typed client (@pos/api).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiError,
  createApiClient,
  createHttpTransport,
  createSubscriptionClient,
  type EventResult,
  type NewBlockEvent,
  openRpcDocument,
  SUBSCRIPTION_PAYLOAD_SCHEMAS,
  type WebSocketCtor,
} from '@pos/api';
import {
  chainIdOf,
  ed25519PublicKey,
  encodeTx,
  genesisFromJSON,
  genesisOutpoint,
  isCoded,
  signEd25519,
  signTx,
  toHex,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import {
  openRpcErrors,
  resultValidators,
  schemaErrors,
  schemaValidator,
} from '@pos/test-utils/openrpc';
import { freePorts } from '@pos/test-utils/ports';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { readKeyFile } from '../src/keyfile.js';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'packages/node/dist/cli.js');
const env = { ...process.env };
for (const k of Object.keys(env)) if (k.startsWith('POS_')) delete env[k];
const dir = mkdtempSync(join(tmpdir(), 'posd-openrpc-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let child: ChildProcess | null = null;
let output = '';
let url = '';
let dataDir = '';

test.before(
  loud(async () => {
    const [rpc, p2p] = (await freePorts(2)) as [number, number];
    dataDir = join(dir, 'node');
    const init = spawnSync(
      process.execPath,
      [
        bin,
        'init',
        '--data-dir',
        dataDir,
        '--rpc-port',
        String(rpc),
        '--p2p-port',
        String(p2p),
        '--p2p-host',
        '127.0.0.1',
        '--log-level',
        'warn',
      ],
      { encoding: 'utf8', env, timeout: 30_000 },
    );
    assert.is(init.status, 0, init.stderr);
    child = spawn(process.execPath, [bin, 'start', '--data-dir', dataDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    url = `http://127.0.0.1:${rpc}`;
  }),
);

test.after(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const api = () => createApiClient(createHttpTransport({ url, timeoutMs: 10_000 }));

/** Polls until `cond` holds (20 s at most). */
async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return;
    await sleep(100);
  }
  assert.unreachable(`${what}: not within 20 s\n${output.slice(-3000)}`);
}

test('rpc.discover answers exactly the generated document, and it is valid OpenRPC', async () => {
  await until('the node answers', async () => (await api().status()).chainId !== '');
  const served = await api().discover();
  assert.equal(served, openRpcDocument());
  assert.equal(openRpcErrors(served), []);
  // Over the raw wire too: the same bytes as JSON.stringify of the document.
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}',
  });
  assert.is(await res.text(), JSON.stringify({ jsonrpc: '2.0', result: openRpcDocument(), id: 1 }));
  // No params, as pos_status.
  try {
    await api().transport.request('rpc.discover', [1]);
    assert.unreachable('params accepted');
  } catch (e) {
    assert.ok(isCoded(e, ApiError, ['INVALID_PARAMS']), String(e));
    assert.is((e as Error).message, 'Invalid params: at most 0 params');
  }
});

test('real answers validate against their result schemas', async () => {
  const doc = openRpcDocument();
  const validators = resultValidators(doc as never);
  const check = (method: string, answer: unknown) => {
    assert.equal(
      schemaErrors(validators.get(method)!, answer),
      [],
      `${method}: ${JSON.stringify(answer).slice(0, 400)}`,
    );
  };
  const c = api();
  const ws = createSubscriptionClient({ url, WebSocket: WebSocket as unknown as WebSocketCtor });
  const blocks: NewBlockEvent[] = [];
  await ws.subscribe('newBlocks', [], (b) => blocks.push(b));

  // A transfer from the dev key's genesis output: a real receipt to prove.
  const genesis = genesisFromJSON(JSON.parse(readFileSync(join(dataDir, 'genesis.json'), 'utf8')));
  const key = await readKeyFile(join(dataDir, 'validator.key'));
  const chainId = chainIdOf(genesis);
  const amount = genesis.outputs[0]!.amount;
  const tx = signTx(
    {
      chainId,
      inputs: [genesisOutpoint(chainId, 0)],
      outputs: [
        { amount: 1000n, owner: new Uint8Array(32).fill(7), host: key.validatorId },
        { amount: amount - 1001n, owner: key.publicKey, host: key.validatorId },
      ],
      fee: 1n,
      memo: new Uint8Array(0),
    },
    [key.secretKey],
    { sign: signEd25519, publicKey: ed25519PublicKey },
  );
  const sent = await c.sendTransaction(toHex(encodeTx(tx)));
  check('pos_sendTransaction', sent);
  await until('the transfer is certified', async () => {
    const st = await c.status();
    const t = await c.getTransaction(sent.txHash);
    return t.status === 'committed' && st.lastCertifiedHeight !== null && 'height' in t
      ? st.lastCertifiedHeight >= t.height
      : false;
  });
  const status = await c.status();
  check('pos_status', status);
  // What the node keeps: its database measured on disk (the first walk runs
  // at start), every height's state still kept this early, and the state
  // flushed at or below the head.
  assert.ok(status.storage.diskBytes !== null && status.storage.diskBytes > 0, 'disk measured');
  assert.is(status.storage.stateFromHeight, 0);
  assert.ok((status.storage.stateFlushedHeight ?? -1) <= status.height!);
  const metricsText = await (await fetch(`${url}/metrics`)).text();
  assert.match(metricsText, /^pos_disk_bytes [1-9][0-9]*$/m);
  // Outpoints: the genesis output the transfer spent, its new output, and one never made.
  const spentOp = await c.getOutpoint(toHex(genesisOutpoint(chainId, 0).txHash), 0);
  check('pos_getOutpoint', spentOp);
  assert.is(spentOp.status, 'spent');
  assert.ok(spentOp.spentHeight !== null && spentOp.spentHeight <= spentOp.height!);
  const newOp = await c.getOutpoint(sent.txHash, 0);
  check('pos_getOutpoint', newOp);
  assert.is(newOp.status, 'unspent');
  assert.is(newOp.output?.amount, '1000');
  const noOp = await c.getOutpoint(sent.txHash, 2, status.lastCertifiedHeight);
  check('pos_getOutpoint', noOp);
  assert.is(noOp.status, 'unknown');
  // At the block before the spend (when there is one), the same outpoint was unspent.
  if (spentOp.spentHeight! > 0) {
    const before = await c.getOutpoint(
      toHex(genesisOutpoint(chainId, 0).txHash),
      0,
      spentOp.spentHeight! - 1,
    );
    assert.is(before.status, 'unspent');
    assert.is(before.output?.amount, amount.toString());
  }
  const tr = await c.getTransaction(sent.txHash, status.lastCertifiedHeight);
  check('pos_getTransaction', tr);
  check('pos_getTransaction', await c.getTransaction(`0x${'00'.repeat(32)}`));
  const block = await c.getBlock('latest');
  check('pos_getBlock', block);
  check('pos_getBlock', await c.getBlock(0));
  check('pos_getCertificate', await c.getCertificate(status.lastCertifiedHeight!));
  check('pos_getOutputs', await c.getOutputs(toHex(key.publicKey)));
  check('pos_getOutputs', await c.getOutputs(toHex(key.publicKey), block.height));
  check('pos_getValidators', await c.getValidators());
  check('pos_getValidators', await c.getValidators(0));
  const size = block.header.historySize;
  check('pos_getConsistencyProof', await c.getConsistencyProof(1, size));
  const dag = await c.getDag(0, 3);
  check('pos_getDag', dag);
  check('pos_getEvent', await c.getEvent(dag.events[0]!.hash));
  // The event that carries the transfer: its bytes, which hash to the transfer's id.
  let carrier: EventResult | undefined;
  for (let r = 0; r <= status.round && carrier === undefined; r += 16) {
    const page = await c.getDag(r, Math.min(r + 15, status.round));
    carrier = page.events.find((e) => e.txHashes.includes(sent.txHash));
  }
  const carried = await c.getEventTransactions(carrier!.hash);
  check('pos_getEventTransactions', carried);
  assert.is(carried.transactions[carrier!.txHashes.indexOf(sent.txHash)], toHex(encodeTx(tx)));
  check('pos_getEquivocations', await c.getEquivocations());
  const out = await c.batch('getBlock', [[0], [1_000_000]]);
  check('pos_getBlock', out[0]);
  assert.ok(isCoded(out[1], ApiError, ['NOT_FOUND']));

  // Notifications: each kind's payload schema.
  const payload = schemaValidator(SUBSCRIPTION_PAYLOAD_SCHEMAS.newBlocks);
  assert.ok(blocks.length > 0, 'newBlocks notifications arrived');
  for (const b of blocks) assert.ok(payload(b), JSON.stringify(b));
  assert.ok(blocks.some((b) => b.certified));
  ws.close();
  assert.is((await ws.closed).code, 1005);
});

test.run();
