/**
 * The soak's transfers: every transfer a node accepted must end committed
 * or rejected with a receipt. A validator killed with SIGKILL loses its
 * mempool (memory only), so the client does what a wallet does: a transfer
 * with no receipt 30 s after it was sent is sent again, to another node.
 */
import type { Testnet } from '../network.js';
import { rpcCall } from '../rpc.js';

/** An accepted transfer, followed to its receipt. */
export interface Accepted {
  tx: string;
  node: number;
  sentAtMs: number;
  resent: boolean;
  /** Its receipt, once a node has one. */
  status?: 'committed' | 'rejected';
}

/** How the transfers ended. */
export interface Settled {
  /** Hashes of the accepted transfers with no receipt even so. */
  lost: string[];
  committed: number;
  rejected: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type TxStatus = 'committed' | 'rejected' | 'pending' | 'unknown';

/** The status of a transfer on the first node that has a receipt for it. */
async function statusOf(net: Testnet, txHash: string): Promise<TxStatus> {
  let best: TxStatus = 'unknown';
  for (const n of net.layout.nodes) {
    try {
      const r = (await rpcCall(n.rpcUrl, 'pos_getTransaction', [txHash])) as {
        result?: { status?: string };
      };
      const s = r.result?.status;
      if (s === 'committed' || s === 'rejected') return s;
      if (s === 'pending') best = 'pending';
    } catch {
      // that node is down or busy: ask the next
    }
  }
  return best;
}

/** Resends (to another node) the accepted transfers with no receipt 30 s after sending. */
export async function resendStale(
  net: Testnet,
  accepted: Map<string, Accepted>,
  say: (line: string) => void,
): Promise<void> {
  const now = Date.now();
  let n = 0;
  for (const [h, a] of accepted) {
    if (a.status !== undefined || a.resent || now - a.sentAtMs < 30_000) continue;
    const s = await statusOf(net, h);
    if (s === 'committed' || s === 'rejected') {
      a.status = s;
      continue;
    }
    if (s === 'pending') continue;
    const to = (a.node + 1) % net.layout.nodes.length;
    await rpcCall(net.layout.nodes[to]!.rpcUrl, 'pos_sendTransaction', [a.tx]).catch(() => null);
    a.resent = true;
    n++;
  }
  if (n > 0) say(`    resent ${n} transfers that no node knew (a killed node's mempool)`);
}

/** Waits (up to 3 min) until every accepted transfer has a receipt. */
export async function settle(
  net: Testnet,
  accepted: Map<string, Accepted>,
  say: (line: string) => void,
): Promise<Settled> {
  const open = () => [...accepted].filter(([, a]) => a.status === undefined);
  const deadline = Date.now() + 180_000;
  while (open().length > 0 && Date.now() < deadline) {
    for (const [h, a] of open()) {
      const s = await statusOf(net, h);
      if (s === 'committed' || s === 'rejected') a.status = s;
    }
    if (open().length === 0) break;
    await resendStale(net, accepted, say);
    await sleep(2000);
  }
  const count = (s: string) => [...accepted.values()].filter((a) => a.status === s).length;
  return {
    lost: open().map(([h]) => h),
    committed: count('committed'),
    rejected: count('rejected'),
  };
}
