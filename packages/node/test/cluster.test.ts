// Four real `posd` processes on loopback with unequal stakes (issue 4, point
// 7): transactions over JSON-RPC, the same blocks, roots and receipts on every
// node, a double spend with exactly one commit, a node below 1/3 of the stake
// killed while the rest keep committing, its restart catching up, malformed
// JSON-RPC answered with the right codes, and a graceful SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@pos/merkle';
import {
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  chainIdOf,
  createGenesis,
  ed25519PublicKey,
  encodeTx,
  genesisOutpoint,
  genesisToJSON,
  makeValidatorSet,
  type Outpoint,
  signEd25519,
  signTx,
  verifyCertificate,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { freePorts } from '@pos/test-utils/ports';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateValidatorKey, writeKeyFile } from '../src/keyfile.js';

// biome-ignore lint/suspicious/noExplicitAny: the node's JSON answers, read loosely by this harness.
type Json = any;
const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'packages/node/dist/cli.js');
const env = { ...process.env };
delete env.FORCE_COLOR;
const dir = mkdtempSync(join(tmpdir(), 'posd-cluster-'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${String(last ?? '')})`);
    await sleep(100);
  }
}

// --- the network: stakes 40/30/20/10 (plus 1% of wallet funds hosted by v3) ----------

const STAKES = [4000n, 3000n, 2000n, 1000n];
const keys = STAKES.map(() => generateValidatorKey());
const wallets = [1, 2, 3, 4].map((i) => new Uint8Array(32).fill(0x40 + i));
const walletPub = wallets.map((w) => ed25519PublicKey(w));
const FUND = 25n;
interface NodeProc {
  rpc: string;
  rpcPort: number;
  p2pPort: number;
  dataDir: string;
  proc: ChildProcess | null;
  log: string;
}
const nodes: NodeProc[] = [];
let genesis: ReturnType<typeof createGenesis>;
let chainId: Uint8Array;

function startProc(n: NodeProc): void {
  const out = openSync(n.log, 'a');
  n.proc = spawn(process.execPath, [cli, 'start', '--data-dir', n.dataDir], {
    env: { ...env, POS_LOG_LEVEL: 'info' },
    stdio: ['ignore', out, out],
  });
}

async function rpc(n: NodeProc, method: string, params?: unknown): Promise<Json> {
  const res = await fetch(`${n.rpc}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      ...(params === undefined ? {} : { params }),
    }),
  });
  const body = (await res.json()) as {
    result?: unknown;
    error?: { code: number; message: string };
  };
  if (body.error) throw Object.assign(new Error(body.error.message), { rpc: body.error });
  return body.result;
}

const signer = { sign: signEd25519, publicKey: ed25519PublicKey };

function transfer(
  from: number,
  inputs: Outpoint[],
  amountIn: bigint,
  to: Uint8Array,
  amount: bigint,
  memo = '',
) {
  const fee = 1n;
  const outputs = [{ amount, owner: to, host: keys[3]!.validatorId }];
  const change = amountIn - amount - fee;
  if (change > 0n)
    outputs.push({ amount: change, owner: walletPub[from]!, host: keys[3]!.validatorId });
  const tx = signTx(
    { chainId, inputs, outputs, fee, memo: new TextEncoder().encode(memo) },
    [wallets[from]!],
    signer,
  );
  return toHex(encodeTx(tx));
}

