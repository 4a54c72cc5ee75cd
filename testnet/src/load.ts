/**
 * The testnet's load generator (`--load TPS`, issue 5 testnet point 2): real
 * signed transfers between the demo wallets at a fixed rate, spread over the
 * validators' JSON-RPC, with committed tx/s and submit-to-certificate
 * latency measured by the client.
 *
 * Each demo wallet holds many small genesis outputs for this. A transfer
 * spends one of them to another demo wallet (fee 1); the new output becomes
 * spendable once the block holding the transfer is applied (the mempool
 * checks inputs against the latest state). Blocks are followed on node 0's
 * `newBlocks` subscription: an applied block's `txHashes` (pos_getBlock) say
 * which transfers it holds, and its `certified` notification ends their
 * latency.
 */
import { readFileSync } from 'node:fs';
import {
  createSubscriptionClient,
  type NewBlockEvent,
  type SubscriptionClient,
  type WebSocketCtor,
} from '@pos/api';
import { fromHex, toHex } from '@pos/merkle';
import { createEd25519Signer, readKeyFile, type ValidatorKey } from '@pos/node';
import {
  encodeTx,
  genesisFromJSON,
  type Outpoint,
  signTx,
  type TxBody,
  txHashOf,
} from '@pos/protocol';
import { WebSocket } from 'undici';
import type { TestnetLayout, TestnetNode } from './network.js';
import { nodeApi } from './rpc.js';

/** What the generator has done so far. */
export interface LoadReport {
  submitted: number;
  refused: number;
  committed: number;
  certified: number;
  /** Submit → certificate, over the certified transfers, in ms. */
  p50Ms: number;
  p99Ms: number;
  /** Certified transfers per second since the first submit. */
  certifiedPerSec: number;
}

/** Options of {@link startLoad}. */
export interface LoadOpts {
  layout: TestnetLayout;
  /** The demo wallets' keys, in layout order. */
  wallets: ValidatorKey[];
  /** Each wallet's spendable outputs (from {@link fetchCoins}), in wallet order. */
  coins: Coin[][];
  /** validatorId that hosts the new outputs. */
  host: Uint8Array;
  ratePerSec: number;
  fee: bigint;
  /**
   * Called for each transfer a node accepted (`added: true`): its hash, the
   * signed bytes (hex, to resend), the index of the node that took it and
   * when it was sent (`Date.now()` before the request).
   * A crash test (issue 7) uses it to check that every one ends in a block.
   */
  onAccepted?: (a: { txHash: string; tx: string; node: number; sentAtMs: number }) => void;
}

/** A spendable output of a demo wallet. */
export interface Coin {
  outpoint: Outpoint;
  amount: bigint;
}

/**
 * The wallets' unspent outputs, as node 0 reports them (`pos_getOutputs`).
 * The generator trusts its own testnet here; verifying answers is the
 * wallet client's job.
 */
export async function fetchCoins(layout: TestnetLayout): Promise<Coin[][]> {
  return Promise.all(
    layout.wallets.map(async (w) => {
      const r = await nodeApi(layout.nodes[0]!.rpcUrl)
        .getOutputs(w.publicKey)
        .catch((e: Error) => {
          throw new Error(`pos_getOutputs: ${e.message}`);
        });
      return r.outputs.map((o) => ({
        outpoint: { txHash: fromHex(o.outpoint.txHash, 32), index: o.outpoint.index },
        amount: BigInt(o.amount),
      }));
    }),
  );
}

interface Pending {
  wallet: number;
  coin: Coin;
  to: number;
  atMs: number;
  height?: number;
}

