/**
 * One cycle of the soak's seeded fault schedule: a fault of a random kind
 * (lossy links, partitions 2|2 and 3|1, an asymmetric link, SIGKILL of a
 * validator and its restart) for half of the cycle, then healed, stale
 * transfers resent, and the invariant checker (src/check.ts).
 */
import { checkTestnet } from '../check.js';
import type { FaultNet, LinkRule } from '../faults.js';
import type { Testnet } from '../network.js';
import { rpcCall } from '../rpc.js';
import { cell } from './report.js';
import { resendStale } from './transfers.js';
import type { SoakOpts, SoakTally } from './types.js';

/** The soak's validators. */
export const NAMES = ['v0', 'v1', 'v2', 'v3'] as const;

/** The kinds of fault, as the report names them. */
const FAULT_KINDS = [
  'lossy links',
  'partition 2|2',
  'partition 3|1',
  'asymmetric',
  'SIGKILL + restart',
] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

/** A little latency everywhere, always: loopback is not a network. */
export const BASE_RULE: LinkRule = { delayMs: 2, jitterMs: 8 };

const LOSSY: LinkRule = {
  delayMs: 5,
  jitterMs: 40,
  loss: 0.05,
  duplicate: 0.05,
  reorder: 0.1,
  reorderMs: 100,
};

/** What the cycles share. */
export interface CycleCtx {
  readonly o: SoakOpts;
  /** The schedule's seeded PRNG (every choice of the run, in order). */
  readonly rnd: () => number;
  readonly net: Testnet;
  readonly faults: FaultNet;
  readonly tally: SoakTally;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** Starts a fault of `kind`: its detail (the node it is about) and the node killed, if any. */
async function inject(
  c: CycleCtx,
  kind: FaultKind,
  halfMs: number,
): Promise<{ detail: string; killed: string | null }> {
  switch (kind) {
    case 'lossy links':
      c.faults.setAll(LOSSY);
      return { detail: '', killed: null };
    case 'partition 2|2':
      c.faults.partition([
        ['v0', 'v3'],
        ['v1', 'v2'],
      ]);
      return { detail: '', killed: null };
    case 'partition 3|1': {
      const detail = pick(c.rnd, NAMES);
      c.faults.isolate(detail);
      return { detail, killed: null };
    }
    case 'asymmetric': {
      const detail = pick(c.rnd, NAMES);
      if (c.rnd() < 0.5) c.faults.cutPullsFrom(detail);
      else c.faults.cutPullsBy(detail);
      return { detail, killed: null };
    }
    case 'SIGKILL + restart': {
      const killed = pick(c.rnd, NAMES);
      await sleep(c.rnd() * halfMs); // a random moment of the window
      await c.net.kill(killed);
      return { detail: killed, killed };
    }
  }
}

/** The invariants after healing: a failure per broken one, a row of the report, a line. */
async function checkAfter(c: CycleCtx, cycle: number, kind: FaultKind, detail: string) {
  // Heights must advance again within 60 s.
  const results = await checkTestnet(c.net.layout, { waitMs: 60_000 });
  const bad = results.filter((r) => !r.ok);
  for (const r of bad) c.tally.failures.push(`cycle ${cycle} (${kind}): ${r.name}: ${r.detail}`);
  const status = await rpcCall(c.net.layout.nodes[0]!.rpcUrl, 'pos_status');
  const h = (status as { result?: { height?: number } }).result?.height;
  const held = bad.length === 0 ? `all ${results.length} held` : bad.map((r) => r.name).join('; ');
  c.tally.checkRows.push(
    `| ${cycle} | ${cell(kind)}${detail === '' ? '' : ` ${detail}`} | ${h ?? '?'} | ${held} |`,
  );
  c.o.say(
    `    height ${h}, checks: ${bad.length === 0 ? 'all held' : bad.map((r) => r.name).join('; ')}`,
  );
}

/** Cycle number `cycle`: a fault for half of `faultEveryS`, healed, then checked. */
export async function runCycle(c: CycleCtx, cycle: number): Promise<void> {
  const kind = pick(c.rnd, FAULT_KINDS);
  c.tally.faultCounts.set(kind, (c.tally.faultCounts.get(kind) ?? 0) + 1);
  const half = (c.o.faultEveryS * 1000) / 2;
  const { detail, killed } = await inject(c, kind, half);
  c.o.say(`[${cycle}] ${kind}${detail === '' ? '' : ` (${detail})`}`);
  await sleep(killed === null ? half : half / 2);
  c.faults.clear();
  c.faults.setAll(BASE_RULE);
  if (killed !== null) {
    // A restart replays every stored event (docs/PROTOCOL.md 9.3): it
    // grows with the chain, so it is measured, not bounded at 60 s.
    const t0 = Date.now();
    await c.net.restart(killed, undefined, 600_000);
    c.tally.restarts.push({ cycle, name: killed, ms: Date.now() - t0 });
  }
  await resendStale(c.net, c.tally.accepted, c.o.say);
  await checkAfter(c, cycle, kind, detail);
}
