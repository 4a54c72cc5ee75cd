// Crashes (issue 7): validators of a real 4-node testnet under load are
// SIGKILLed, at chosen write steps (failpoints, packages/node/src/failpoints.ts)
// and at seeded random moments, and restarted. Each comes back with the same
// blocks (hashes and state roots) as the others, catches up, never signs two
// events on one self-parent (no node holds fork evidence), every transfer a
// node accepted ends in a block, and finality goes on.
//
// Seed: CRASH_SEED (printed; rerun with it). POS_LONG=1 runs more kills.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32 } from '../src/faults.js';
import { type LoadHandle, startDemoLoad } from '../src/load.js';
import { startTestnet, type Testnet } from '../src/network.js';
import { rpcCall } from '../src/rpc.js';

const LONG = process.env.POS_LONG === '1';
/** Runs only the amnesia test at the end of this file. */
const AMNESIA = process.env.POS_CRASH_AMNESIA === '1';
const SEED =
  process.env.CRASH_SEED === undefined
    ? Math.floor(Math.random() * 2 ** 32)
    : Number(process.env.CRASH_SEED);
if (!Number.isSafeInteger(SEED)) throw new Error(`CRASH_SEED must be an integer: ${SEED}`);
process.stdout.write(`crash.test: CRASH_SEED=${SEED}${LONG ? ' POS_LONG=1' : ''}\n`);

const rand = mulberry32(SEED);
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

// Stakes 40/30/20/10: any one of v1..v3 down leaves more than 2/3 up. v0
// stays up (it carries the load generator's block subscription).
const KILLABLE = ['v1', 'v2', 'v3'];
// Each costs two restarts, and a restart replays every stored event (PROTOCOL
// 9.3). The three block-commit steps, the two sides of the state flush (the
// restart re-executes the blocks since the last one) and the two own-event
// steps (where a double-sign would come from) are what matter most; the
// short run (CI's budget) arms three of those seven, chosen by the seed, so
// that runs with different seeds cover all seven. POS_LONG arms all of them
// plus the certificate and event-store writes.
const KEY_FAILPOINTS = [
  'chain.commit.afterLog',
  'chain.commit.afterTrie',
  'chain.commit.afterRecord',
  'chain.flush.before',
  'chain.flush.after',
  'node.ownEvent.signed',
  'node.ownEvent.stored',
];
const COMMIT_FAILPOINTS = LONG
  ? [...KEY_FAILPOINTS, 'node.cert.beforeStore', 'eventStore.write']
  : [0, 1, 2].map((k) => KEY_FAILPOINTS[(SEED + k) % KEY_FAILPOINTS.length]!);
const RANDOM_KILLS = LONG ? 12 : 2;

const dir = mkdtempSync(join(tmpdir(), 'pos-crash-'));
let net: Testnet;
let load: LoadHandle | null = null;
const accepted: { txHash: string; tx: string; node: number; sentAtMs: number }[] = [];
const kills: { name: string; atMs: number }[] = [];
const measured: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`  ${line}\n`);
const urlOf = (name: string) => net.layout.nodes.find((n) => n.name === name)!.rpcUrl;

async function result<T>(name: string, method: string, params: unknown[] = []): Promise<T> {
  const r = await rpcCall(urlOf(name), method, params);
  if (r.error !== undefined) throw new Error(`${name} ${method}: ${r.error.message}`);
  return r.result as T;
}

interface Status {
  height: number | null;
  lastCertifiedHeight: number | null;
}
const status = (name: string) => result<Status>(name, 'pos_status');

/** Polls `check` until it returns true; fails with `what` after `ms`. */
async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // a node that is starting does not answer yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(200);
  }
}

/** SIGKILLs `name` and records when (a transfer it took after that may be lost). */
async function crash(name: string): Promise<void> {
  kills.push({ name, atMs: Date.now() });
  await net.kill(name, 'SIGKILL');
}

/**
 * Starts `name` again, clean, and waits until its height reaches what v0
 * had when it came back. Returns the restart and catch-up times.
 */
async function restartAndCatchUp(name: string): Promise<{ upMs: number; catchUpMs: number }> {
  const t0 = Date.now();
  await net.restart(name);
  const upMs = Date.now() - t0;
  const target = (await status('v0')).height ?? 0;
  await waitFor(`${name} catches up to height ${target}`, 60_000, async () => {
    return ((await status(name)).height ?? -1) >= target;
  });
  return { upMs, catchUpMs: Date.now() - t0 - upMs };
}