test.before(
  loud(async () => {
    for (let i = 0; i < 4; i++) {
      const [rpcPort, p2pPort] = (await freePorts(2)) as [number, number];
      nodes.push({
        rpc: `http://127.0.0.1:${rpcPort}`,
        rpcPort,
        p2pPort,
        dataDir: join(dir, `v${i}`),
        proc: null,
        log: join(dir, `v${i}.log`),
      });
    }
    genesis = createGenesis({
      chainName: 'cluster-test',
      genesisTime: 1_790_000_000_000,
      params: { minFee: 1n },
      validators: keys.map((k, i) => ({
        pubkey: k.publicKey,
        name: `v${i}`,
        p2p: `127.0.0.1:${nodes[i]!.p2pPort}`,
      })),
      outputs: [
        ...keys.map((k, i) => ({ amount: STAKES[i]!, owner: k.publicKey, host: k.validatorId })),
        ...walletPub.map((owner) => ({ amount: FUND, owner, host: keys[3]!.validatorId })),
      ],
    });
    chainId = chainIdOf(genesis);
    const gFile = join(dir, 'genesis.json');
    writeFileSync(gFile, JSON.stringify(genesisToJSON(genesis)));
    for (let i = 0; i < 4; i++) {
      const n = nodes[i]!;
      mkdirSync(n.dataDir, { recursive: true });
      await writeKeyFile(join(n.dataDir, 'validator.key'), keys[i]!);
      const r = spawnSync(
        process.execPath,
        [
          cli,
          'init',
          '--data-dir',
          n.dataDir,
          '--genesis',
          gFile,
          '--rpc-port',
          String(n.rpcPort),
          '--p2p-port',
          String(n.p2pPort),
          '--p2p-host',
          '127.0.0.1',
        ],
        { env, encoding: 'utf8' },
      );
      assert.is(r.status, 0, r.stderr);
    }
    for (const n of nodes) startProc(n);
    await Promise.all(
      nodes.map((n) =>
        until('ready', async () =>
          (await fetch(`${n.rpc}/ready`)).status === 200 ? true : undefined,
        ),
      ),
    );
  }),
);

test.after(async () => {
  for (const n of nodes) n.proc?.kill('SIGKILL');
  await sleep(200);
  if (process.env.KEEP_CLUSTER_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`cluster dir kept: ${dir}`);
});

/** Waits until every listed node has the tx with a final status; returns those answers. */
async function settled(txHash: string, on: NodeProc[] = nodes) {
  return Promise.all(
    on.map((n) =>
      until(`tx ${txHash} on ${n.rpc}`, async () => {
        const r = await rpc(n, 'pos_getTransaction', [txHash]);
        return r.status === 'committed' || r.status === 'rejected' ? r : undefined;
      }),
    ),
  );
}

/** Every node that is listed holds the same block at every height up to `h`. */
async function sameChain(on: NodeProc[], upTo: number) {
  const ref = on[0]!;
  for (let h = 0; h <= upTo; h++) {
    const blocks = await Promise.all(
      on.map((n) => rpc(n, 'pos_getBlock', [h]).catch((e) => ({ missing: e.rpc?.code }))),
    );
    const key = (b: Json) =>
      JSON.stringify(b.missing ?? [b.blockHash, b.header.stateRoot, b.txHashes]);
    for (let i = 1; i < blocks.length; i++) {
      assert.is(key(blocks[i]), key(blocks[0]), `height ${h}: ${on[i]!.rpc} vs ${ref.rpc}`);
    }
  }
}

test('transfers over JSON-RPC commit with the same receipts, blocks and roots on every node', async () => {
  const txs: string[] = [];
  for (let w = 0; w < 3; w++) {
    const tx = transfer(
      w,
      [genesisOutpoint(chainId, 4 + w)],
      FUND,
      walletPub[(w + 1) % 4]!,
      10n,
      `t${w}`,
    );
    const r = await rpc(nodes[w]!, 'pos_sendTransaction', [tx]);
    // Idempotent by hash: sending it again answers the same hash.
    const again = await rpc(nodes[w]!, 'pos_sendTransaction', { tx });
    assert.is(again.txHash, r.txHash);
    assert.is(again.added, false);
    txs.push(r.txHash);
  }
  for (const txHash of txs) {
    const answers = await settled(txHash);
    for (const a of answers) {
      assert.is(a.status, 'committed');
      assert.equal(a.receipt, answers[0].receipt, 'one receipt on every node');
      assert.is(a.height, answers[0].height);
    }
  }
  const height = Math.min(
    ...(await Promise.all(nodes.map(async (n) => (await rpc(n, 'pos_status')).height))),
  );
  await sameChain(nodes, height);
  // Node 0 took one transfer: its latency split by stage, each stage once.
  const text = await (await fetch(`${nodes[0]!.rpc}/metrics`)).text();
  for (const stage of ['in_event', 'decided', 'applied']) {
    assert.match(
      text,
      new RegExp(`^pos_tx_stage_seconds_count\\{stage="${stage}"\\} 1$`, 'm'),
      stage,
    );
  }
  assert.match(text, /^pos_tx_signatures_checked_total\{stage="submit"\} 1$/m);
  // Node 3 took none: it checked the three transfers' signatures when their
  // events landed, and applying the blocks found them all cached (the check
  // runs in the next turn; the blocks need rounds of further gossip).
  const v3 = await (await fetch(`${nodes[3]!.rpc}/metrics`)).text();
  assert.match(v3, /^pos_tx_signatures_checked_total\{stage="ingest"\} 3$/m);
  assert.not.match(v3, /^pos_tx_signatures_checked_total\{stage="(block|submit)"\}/m);
});

