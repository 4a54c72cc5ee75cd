// Network faults injected by the project itself (issue 7): a 4-validator
// testnet (stakes 40/30/20/10) whose P2P traffic goes through fault proxies
// (src/faults.ts), under a steady load of transfers. One network lives
// through every scenario in turn, each ending healed and in agreement:
//
//   a. every link delayed with jitter, lossy, duplicating and reordering;
//   b. partition 2|2, {v0,v3} 50% | {v1,v2} 50%: finality pauses, then resumes;
//   c. partition 3|1, {v0,v1,v2} 90% | {v3}: the majority keeps finalizing,
//      the minority does not, and catches up after the heal;
//   d. asymmetric links: nobody can pull from v3 (v3 pulls from all), then
//      v3 can pull from nobody (all pull from v3).
//
// At the end: every transfer a node accepted is in a block (committed or
// rejected with a receipt) at the same height on every node; every node
// holds the same block at every height they share; every certificate
// verifies against the genesis set and names that block.
//
// FAULT_SEED=<u32> replays a run's fault dice (printed at the start);
// POS_LONG=1 holds the faults longer and adds the heavier variants.
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@pos/merkle';
import { verifyEd25519Sync } from '@pos/node';
import {
  blockHeaderFromJSON,
  certificateFromJSON,
  makeValidatorSet,
  type ValidatorSet,
  verifyCertificate,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFaultNet, type FaultNet, type LinkStats, seededRandom } from '../src/faults.js';
import { type LoadHandle, type LoadReport, startDemoLoad } from '../src/load.js';
import { startTestnet, type Testnet } from '../src/network.js';
import { rpcCall } from '../src/rpc.js';

const SEED =
  process.env.FAULT_SEED !== undefined && process.env.FAULT_SEED !== ''
    ? Number(process.env.FAULT_SEED) >>> 0
    : randomInt(2 ** 32 - 1);
const LONG = process.env.POS_LONG === '1';
/**
 * How long each fault is held at least (a partition: once the stall has
 * settled). The long variant holds past posd's peerFreshMs (30 s), after
 * which a cut-off node stops its heartbeat and counts no fresh peer.
 */
const HOLD_MS = LONG ? 35_000 : 6_000;
/** The chaos of scenario a is held this long at least. */
const CHAOS_MS = LONG ? 60_000 : 12_000;
/** How many certified heights the live side must add under a fault. */
const PROGRESS = LONG ? 30 : 8;
/** Deadlines: generous, the machine is shared and slow. */
const DEADLINE_MS = 90_000;

const t00 = Date.now();
const say = (line: string) =>
  process.stdout.write(`  [faults +${((Date.now() - t00) / 1000).toFixed(1)}s] ${line}\n`);
say(`FAULT_SEED=${SEED}${LONG ? ' POS_LONG=1' : ''} (set FAULT_SEED to replay the fault dice)`);

const dir = mkdtempSync(join(tmpdir(), 'pos-faults-'));
let net: Testnet | undefined;
let faults: FaultNet | undefined;
let load: LoadHandle | undefined;
let loadReport: LoadReport | undefined;
let genesisSet: ValidatorSet;
/** Transfers a node accepted: hash → index of that node. */
const accepted = new Map<string, number>();
/** Heights below which every node was already found to agree. */
let agreedBelow = 0;
const names = ['v0', 'v1', 'v2', 'v3'];

interface Status {
  height: number;
  certified: number;
  decidedRound: number;
}

const nodeUrl = (name: string) => net!.layout.nodes.find((n) => n.name === name)!.rpcUrl;

async function result<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const r = await rpcCall(url, method, params);
  if (r.error !== undefined) throw new Error(`${method}: ${r.error.message}`);
  return r.result as T;
}

async function statusOf(name: string): Promise<Status> {
  const s = await result<{
    height: number | null;
    lastCertifiedHeight: number | null;
    decidedRound: number;
  }>(nodeUrl(name), 'pos_status');
  return {
    height: s.height ?? -1,
    certified: s.lastCertifiedHeight ?? -1,
    decidedRound: s.decidedRound,
  };
}

