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

/** Runs every check once; never throws for what a node answers. */
export async function checkTestnet(
  layout: TestnetLayout,
  opts: Partial<CheckOpts> = {},
): Promise<CheckResult[]> {
  const o = { ...defaultCheckOpts, ...opts };
  const out: CheckResult[] = [];
  const genesis = genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  const supply = genesisSupply(genesis);
  const set = makeValidatorSet(trustFromGenesis(genesis).validators);
  const urls = layout.nodes.map((n) => n.rpcUrl);
  const name = (i: number) => layout.nodes[i]!.name;

  // 1. Every node answers, on this chain.
  const status: (Json | null)[] = await Promise.all(
    urls.map(async (u) => {
      try {
        return ((await rpc(u, 'pos_status')).result as Json) ?? null;
      } catch {
        return null;
      }
    }),
  );
  const bad = status.flatMap((s, i) =>
    s === null
      ? [`${name(i)} does not answer`]
      : s.chainId !== layout.chainId
        ? [`${name(i)} is on chain ${s.chainId}`]
        : [],
  );
  out.push({
    name: 'every node answers on this chain',
    ok: bad.length === 0,
    detail:
      bad.length === 0
        ? `${urls.length} nodes, chain ${layout.chainId.slice(0, 18)}…`
        : bad.join('; '),
  });
  const live = status.map((s, i) => ({ s, i })).filter((x) => x.s !== null) as {
    s: Json;
    i: number;
  }[];
  if (live.length === 0) return out;

  // 2. Heights advance (first: it also gives a fresh network time to make blocks).
  const start = new Map(live.map(({ s, i }) => [i, (s.height as number | null) ?? -1]));
  const deadline = Date.now() + o.waitMs;
  const pendingNodes = new Set(start.keys());
  while (pendingNodes.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    for (const i of [...pendingNodes]) {
      try {
        const s = (await rpc(urls[i]!, 'pos_status')).result as Json;
        if (((s.height as number | null) ?? -1) > start.get(i)!) pendingNodes.delete(i);
      } catch {
        // still pending
      }
    }
  }
  out.push({
    name: 'heights advance',
    ok: pendingNodes.size === 0,
    detail:
      pendingNodes.size === 0
        ? `every node applied a new block within ${o.waitMs / 1000} s`
        : `no new block in ${o.waitMs / 1000} s on ${[...pendingNodes].map(name).join(', ')}`,
  });
  // A young network may have blocks but no certificate yet: give it the
  // rest of the same budget to certify one on every node.
  const uncertified = new Set(live.map(({ i }) => i));
  while (uncertified.size > 0 && Date.now() < deadline) {
    for (const i of [...uncertified]) {
      try {
        const s = (await rpc(urls[i]!, 'pos_status')).result as Json;
        if (s.lastCertifiedHeight !== null) uncertified.delete(i);
      } catch {
        // still pending
      }
    }
    if (uncertified.size > 0) await new Promise((r) => setTimeout(r, 500));
  }
  // Later checks look at the network after it has moved on.
  const again: (Json | null)[] = await Promise.all(
    live.map(async ({ i }) => {
      try {
        return ((await rpc(urls[i]!, 'pos_status')).result as Json) ?? null;
      } catch {
        return null;
      }
    }),
  );
  for (const [k, x] of live.entries()) if (again[k] !== null) x.s = again[k]!;

  // 3. The same block at every checked height (all at or below every node's height).
  const heights = live.map((x) => (x.s.height as number | null) ?? -1);
  const common = Math.min(...heights);
  const checked = new Set<number>();
  for (let h = common; h >= 0 && h > common - 33; h--) checked.add(h);
  if (common >= 0) for (let h = common - (common % o.stride); h >= 0; h -= o.stride) checked.add(h);
  const splits: string[] = [];
  let blocks = 0;
  for (const h of [...checked].sort((a, b) => a - b)) {
    const hashes = await Promise.all(
      live.map(async ({ i }) => {
        const r = await rpc(urls[i]!, 'pos_getBlock', [h]);
        return r.result === undefined ? 'none' : String((r.result as Json).blockHash);
      }),
    );
    if (hashes[0] !== 'none') blocks++;
    if (new Set(hashes).size > 1) {
      splits.push(
        `height ${h}: ${hashes.map((x, k) => `${name(live[k]!.i)} ${x.slice(0, 10)}`).join(', ')}`,
      );
    }
  }
  out.push({
    name: 'the same block at every checked height',
    ok: splits.length === 0,
    detail:
      splits.length === 0
        ? `${checked.size} heights up to ${common} (${blocks} with a block) agree on ${live.length} nodes`
        : splits.slice(0, 3).join('; '),
  });

  // 4. Supply conserved.
  const leaks = live.flatMap(({ s, i }) => {
    const sup = s.supply as { unspent?: string; burned?: string } | undefined;
    if (sup?.unspent === undefined || sup.burned === undefined)
      return [`${name(i)} reports no supply`];
    const sum = BigInt(sup.unspent) + BigInt(sup.burned);
    return sum === supply
      ? []
      : [`${name(i)}: ${sup.unspent} + ${sup.burned} = ${sum} ≠ ${supply}`];
  });
  out.push({
    name: 'supply conserved (unspent + burned = genesis supply)',
    ok: leaks.length === 0,
    detail: leaks.length === 0 ? `${supply} on every node` : leaks.join('; '),
  });

  // 5. Certificates valid, and for the block the others hold.
  const certBad: string[] = [];
  let certs = 0;
  for (const { s, i } of live) {
    const h = s.lastCertifiedHeight as number | null;
    if (h === null) continue;
    const r = await rpc(urls[i]!, 'pos_getCertificate', [h]);
    const res = r.result as Json | undefined;
    if (res === undefined || res.header === null) {
      certBad.push(`${name(i)}: no certificate at its lastCertifiedHeight ${h}`);
      continue;
    }
    try {
      const header = blockHeaderFromJSON(res.header);
      const cert = certificateFromJSON(res.certificate);
      const v = verifyCertificate(header, cert, set);
      if (!v.ok) certBad.push(`${name(i)} height ${h}: ${v.reason}`);
      else certs++;
      for (const { i: j } of live) {
        if (j === i) continue;
        const b = (await rpc(urls[j]!, 'pos_getBlock', [h])).result as Json | undefined;
        if (b !== undefined && String(b.blockHash) !== toHex(cert.blockHash)) {
          certBad.push(`${name(i)} certified height ${h} for another block than ${name(j)} holds`);
        }
      }
    } catch (e) {
      certBad.push(`${name(i)} height ${h}: ${(e as Error).message}`);
    }
  }
  out.push({
    name: 'certificates verify against the validator set (> 2/3 of the stake)',
    ok: certBad.length === 0 && certs > 0,
    detail:
      certBad.length > 0
        ? certBad.join('; ')
        : certs === 0
          ? 'no certificate yet'
          : `${certs} nodes' latest certificates verify`,
  });

  return out;
}
