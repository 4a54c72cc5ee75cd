/**
 * Transaction, address and event lookup (issue 20). A transaction's status
 * is the node's word; its receipt is proved in the page by
 * `@pos/wallet-client` (inclusion in the history log under a certified
 * header, docs/PROTOCOL.md 4, 7, 11), and the page says against what: the
 * certified height, the history root and size, the stake that signed. An
 * address's balance likewise (a completeness proof under a certified state
 * root, docs/PROTOCOL.md 6.3). A refused answer shows the refusal, never
 * the value.
 *
 * @module
 */
import { ApiError } from '@pos/api';
import { formatAmount, fromHex, isCoded, toHex } from '@pos/protocol';
import { type VerifiedReceipt, WalletError } from '@pos/wallet-client';
import { useEffect } from 'preact/hooks';
import { grouped, pct, shortHex } from '../lib/format.js';
import { hrefOf } from '../lib/route.js';
import { parseSearch } from '../lib/search.js';
import { findTxBody } from '../lib/tx-body.js';
import { BlockLink, Failed, Fields, HashLink, Refused, useApp, Verified } from '../ui/common.js';
import { EventView } from '../ui/event-view.js';
import { useAsync } from '../ui/hooks.js';
import { TxBodyView } from '../ui/tx-view.js';

/** The lines that say what a receipt was verified against. */
export function receiptLines(r: VerifiedReceipt, chainName: string): string[] {
  return [
    `receipt: ${r.receipt.status}${r.receipt.reason === undefined ? '' : ` (${r.receipt.reason})`} at height ${r.height}, index ${r.receipt.index}`,
    `included in the history log of size ${r.historySize}, root ${shortHex(toHex(r.historyRoot), 18, 0)} (an RFC 9162 inclusion proof)`,
    `under the header of certified height ${r.certifiedHeight}, whose finality certificate was signed by ${grouped(r.signedStake)} of ${grouped(r.totalStake)} stake (${pct(r.signedStake, r.totalStake)}, more than 2/3) of epoch ${r.epoch}'s validator set`,
    `of chain ${chainName}, followed from the pinned trust anchor`,
  ];
}

/** The receipt of `hash`, proved in the page. */
function ProvedReceipt(props: { hash: string }) {
  const { conn, anchor } = useApp();
  const r = useAsync(async () => {
    if (anchor === null) return null;
    for (let i = 0; ; i++) {
      try {
        return await conn.verifier(anchor).receipt(fromHex(props.hash, 32));
      } catch (e) {
        // A block not yet covered by a certified header: wait for one.
        if (i < 20 && e instanceof WalletError && e.code === 'NOT_YET') {
          await new Promise((res) => setTimeout(res, 1000));
          continue;
        }
        throw e;
      }
    }
  }, [props.hash, anchor?.chainId]);
  if (anchor === null) return <p>No trust anchor pinned: nothing can be verified.</p>;
  if (r.error !== undefined)
    return <Refused error={r.error} what="the receipt and its inclusion proof" />;
  if (r.value == null) return <p data-verifying>verifying the receipt…</p>;
  return (
    <Verified
      title="receipt verified in this page"
      lines={receiptLines(r.value, anchor.chainName)}
    />
  );
}

/** A transaction: the node's status, the proved receipt, the body. */
export function TxPage(props: { hash: string }) {
  const { conn } = useApp();
  const st = useAsync(() => conn.api.getTransaction(props.hash), [props.hash]);
  const recorded = st.value !== undefined && 'receipt' in st.value ? st.value : null;
  const body = useAsync(
    () =>
      st.value === undefined
        ? Promise.resolve(null)
        : findTxBody(conn.api, props.hash, recorded?.height ?? null),
    [props.hash, st.value?.status],
  );
  return (
    <section class="page" data-tx={props.hash}>
      <h2>Transaction</h2>
      <p class="mono">{props.hash}</p>
      {st.error !== undefined ? <Failed error={st.error} /> : null}
      {st.value === undefined ? null : (
        <Fields
          rows={[
            ['status (the node says)', st.value.status],
            ['block', recorded === null ? '-' : <BlockLink height={recorded.height} />],
          ]}
        />
      )}
      {recorded === null ? null : <ProvedReceipt hash={props.hash} />}
      <h3>Body</h3>
      {body.error !== undefined ? <Failed error={body.error} /> : null}
      {body.value == null ? (
        <p>looking for it…</p>
      ) : body.value.found ? (
        <div>
          <p class="small">
            carried by event <HashLink value={body.value.eventHash} to="event" />; its bytes hash to
            this transaction's id.
          </p>
          <TxBodyView tx={body.value.tx} />
        </div>
      ) : (
        <p>{body.value.reason}</p>
      )}
    </section>
  );
}