/** Heights 0..h of one node: blockHash and stateRoot, or null where no block. */
async function blocksOf(
  name: string,
  upTo: number,
): Promise<({ hash: string; stateRoot: string } | null)[]> {
  const out: ({ hash: string; stateRoot: string } | null)[] = [];
  for (let h = 0; h <= upTo; h++) {
    const r = await rpcCall(urlOf(name), 'pos_getBlock', [h]);
    if (r.error !== undefined) {
      out.push(null);
      continue;
    }
    const b = r.result as { blockHash: string; header: { stateRoot: string } };
    out.push({ hash: b.blockHash, stateRoot: b.header.stateRoot });
  }
  return out;
}

/** Every node has the same block (hash and state root) at every height up to the lowest head. */
async function assertSameChain(): Promise<number> {
  const names = net.layout.nodes.map((n) => n.name);
  const heights = await Promise.all(names.map(async (n) => (await status(n)).height ?? -1));
  const upTo = Math.min(...heights);
  assert.ok(upTo > 0, `no blocks yet (${heights})`);
  const chains = await Promise.all(names.map((n) => blocksOf(n, upTo)));
  let blocks = 0;
  for (let h = 0; h <= upTo; h++) {
    const ref = chains[0]![h];
    if (ref !== null) blocks++;
    for (let i = 1; i < names.length; i++) {
      assert.equal(chains[i]![h], ref, `${names[i]} differs from v0 at height ${h}`);
    }
  }
  assert.ok(blocks > 0, 'the compared range holds no block');
  return upTo;
}

/** No node holds fork evidence nor a double block signature. */
async function assertNoEquivocation(): Promise<void> {
  for (const n of net.layout.nodes) {
    const e = await result<{ events: unknown[]; blockSignatures: unknown[] }>(
      n.name,
      'pos_getEquivocations',
    );
    assert.equal(e.events, [], `${n.name} saw a validator sign two events on one self-parent`);
    assert.equal(e.blockSignatures, [], `${n.name} saw a double block signature`);
  }
}

test.before(
  loud(async () => {
    net = await startTestnet({ dir, reset: true, basePort: 0, loadOutputs: 1000 });
    load = await startDemoLoad(net.layout, {
      ratePerSec: LONG ? 15 : 8,
      onAccepted: (a) => accepted.push(a),
    });
    await waitFor('a first block', 60_000, async () => ((await status('v0')).height ?? -1) > 0);
  }),
);

test.after(async () => {
  await load?.stop().catch(() => {});
  await net?.stop();
  if (measured.length > 0) say(`measured:\n    ${measured.join('\n    ')}`);
  rmSync(dir, { recursive: true, force: true });
});

const crashTest = AMNESIA ? test.skip : test;

crashTest(
  'a SIGKILL inside each write step: the node restarts, agrees and catches up',
  async () => {
    for (const [i, fp] of COMMIT_FAILPOINTS.entries()) {
      const name = KILLABLE[i % KILLABLE.length]!;
      const hit = between(1, 4);
      await crash(name);
      // Restarted with the failpoint armed: it dies there (during replay or
      // after; restart() rejects when it dies before its RPC answers).
      await net.restart(name, { POS_FAILPOINT: `${fp}:${hit}` }).catch(() => {});
      const p = net.process(name)!;
      await waitFor(`${name} dies at ${fp}:${hit}`, 60_000, async () => p.signalCode !== null);
      kills.push({ name, atMs: Date.now() });
      assert.is(p.signalCode, 'SIGKILL', `${name} was not SIGKILLed by ${fp}`);
      const log = readFileSync(join(dir, name, 'posd.log'), 'utf8');
      assert.ok(log.includes(`posd: failpoint ${fp} hit ${hit}: SIGKILL`), `${fp} did not fire`);
      const t = await restartAndCatchUp(name);
      measured.push(`${fp}:${hit} on ${name}: up ${t.upMs} ms, caught up ${t.catchUpMs} ms later`);
      say(measured.at(-1)!);
    }
    const h = await assertSameChain();
    await assertNoEquivocation();
    say(`failpoints: all ${net.layout.nodes.length} nodes agree on heights 0..${h}`);
  },
);

