/**
 * One event (docs/PROTOCOL.md 6.1, 10.1): its wire fields, its consensus
 * facts while the node's engine holds them, its payloads, and its
 * transactions decoded from the bytes it carries (`pos_getEventTransactions`).
 *
 * @module
 */
import { fromHex, readTx, type Tx, toHex } from '@pos/protocol';
import { clock } from '../lib/format.js';
import { BlockLink, Failed, Fields, HashLink, useApp } from './common.js';
import { useAsync } from './hooks.js';
import { Who } from './tx-view.js';

/** A transaction of an event, decoded if it decodes. */
function CarriedTx(props: { id: string; hex: string }) {
  let tx: Tx | null = null;
  try {
    tx = readTx(fromHex(props.hex));
  } catch {
    tx = null;
  }
  const matches = tx !== null && toHex(tx.txHash) === props.id;
  return (
    <tr>
      <td>
        <HashLink value={props.id} to="tx" />
      </td>
      <td>
        {tx === null ? 'malformed' : matches ? `${tx.body.outputs.length} outputs` : 'id mismatch'}
      </td>
      <td class="memo">{(props.hex.length - 2) / 2} bytes</td>
    </tr>
  );
}

const fact = (v: boolean | number | null) =>
  v === null ? 'not known (yet, or compacted)' : String(v);

/** The event `hash`. */
export function EventView(props: { hash: string }) {
  const { conn } = useApp();
  const ev = useAsync(
    () => Promise.all([conn.api.getEvent(props.hash), conn.api.getEventTransactions(props.hash)]),
    [props.hash],
  );
  if (ev.error !== undefined) return <Failed error={ev.error} />;
  if (ev.value === undefined) return <p>loading…</p>;
  const [e, txs] = ev.value;
  return (
    <div class="event" data-event={e.hash}>
      <Fields
        rows={[
          ['hash', <span class="mono">{e.hash}</span>],
          ['creator', <Who id={e.creator} />],
          ['seq', String(e.seq)],
          ['round', fact(e.round)],
          ['witness', fact(e.witness)],
          ['famous', e.witness === false ? '(not a witness)' : fact(e.famous)],
          [
            'ordered in',
            e.orderedIn === null ? 'no block yet' : <BlockLink height={e.orderedIn} />,
          ],
          ['leader', e.leader ? `yes: it led block ${e.orderedIn}` : 'no'],
          [
            'self-parent',
            e.selfParent === null ? '(first event)' : <HashLink value={e.selfParent} to="event" />,
          ],
          [
            'other-parent',
            e.otherParent === null ? (
              '(none)'
            ) : (
              <span>
                <HashLink value={e.otherParent.hash} to="event" /> by{' '}
                <Who id={e.otherParent.creator} /> seq {e.otherParent.seq}
              </span>
            ),
          ],
          ['timestamp', `${clock(e.timestamp)} (${e.timestamp})`],
          ['generation', fact(e.generation)],
          ['signature', <span class="mono small">{e.signature}</span>],
        ]}
      />
      <h4>payloads ({e.payloads.length})</h4>
      <ul>
        {e.payloads.map((p, i) => (
          <li key={i}>
            kind {p.kind}
            {p.kind === 1 ? ' (block signature)' : ''}:{' '}
            <span class="mono small">{p.data.slice(0, 74)}…</span>
          </li>
        ))}
      </ul>
      <h4>transactions ({e.txHashes.length})</h4>
      <table class="list">
        <tbody>
          {e.txHashes.map((id, i) => (
            <CarriedTx key={id} id={id} hex={txs.transactions[i] ?? '0x'} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