/** An address: its balance and outputs, proved complete in the page. */
export function AddressPage(props: { hash: string }) {
  const { conn, anchor } = useApp();
  const b = useAsync(
    async () => (anchor === null ? null : conn.verifier(anchor).balance(fromHex(props.hash, 32))),
    [props.hash, anchor?.chainId],
  );
  return (
    <section class="page" data-address={props.hash}>
      <h2>Address</h2>
      <p class="mono">{props.hash}</p>
      {anchor === null ? <p>No trust anchor pinned: nothing can be verified.</p> : null}
      {b.error !== undefined ? <Refused error={b.error} what="the balance and its proof" /> : null}
      {b.value == null ? (
        b.error === undefined ? (
          <p>verifying the balance…</p>
        ) : null
      ) : (
        <div>
          <p class="balance">
            balance <strong data-balance>{formatAmount(b.value.balance)}</strong> in{' '}
            {b.value.outputs.length} outputs
          </p>
          <Verified
            title="balance verified in this page"
            lines={[
              `every output of the owner, complete: a completeness proof under the state root ${shortHex(toHex(b.value.stateRoot), 18, 0)}`,
              `of block ${b.value.height} (${shortHex(toHex(b.value.blockHash), 18, 0)}), whose finality certificate was signed by ${grouped(b.value.signedStake)} of ${grouped(b.value.totalStake)} stake (${pct(b.value.signedStake, b.value.totalStake)}, more than 2/3) of epoch ${b.value.epoch}'s validator set`,
            ]}
          />
          <table class="list">
            <thead>
              <tr>
                <th>created by</th>
                <th>index</th>
                <th>amount</th>
                <th>host</th>
              </tr>
            </thead>
            <tbody>
              {b.value.outputs.slice(0, 200).map((o) => (
                <tr key={`${toHex(o.outpoint.txHash)}:${o.outpoint.index}`}>
                  <td>
                    <HashLink value={toHex(o.outpoint.txHash)} to="tx" />
                  </td>
                  <td>{o.outpoint.index}</td>
                  <td class="num">{formatAmount(o.output.amount)}</td>
                  <td>
                    <HashLink value={toHex(o.output.host)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {b.value.outputs.length > 200 ? (
            <p class="small">(the first 200 of {b.value.outputs.length})</p>
          ) : null}
        </div>
      )}
    </section>
  );
}

/** An event's page. */
export function EventPage(props: { hash: string }) {
  return (
    <section class="page">
      <h2>Event</h2>
      <EventView hash={props.hash} />
    </section>
  );
}

/** Resolves a search to the page it names (validated first: nothing is asked for invalid input). */
export function SearchPage(props: { query: string }) {
  const { conn } = useApp();
  const target = parseSearch(props.query);
  const found = useAsync(async () => {
    if (target.kind !== 'hash') return null;
    const [tx, ev] = await Promise.all([
      conn.api.getTransaction(target.hash),
      conn.api.getEvent(target.hash).catch((e) => {
        if (isCoded(e, ApiError, ['NOT_FOUND'])) return null;
        throw e;
      }),
    ]);
    if (tx.status !== 'unknown') return hrefOf({ page: 'tx', hash: target.hash });
    if (ev !== null) return hrefOf({ page: 'event', hash: target.hash });
    return hrefOf({ page: 'address', hash: target.hash });
  }, [props.query]);
  useEffect(() => {
    if (target.kind === 'height')
      location.replace(hrefOf({ page: 'block', height: target.height }));
    else if (typeof found.value === 'string') location.replace(found.value);
  }, [found.value, props.query]);
  if (target.kind === 'invalid') {
    return (
      <section class="page">
        <p class="failed" data-search-invalid>
          Not searched: {target.reason}.
        </p>
      </section>
    );
  }
  return found.error === undefined ? <p>searching…</p> : <Failed error={found.error} />;
}
