/**
 * Blocks (issue 20): the latest blocks, live, and one block's detail: its
 * header fields, its transactions with their status, and its finality
 * certificate (docs/PROTOCOL.md 7): who signed, their stake, the share of
 * the set. The certificate is verified in the page against the validator
 * table of the block's epoch, which `@pos/wallet-client` follows from the
 * pinned anchor with proofs (docs/PROTOCOL.md 11.1).
 *
 * @module
 */
import type { BlockResult, CertificateResult, TransactionResult } from '@pos/api';
import {
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  epochOfRound,
  toHex,
  verifyCertificate,
} from '@pos/protocol';
import type { VerifiedValidatorSet } from '@pos/wallet-client';
import { useEffect, useState } from 'preact/hooks';
import { clock, grouped, pct } from '../lib/format.js';
import { BlockLink, Failed, Fields, HashLink, Refused, useApp, Verified } from '../ui/common.js';
import { useAsync, usePoll } from '../ui/hooks.js';
import { Who } from '../ui/tx-view.js';

const PAGE = 25;

/** The latest blocks, newest first, refreshed on each new block. */
export function BlocksPage() {
  const { conn } = useApp();
  const [top, setTop] = useState<number | null>(null);
  const [blocks, setBlocks] = useState<BlockResult[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState(true);

  const load = async (below: number | null) => {
    const st = await conn.api.status();
    const head = below ?? st.height;
    if (head === null) return;
    const heights = Array.from({ length: PAGE * 2 }, (_, i) => head - i).filter((h) => h >= 0);
    const got = await conn.api.batch(
      'getBlock',
      heights.map((h) => [h] as [number]),
    );
    const found = got.filter((b): b is BlockResult => !(b instanceof Error)).slice(0, PAGE);
    setTop(head);
    setBlocks(found);
    setError(undefined);
  };
  usePoll(() => (live ? load(null).catch(setError) : undefined), 3000, [live]);
  useEffect(() => conn.onBlock(() => live && void load(null).catch(setError)), [live]);

  return (
    <section class="page">
      <div class="toolbar">
        <h2>Blocks</h2>
        <button type="button" onClick={() => setLive(!live)}>
          {live ? 'pause' : 'live'}
        </button>
        {live ? null : (
          <button
            type="button"
            onClick={() =>
              top !== null && void load((blocks.at(-1)?.height ?? top) - 1).catch(setError)
            }
          >
            older
          </button>
        )}
      </div>
      {error === undefined ? null : <Failed error={error} />}
      <table class="list" data-blocks>
        <thead>
          <tr>
            <th>height</th>
            <th>block hash</th>
            <th>time (UTC)</th>
            <th>transactions</th>
            <th>certified</th>
          </tr>
        </thead>
        <tbody>
          {blocks.map((b) => (
            <tr key={b.height} data-height={b.height}>
              <td>
                <BlockLink height={b.height} />
              </td>
              <td>
                <HashLink value={b.blockHash} />
              </td>
              <td>{clock(b.header.timestamp)}</td>
              <td class="num">{b.txHashes.length}</td>
              <td>{b.certified ? 'yes' : 'not yet'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface CertCheck {
  readonly cert: CertificateResult;
  readonly table: VerifiedValidatorSet;
  readonly verdict: ReturnType<typeof verifyCertificate>;
}

/** The certificate of `block`, verified against the followed table of its epoch. */
function Certificate(props: { block: BlockResult }) {
  const { conn, anchor } = useApp();
  const check = useAsync(async (): Promise<CertCheck | null> => {
    if (anchor === null) return null;
    const cert = await conn.api.getCertificate(props.block.height);
    const params = { lag: anchor.trust.lag, epoch: anchor.trust.epochLength };
    const table = await conn.verifier(anchor).validators(epochOfRound(props.block.height, params));
    const verdict = verifyCertificate(
      blockHeaderFromJSON(props.block.header),
      certificateFromJSON(cert.certificate),
      table,
    );
    return { cert, table, verdict };
  }, [props.block.blockHash, anchor?.chainId]);
  if (anchor === null) return <p>No trust anchor pinned: nothing can be verified.</p>;
  if (check.error !== undefined)
    return <Refused error={check.error} what="the certificate or its validator table" />;
  if (check.value == null) return <p>verifying the certificate…</p>;
  const { cert, table, verdict } = check.value;
  const stakeOf = new Map(table.validators.map((v) => [toHex(v.validatorId), v.stake]));
  const sigs = cert.certificate.signatures;
  return (
    <div>
      {verdict.ok ? (
        <Verified
          title="finality certificate verified in this page"
          lines={[
            `signed by ${grouped(verdict.signedStake)} of ${grouped(verdict.totalStake)} stake (${pct(verdict.signedStake, verdict.totalStake)}, more than 2/3) of epoch ${table.epoch}'s validator set`,
            `that set followed from the trust anchor (chain ${anchor.chainName}) by proofs`,
          ]}
        />
      ) : (
        <Refused
          error={{
            code: verdict.reason,
            message: `the certificate does not verify: ${verdict.reason}`,
          }}
        />
      )}
      <table class="list" data-signers>
        <thead>
          <tr>
            <th>signer</th>
            <th>stake</th>
            <th>share of the set</th>
          </tr>
        </thead>
        <tbody>
          {sigs.map((s) => {
            const stake = stakeOf.get(s.validatorId) ?? 0n;
            return (
              <tr key={s.validatorId}>
                <td>
                  <Who id={s.validatorId} />
                </td>
                <td class="num">{grouped(stake)}</td>
                <td class="num">{pct(stake, table.totalStake)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The transactions of a block with their status. */
function BlockTxs(props: { block: BlockResult }) {
  const { conn } = useApp();
  const txs = useAsync(
    () =>
      conn.api.batch(
        'getTransaction',
        props.block.txHashes.slice(0, 200).map((t) => [t] as [string]),
      ),
    [props.block.blockHash],
  );
  if (props.block.txHashes.length === 0) return <p>No transactions.</p>;
  if (txs.error !== undefined) return <Failed error={txs.error} />;
  const list = txs.value ?? [];
  return (
    <table class="list" data-block-txs>
      <thead>
        <tr>
          <th>#</th>
          <th>transaction</th>
          <th>status</th>
        </tr>
      </thead>
      <tbody>
        {props.block.txHashes.slice(0, 200).map((h, i) => {
          const t = list[i] as TransactionResult | Error | undefined;
          const status =
            t === undefined
              ? '…'
              : t instanceof Error
                ? 'unknown'
                : 'receipt' in t
                  ? `${t.status}${t.receipt.reason ? ` (${t.receipt.reason})` : ''}`
                  : t.status;
          return (
            <tr key={h}>
              <td>{i}</td>
              <td>
                <HashLink value={h} to="tx" />
              </td>
              <td>{status}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** One block. */
export function BlockPage(props: { height: number }) {
  const { conn } = useApp();
  const b = useAsync(() => conn.api.getBlock(props.height), [props.height]);
  if (b.error !== undefined) return <Failed error={b.error} />;
  if (b.value === undefined) return <p>loading…</p>;
  const block = b.value;
  const h = block.header;
  let hashOk = false;
  try {
    hashOk = toHex(blockHashOf(blockHeaderFromJSON(h))) === block.blockHash;
  } catch {
    hashOk = false;
  }
  return (
    <section class="page" data-block={block.height}>
      <h2>Block {block.height}</h2>
      <p>
        {block.height > 0 ? (
          <a href={`#/block/${block.height - 1}`}>← height {block.height - 1}</a>
        ) : null}{' '}
        <a href={`#/block/${block.height + 1}`}>height {block.height + 1} →</a>
      </p>
      <Fields
        rows={[
          [
            'block hash',
            <span class="mono">
              {block.blockHash}{' '}
              {hashOk ? '(the header hashes to it)' : '(does NOT match the header)'}
            </span>,
          ],
          ['chain', <span class="mono">{h.chainId}</span>],
          ['height (leader round)', String(h.height)],
          ['leader event', <HashLink value={h.leader} to="event" />],
          ['previous block', <HashLink value={h.prevBlockHash} />],
          ['timestamp', `${clock(h.timestamp)} (${h.timestamp})`],
          ['transactions', String(h.txCount)],
          ['state root', <span class="mono">{h.stateRoot}</span>],
          ['history root', <span class="mono">{h.historyRoot}</span>],
          ['history size', String(h.historySize)],
          ['validator set hash (next round)', <span class="mono">{h.validatorSetHash}</span>],
          ['certified (node says)', block.certified ? 'yes' : 'not yet'],
        ]}
      />
      <h3>Finality certificate</h3>
      {block.certified ? <Certificate block={block} /> : <p>Not certified yet.</p>}
      <h3>Transactions</h3>
      <BlockTxs block={block} />
    </section>
  );
}
