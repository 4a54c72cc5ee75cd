/**
 * A silent validator (issue 7): certified heights on a 4-node testnet under
 * 10 transfers/s, 30 s with no fault, then 60 s with v3 black-holed (its
 * fault proxy holds every request open, both ways). Before the puller's
 * headers timeout and timeout backoff (docs/PROTOCOL.md 8), such a
 * peer cost every honest node 10 s per pick.
 *
 *   pnpm --filter @pos/testnet exec tsx bench/silent-peer.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createFaultNet, type FaultNet } from '../src/faults.js';
import { startDemoLoad } from '../src/load.js';
import { startTestnet } from '../src/network.js';
import { rpcCall } from '../src/rpc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(os.tmpdir(), 'pos-silent-'));
const made: { f?: FaultNet } = {};
const net = await startTestnet({
  dir,
  reset: true,
  basePort: 0,
  p2pFront: true,
  onLayout: async (l) => {
    made.f = createFaultNet(l, { seed: 7, blockMode: 'blackhole' });
    await made.f.ready;
  },
});
const f = made.f!;
try {
  const certified = async () =>
    (
      (await rpcCall(net.layout.nodes[0]!.rpcUrl, 'pos_status')) as {
        result: { lastCertifiedHeight: number | null };
      }
    ).result.lastCertifiedHeight ?? 0;
  const load = await startDemoLoad(net.layout, { ratePerSec: 10 });
  await sleep(5000);
  let a = await certified();
  await sleep(30_000);
  const calm = (await certified()) - a;
  f.isolate('v3');
  a = await certified();
  await sleep(60_000);
  const silent = (await certified()) - a;
  f.heal();
  const r = await load.stop();
  process.stdout.write(
    `| phase | certified heights | per second |\n|---|---|---|\n` +
      `| no fault, 30 s | ${calm} | ${(calm / 30).toFixed(2)} |\n` +
      `| v3 black-holed, 60 s | ${silent} | ${(silent / 60).toFixed(2)} |\n` +
      `\nload: ${r.submitted} submitted, ${r.certified} certified\n`,
  );
} finally {
  await f.close();
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
