/**
 * The browser wallet's history, as the CLI's `history` (docs/PROTOCOL.md
 * 11): what it sent (its journal) and what it received into the outputs it
 * holds, every receipt proved under one certified header.
 *
 * @module
 */
import { formatAmount, fromHex, toHex } from '@pos/protocol';
import type { VerifiedBalance, VerifiedReceipt, WalletClient } from '@pos/wallet-client';
import type { JournalEntry } from '../lib/wallet-store.js';
import { errorInfo, HashLink, useApp } from '../ui/common.js';
import { useAsync } from '../ui/hooks.js';

interface Line {
  readonly txHash: string;
  readonly what: string;
  readonly delta: string;
  readonly proved: VerifiedReceipt | { error: string };
}

async function prove(
  client: WalletClient,
  journal: readonly JournalEntry[],
  balance: VerifiedBalance,
): Promise<Line[]> {
  const head = await client.certifiedHeader();
  const proveOne = (h: string) =>
    client
      .receipt(fromHex(h, 32), head)
      .catch((e: unknown) => ({ error: `${errorInfo(e).code}: ${errorInfo(e).message}` }));
  const sent = new Set(journal.map((j) => j.txHash));
  // Received: into outputs held now, or into outputs a journaled transfer spent.
  const received = new Map<string, bigint>();
  const add = (h: string, amount: bigint) => {
    if (!sent.has(h)) received.set(h, (received.get(h) ?? 0n) + amount);
  };
  for (const o of balance.outputs) add(toHex(o.outpoint.txHash), o.output.amount);
  for (const j of journal) for (const x of j.spent ?? []) add(x.txHash, BigInt(x.amount));
  const lines: Line[] = [];
  for (const [h, amount] of received) {
    // A genesis output's "transaction" is the chain itself: nothing to prove.
    if (h === toHex(head.chainId)) continue;
    lines.push({
      txHash: h,
      what: 'received',
      delta: `+${formatAmount(amount)}`,
      proved: await proveOne(h),
    });
  }
  for (const j of journal) {
    const out = BigInt(j.amount) + BigInt(j.fee);
    lines.push({
      txHash: j.txHash,
      what: `sent to ${j.to.slice(0, 12)}…`,
      delta: `-${formatAmount(out)}`,
      proved: await proveOne(j.txHash),
    });
  }
  return lines;
}

/** The history of `address`, refreshed when `version` changes. */
export function History(props: {
  address: string;
  client: WalletClient;
  balance: VerifiedBalance;
  version: number;
}) {
  const { walletStore } = useApp();
  const lines = useAsync(
    () => prove(props.client, walletStore.journal(props.address), props.balance),
    [props.address, props.version, props.balance],
  );
  if (lines.value === undefined) return <p>proving the history…</p>;
  return (
    <table class="list" data-history>
      <thead>
        <tr>
          <th>transaction</th>
          <th>what</th>
          <th>amount</th>
          <th>receipt</th>
        </tr>
      </thead>
      <tbody>
        {lines.value.map((l) => (
          <tr key={l.txHash} data-history-tx={l.txHash}>
            <td>
              <HashLink value={l.txHash} to="tx" />
            </td>
            <td>{l.what}</td>
            <td class="num">{l.delta}</td>
            <td>
              {'error' in l.proved
                ? `not proved: ${l.proved.error}`
                : `✓ ${l.proved.receipt.status} at height ${l.proved.height}, proved under certified height ${l.proved.certifiedHeight}`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
