/**
 * A block registered validators or wrote epoch tables (docs/PROTOCOL.md
 * 6.5): the engine and the validator index learn the new creators in the
 * order the registrations were decided (so an index means the same on every
 * node), the gossip learns their endpoints, and the operator reads the new
 * set in the log.
 */
import type { Consensus } from '@pos/consensus';
import type { PeerBook } from '@pos/gossip';
import { peerUrl } from '@pos/gossip';
import { type HashFn, toHex } from '@pos/merkle';
import { firstRoundOf, type GenesisParams, validatorSetHash } from '@pos/protocol';
import type { AppliedBlock } from '../chain/chain.js';
import type { Ledger } from '../chain/ledger.js';
import type { NodeMetrics } from '../metrics.js';
import type { NodeEvent, ValidatorIndex } from './dag.js';
import type { StakeTables } from './stake-tables.js';

/** What {@link createSetChanges} updates. */
export interface SetChangesDeps {
  readonly params: Pick<GenesisParams, 'lag' | 'epoch'>;
  readonly hash: HashFn;
  readonly selfPublicKey: Uint8Array;
  readonly index: Pick<ValidatorIndex, 'add'>;
  readonly engine: Pick<Consensus<NodeEvent>, 'addValidator'>;
  readonly ledger: Pick<Ledger, 'epochTable' | 'registration'>;
  readonly stakeTables: Pick<StakeTables, 'committed'>;
  readonly peers: Pick<PeerBook, 'add'>;
  readonly metrics: Pick<NodeMetrics, 'validatorSetEpoch' | 'validatorSetSize'>;
  readonly logger: { info(o: object, m: string): void; error(o: object, m: string): void };
  /** This node was registered: its engine index. */
  onSelfRegistered(index: number): void;
  replaying(): boolean;
}

/** Applies the set changes of one applied block. */
export type SetChanges = (applied: AppliedBlock) => void;

/** Creates the handler. */
export function createSetChanges(deps: SetChangesDeps): SetChanges {
  const selfHex = toHex(deps.selfPublicKey);

  function registered(applied: AppliedBlock, height: number): void {
    for (const r of applied.registered) {
      const i = deps.index.add(r.pubkey, r.validatorId);
      const j = deps.engine.addValidator(r.validatorId);
      if (i !== j) throw new Error(`validator index ${i} and engine index ${j} differ`);
      if (toHex(r.pubkey) === selfHex) deps.onSelfRegistered(i);
      else deps.peers.add(peerUrl(r.p2p), r.pubkey);
      deps.logger.info(
        { height, validatorId: toHex(r.validatorId), name: r.name, p2p: r.p2p },
        'validator registered',
      );
    }
  }

  function tables(applied: AppliedBlock, height: number): void {
    for (const k of applied.epochs) {
      const t = deps.ledger.epochTable(k)!;
      if (!deps.stakeTables.committed(k, t.setHash, (s) => validatorSetHash(s, deps.hash))) {
        // Cannot happen unless the ledger and the preview rule disagree: say so loudly.
        deps.logger.error({ epoch: k }, 'the committed table differs from the one consensus used');
      }
      const total = t.set.validators.reduce((a, v) => a + v.stake, 0n);
      deps.metrics.validatorSetEpoch.set(k);
      deps.metrics.validatorSetSize.set(t.set.validators.length);
      if (deps.replaying()) continue;
      deps.logger.info(
        {
          epoch: k,
          height,
          firstRound: firstRoundOf(k, deps.params),
          totalStake: total.toString(),
          validators: t.set.validators.map((v) => ({
            validatorId: toHex(v.validatorId),
            name: deps.ledger.registration(v.validatorId)?.name ?? '',
            stake: v.stake.toString(),
          })),
        },
        'validator set snapshot',
      );
    }
  }

  return (applied) => {
    const height = applied.header.height;
    registered(applied, height);
    tables(applied, height);
  };
}
