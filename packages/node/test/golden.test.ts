// The golden chain: a fixed-seed DAG (golden/generate.ts: keys, genesis,
// scripted transfers, a registration, a double spend, a malformed
// transaction, block signatures) served by a peer to a real posd (its own
// process, real HTTP on loopback, classic-level on disk) that holds no stake.
// What the node answers over JSON-RPC (block hashes, headers with their
// state, history and validator-set roots, receipts with inclusion proofs,
// completeness proofs of every owner's outputs, consistency proofs,
// validator tables with their proofs, the DAG's consensus facts) must equal
// golden/golden-chain.json, recorded before any refactor: a refactor or a
// storage change that alters a byte of any of them fails here.
//
// Certificates are the one timing-dependent answer: a node builds one as
// soon as the signatures it holds pass 2/3 of the stake, so which of the
// recorded signatures it carries depends on arrival order. The test checks
// that each one is of the recorded block and that its signatures are
// recorded ones holding more than 2/3 of the set's stake.
//
// POS_GOLDEN_WRITE=1 records the fixture anew (on purpose only).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryEventStore, registerSyncRoutes } from '@pos/gossip';
import { epochOfRound, genesisToJSON, toHex } from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { sha256 } from '@pos/test-utils/node-hash';
import { freePorts } from '@pos/test-utils/ports';
import Fastify, { type FastifyInstance } from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type GoldenDag, generateGoldenDag, LATE, OWNERS, VALIDATORS } from './golden/generate.js';

const FIXTURE = join(import.meta.dirname, 'golden', 'golden-chain.json');
const WRITE = process.env.POS_GOLDEN_WRITE === '1';
const STEPS = 480;

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'packages/node/dist/cli.js');
const env = { ...process.env };
delete env.FORCE_COLOR;
for (const k of Object.keys(env)) if (k.startsWith('POS_')) delete env[k];

interface Fixture {
  what: string;
  /** sha256 over every event's bytes in creation order: the input did not change. */
  dagDigest: string;
  events: number;
  height: number;
  lastCertifiedHeight: number;
  /** height → hex validatorId → hex signature (every genesis validator's signature over the block). */
  signatures: Record<string, Record<string, string>>;
  /** "method params" → the node's answer (`{error: {code, message}}` for an error). */
  answers: Record<string, unknown>;
}

let dag: GoldenDag;
let peer: FastifyInstance;
let child: ChildProcess | null = null;
let rpcUrl = '';
let output = '';
const dir = mkdtempSync(join(tmpdir(), 'posd-golden-'));

function dagDigest(d: GoldenDag): string {
  const parts = d.events.map((e) => e.bytes);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return toHex(sha256(all));
}

/** `{sha256}` of an answer's JSON: bulky answers are compared by digest. */
function digestOf(answer: unknown): { sha256: string } {
  return { sha256: toHex(sha256(new TextEncoder().encode(JSON.stringify(answer)))) };
}

