/**
 * Validators and stake by epoch (issue 20; docs/PROTOCOL.md 6.5): each
 * epoch's table verified by `@pos/wallet-client` (followed from the pinned
 * anchor, each table proved in a certified state), who joined and who left
 * between epochs (registrations take effect at an epoch's start), and the
 * equivocation evidence the node holds (docs/PROTOCOL.md 5.2, 7).
 *
 * @module
 */
import { toHex } from '@pos/protocol';
import type { VerifiedValidatorSet } from '@pos/wallet-client';
import { useState } from 'preact/hooks';
import { grouped, pct, visible } from '../lib/format.js';
import { BlockLink, Failed, HashLink, Refused, useApp, Verified } from '../ui/common.js';
import { useAsync } from '../ui/hooks.js';

const EPOCHS_SHOWN = 6;

function provenance(t: VerifiedValidatorSet, anchorName: string): string {
  const p = t.provenance;
  if (p.kind === 'anchor') return `the trust anchor's own table (genesis of ${anchorName})`;
  return `committed in the state of block ${p.height} (an inclusion proof under its state root), that block certified by ${pct(p.signedStake, p.certifierTotalStake)} of epoch ${p.certifiedBy}'s stake`;
}

function EpochTable(props: {
  table: VerifiedValidatorSet;
  prev: VerifiedValidatorSet | null;
  anchorName: string;
}) {
  const t = props.table;
  const before = new Set(props.prev?.validators.map((v) => toHex(v.validatorId)) ?? []);
  const now = new Set(t.validators.map((v) => toHex(v.validatorId)));
  const left = props.prev?.validators.filter((v) => !now.has(toHex(v.validatorId))) ?? [];
  return (
    <div class="epoch" data-epoch={t.epoch}>
      <h3>
        Epoch {t.epoch}: rounds {t.firstRound}..{t.lastRound}
        {t.snapshotRound === null ? '' : `, taken after round ${t.snapshotRound}`}
      </h3>
      <Verified
        title={`table verified: ${t.validators.length} validators, total stake ${grouped(t.totalStake)}`}
        lines={[
          provenance(t, props.anchorName),
          'names and endpoints: as listed, not part of the committed table (not verified)',
        ]}
      />
      <table class="list">
        <thead>
          <tr>
            <th>name</th>
            <th>validatorId</th>
            <th>stake</th>
            <th>share</th>
            <th>endpoint</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {t.validators.map((v) => {
            const id = toHex(v.validatorId);
            const label = t.labels.get(id);
            return (
              <tr key={id}>
                <td class="name">{visible(label?.name ?? '')}</td>
                <td>
                  <HashLink value={id} />
                </td>
                <td class="num">{grouped(v.stake)}</td>
                <td class="num">{pct(v.stake, t.totalStake)}</td>
                <td class="memo">{visible(label?.endpoint ?? '')}</td>
                <td>{props.prev !== null && !before.has(id) ? 'joined (registered)' : ''}</td>
              </tr>
            );
          })}
          {left.map((v) => (
            <tr key={`left-${toHex(v.validatorId)}`} class="left">
              <td />
              <td>
                <HashLink value={toHex(v.validatorId)} />
              </td>
              <td colSpan={3}>left the set</td>
              <td />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Equivocations() {
  const { conn } = useApp();
  const ev = useAsync(() => conn.api.getEquivocations(), []);
  if (ev.error !== undefined) return <Failed error={ev.error} />;
  if (ev.value === undefined) return <p>loading…</p>;
  const { events, blockSignatures } = ev.value;
  if (events.length === 0 && blockSignatures.length === 0) {
    return (
      <p data-equivocations="0">None: no fork and no double block signature seen by this node.</p>
    );
  }
  return (
    <table class="list" data-equivocations={events.length + blockSignatures.length}>
      <tbody>
        {events.map((e) => (
          <tr key={`${e.a.hash}${e.b.hash}`}>
            <td>fork</td>
            <td>
              <HashLink value={e.validatorId} />
            </td>
            <td>
              <HashLink value={e.a.hash} to="event" /> (seq {e.a.seq}) and{' '}
              <HashLink value={e.b.hash} to="event" /> (seq {e.b.seq})
            </td>
          </tr>
        ))}
        {blockSignatures.map((s) => (
          <tr key={`${s.height}${s.validatorId}`}>
            <td>double block signature</td>
            <td>
              <HashLink value={s.validatorId} />
            </td>
            <td>
              height <BlockLink height={s.height} />: {s.first.blockHash.slice(0, 12)}… and{' '}
              {s.second.blockHash.slice(0, 12)}…
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The validators page. */
export function ValidatorsPage() {
  const { conn, anchor } = useApp();
  const [shown, setShown] = useState(EPOCHS_SHOWN);
  const tables = useAsync(async () => {
    if (anchor === null) return null;
    const st = await conn.api.status();
    const last = st.validatorSet.epoch;
    const first = Math.max(0, last - shown);
    const client = conn.verifier(anchor);
    const out: VerifiedValidatorSet[] = [];
    // In epoch order: each table is followed from the one before.
    for (let k = first; k <= last; k++) out.push(await client.validators(k));
    return out.reverse();
  }, [anchor?.chainId, shown]);
  return (
    <section class="page">
      <h2>Validators and stake by epoch</h2>
      {anchor === null ? <p>No trust anchor pinned: nothing can be verified.</p> : null}
      {tables.error !== undefined ? (
        <Refused error={tables.error} what="a validator table" />
      ) : null}
      {tables.value == null
        ? tables.error === undefined && <p>verifying the tables…</p>
        : tables.value.map((t, i) => (
            <EpochTable
              key={t.epoch}
              table={t}
              prev={tables.value![i + 1] ?? null}
              anchorName={anchor!.chainName}
            />
          ))}
      <button type="button" onClick={() => setShown(shown + EPOCHS_SHOWN)}>
        older epochs
      </button>
      <h2>Equivocation evidence</h2>
      <Equivocations />
    </section>
  );
}
