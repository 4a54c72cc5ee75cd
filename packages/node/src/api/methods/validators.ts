/**
 * `pos_getValidators`: an epoch's table and its proof (docs/PROTOCOL.md 6.5,
 * 10.1, 11.1).
 *
 * @module
 */
import { POS_GET_VALIDATORS, type ValidatorsProof, type ValidatorsResult } from '@pos/api';
import { sha256Noble, trieProofToJSON } from '@pos/merkle';
import {
  blockHeaderToJSON,
  certificateToJSON,
  encodeValidatorSet,
  epochTableKey,
  firstRoundOf,
  formatAmount,
  lastRoundOf,
  snapshotRoundOf,
  toHex,
  validatorSetHash,
} from '@pos/protocol';
import type { AnyRpcMethod } from '../dispatcher.js';
import { notFound } from '../errors.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';

const hash = sha256Noble;

/** The validator-table methods. */
export function validatorMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return {
    pos_getValidators: implement(POS_GET_VALIDATORS, ({ epoch }) =>
      validators(view, epoch ?? view.currentEpoch()),
    ),
  };
}

async function validators(view: NodeView, epoch: number): Promise<ValidatorsResult> {
  const params = view.genesis.params;
  const set = view.validatorSet(epoch);
  if (set === undefined) throw notFound(`the table of epoch ${epoch} is not known yet`);
  const total = set.validators.reduce((a, v) => a + v.stake, 0n);
  const encoded = encodeValidatorSet(set, hash);
  const proof = await tableProof(view, epoch);
  return {
    epoch,
    firstRound: firstRoundOf(epoch, params),
    lastRound: lastRoundOf(epoch, params),
    snapshotRound: snapshotRoundOf(epoch, params),
    validators: set.validators.map((v) => {
      const r = view.chain.ledger.registration(v.validatorId);
      return {
        validatorId: toHex(v.validatorId),
        publicKey: toHex(v.publicKey),
        stake: formatAmount(v.stake),
        name: r?.name ?? '',
        endpoint: r?.p2p ?? '',
      };
    }),
    totalStake: formatAmount(total),
    // Headers commit to this hash (validatorSetHash, of the set of
    // height + 1); `encoded` is the trie value, so a client recomputes both.
    validatorSetHash: toHex(validatorSetHash(set, hash)),
    encoded: toHex(encoded),
    proof,
  };
}

/**
 * docs/PROTOCOL.md 6.5 and 11.1: a wallet follows set changes from its
 * trust anchor; the proof is the table's inclusion under the state root of
 * the block that first held it, a block the previous epoch's set certified.
 * Null for epoch 0, or while the node cannot prove it.
 */
async function tableProof(view: NodeView, epoch: number): Promise<ValidatorsProof | null> {
  const p = epoch === 0 ? undefined : await view.epochProof(epoch);
  if (p === undefined) return null;
  const [cert, b] = await Promise.all([view.certificate(p.height), view.chain.header(p.height)]);
  if (cert === undefined || b === undefined) return null;
  return {
    height: p.height,
    header: blockHeaderToJSON(b.header),
    certificate: certificateToJSON(cert),
    key: toHex(epochTableKey(epoch)),
    trieProof: trieProofToJSON(p.proof),
  };
}