async function statuses(which = names): Promise<Record<string, Status>> {
  const all = await Promise.all(which.map(statusOf));
  return Object.fromEntries(which.map((n, i) => [n, all[i]!]));
}

const fmt = (st: Record<string, Status>) =>
  Object.entries(st)
    .map(([n, s]) => `${n} h${s.height}/c${s.certified}`)
    .join(' ');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; throws `what` with the last statuses at the deadline. */
async function waitFor(
  what: string,
  cond: (st: Record<string, Status>) => boolean,
  o: { deadlineMs?: number; minMs?: number } = {},
): Promise<Record<string, Status>> {
  const deadlineMs = (o.minMs ?? 0) + (o.deadlineMs ?? DEADLINE_MS);
  const from = Date.now();
  const until = from + deadlineMs;
  for (;;) {
    const st = await statuses();
    // The condition is checked on every poll (it may assert), and only
    // counts once the fault has been held for `minMs`.
    if (cond(st) && Date.now() - from >= (o.minMs ?? 0)) return st;
    if (Date.now() > until) throw new Error(`${what}: not within ${deadlineMs} ms (${fmt(st)})`);
    await sleep(250);
  }
}

/**
 * Waits until no node's height, certified height or decided round has moved
 * for `quietMs` (the blocks in flight at a cut are applied and certified),
 * and returns that state.
 */
async function settle(which: string[], quietMs = 3_000): Promise<Record<string, Status>> {
  const until = Date.now() + DEADLINE_MS;
  let last = JSON.stringify(await statuses(which));
  let since = Date.now();
  for (;;) {
    await sleep(250);
    const st = await statuses(which);
    const now = JSON.stringify(st);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return st;
    }
    if (Date.now() > until) throw new Error(`${which} never settled (${fmt(st)})`);
  }
}

const minOf = (st: Record<string, Status>, which: string[], k: keyof Status) =>
  Math.min(...which.map((n) => st[n]![k]));
const maxOf = (st: Record<string, Status>, which: string[], k: keyof Status) =>
  Math.max(...which.map((n) => st[n]![k]));

type BlockJson = { blockHash: string; header: unknown; certified: boolean };

/**
 * Agreement: every node holds the same block, or none, at every height from
 * `agreedBelow` up to the lowest node's height; every certificate a node
 * holds there verifies against the genesis set and names that block.
 * Returns the numbers checked.
 */
async function checkAgreement(label: string): Promise<{ heights: number; certs: number }> {
  const st = await statuses();
  const top = minOf(st, names, 'height');
  let heights = 0;
  let certs = 0;
  const one = async (h: number) => {
    const blocks = await Promise.all(
      names.map(async (n) => {
        const r = await rpcCall(nodeUrl(n), 'pos_getBlock', [h]);
        return r.result === undefined ? null : (r.result as BlockJson);
      }),
    );
    const hashes = blocks.map((b) => b?.blockHash ?? 'none');
    assert.is(
      new Set(hashes).size,
      1,
      `${label}: height ${h} differs: ${names.map((n, i) => `${n} ${hashes[i]!.slice(0, 12)}`).join(', ')}`,
    );
    if (blocks[0] === null) return;
    heights++;
    for (const [i, b] of blocks.entries()) {
      if (!b!.certified) continue;
      const c = await result<{ certificate: unknown; header: unknown }>(
        nodeUrl(names[i]!),
        'pos_getCertificate',
        [h],
      );
      const header = blockHeaderFromJSON(c.header);
      const cert = certificateFromJSON(c.certificate);
      const v = verifyCertificate(header, cert, genesisSet, verifyEd25519Sync);
      assert.ok(v.ok, `${label}: ${names[i]}'s certificate at ${h}: ${v.ok ? '' : v.reason}`);
      assert.is(
        toHex(cert.blockHash),
        b!.blockHash,
        `${label}: ${names[i]}'s certificate at ${h} names another block`,
      );
      certs++;
    }
  };
  // A few heights at a time: the nodes answer in parallel, the check stays short.
  for (let h = agreedBelow; h <= top; h += 8) {
    await Promise.all(Array.from({ length: Math.min(8, top + 1 - h) }, (_, k) => one(h + k)));
  }
  agreedBelow = top + 1;
  say(`${label}: agreement on heights up to ${top} (${heights} blocks, ${certs} certificates)`);
  return { heights, certs };
}

