/**
 * `pnpm testnet --demo-stake`: proof of share on a running testnet, step by
 * step (docs/PROTOCOL.md 6.5). A new validator starts read-only; it is
 * registered (a ledger transaction it co-signs); v0 re-hosts half of its
 * stake to it; and when the epoch whose snapshot includes both begins, the
 * new validator is in the set, creates events, signs blocks and leads some.
 * Every step prints what happened and where (height, round, epoch).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '@pos/merkle';
import { readKeyFile } from '@pos/node';
import { firstRoundOf, genesisFromJSON } from '@pos/protocol';
import { type LoadReport, startDemoLoad } from './load.js';
import type { Testnet, TestnetNode } from './network.js';
import { rpcCall } from './rpc.js';
import { type EpochSet, epochSet, registerValidator, rehostStake } from './stake.js';
import { TestnetError } from './stakes.js';

/** Options of {@link demoStake}. */
export interface DemoStakeOpts {
  /** Name of the new validator (default `v<N>`). */
  name?: string;
  /** Where lines go (default stdout). */
  say?: (line: string) => void;
  /** Longest wait for the set change (default 180 s). */
  timeoutMs?: number;
  /** Background transfers per second while waiting (default 20). */
  loadTps?: number;
}

/** What the demo saw, for tests. */
export interface DemoStakeReport {
  node: TestnetNode;
  registeredAt: number;
  rehostedAt: number;
  /** The epoch whose table first holds the new validator, and its first round. */
  epoch: number;
  firstRound: number;
  set: EpochSet;
  /** A block at or after `firstRound` whose certificate the new validator signed. */
  signedHeight: number;
  /** Leaders by validator name over the blocks from `firstRound` to `signedHeight`. */
  leaders: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Status {
  height: number | null;
  round: number;
  validatorSet: { epoch: number; member: boolean; stake: string; totalStake: string };
}

async function status(origin: string): Promise<Status> {
  const r = await rpcCall(origin, 'pos_status', []);
  if (r.error !== undefined) throw new TestnetError(`pos_status: ${r.error.message}`);
  return r.result as Status;
}

function setLines(set: EpochSet): string[] {
  const total = BigInt(set.totalStake);
  return set.validators.map((v) => {
    const pct = total === 0n ? 0 : Number((BigInt(v.stake) * 1000n) / total) / 10;
    return `    ${(v.name || '?').padEnd(4)} ${v.validatorId.slice(0, 18)}…  stake ${v.stake.padStart(11)}  (${pct.toFixed(1)}%)`;
  });
}

/** Runs the walk-through on `net`; resolves with what it saw. */
export async function demoStake(net: Testnet, o: DemoStakeOpts = {}): Promise<DemoStakeReport> {
  const say = o.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  const timeoutMs = o.timeoutMs ?? 180_000;
  const layout = net.layout;
  const genesis = genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  const params = genesis.params;
  const chainId = fromHex(layout.chainId, 32);
  const v0 = layout.nodes[0]!;
  const origin = v0.rpcUrl;
  const name = o.name ?? `v${layout.nodes.length}`;

  say('');
  say(
    `== proof of share, step by step (LAG ${params.lag}, EPOCH ${params.epoch} rounds, minStake ${params.minStake}) ==`,
  );
  const before = await epochSet(origin);
  say(`now: epoch ${before.epoch} (rounds ${before.firstRound}..${before.lastRound}), the set:`);
  for (const l of setLines(before)) say(l);

  // 1. A node that is not in the genesis: it syncs, read-only.
  const { node, key } = await net.addNode(name);
  say('');
  say(
    `1. started ${name} (validatorId ${node.validatorId.slice(0, 18)}…, p2p ${node.p2p}) with a fresh key:`,
  );
  let st = await status(node.rpcUrl);
  say(`   it syncs read-only: member ${st.validatorSet.member}, stake ${st.validatorSet.stake}`);

  // 2. Registration: a ledger transaction carrying its key and endpoint, co-signed by it.
  const payer = await readKeyFile(layout.wallets[0]!.keyFile);
  const reg = await registerValidator(origin, {
    chainId,
    payer,
    validator: key,
    name,
    p2p: node.p2p,
    fee: params.minFee,
  });
  say('');
  say(
    `2. registered ${name} (fee paid by ${layout.wallets[0]!.name}): committed at height ${reg.height}, tx ${toHex(reg.txHash).slice(0, 18)}…`,
  );
  say(`   registered but hosting nothing: it stays out of the set (minStake ${params.minStake})`);

  // 3. v0 re-hosts half of its stake to the new validator (spends to itself, new host).
  const v0key = await readKeyFile(join(v0.dataDir, 'validator.key'));
  const amount = BigInt(v0.stake) / 2n;
  const moved = await rehostStake(origin, {
    chainId,
    owner: v0key,
    host: key.validatorId,
    amount,
    fee: params.minFee,
  });
  // The first snapshot round at or after the block, and the epoch it feeds.
  const epoch = Math.ceil(moved.height / params.epoch) + 1;
  const firstRound = firstRoundOf(epoch, params);
  say('');
  say(
    `3. ${v0.name} re-hosted ${amount} of its own outputs to ${name}: committed at height ${moved.height}`,
  );
  say(
    `   the snapshot after round ${(epoch - 1) * params.epoch} holds it: epoch ${epoch}, from round ${firstRound}`,
  );

  // 4. Watch the epochs go by until the new one begins. A trickle of demo
  // transfers (sent to the genesis validators only: the new node is not in
  // the set yet) keeps gossip at its busy pace; an idle network makes a
  // round every few seconds on its heartbeat alone.
  const tps = o.loadTps ?? 20;
  const background = await startDemoLoad(layout, {
    ratePerSec: tps,
    nodes: layout.nodes.filter((n) => n !== node),
  });
  say('');
  say(`4. watching the set (node v0; ${tps} demo transfers/s keep the rounds going):`);
  // The background load stops however the watch ends (a leaked timer would
  // keep the process alive).
  const watch = async () => {
    const deadline = Date.now() + timeoutMs;
    let seenEpoch = -1;
    let set: EpochSet | undefined;
    for (;;) {
      if (Date.now() > deadline) throw new TestnetError(`epoch ${epoch} did not begin in time`);
      st = await status(origin);
      const cur = st.validatorSet.epoch;
      if (cur !== seenEpoch) {
        seenEpoch = cur;
        const s = await epochSet(origin, cur);
        const has = s.validators.some((v) => v.validatorId === node.validatorId);
        say(
          `   height ${st.height}, round ${st.round}: epoch ${cur} — ${s.validators.length} validators${has ? `, ${name} among them` : ''}`,
        );
        if (cur >= epoch) {
          set = s;
          break;
        }
      }
      await sleep(500);
    }
    if (!set.validators.some((v) => v.validatorId === node.validatorId)) {
      throw new TestnetError(`${name} is not in the set of epoch ${set.epoch}`);
    }
    say('');
    say(`   the set changed at round ${firstRound} (epoch ${set.epoch}):`);
    for (const l of setLines(set)) say(l);

    // 5. The new validator creates events and signs blocks; count the leaders.
    let signedHeight = -1;
    for (;;) {
      if (Date.now() > deadline) throw new TestnetError(`no certificate signed by ${name} in time`);
      st = await status(node.rpcUrl);
      const last = (await status(origin)).height ?? -1;
      for (let h = Math.max(firstRound, signedHeight + 1); h <= last && signedHeight < 0; h++) {
        const c = await rpcCall(origin, 'pos_getCertificate', [h]);
        const cert = (c.result as { certificate?: { signatures: { validatorId: string }[] } })
          ?.certificate;
        if (cert?.signatures.some((x) => x.validatorId === node.validatorId)) signedHeight = h;
      }
      if (signedHeight >= 0) break;
      await sleep(1000);
    }
    // Leaders over half an epoch of the new set (the draw is by stake, docs/PROTOCOL.md 5.5).
    const upTo = firstRound + Math.floor(params.epoch / 2);
    while (((await status(origin)).height ?? 0) < upTo) {
      if (Date.now() > deadline) throw new TestnetError(`round ${upTo} not reached in time`);
      await sleep(500);
    }
    const leaders: Record<string, number> = {};
    for (let h = firstRound; h <= upTo; h++) {
      const b = (await rpcCall(origin, 'pos_getBlock', [h])).result as
        | { header: { leader: string } }
        | undefined;
      if (b === undefined) continue;
      const ev = (await rpcCall(origin, 'pos_getEvent', [b.header.leader])).result as
        | { creator: string }
        | undefined;
      if (ev === undefined) continue;
      const who =
        layout.nodes.find((n) => n.publicKey === ev.creator)?.name ?? ev.creator.slice(0, 10);
      leaders[who] = (leaders[who] ?? 0) + 1;
    }
    return { set, signedHeight, upTo, leaders };
  };
  let watched: Awaited<ReturnType<typeof watch>>;
  let load: LoadReport;
  try {
    watched = await watch();
  } finally {
    load = await background.stop();
  }
  const { set, signedHeight, upTo, leaders } = watched;
  st = await status(node.rpcUrl);
  say('');
  say(
    `5. ${name} is a member (status: member ${st.validatorSet.member}, stake ${st.validatorSet.stake} of ${st.validatorSet.totalStake}):`,
  );
  say(`   it signed the certificate of block ${signedHeight}`);
  say(`   background transfers: ${load.committed} of ${load.submitted} committed`);
  say(
    `   leaders of blocks ${firstRound}..${upTo}: ${Object.entries(leaders)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  return {
    node,
    registeredAt: reg.height,
    rehostedAt: moved.height,
    epoch,
    firstRound,
    set,
    signedHeight,
    leaders,
  };
}