crashTest(
  'SIGKILLs at seeded random moments: agreement, no double-sign, every transfer lands',
  async () => {
    const certifiedBefore = (await status('v0')).lastCertifiedHeight ?? -1;
    for (let k = 0; k < RANDOM_KILLS; k++) {
      const name = KILLABLE[between(0, KILLABLE.length - 1)]!;
      const runMs = between(300, 3_000);
      const downMs = between(200, 3_000);
      await sleep(runMs);
      await crash(name);
      await sleep(downMs);
      const t = await restartAndCatchUp(name);
      measured.push(
        `random kill ${k + 1}: ${name} after ${runMs} ms, down ${downMs} ms: up ${t.upMs} ms, caught up ${t.catchUpMs} ms later`,
      );
      say(measured.at(-1)!);
    }
    const report = await load!.stop();
    load = null;
    say(`load: ${JSON.stringify(report)}`);
    // Transfers a node accepted and then lost in a crash (its mempool is not
    // persisted) are resent, as a wallet does (docs/PROTOCOL.md 11); any other must
    // have reached a block by itself.
    const atRisk = (a: (typeof accepted)[number]) =>
      kills.some((k) => k.name === `v${a.node}` && k.atMs >= a.sentAtMs);
    const statusOf = async (txHash: string) =>
      (await result<{ status: string }>('v0', 'pos_getTransaction', [txHash])).status;
    let resent = 0;
    await waitFor('every accepted transfer is in a block', 60_000, async () => {
      let missing = 0;
      for (const a of accepted) {
        const s = await statusOf(a.txHash);
        if (s === 'committed' || s === 'rejected') continue;
        missing++;
        if (s === 'unknown' && atRisk(a)) {
          await rpcCall(urlOf('v0'), 'pos_sendTransaction', [a.tx]);
          resent++;
        }
      }
      return missing === 0;
    }).catch(async (e) => {
      const lost = [];
      for (const a of accepted) {
        const s = await statusOf(a.txHash);
        if (s !== 'committed' && s !== 'rejected') lost.push(`${a.txHash} via v${a.node}: ${s}`);
      }
      throw new Error(
        `${(e as Error).message}; ${lost.length} not in a block:\n${lost.join('\n')}`,
      );
    });
    say(`${accepted.length} accepted transfers all in blocks (${resent} resends of lost ones)`);
    // Finality went on: every node holds certificates past the crashes.
    const head = (await status('v0')).height ?? 0;
    await waitFor(`every node certifies height ${head}`, 60_000, async () => {
      for (const n of net.layout.nodes) {
        if (((await status(n.name)).lastCertifiedHeight ?? -1) < head) return false;
      }
      return true;
    });
    assert.ok(head > certifiedBefore, 'no block after the crashes');
    const h = await assertSameChain();
    await assertNoEquivocation();
    say(`random kills: all nodes agree on heights 0..${h}, certified to ${head}`);
  },
);

// Amnesia (issue 7): a validator whose LevelDB lost the tail of its
// write-ahead log (a damaged disk, not a crash: addOwn's writes are synced)
// restarts from the older state without complaint. Before the fix it signed
// another event on its old self-parent within seconds (seen under load at
// height 60: every node reported v3's fork at seq 228). It now signs only
// after pulling from a stake quorum and builds on the newest own event a
// peer holds (docs/PROTOCOL.md 9.3). POS_CRASH_AMNESIA=1 runs this test alone.
test('a validator that lost the tail of its database does not sign twice', async () => {
  await crash('v3');
  const db = join(dir, 'v3', 'db');
  const logs = readdirSync(db)
    .filter((f) => f.endsWith('.log'))
    .sort();
  const log = join(db, logs.at(-1)!);
  truncateSync(log, Math.floor(statSync(log).size * 0.9));
  await net.restart('v3');
  // The load has stopped: the chain moves at the idle pace (one event per
  // node per second), about a block every 3 s on a loaded CI machine, so
  // +8 blocks (v3 signing again among them) and a generous deadline.
  const target = ((await status('v0')).height ?? 0) + 8;
  await waitFor(`v3 reaches height ${target}`, 120_000, async () => {
    return ((await status('v3')).height ?? -1) >= target;
  });
  await assertNoEquivocation();
});

test.run();