const linkSum = (stats: Record<string, LinkStats>, links: string[], k: keyof LinkStats) =>
  links.reduce((a, l) => a + (stats[l]?.[k] ?? 0), 0);
const crossLinks = (a: string[], b: string[]) =>
  a.flatMap((x) => b.flatMap((y) => [`${x}->${y}`, `${y}->${x}`]));
const linksWithin = (g: string[]) =>
  g.flatMap((x) => g.filter((y) => y !== x).map((y) => `${x}->${y}`));

test.before(
  loud(async () => {
    net = await startTestnet({
      dir,
      basePort: 0,
      reset: true,
      p2pFront: true,
      // Wallets hosted by nobody: the stakes are exactly 40/30/20/10.
      walletHost: 'none',
      loadOutputs: 400,
      onLayout: async (layout) => {
        faults = createFaultNet(layout, { seed: SEED });
        await faults.ready;
      },
    });
    const layout = net.layout;
    genesisSet = makeValidatorSet(
      layout.nodes.map((n) => ({ publicKey: fromHex(n.publicKey, 32), stake: BigInt(n.stake) })),
    );
    load = await startDemoLoad(layout, {
      ratePerSec: 10,
      host: new Uint8Array(32),
      onAccepted: (a) => accepted.set(a.txHash, a.node),
    });
    await waitFor(
      'a first certified block on every node',
      (st) => minOf(st, names, 'certified') >= 0,
    );
  }),
);