test('a block certificate verifies against the genesis set (> 2/3 of the stake signed)', async () => {
  const set = makeValidatorSet(
    keys.map((k, i) => ({
      publicKey: k.publicKey,
      stake: STAKES[i]! + (i === 3 ? 4n * FUND : 0n),
    })),
  );
  const h = await until('a certified block', async () => {
    const st = await rpc(nodes[2]!, 'pos_status');
    return st.lastCertifiedHeight ?? undefined;
  });
  const c = await rpc(nodes[2]!, 'pos_getCertificate', [h]);
  const header = blockHeaderFromJSON(c.header);
  const cert = certificateFromJSON(c.certificate);
  assert.equal(toHex(blockHashOf(header)), toHex(cert.blockHash));
  const verdict = verifyCertificate(header, cert, set);
  assert.ok(
    verdict.ok,
    JSON.stringify(verdict, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  );
});

test('a double spend sent to two nodes: exactly one commits, the other is rejected, everywhere', async () => {
  const input = genesisOutpoint(chainId, 7); // wallet 3's funds
  const a = transfer(3, [input], FUND, walletPub[0]!, 5n, 'spend-a');
  const b = transfer(3, [input], FUND, walletPub[1]!, 6n, 'spend-b');
  const [ra, rb] = await Promise.all([
    rpc(nodes[0]!, 'pos_sendTransaction', [a]),
    rpc(nodes[3]!, 'pos_sendTransaction', [b]),
  ]);
  const [sa, sb] = await Promise.all([settled(ra.txHash), settled(rb.txHash)]);
  const statuses = [sa[0].status, sb[0].status].sort();
  assert.equal(statuses, ['committed', 'rejected']);
  const rejected = sa[0].status === 'rejected' ? sa : sb;
  assert.is(rejected[0].receipt.reason, 'INPUT_SPENT');
  for (const s of [sa, sb]) for (const x of s) assert.equal(x.receipt, s[0].receipt);
  // A third attempt at the same node is refused at the door: -32003 with the reason.
  try {
    await rpc(nodes[1]!, 'pos_sendTransaction', [
      transfer(3, [input], FUND, walletPub[2]!, 7n, 'spend-c'),
    ]);
    assert.unreachable('a spent input must be refused');
  } catch (e) {
    const err = (e as { rpc?: { code: number; data?: { reason?: string } } }).rpc;
    assert.is(err?.code, -32003);
    assert.is(err?.data?.reason, 'INPUT_SPENT');
  }
});

test('malformed JSON-RPC gets the right codes and the node keeps serving', async () => {
  const n = nodes[1]!;
  const post = (body: string, type = 'application/json') =>
    fetch(`${n.rpc}/rpc`, { method: 'POST', headers: { 'content-type': type }, body });
  const cases: [string, string, number, number | null][] = [
    ['bad JSON', '{"jsonrpc": "2.0", "method": ', 200, -32700],
    ['not a request', '{"foo": 1}', 200, -32600],
    ['unknown method', '{"jsonrpc":"2.0","id":1,"method":"pos_nope"}', 200, -32601],
    [
      'wrong param type',
      '{"jsonrpc":"2.0","id":1,"method":"pos_getBlock","params":[-1]}',
      200,
      -32602,
    ],
    [
      'bad hex',
      '{"jsonrpc":"2.0","id":1,"method":"pos_getTransaction","params":["0x12"]}',
      200,
      -32602,
    ],
    [
      'bad tx bytes',
      '{"jsonrpc":"2.0","id":1,"method":"pos_sendTransaction","params":["0x0102"]}',
      200,
      -32003,
    ],
    [
      'unknown block',
      '{"jsonrpc":"2.0","id":1,"method":"pos_getBlock","params":[999999999]}',
      200,
      -32001,
    ],
    ['oversized body', `{"x":"${'a'.repeat(2 << 20)}"}`, 413, -32005],
    [
      'huge batch',
      JSON.stringify(
        Array.from({ length: 1000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'pos_status' })),
      ),
      200,
      -32005,
    ],
  ];
  for (const [what, body, status, code] of cases) {
    const res = await post(body);
    assert.is(res.status, status, what);
    const j = (await res.json()) as { error?: { code: number } } | { error?: { code: number } }[];
    const err = Array.isArray(j) ? j[0]?.error : j.error;
    assert.is(err?.code, code, what);
  }
  // A notification is never answered; a batch answers in order.
  assert.is((await post('{"jsonrpc":"2.0","method":"pos_status"}')).status, 204);
  const batch = (await (
    await post(
      '[{"jsonrpc":"2.0","id":"a","method":"pos_status"},{"jsonrpc":"2.0","id":"b","method":"nope"}]',
    )
  ).json()) as { id: string }[];
  assert.equal(
    batch.map((r) => r.id),
    ['a', 'b'],
  );
  assert.ok((await rpc(n, 'pos_status')).chainId, 'still serving');
});