/** Starts submitting; `stop()` ends it and resolves with the final report. */
export function startLoad(o: LoadOpts): {
  report(): LoadReport;
  stop(): Promise<LoadReport>;
} {
  const chainId = fromHex(o.layout.chainId, 32);
  const signers = o.wallets.map((k) => createEd25519Signer(k.secretKey, k.publicKey));
  const coins: Coin[][] = o.coins.map((c) => c.filter((x) => x.amount > 2n * o.fee));
  const pending = new Map<string, Pending>();
  const byHeight = new Map<number, string[]>();
  /** Heights certified before their pos_getBlock answer came back. */
  const certAt = new Map<number, number>();
  const fetching = new Set<number>();
  const latencies: number[] = [];
  let submitted = 0;
  let refused = 0;
  let committed = 0;
  let firstMs = 0;
  let lastCertMs = 0;
  let next = 0;
  let stopped = false;
  const rpc = o.layout.nodes.map((n) => n.rpcUrl);
  const apis = rpc.map(nodeApi);

  const sendOne = async () => {
    const w = next++ % o.wallets.length;
    const coin = coins[w]!.shift();
    if (coin === undefined) return; // this wallet waits for its change
    const to = (w + 1) % o.wallets.length;
    const body: TxBody = {
      chainId,
      inputs: [coin.outpoint],
      outputs: [{ amount: coin.amount - o.fee, owner: o.wallets[to]!.publicKey, host: o.host }],
      fee: o.fee,
      memo: new Uint8Array(0),
    };
    const k = o.wallets[w]!;
    const tx = signTx(body, [k.secretKey], {
      sign: (_sk, m) => signers[w]!(m),
      publicKey: () => k.publicKey,
    });
    const txHash = toHex(txHashOf(body));
    const atMs = performance.now();
    if (firstMs === 0) firstMs = atMs;
    pending.set(txHash, { wallet: w, coin, to, atMs });
    submitted++;
    try {
      const node = submitted % rpc.length;
      const hex = toHex(encodeTx(tx));
      const sentAtMs = Date.now();
      const r = await apis[node]!.sendTransaction(hex);
      if (r.added === true) {
        o.onAccepted?.({ txHash, tx: hex, node, sentAtMs });
      }
    } catch {
      refused++;
      pending.delete(txHash);
    }
  };

  const certify = (hashes: string[], atMs: number) => {
    for (const t of hashes) {
      const p = pending.get(t);
      if (p === undefined) continue;
      latencies.push(atMs - p.atMs);
      lastCertMs = Math.max(lastCertMs, atMs);
      pending.delete(t);
    }
  };

  /** Reads block `h`'s transfers on node `node`: their change becomes spendable. */
  const readBlock = (node: number, h: number) => {
    fetching.add(h);
    void apis[node]!.getBlock(h)
      .then((r) => {
        fetching.delete(h);
        const hashes = r.txHashes ?? [];
        const mine: string[] = [];
        for (const t of hashes) {
          const p = pending.get(t);
          if (p === undefined || p.height !== undefined) continue;
          p.height = h;
          mine.push(t);
          committed++;
          // The change is spendable now that the block is applied.
          if (p.coin.amount - o.fee > o.fee) {
            coins[p.to]!.push({
              outpoint: { txHash: fromHex(t, 32), index: 0 },
              amount: p.coin.amount - o.fee,
            });
          }
        }
        const at = certAt.get(h);
        certAt.delete(h);
        if (at !== undefined) certify(mine, at);
        else if (mine.length > 0) byHeight.set(h, [...(byHeight.get(h) ?? []), ...mine]);
      })
      .catch(() => {
        fetching.delete(h); // the node went away; those transfers stay unmeasured
      });
  };

  // Blocks as node 0 (or, once it is gone, the next node) applies them.
  let lastApplied = -1;
  const onBlock = (node: number, b: NewBlockEvent): void => {
    if (typeof b?.height !== 'number') return;
    const h = b.height;
    if (b.certified === true) {
      const now = performance.now();
      if (fetching.has(h)) certAt.set(h, now);
      certify(byHeight.get(h) ?? [], now);
      byHeight.delete(h);
      return;
    }
    const from = lastApplied < 0 ? h : lastApplied + 1;
    lastApplied = Math.max(lastApplied, h);
    for (let k = from; k < h; k++) readBlock(node, k); // missed while switching nodes
    if (b.txCount) readBlock(node, h);
  };
  const follower = followBlocks(rpc, onBlock, () => stopped);

  // Paced by elapsed time, not by ticks (timers drift under load).
  const startMs = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - startMs) * o.ratePerSec) / 1000);
    for (; sent < due; sent++) void sendOne();
  }, 20);

  const report = (): LoadReport =>
    reportOf({ submitted, refused, committed, latencies, firstMs, lastCertMs });
  return {
    report,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // Let the last certificates in (up to 20 s: a loaded machine is slow).
      const until = performance.now() + 20_000;
      while (pending.size > 0 && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
      }
      follower.close();
      return report();
    },
  };
}

