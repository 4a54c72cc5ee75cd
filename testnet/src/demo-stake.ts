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
import { readKeyFile, type ValidatorKey } from '@pos/node';
import { firstRoundOf, type Genesis, genesisFromJSON } from '@pos/protocol';
import { type LoadReport, startDemoLoad } from './load.js';
import type { Testnet, TestnetNode } from './network.js';
import { rpcCall } from './rpc.js';
import { type EpochSet, epochSet, registerValidator, rehostStake, type StakeTx } from './stake.js';
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

/** What the steps share. */
interface Demo {
  readonly net: Testnet;
  readonly say: (line: string) => void;
  readonly params: Genesis['params'];
  readonly chainId: Uint8Array;
  /** v0, whose RPC the demo watches the network through. */
  readonly v0: TestnetNode;
  /** The new validator's name. */
  readonly name: string;
}

/** The new validator, started. */
interface Joined {
  node: TestnetNode;
  key: ValidatorKey;
}

/** The header and the set of now. */
async function intro(d: Demo): Promise<void> {
  const { params } = d;
  d.say('');
  d.say(
    `== proof of share, step by step (LAG ${params.lag}, EPOCH ${params.epoch} rounds, minStake ${params.minStake}) ==`,
  );
  const before = await epochSet(d.v0.rpcUrl);
  d.say(`now: epoch ${before.epoch} (rounds ${before.firstRound}..${before.lastRound}), the set:`);
  for (const l of setLines(before)) d.say(l);
}

/** 1. A node that is not in the genesis: it syncs, read-only. */
async function startJoiner(d: Demo): Promise<Joined> {
  const { node, key } = await d.net.addNode(d.name);
  d.say('');
  d.say(
    `1. started ${d.name} (validatorId ${node.validatorId.slice(0, 18)}…, p2p ${node.p2p}) with a fresh key:`,
  );
  const st = await status(node.rpcUrl);
  d.say(`   it syncs read-only: member ${st.validatorSet.member}, stake ${st.validatorSet.stake}`);
  return { node, key };
}

/** 2. Registration: a ledger transaction carrying its key and endpoint, co-signed by it. */
async function register(d: Demo, j: Joined): Promise<StakeTx> {
  const wallet = d.net.layout.wallets[0]!;
  const reg = await registerValidator(d.v0.rpcUrl, {
    chainId: d.chainId,
    payer: await readKeyFile(wallet.keyFile),
    validator: j.key,
    name: d.name,
    p2p: j.node.p2p,
    fee: d.params.minFee,
  });
  d.say('');
  d.say(
    `2. registered ${d.name} (fee paid by ${wallet.name}): committed at height ${reg.height}, tx ${toHex(reg.txHash).slice(0, 18)}…`,
  );
  d.say(
    `   registered but hosting nothing: it stays out of the set (minStake ${d.params.minStake})`,
  );
  return reg;
}

/**
 * 3. v0 re-hosts half of its stake to the new validator (spends to itself,
 * new host); the epoch that holds it, and its first round.
 */
async function rehost(d: Demo, j: Joined) {
  const { v0, params } = d;
  const amount = BigInt(v0.stake) / 2n;
  const moved = await rehostStake(v0.rpcUrl, {
    chainId: d.chainId,
    owner: await readKeyFile(join(v0.dataDir, 'validator.key')),
    host: j.key.validatorId,
    amount,
    fee: params.minFee,
  });
  // The first snapshot round at or after the block, and the epoch it feeds.
  const epoch = Math.ceil(moved.height / params.epoch) + 1;
  const firstRound = firstRoundOf(epoch, params);
  d.say('');
  d.say(
    `3. ${v0.name} re-hosted ${amount} of its own outputs to ${d.name}: committed at height ${moved.height}`,
  );
  d.say(
    `   the snapshot after round ${(epoch - 1) * params.epoch} holds it: epoch ${epoch}, from round ${firstRound}`,
  );
  return { moved, epoch, firstRound };
}

/** Polls v0's status until epoch `epoch` begins, saying each epoch seen; its set. */
async function awaitEpoch(d: Demo, j: Joined, epoch: number, deadline: number): Promise<EpochSet> {
  let seenEpoch = -1;
  for (;;) {
    if (Date.now() > deadline) throw new TestnetError(`epoch ${epoch} did not begin in time`);
    const st = await status(d.v0.rpcUrl);
    const cur = st.validatorSet.epoch;
    if (cur !== seenEpoch) {
      seenEpoch = cur;
      const s = await epochSet(d.v0.rpcUrl, cur);
      const has = s.validators.some((v) => v.validatorId === j.node.validatorId);
      d.say(
        `   height ${st.height}, round ${st.round}: epoch ${cur} — ${s.validators.length} validators${has ? `, ${d.name} among them` : ''}`,
      );
      if (cur >= epoch) return s;
    }
    await sleep(500);
  }
}