test.after(async () => {
  try {
    if (load !== undefined && loadReport === undefined) await load.stop();
  } finally {
    await faults?.close();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a. delay + jitter, loss, duplication, reordering on every link: finality goes on, nodes agree', async () => {
  const f = faults!;
  const rule = {
    delayMs: 5,
    jitterMs: 40,
    loss: 0.05,
    duplicate: 0.05,
    reorder: 0.1,
    reorderMs: 150,
  };
  f.setAll(rule);
  f.stats({ reset: true });
  const t0 = Date.now();
  const start = await statuses();
  const want = maxOf(start, names, 'certified') + PROGRESS;
  const end = await waitFor(
    `every node certifies ${want}`,
    (st) => minOf(st, names, 'certified') >= want,
    { minMs: CHAOS_MS },
  );
  const unknown = Object.entries(f.stats())
    .filter(([link]) => link.startsWith('?'))
    .reduce((a, [, x]) => a + x.requests, 0);
  const t = f.totals({ reset: true });
  // Every puller was recognised (else its pulls would escape per-link rules and cuts).
  assert.is(unknown, 0, 'sync requests from an unknown caller');
  say(
    `a: ${JSON.stringify(rule)}: ${fmt(start)} → ${fmt(end)} in ${Date.now() - t0} ms; ` +
      `requests ${t.requests}, lost ${t.lost}, duplicated ${t.duplicated} (replays refused ${t.replayRefused}, served ${t.replayServed}), ` +
      `reordered ${t.reordered}, delayed ${t.delayed}`,
  );
  // The faults really happened, and no duplicate was served twice.
  assert.ok(t.lost > 0 && t.duplicated > 0 && t.reordered > 0, 'the faults were exercised');
  assert.ok(t.replayRefused > 0, 'some duplicate was refused as a replay');
  assert.is(t.replayServed, 0, 'a duplicated sync request was served twice');
  f.clear();
  await checkAgreement('a');
});

test('b. partition 2|2 ({v0,v3} 50% | {v1,v2} 50%): finality pauses, and resumes after the heal', async () => {
  const f = faults!;
  const A = ['v0', 'v3'];
  const B = ['v1', 'v2'];
  const before = await statuses();
  f.partition([A, B]);
  f.stats({ reset: true });
  // What was in flight at the cut is applied and certified; then nothing.
  const settled = await settle(names);
  const tHold = Date.now();
  let last = settled;
  while (Date.now() - tHold < HOLD_MS) {
    await sleep(500);
    last = await statuses();
    for (const n of names) {
      assert.ok(
        last[n]!.certified <= settled[n]!.certified,
        `b: ${n} certified ${last[n]!.certified} > ${settled[n]!.certified} during the 2|2 partition`,
      );
    }
  }
  const stats = f.stats({ reset: true });
  const blocked = linkSum(stats, crossLinks(A, B), 'blocked');
  const inside = linkSum(stats, [...linksWithin(A), ...linksWithin(B)], 'forwarded');
  assert.ok(blocked > 0, 'the cross links were tried and blocked');
  assert.ok(inside > 0, 'each side kept syncing inside');
  assert.is(linkSum(stats, crossLinks(A, B), 'forwarded'), 0, 'nothing crossed the cut');
  const stalled = maxOf(settled, names, 'certified');
  f.heal();
  const tHeal = Date.now();
  await waitFor(`a new certificate on every node after the heal`, (st) =>
    names.every((n) => st[n]!.certified > stalled),
  );
  const resumeMs = Date.now() - tHeal;
  const want = stalled + PROGRESS;
  const healed = await waitFor(`every node certifies ${want} after the heal`, (st) =>
    names.every((n) => st[n]!.certified >= want),
  );
  const progressMs = Date.now() - tHeal;
  say(
    `b: before ${fmt(before)}; settled at the cut ${fmt(settled)} (in flight: ` +
      `+${stalled - maxOf(before, names, 'certified')} certified); held ${HOLD_MS} ms with ` +
      `${blocked} pulls blocked, ${inside} served inside the sides: no new certificate; ` +
      `healed: every node certified past ${stalled} within ${resumeMs} ms, ${want} within ` +
      `${progressMs} ms (${fmt(healed)})`,
  );
  await checkAgreement('b');
});

/**
 * A partition where `major` holds more than 2/3 of the stake: it keeps
 * certifying (PROGRESS more heights, the cut held HOLD_MS at least) while
 * `minor` certifies nothing past what was in flight; after the heal `minor`
 * catches up with what `major` had certified.
 */
async function majorityMinority(label: string, major: string[], minor: string[]) {
  const f = faults!;
  f.partition([major, minor]);
  f.stats({ reset: true });
  const stuck = await settle(minor);
  const start = await statuses();
  const want = maxOf(start, major, 'certified') + PROGRESS;
  const tCut = Date.now();
  const during = await waitFor(
    `${label}: ${major} certify ${want}`,
    (st) => {
      for (const n of minor) {
        assert.ok(
          st[n]!.certified <= stuck[n]!.certified,
          `${label}: ${n} certified ${st[n]!.certified} > ${stuck[n]!.certified} in the minority`,
        );
      }
      return minOf(st, major, 'certified') >= want;
    },
    { minMs: HOLD_MS },
  );
  const majorityMs = Date.now() - tCut;
  const t = f.totals();
  const stats = f.stats({ reset: true });
  assert.ok(linkSum(stats, crossLinks(major, minor), 'blocked') > 0, `${label}: the cut was tried`);
  assert.is(linkSum(stats, crossLinks(major, minor), 'forwarded'), 0, `${label}: nothing crossed`);
  f.heal();
  const tHeal = Date.now();
  const goal = minOf(await statuses(major), major, 'certified');
  const caught = await waitFor(`${label}: ${minor} certify ${goal}`, (st) =>
    minor.every((n) => st[n]!.certified >= goal),
  );
  const catchUpMs = Date.now() - tHeal;
  say(
    `${label}: ${minor} stuck at ${fmt(stuck)} while ${major} went ${fmt(start)} → ` +
      `${fmt(during)} (+${PROGRESS} or more in ${majorityMs} ms; ${t.blocked} pulls blocked, ${t.hung} held); ` +
      `healed: ${minor} caught up to c${goal} (the majority's at the heal) in ${catchUpMs} ms (${fmt(caught)})`,
  );
  await checkAgreement(label);
}

test('c. partition 3|1 ({v0,v1,v2} 90% | {v3}): the majority finalizes, the minority catches up', async () => {
  await majorityMinority('c', ['v0', 'v1', 'v2'], ['v3']);
});

/** One asymmetric cut held until `live` certify PROGRESS more heights; then healed. */
async function asymmetric(label: string, cut: () => void, live: string[]) {
  const f = faults!;
  const start = await statuses();
  cut();
  f.stats({ reset: true });
  const t0 = Date.now();
  const want = maxOf(start, names, 'certified') + PROGRESS;
  const end = await waitFor(
    `${label}: ${live} certify ${want}`,
    (st) => minOf(st, live, 'certified') >= want,
    { minMs: HOLD_MS },
  );
  const ms = Date.now() - t0;
  const t = f.totals({ reset: true });
  assert.ok(t.blocked > 0, `${label}: the cut links were tried`);
  f.heal();
  const goal = maxOf(await statuses(), names, 'certified');
  const tHeal = Date.now();
  const caught = await waitFor(`${label}: every node certifies ${goal}`, (st) =>
    names.every((n) => st[n]!.certified >= goal),
  );
  say(
    `${label}: ${fmt(start)} → ${fmt(end)} in ${ms} ms (${t.blocked} pulls blocked); ` +
      `healed: every node at c${goal} within ${Date.now() - tHeal} ms (${fmt(caught)})`,
  );
  await checkAgreement(label);
}

test('d. asymmetric links: nobody pulls from v3 / v3 pulls from nobody: liveness and agreement', async () => {
  // v3 sees everything and certifies with the others; its own events go nowhere.
  await asymmetric('d1 (nobody pulls from v3)', () => faults!.cutPullsFrom('v3'), names);
  // v3 sees nothing; the others read its events (its transfers) and go on.
  await asymmetric('d2 (v3 pulls from nobody)', () => faults!.cutPullsBy('v3'), ['v0', 'v1', 'v2']);
});

if (LONG) {
  test('e1 (long). heavy chaos: 20% loss, 20% duplicates, 1% black holes, 200 ms jitter', async () => {
    const f = faults!;
    const rule = {
      delayMs: 20,
      jitterMs: 200,
      loss: 0.2,
      duplicate: 0.2,
      reorder: 0.3,
      reorderMs: 500,
      hang: 0.01,
    };
    f.setAll(rule);
    f.stats({ reset: true });
    const start = await statuses();
    const want = maxOf(start, names, 'certified') + PROGRESS;
    const t0 = Date.now();
    const end = await waitFor(
      `e1: every node certifies ${want}`,
      (st) => minOf(st, names, 'certified') >= want,
      { minMs: CHAOS_MS },
    );
    const t = f.totals({ reset: true });
    f.clear();
    say(
      `e1: ${JSON.stringify(rule)}: ${fmt(start)} → ${fmt(end)} in ${Date.now() - t0} ms; ` +
        `requests ${t.requests}, lost ${t.lost}, hung ${t.hung}, duplicated ${t.duplicated} ` +
        `(refused ${t.replayRefused}, served twice ${t.replayServed})`,
    );
    assert.is(t.replayServed, 0, 'a duplicated sync request was served twice');
    await checkAgreement('e1');
  });

  // Barely passes, or fails, today (issue 7, docs/PROTOCOL.md 8, "A
  // peer that never answers"): the gossip loop waits on each
  // pull, so every pick of the silent v3 costs a majority node a whole 10 s
  // timeout, and v3 is picked again within 5 s. Measured: +30 certified in
  // 115 s of the 125 s allowed in one run; 6 heights in 60 s in another
  // (198 in 30 s with a reset cut). Kept as the check of the remedy.
  test('e2 (long). partition 3|1 as a black hole: pulls across the cut hang until timeout', async () => {
    faults!.setBlockMode('blackhole');
    try {
      await majorityMinority('e2 (black hole)', ['v0', 'v1', 'v2'], ['v3']);
    } finally {
      faults!.setBlockMode('reset');
    }
  });

  test('e3 (long). partition 2|2 ({v0,v1} 70% | {v2,v3} 30%): the 70% side finalizes', async () => {
    await majorityMinority('e3', ['v0', 'v1'], ['v2', 'v3']);
  });

  test('e4 (long). one-way ring: v0 cannot pull from v1, v1 from v2, v2 from v3, v3 from v0', async () => {
    await asymmetric(
      'e4 (one-way ring)',
      () => {
        for (const [a, b] of [
          ['v0', 'v1'],
          ['v1', 'v2'],
          ['v2', 'v3'],
          ['v3', 'v0'],
        ] as const) {
          faults!.block(a, b);
        }
      },
      names,
    );
  });

  test('e5 (long). flapping: a seeded random partition every 1-4 s for 60 s, then healed', async () => {
    const f = faults!;
    const rnd = seededRandom(SEED, 'flapping');
    const shapes: string[][][] = [
      [
        ['v0', 'v3'],
        ['v1', 'v2'],
      ],
      [
        ['v0', 'v1'],
        ['v2', 'v3'],
      ],
      [
        ['v0', 'v2'],
        ['v1', 'v3'],
      ],
      [['v0', 'v1', 'v2'], ['v3']],
      [['v0', 'v1', 'v3'], ['v2']],
      [['v0'], ['v1', 'v2', 'v3']],
      [['v0'], ['v1'], ['v2'], ['v3']],
    ];
    const start = await statuses();
    const t0 = Date.now();
    const seen: string[] = [];
    while (Date.now() - t0 < 60_000) {
      f.heal();
      const k = Math.floor(rnd() * (shapes.length + 1));
      if (k < shapes.length) f.partition(shapes[k]!);
      seen.push(k < shapes.length ? shapes[k]!.map((g) => g.join('')).join('|') : 'healed');
      await sleep(1000 + rnd() * 3000);
    }
    f.heal();
    const mid = await statuses();
    const want = maxOf(mid, names, 'certified') + PROGRESS;
    const end = await waitFor(`e5: every node certifies ${want}`, (st) =>
      names.every((n) => st[n]!.certified >= want),
    );
    say(`e5: ${seen.length} flips (${seen.join(', ')}): ${fmt(start)} → ${fmt(mid)} → ${fmt(end)}`);
    await checkAgreement('e5');
  });
}

test('every accepted transfer is in a block at the same height on every node', async () => {
  loadReport = await load!.stop();
  const r = loadReport;
  say(
    `load: ${r.submitted} submitted, ${r.refused} refused, ${r.committed} committed, ` +
      `${r.certified} certified, p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms`,
  );
  assert.is(accepted.size, r.submitted - r.refused, 'every accepted transfer was reported');
  assert.ok(accepted.size > 0, 'transfers were accepted');
  const until = Date.now() + DEADLINE_MS;
  const open = new Set(accepted.keys());
  const where = new Map<string, string>();
  const settle1 = async (h: string) => {
    const answers = await Promise.all(
      names.map((n) =>
        result<{ status: string; height?: number }>(nodeUrl(n), 'pos_getTransaction', [h]),
      ),
    );
    if (answers.every((a) => a.status === 'committed' || a.status === 'rejected')) {
      const seen = new Set(answers.map((a) => `${a.status}@${a.height}`));
      assert.is(seen.size, 1, `transfer ${h}: ${[...seen]} across the nodes`);
      where.set(h, [...seen][0]!);
      open.delete(h);
    }
  };
  while (open.size > 0) {
    const todo = [...open];
    for (let i = 0; i < todo.length; i += 16) await Promise.all(todo.slice(i, i + 16).map(settle1));
    if (open.size === 0) break;
    if (Date.now() > until) {
      assert.unreachable(`${open.size} accepted transfers not in a block, e.g. ${[...open][0]}`);
    }
    await sleep(500);
  }
  const rejected = [...where.values()].filter((w) => w.startsWith('rejected')).length;
  say(`transfers: ${accepted.size} accepted, all in blocks (${rejected} rejected with a receipt)`);
  agreedBelow = 0;
  const all = await checkAgreement('final (every height from 0)');
  assert.ok(all.certs > 0, 'certificates were checked');
});

test.run();