test('killing a validator below 1/3 of the stake: the rest keep committing; on restart it catches up', async () => {
  const victim = nodes[1]!; // 30% of the stake
  const before = (await rpc(victim, 'pos_status')).height as number;
  victim.proc!.kill('SIGKILL');
  await new Promise((r) => victim.proc!.once('exit', r));
  const live = nodes.filter((n) => n !== victim);
  // Transactions keep committing and blocks keep being certified without it.
  const own = await ownOutput(live[0]!, 0);
  const tx = transfer(0, [own.outpoint], own.amount, walletPub[2]!, 3n, 'while-down');
  const { txHash } = await rpc(live[0]!, 'pos_sendTransaction', [tx]);
  const done = await settled(txHash, live);
  for (const d of done) assert.is(d.status, 'committed');
  const certified = await until('a certificate without the victim', async () => {
    const st = await rpc(live[0]!, 'pos_status');
    return st.lastCertifiedHeight > done[0].height ? st.lastCertifiedHeight : undefined;
  });
  assert.ok(certified > before);

  startProc(victim);
  const target = (await rpc(live[0]!, 'pos_status')).height as number;
  await until('the restarted node catches up', async () => {
    const st = await rpc(victim, 'pos_status');
    return st.height !== null && st.height >= target ? true : undefined;
  });
  const restarted = await rpc(victim, 'pos_getTransaction', [txHash]);
  assert.equal(restarted.receipt, done[0].receipt);
  await sameChain(nodes, target);
});

/** Wallet `w`'s largest output on that node's latest state. */
async function ownOutput(n: NodeProc, w: number): Promise<{ outpoint: Outpoint; amount: bigint }> {
  const r = await rpc(n, 'pos_getOutputs', [toHex(walletPub[w]!)]);
  assert.ok(r.outputs.length > 0, 'wallet has outputs');
  const o = [...r.outputs].sort((a: Json, b: Json) =>
    Number(BigInt(b.amount) - BigInt(a.amount)),
  )[0];
  return {
    outpoint: { txHash: fromHex(o.outpoint.txHash, 32), index: o.outpoint.index },
    amount: BigInt(o.amount),
  };
}

test('SIGTERM stops a node gracefully (exit 0)', async () => {
  const n = nodes[3]!;
  const code = await new Promise<number | null>((resolve) => {
    n.proc!.once('exit', (c) => resolve(c));
    n.proc!.kill('SIGTERM');
  });
  assert.is(code, 0);
  n.proc = null;
});

test.run();