/** The first block from `firstRound` on whose certificate the new validator signed. */
async function awaitSigned(d: Demo, j: Joined, firstRound: number, deadline: number) {
  const origin = d.v0.rpcUrl;
  let signedHeight = -1;
  for (;;) {
    if (Date.now() > deadline) throw new TestnetError(`no certificate signed by ${d.name} in time`);
    await status(j.node.rpcUrl);
    const last = (await status(origin)).height ?? -1;
    for (let h = Math.max(firstRound, signedHeight + 1); h <= last && signedHeight < 0; h++) {
      const c = await rpcCall(origin, 'pos_getCertificate', [h]);
      const cert = (c.result as { certificate?: { signatures: { validatorId: string }[] } })
        ?.certificate;
      if (cert?.signatures.some((x) => x.validatorId === j.node.validatorId)) signedHeight = h;
    }
    if (signedHeight >= 0) return signedHeight;
    await sleep(1000);
  }
}

/** Leaders by validator name over blocks `from..upTo`, once v0 has them (the draw is by stake, docs/PROTOCOL.md 5.5). */
async function leadersOf(d: Demo, from: number, upTo: number, deadline: number) {
  const origin = d.v0.rpcUrl;
  while (((await status(origin)).height ?? 0) < upTo) {
    if (Date.now() > deadline) throw new TestnetError(`round ${upTo} not reached in time`);
    await sleep(500);
  }
  const leaders: Record<string, number> = {};
  for (let h = from; h <= upTo; h++) {
    const b = (await rpcCall(origin, 'pos_getBlock', [h])).result as
      | { header: { leader: string } }
      | undefined;
    if (b === undefined) continue;
    const ev = (await rpcCall(origin, 'pos_getEvent', [b.header.leader])).result as
      | { creator: string }
      | undefined;
    if (ev === undefined) continue;
    const who =
      d.net.layout.nodes.find((n) => n.publicKey === ev.creator)?.name ?? ev.creator.slice(0, 10);
    leaders[who] = (leaders[who] ?? 0) + 1;
  }
  return leaders;
}

/**
 * 4. and 5. Watch the epochs go by until the new one begins, then until the
 * new validator signs a block, and count the leaders over half an epoch of
 * the new set.
 */
async function watch(d: Demo, j: Joined, epoch: number, firstRound: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const set = await awaitEpoch(d, j, epoch, deadline);
  if (!set.validators.some((v) => v.validatorId === j.node.validatorId)) {
    throw new TestnetError(`${d.name} is not in the set of epoch ${set.epoch}`);
  }
  d.say('');
  d.say(`   the set changed at round ${firstRound} (epoch ${set.epoch}):`);
  for (const l of setLines(set)) d.say(l);
  const signedHeight = await awaitSigned(d, j, firstRound, deadline);
  const upTo = firstRound + Math.floor(d.params.epoch / 2);
  const leaders = await leadersOf(d, firstRound, upTo, deadline);
  return { set, signedHeight, upTo, leaders };
}

/**
 * Runs the watch under a trickle of demo transfers (sent to the genesis
 * validators only: the new node is not in the set yet), which keeps gossip
 * at its busy pace; an idle network makes a round every few seconds on its
 * heartbeat alone. The load stops however the watch ends (a leaked timer
 * would keep the process alive).
 */
async function watchUnderLoad(
  d: Demo,
  j: Joined,
  o: DemoStakeOpts,
  epoch: number,
  firstRound: number,
) {
  const layout = d.net.layout;
  const tps = o.loadTps ?? 20;
  const background = await startDemoLoad(layout, {
    ratePerSec: tps,
    nodes: layout.nodes.filter((n) => n !== j.node),
  });
  d.say('');
  d.say(`4. watching the set (node v0; ${tps} demo transfers/s keep the rounds going):`);
  let watched: Awaited<ReturnType<typeof watch>>;
  let load: LoadReport;
  try {
    watched = await watch(d, j, epoch, firstRound, o.timeoutMs ?? 180_000);
  } finally {
    load = await background.stop();
  }
  return { ...watched, load };
}

/** Runs the walk-through on `net`; resolves with what it saw. */
export async function demoStake(net: Testnet, o: DemoStakeOpts = {}): Promise<DemoStakeReport> {
  const layout = net.layout;
  const genesis = genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  const d: Demo = {
    net,
    say: o.say ?? ((l: string) => process.stdout.write(`${l}\n`)),
    params: genesis.params,
    chainId: fromHex(layout.chainId, 32),
    v0: layout.nodes[0]!,
    name: o.name ?? `v${layout.nodes.length}`,
  };
  await intro(d);
  const j = await startJoiner(d);
  const reg = await register(d, j);
  const { moved, epoch, firstRound } = await rehost(d, j);
  const { set, signedHeight, upTo, leaders, load } = await watchUnderLoad(
    d,
    j,
    o,
    epoch,
    firstRound,
  );
  const st = await status(j.node.rpcUrl);
  d.say('');
  d.say(
    `5. ${d.name} is a member (status: member ${st.validatorSet.member}, stake ${st.validatorSet.stake} of ${st.validatorSet.totalStake}):`,
  );
  d.say(`   it signed the certificate of block ${signedHeight}`);
  d.say(`   background transfers: ${load.committed} of ${load.submitted} committed`);
  const led = Object.entries(leaders).map(([k, v]) => `${k} ${v}`);
  d.say(`   leaders of blocks ${firstRound}..${upTo}: ${led.join(', ')}`);
  const node = j.node;
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
