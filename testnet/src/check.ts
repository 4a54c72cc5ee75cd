/**
 * `pnpm testnet check` (issue 5, testnet point 3): invariants over JSON-RPC
 * across every node of a running testnet. Each check passes or lists its
 * violations; the CLI exits 1 if any fails.
 *
 * - every node answers, on the layout's chain;
 * - the same block (or none) at every checked height: the latest common
 *   height and the 32 below it, plus every `stride`-th height down to 0.
 *   Headers chain by `prevBlockHash`, so one equal hash at a height vouches
 *   for the whole history below it; the extra heights name where a split
 *   began;
 * - supply conserved on every node: `unspent + burned` = the genesis supply;
 * - each node's latest certificate verifies against the genesis validator
 *   set (`verifyCertificate`: > 2/3 of the stake signed that block) and
 *   names the block the other nodes hold at that height;
 * - heights advance: within `waitMs`, every node applies a block past the
 *   height it had at the start (checked second, so the others see a network
 *   that has moved on).
 */
import { readFileSync } from 'node:fs';
import { toHex } from '@pos/merkle';
import {
  blockHeaderFromJSON,
  certificateFromJSON,
  genesisFromJSON,
  genesisSupply,
  makeValidatorSet,
  type ValidatorSet,
  verifyCertificate,
} from '@pos/protocol';
import { trustFromGenesis } from '@pos/wallet-client';
import type { TestnetLayout } from './network.js';
import { rpcCall } from './rpc.js';

/** One invariant's outcome. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Options of {@link checkTestnet}. */
export interface CheckOpts {
  /** How long heights may take to advance. */
  waitMs: number;
  /** Below the top 33 heights, check every `stride`-th. */
  stride: number;
}

/** Defaults of {@link CheckOpts}. */
export const defaultCheckOpts: CheckOpts = { waitMs: 20_000, stride: 64 };

type Json = Record<string, unknown>;

const rpc = async (url: string, method: string, params: unknown[] = []): Promise<Json> =>
  (await rpcCall(url, method, params)) as Json;

/** What the checks share: the layout's nodes and the options. */
interface Ctx {
  readonly layout: TestnetLayout;
  readonly urls: readonly string[];
  readonly o: CheckOpts;
}

/** A node that answered: its latest `pos_status` and its index in the layout. */
interface Live {
  s: Json;
  i: number;
}

const nameOf = (c: Ctx, i: number) => c.layout.nodes[i]!.name;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A node's `pos_status`, or null when it does not answer. */
async function statusOf(url: string): Promise<Json | null> {
  try {
    return ((await rpc(url, 'pos_status')).result as Json) ?? null;
  } catch {
    return null;
  }
}

/** 1. Every node answers, on this chain; and the nodes that answered. */
async function checkAnswers(c: Ctx): Promise<{ result: CheckResult; live: Live[] }> {
  const status = await Promise.all(c.urls.map((u) => statusOf(u)));
  const bad = status.flatMap((s, i) =>
    s === null
      ? [`${nameOf(c, i)} does not answer`]
      : s.chainId !== c.layout.chainId
        ? [`${nameOf(c, i)} is on chain ${s.chainId}`]
        : [],
  );
  const result = {
    name: 'every node answers on this chain',
    ok: bad.length === 0,
    detail:
      bad.length === 0
        ? `${c.urls.length} nodes, chain ${c.layout.chainId.slice(0, 18)}…`
        : bad.join('; '),
  };
  const live = status.map((s, i) => ({ s, i })).filter((x) => x.s !== null) as Live[];
  return { result, live };
}

/** Drops from `pending` the nodes whose status passes `done` now; one that does not answer stays. */
async function settleSome(
  c: Ctx,
  pending: Set<number>,
  done: (s: Json, i: number) => boolean,
): Promise<void> {
  for (const i of [...pending]) {
    try {
      const s = (await rpc(c.urls[i]!, 'pos_status')).result as Json;
      if (done(s, i)) pending.delete(i);
    } catch {
      // still pending
    }
  }
}

/** 2. Heights advance: every live node applies a block past its height at the start. */
async function checkAdvance(c: Ctx, live: readonly Live[], deadline: number): Promise<CheckResult> {
  const start = new Map(live.map(({ s, i }) => [i, (s.height as number | null) ?? -1]));
  const pending = new Set(start.keys());
  while (pending.size > 0 && Date.now() < deadline) {
    await sleep(500);
    await settleSome(c, pending, (s, i) => ((s.height as number | null) ?? -1) > start.get(i)!);
  }
  const waitS = c.o.waitMs / 1000;
  return {
    name: 'heights advance',
    ok: pending.size === 0,
    detail:
      pending.size === 0
        ? `every node applied a new block within ${waitS} s`
        : `no new block in ${waitS} s on ${[...pending].map((i) => nameOf(c, i)).join(', ')}`,
  };
}

/**
 * A young network may have blocks but no certificate yet: gives it the rest
 * of the same budget to certify one on every node.
 */
async function awaitCertified(c: Ctx, live: readonly Live[], deadline: number): Promise<void> {
  const uncertified = new Set(live.map(({ i }) => i));
  while (uncertified.size > 0 && Date.now() < deadline) {
    await settleSome(c, uncertified, (s) => s.lastCertifiedHeight !== null);
    if (uncertified.size > 0) await sleep(500);
  }
}

/** Each live node's status of now (kept as it was for a node that no longer answers). */
async function refresh(c: Ctx, live: Live[]): Promise<void> {
  const again = await Promise.all(live.map(({ i }) => statusOf(c.urls[i]!)));
  for (const [k, x] of live.entries()) if (again[k] !== null) x.s = again[k]!;
}

