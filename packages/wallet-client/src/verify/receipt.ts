/**
 * A receipt (docs/PROTOCOL.md 4, 6.3, 11): `pos_getTransaction(txHash,
 * height)`; the receipt must be of that hash and its RFC 9162 inclusion
 * proof must verify, at exactly the header's `historySize`, under its
 * `historyRoot` (`BAD_PROOF`); `NOT_YET` while no certified block covers it.
 *
 * @module
 */
import { type HashFn, logInclusionProofFromJSON, toHex, verifyLogInclusion } from '@pos/merkle';
import { encodeReceipt, type Receipt, receiptFromJSON } from '@pos/protocol';
import { type Ask, fail, isAgentError, obj } from '../agent.js';
import type { CertifiedHeader, VerifiedReceipt } from '../types.js';
import type { HeaderVerifier } from './header.js';

/** Proves `txHash`'s receipt under `at` (a header `headers` returned) or the latest one. */
export async function verifiedReceipt(
  o: { readonly ask: Ask; readonly hash: HashFn; readonly headers: HeaderVerifier },
  txHash: Uint8Array,
  at?: CertifiedHeader,
): Promise<VerifiedReceipt> {
  // Only a header this client verified: a caller's object is not evidence.
  if (at !== undefined && !o.headers.returned(at)) {
    fail('BAD_ARGUMENT', 'at must be a header this client returned');
  }
  const head = at ?? (await o.headers.latest());
  const r = obj(
    await o
      .ask('pos_getTransaction', (api) => api.getTransaction(toHex(txHash), head.height))
      .catch((e: unknown) => {
        // -32001: the certified block does not hold the receipt yet.
        if (isAgentError(e, 'NOT_FOUND')) return { status: 'pending' };
        throw e;
      }),
    'pos_getTransaction',
  );
  if (r.status !== 'committed' && r.status !== 'rejected') {
    fail('NOT_YET', `the transaction is ${String(r.status)} at certified height ${head.height}`);
  }
  let rc: Receipt;
  let proof: ReturnType<typeof logInclusionProofFromJSON>;
  try {
    rc = receiptFromJSON(r.receipt);
  } catch (e) {
    return fail('BAD_ANSWER', `receipt: ${(e as Error).message}`);
  }
  try {
    proof = logInclusionProofFromJSON(r.inclusionProof);
  } catch (e) {
    return fail('BAD_PROOF', `inclusion proof: ${(e as Error).message}`);
  }
  if (toHex(rc.txHash) !== toHex(txHash)) fail('BAD_PROOF', 'a receipt of another transaction');
  if (proof.treeSize !== head.historySize) {
    fail('BAD_PROOF', 'the inclusion proof is not for the certified history size');
  }
  if (!verifyLogInclusion(head.historyRoot, encodeReceipt(rc), proof, { hash: o.hash })) {
    fail('BAD_PROOF', 'the receipt is not in the certified history log');
  }
  return {
    txHash,
    receipt: rc,
    height: rc.height,
    certifiedHeight: head.height,
    historyRoot: head.historyRoot,
    historySize: head.historySize,
    epoch: head.epoch,
    signedStake: head.signedStake,
    totalStake: head.totalStake,
  };
}