let rpcId = 0;
async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
  });
  const body = (await res.json()) as {
    result?: unknown;
    error?: { code: number; message: string };
  };
  if (body.error !== undefined)
    return { error: { code: body.error.code, message: body.error.message } };
  return body.result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(
  loud(async () => {
    dag = await generateGoldenDag(STEPS);
    const [p2pPeer, rpcPort, p2pPort] = await freePorts(3);
    const store = createMemoryEventStore();
    for (const e of dag.events) store.add(e);
    peer = Fastify();
    registerSyncRoutes(peer, {
      chainId: dag.events[0]!.chainId,
      self: VALIDATORS[0]!.pk,
      store,
      isPeer: () => false,
      allowReadOnly: true,
      hash: sha256,
    });
    await peer.listen({ host: '127.0.0.1', port: p2pPeer! });
    const genesisFile = join(dir, 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(genesisToJSON(dag.genesis)));
    const data = join(dir, 'observer');
    const init = spawnSync(
      process.execPath,
      [bin, 'init', '--data-dir', data, '--genesis', genesisFile],
      { encoding: 'utf8', env },
    );
    if (init.status !== 0) throw new Error(`posd init failed: ${init.stderr}`);
    child = spawn(
      process.execPath,
      [
        bin,
        'start',
        '--data-dir',
        data,
        '--rpc-port',
        String(rpcPort),
        '--p2p-host',
        '127.0.0.1',
        '--p2p-port',
        String(p2pPort),
        '--peers',
        `127.0.0.1:${p2pPeer}`,
        '--log-level',
        'warn',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (b) => (output += b));
    child.stderr?.on('data', (b) => (output += b));
    rpcUrl = `http://127.0.0.1:${rpcPort}/rpc`;
  }),
);

test.after(async () => {
  if (child !== null && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await peer?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Status {
  height: number | null;
  lastCertifiedHeight: number | null;
}

/** Polls pos_status until `done` holds (or `ms` pass); returns the last status. */
async function waitStatus(done: (s: Status) => boolean, ms: number): Promise<Status> {
  const until = Date.now() + ms;
  let last: Status = { height: null, lastCertifiedHeight: null };
  while (Date.now() < until) {
    try {
      last = (await rpc('pos_status')) as Status;
      if (done(last)) return last;
    } catch {
      // not listening yet
    }
    if (child?.exitCode !== null) throw new Error(`posd exited ${child?.exitCode}: ${output}`);
    await sleep(200);
  }
  return last;
}

/** Every answer the golden chain records, in a fixed order. */
async function collect(height: number): Promise<Record<string, unknown>> {
  const a: Record<string, unknown> = {};
  /** Records the answer whole, or (`full` false, for the bulky ones) the digest of its JSON. */
  const ask = async (method: string, params: unknown[] = [], full = true) => {
    const answer = await rpc(method, params);
    a[`${method} ${JSON.stringify(params)}`] = full ? answer : digestOf(answer);
  };
  const status = (await rpc('pos_status')) as Record<string, unknown>;
  // `storage` is this machine's disk and flush timing, not the chain's.
  const { nodeId, publicKey, peers, peersKnown, syncing, mempool, events, storage, ...stable } =
    status;
  a['pos_status []'] = { ...stable, storedEvents: (events as { stored: number }).stored };
  for (let h = 0; h <= height + 1; h++) await ask('pos_getBlock', [h]);
  await ask('pos_getBlock', ['latest']);
  for (const [i, t] of dag.txHashes.entries()) await ask('pos_getTransaction', [toHex(t)], i < 3);
  // Against older headers too: what a wallet checks under a certified one.
  for (const t of dag.txHashes.slice(0, 10)) {
    await ask('pos_getTransaction', [toHex(t), height - 2], false);
  }
  const keys = [...OWNERS, LATE, ...VALIDATORS];
  for (const [i, k] of keys.entries()) await ask('pos_getOutputs', [toHex(k.pk)], i === 4);
  for (const h of [0, Math.floor(height / 2), height - 1]) {
    for (const k of OWNERS) await ask('pos_getOutputs', [toHex(k.pk), h], false);
  }
  const latest = a['pos_getBlock ["latest"]'] as { header: { historySize: number } };
  const size = latest.header.historySize;
  for (const [from, to] of [
    [1, size],
    [1, 1],
    [Math.floor(size / 3), size - 1],
    [size, size],
  ]) {
    await ask('pos_getConsistencyProof', [from, to]);
  }
  for (let k = 0; k <= 8; k++) await ask('pos_getValidators', [k]);
  await ask('pos_getValidators');
  const maxRound = status.round as number;
  for (let r = 0; r <= maxRound; r += 16) {
    await ask('pos_getDag', [r, Math.min(r + 15, maxRound)], false);
  }
  for (const [i, e] of dag.events.entries()) {
    if (i % 37 === 0) await ask('pos_getEvent', [toHex(e.hash)], i === 37);
  }
  await ask('pos_getEquivocations');
  return a;
}

interface CertAnswer {
  height: number;
  certificate: {
    height: number;
    blockHash: string;
    signatures: { validatorId: string; signature: string }[];
  };
  header: { validatorSetHash: string } | null;
}

test('the golden DAG is the recorded one (the input did not change)', () => {
  if (WRITE) return;
  const f = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  assert.is(dag.events.length, f.events);
  assert.is(dagDigest(dag), f.dagDigest);
});

test('a posd fed the golden DAG answers exactly what was recorded', async () => {
  if (WRITE) {
    await waitStatus((x) => x.height !== null && x.height >= 20, 60_000);
    // Let it take every event and store every certificate it can.
    let last: number | null = -2;
    let lastH: number | null = -2;
    for (let i = 0; i < 20; i++) {
      await sleep(3000);
      const now = (await rpc('pos_status')) as Status;
      if (now.lastCertifiedHeight === last && now.height === lastH) break;
      last = now.lastCertifiedHeight;
      lastH = now.height;
    }
    if (lastH === null || last === null)
      throw new Error('the observer decided or certified nothing');
    const height = lastH;
    const signatures: Fixture['signatures'] = {};
    for (const [h, sigs] of dag.signatures) {
      signatures[h] = Object.fromEntries(
        sigs.map((x) => [toHex(x.validatorId), toHex(x.signature)]),
      );
    }
    const answers = await collect(height);
    const fixture: Fixture = {
      what: 'golden chain: a posd fed the fixed-seed DAG of test/golden/generate.ts (see golden.test.ts)',
      dagDigest: dagDigest(dag),
      events: dag.events.length,
      height,
      lastCertifiedHeight: last,
      signatures,
      answers,
    };
    writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 1)}\n`);
    console.log(
      `golden chain recorded: height ${height}, certified ${last}, ${Object.keys(answers).length} answers`,
    );
    return;
  }
  assert.ok(existsSync(FIXTURE), 'golden-chain.json is missing');
  const f = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  const s = await waitStatus(
    (x) => x.height === f.height && x.lastCertifiedHeight === f.lastCertifiedHeight,
    90_000,
  );
  assert.is(s.height, f.height, 'the height the DAG decides');
  assert.is(s.lastCertifiedHeight, f.lastCertifiedHeight, 'the last certified height');
  // Certificates land a moment after their block: ask again while any lags.
  let answers: Record<string, unknown> = {};
  for (let attempt = 0; attempt < 20; attempt++) {
    answers = await collect(f.height);
    if (JSON.stringify(answers) === JSON.stringify(f.answers)) break;
    await sleep(500);
  }
  for (const key of Object.keys(f.answers)) {
    assert.equal(answers[key], f.answers[key], key);
  }
  assert.equal(Object.keys(answers), Object.keys(f.answers));
});

test('every certificate is of the recorded block, signed by recorded signatures over 2/3 of the stake', async () => {
  if (WRITE) return;
  const f = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  let certified = 0;
  for (let h = 0; h <= f.height; h++) {
    const block = f.answers[`pos_getBlock [${h}]`] as { blockHash?: string; certified?: boolean };
    const c = (await rpc('pos_getCertificate', [h])) as CertAnswer | { error: { code: number } };
    if ('error' in c) {
      assert.not.ok(block.certified, `height ${h}: recorded as certified, no certificate now`);
      continue;
    }
    certified++;
    assert.is(c.certificate.height, h);
    assert.is(c.certificate.blockHash, block.blockHash, `height ${h}: the recorded block`);
    const recorded = f.signatures[h] ?? {};
    const epoch = epochOfRound(h, dag.genesis.params);
    const set = f.answers[`pos_getValidators [${epoch}]`] as {
      totalStake: string;
      validators: { validatorId: string; stake: string }[];
    };
    const stakeOf = new Map(set.validators.map((v) => [v.validatorId, BigInt(v.stake)]));
    let signed = 0n;
    for (const sig of c.certificate.signatures) {
      assert.is(recorded[sig.validatorId], sig.signature, `height ${h}: a recorded signature`);
      signed += stakeOf.get(sig.validatorId) ?? 0n;
    }
    assert.ok(3n * signed > 2n * BigInt(set.totalStake), `height ${h}: more than 2/3 of the stake`);
  }
  assert.ok(certified > 0);
});

test.run();