/** The latest common height and the 32 below it, plus every `stride`-th height down to 0. */
function heightsToCheck(common: number, stride: number): number[] {
  const checked = new Set<number>();
  for (let h = common; h >= 0 && h > common - 33; h--) checked.add(h);
  if (common >= 0) for (let h = common - (common % stride); h >= 0; h -= stride) checked.add(h);
  return [...checked].sort((a, b) => a - b);
}

/** 3. The same block at every checked height (all at or below every node's height). */
async function checkSameBlocks(c: Ctx, live: readonly Live[]): Promise<CheckResult> {
  const common = Math.min(...live.map((x) => (x.s.height as number | null) ?? -1));
  const checked = heightsToCheck(common, c.o.stride);
  const splits: string[] = [];
  let blocks = 0;
  for (const h of checked) {
    const hashes = await Promise.all(
      live.map(async ({ i }) => {
        const r = await rpc(c.urls[i]!, 'pos_getBlock', [h]);
        return r.result === undefined ? 'none' : String((r.result as Json).blockHash);
      }),
    );
    if (hashes[0] !== 'none') blocks++;
    if (new Set(hashes).size > 1) {
      const who = hashes.map((x, k) => `${nameOf(c, live[k]!.i)} ${x.slice(0, 10)}`);
      splits.push(`height ${h}: ${who.join(', ')}`);
    }
  }
  return {
    name: 'the same block at every checked height',
    ok: splits.length === 0,
    detail:
      splits.length === 0
        ? `${checked.length} heights up to ${common} (${blocks} with a block) agree on ${live.length} nodes`
        : splits.slice(0, 3).join('; '),
  };
}

/** 4. Supply conserved: `unspent + burned` = the genesis supply on every node. */
function checkSupply(c: Ctx, live: readonly Live[], supply: bigint): CheckResult {
  const leaks = live.flatMap(({ s, i }) => {
    const sup = s.supply as { unspent?: string; burned?: string } | undefined;
    if (sup?.unspent === undefined || sup.burned === undefined)
      return [`${nameOf(c, i)} reports no supply`];
    const sum = BigInt(sup.unspent) + BigInt(sup.burned);
    return sum === supply
      ? []
      : [`${nameOf(c, i)}: ${sup.unspent} + ${sup.burned} = ${sum} ≠ ${supply}`];
  });
  return {
    name: 'supply conserved (unspent + burned = genesis supply)',
    ok: leaks.length === 0,
    detail: leaks.length === 0 ? `${supply} on every node` : leaks.join('; '),
  };
}

/**
 * Node `x`'s latest certificate: verified against `set` (true when it
 * does), and for the block every other node holds at that height; what is
 * wrong goes to `bad`.
 */
async function certificateOf(
  c: Ctx,
  live: readonly Live[],
  x: Live,
  set: ValidatorSet,
  bad: string[],
): Promise<boolean> {
  const h = x.s.lastCertifiedHeight as number | null;
  if (h === null) return false;
  const who = nameOf(c, x.i);
  const res = (await rpc(c.urls[x.i]!, 'pos_getCertificate', [h])).result as Json | undefined;
  if (res === undefined || res.header === null) {
    bad.push(`${who}: no certificate at its lastCertifiedHeight ${h}`);
    return false;
  }
  let ok = false;
  try {
    const header = blockHeaderFromJSON(res.header);
    const cert = certificateFromJSON(res.certificate);
    const v = verifyCertificate(header, cert, set);
    if (!v.ok) bad.push(`${who} height ${h}: ${v.reason}`);
    else ok = true;
    for (const { i: j } of live) {
      if (j === x.i) continue;
      const b = (await rpc(c.urls[j]!, 'pos_getBlock', [h])).result as Json | undefined;
      if (b !== undefined && String(b.blockHash) !== toHex(cert.blockHash)) {
        bad.push(`${who} certified height ${h} for another block than ${nameOf(c, j)} holds`);
      }
    }
  } catch (e) {
    bad.push(`${who} height ${h}: ${(e as Error).message}`);
  }
  return ok;
}

/** 5. Certificates valid (> 2/3 of the stake signed), and for the block the others hold. */
async function checkCertificates(
  c: Ctx,
  live: readonly Live[],
  set: ValidatorSet,
): Promise<CheckResult> {
  const bad: string[] = [];
  let certs = 0;
  for (const x of live) if (await certificateOf(c, live, x, set, bad)) certs++;
  return {
    name: 'certificates verify against the validator set (> 2/3 of the stake)',
    ok: bad.length === 0 && certs > 0,
    detail:
      bad.length > 0
        ? bad.join('; ')
        : certs === 0
          ? 'no certificate yet'
          : `${certs} nodes' latest certificates verify`,
  };
}

/** Runs every check once; never throws for what a node answers. */
export async function checkTestnet(
  layout: TestnetLayout,
  opts: Partial<CheckOpts> = {},
): Promise<CheckResult[]> {
  const c: Ctx = {
    layout,
    urls: layout.nodes.map((n) => n.rpcUrl),
    o: { ...defaultCheckOpts, ...opts },
  };
  const genesis = genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  const supply = genesisSupply(genesis);
  const set = makeValidatorSet(trustFromGenesis(genesis).validators);
  const { result, live } = await checkAnswers(c);
  const out = [result];
  if (live.length === 0) return out;
  // Heights first: it also gives a fresh network time to make blocks.
  const deadline = Date.now() + c.o.waitMs;
  out.push(await checkAdvance(c, live, deadline));
  await awaitCertified(c, live, deadline);
  // Later checks look at the network after it has moved on.
  await refresh(c, live);
  out.push(await checkSameBlocks(c, live));
  out.push(checkSupply(c, live, supply));
  out.push(await checkCertificates(c, live, set));
  return out;
}
