/**
 * A decoded transaction (docs/PROTOCOL.md 6.2): inputs, outputs, fee, memo
 * and registration. The memo and a registration's name and endpoint are
 * on-chain strings: shown as text (./format.ts `bytesText`, `visible`),
 * never as markup.
 *
 * @module
 */
import { formatAmount, type Tx, toHex, utf8Encoder } from '@pos/protocol';
import { bytesText, visible } from '../lib/format.js';
import { Fields, HashLink, useApp } from './common.js';

/** A validatorId or key, with its (unverified) name when known. */
export function Who(props: { id: string; to?: 'address' }) {
  const { names } = useApp();
  const name = names.get(props.id);
  return (
    <span>
      <HashLink value={props.id} to={props.to ?? 'search'} />
      {name === undefined ? null : <span class="name"> {visible(name)}</span>}
    </span>
  );
}

/** The body of a decoded transaction. */
export function TxBodyView(props: { tx: Tx }) {
  const { body, signatures } = props.tx;
  const memo = bytesText(body.memo);
  const rows: [string, preact.ComponentChildren][] = [
    ['fee', formatAmount(body.fee)],
    [
      'memo',
      <span class="memo" data-memo-kind={memo.kind}>
        {memo.kind === 'empty' ? '(none)' : memo.text}
      </span>,
    ],
    ['signatures', String(signatures.length)],
  ];
  const reg = body.register;
  if (reg !== undefined) {
    rows.push([
      'registers',
      <span>
        validator key <HashLink value={toHex(reg.pubkey)} />, name{' '}
        <span class="memo">{bytesText(utf8Encoder.encode(reg.name)).text || '(none)'}</span>, p2p{' '}
        <span class="memo">{visible(reg.p2p)}</span>
      </span>,
    ]);
  }
  const nameOp = body.name;
  if (nameOp !== undefined) {
    // The name as bytes text: a malformed one (refused by the ledger, BAD_NAME)
    // is shown escaped, never rendered as it claims to look.
    rows.push([
      'name',
      <span>
        {nameOp.op} <span class="memo">{bytesText(utf8Encoder.encode(nameOp.name)).text}</span>
        {nameOp.owner === undefined ? null : (
          <>
            {' '}
            to <HashLink value={toHex(nameOp.owner)} />
          </>
        )}
      </span>,
    ]);
  }
  return (
    <div>
      <Fields rows={rows} />
      <h4>inputs ({body.inputs.length})</h4>
      <table class="list">
        <tbody>
          {body.inputs.map((i) => (
            <tr key={`${toHex(i.txHash)}:${i.index}`}>
              <td>
                <HashLink value={toHex(i.txHash)} to="tx" />
              </td>
              <td>output {i.index}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>outputs ({body.outputs.length})</h4>
      <table class="list">
        <thead>
          <tr>
            <th>#</th>
            <th>amount</th>
            <th>owner</th>
            <th>host</th>
          </tr>
        </thead>
        <tbody>
          {body.outputs.map((o, i) => (
            <tr key={i}>
              <td>{i}</td>
              <td class="num">{formatAmount(o.amount)}</td>
              <td>
                <Who id={toHex(o.owner)} to="address" />
              </td>
              <td>
                <Who id={toHex(o.host)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