/** The report of what a generator counted and measured. */
function reportOf(m: {
  submitted: number;
  refused: number;
  committed: number;
  latencies: readonly number[];
  firstMs: number;
  lastCertMs: number;
}): LoadReport {
  const sorted = [...m.latencies].sort((a, b) => a - b);
  const q = (p: number) =>
    sorted.length === 0
      ? Number.NaN
      : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const span = (m.lastCertMs - m.firstMs) / 1000;
  return {
    submitted: m.submitted,
    refused: m.refused,
    committed: m.committed,
    certified: m.latencies.length,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    certifiedPerSec: span > 0 ? m.latencies.length / span : 0,
  };
}

/**
 * Follows blocks on one node's newBlocks subscription. When that node goes
 * away (the soak and crash tests kill validators), follows the next one:
 * `onBlock` learns which node said what, and reads the blocks applied in
 * between, since a transfer whose block was missed would keep its change
 * unspendable and starve its wallet.
 */
function followBlocks(
  rpc: readonly string[],
  onBlock: (node: number, b: NewBlockEvent) => void,
  stopped: () => boolean,
): { close(): void } {
  let ws: SubscriptionClient | null = null;
  const follow = (node: number): void => {
    if (stopped()) return;
    const sock = createSubscriptionClient({
      url: rpc[node]!,
      WebSocket: WebSocket as unknown as WebSocketCtor,
    });
    ws = sock;
    void sock.closed.then(() => {
      if (!stopped()) setTimeout(() => follow((node + 1) % rpc.length), 500);
    });
    // A failed subscribe is a closed socket: the close above moves on.
    sock.subscribe('newBlocks', [], (b) => onBlock(node, b)).catch(() => {});
  };
  follow(0);
  return { close: () => ws?.close() };
}

/** A running generator: {@link startLoad}'s result. */
export type LoadHandle = ReturnType<typeof startLoad>;

/** Options of {@link startDemoLoad}. */
export interface DemoLoadOpts {
  ratePerSec: number;
  /** The nodes that take the transfers (default: every node of the layout). */
  nodes?: readonly TestnetNode[];
  /** validatorId that hosts the new outputs (default: validator 0's). */
  host?: Uint8Array;
  onAccepted?: LoadOpts['onAccepted'];
}

/**
 * {@link startLoad} over the network's demo wallets: their keys from
 * testnet.json's key files, their coins from node 0, the genesis's minimum
 * fee. What the CLI's `--load`, the soak and the fault, crash and Byzantine
 * tests run.
 */
export async function startDemoLoad(layout: TestnetLayout, o: DemoLoadOpts): Promise<LoadHandle> {
  const genesis = genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  return startLoad({
    layout: o.nodes === undefined ? layout : { ...layout, nodes: [...o.nodes] },
    wallets: await Promise.all(layout.wallets.map((w) => readKeyFile(w.keyFile))),
    coins: await fetchCoins(layout),
    host: o.host ?? fromHex(layout.nodes[0]!.validatorId, 32),
    ratePerSec: o.ratePerSec,
    fee: genesis.params.minFee,
    ...(o.onAccepted === undefined ? {} : { onAccepted: o.onAccepted }),
  });
}
