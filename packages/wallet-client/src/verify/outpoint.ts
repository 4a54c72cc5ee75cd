/**
 * An outpoint's state (docs/PROTOCOL.md 6.3, 11): `pos_getOutpoint(txHash,
 * index, height)` at a certified height. The wallet rebuilds what the trie
 * must hold and checks each proof under that header's state root:
 * - `unknown`: an exclusion proof of the outpoint's record key;
 * - `spent`: an inclusion proof of the record `0x01 ‖ u64 spentHeight`, with
 *   spentHeight at or below the certified height;
 * - `unspent`: an inclusion proof of the record `0x00 ‖ txHash ‖ index ‖
 *   owner` and one of the output under `outputKey(owner, outpoint)`.
 * Whatever the agent claims, only the proven state is returned: an agent
 * cannot call a spent output unspent, hide a spend's height, or deny an
 * output that exists (`BAD_PROOF`).
 *
 * @module
 */
import {
  type HashFn,
  type TrieProof,
  trieProofFromJSON,
  verifyTrieExclusion,
  verifyTrieInclusion,
} from '@pos/merkle';
import {
  encodeOutput,
  encodeSpentRecord,
  encodeUnspentRecord,
  fromHex,
  type Outpoint,
  type Output,
  outpointId,
  outpointRecordKey,
  outputKey,
  parseAmount,
  toHex,
} from '@pos/protocol';
import { type Ask, fail, obj } from '../agent.js';
import type { CertifiedHeader, VerifiedOutpoint } from '../types.js';
import { certifiedAt, type HeaderVerifier } from './header.js';

type Json = Record<string, unknown>;

function proofOf(v: unknown, what: string): TrieProof {
  try {
    return trieProofFromJSON(v);
  } catch (e) {
    return fail('BAD_PROOF', `${what}: ${(e as Error).message}`);
  }
}

function outputOf(v: unknown): Output {
  const o = obj(v, 'output');
  try {
    return {
      amount: parseAmount(o.amount as string),
      owner: fromHex(o.owner as string, 32),
      host: fromHex(o.host as string, 32),
    };
  } catch (e) {
    return fail('BAD_ANSWER', `output: ${(e as Error).message}`);
  }
}

/** What the proofs establish, or a `BAD_PROOF` / `BAD_ANSWER` failure. */
function provenState(
  r: Json,
  outpoint: Outpoint,
  head: CertifiedHeader,
  hash: HashFn,
): Pick<VerifiedOutpoint, 'status' | 'spentHeight' | 'output'> {
  const root = head.stateRoot;
  const recordKey = outpointRecordKey(outpointId(outpoint, hash));
  const recordProof = proofOf(r.recordProof, 'record proof');
  if (r.status === 'unknown') {
    if (!verifyTrieExclusion(root, recordKey, recordProof, { hash })) {
      fail('BAD_PROOF', 'the outpoint is not proven absent from the certified state');
    }
    return { status: 'unknown' };
  }
  if (r.status === 'spent') {
    const h = r.spentHeight;
    if (typeof h !== 'number' || !Number.isSafeInteger(h) || h < 0 || h > head.height) {
      fail('BAD_ANSWER', `spentHeight must be a height at or below ${head.height}`);
    }
    if (
      !verifyTrieInclusion(root, recordKey, encodeSpentRecord(h as number), recordProof, { hash })
    ) {
      fail('BAD_PROOF', `the outpoint is not proven spent at height ${h}`);
    }
    return { status: 'spent', spentHeight: h as number };
  }
  if (r.status === 'unspent') {
    const output = outputOf(r.output);
    const unspent = encodeUnspentRecord(outpoint, output.owner);
    if (!verifyTrieInclusion(root, recordKey, unspent, recordProof, { hash })) {
      fail('BAD_PROOF', 'the outpoint is not proven unspent');
    }
    const key = outputKey(output.owner, outpoint, hash);
    const outputProof = proofOf(r.outputProof, 'output proof');
    if (!verifyTrieInclusion(root, key, encodeOutput(output), outputProof, { hash })) {
      fail('BAD_PROOF', 'the output is not proven in the certified state');
    }
    return { status: 'unspent', output };
  }
  return fail('BAD_ANSWER', 'status must be unspent, spent or unknown');
}

/** Proves `outpoint`'s state under `at` (a header `headers` returned) or the latest one. */
export async function verifiedOutpoint(
  o: { readonly ask: Ask; readonly hash: HashFn; readonly headers: HeaderVerifier },
  outpoint: Outpoint,
  at?: CertifiedHeader,
): Promise<VerifiedOutpoint> {
  if (
    !(outpoint?.txHash instanceof Uint8Array) ||
    outpoint.txHash.length !== 32 ||
    !Number.isInteger(outpoint.index) ||
    outpoint.index < 0 ||
    outpoint.index > 0xffff
  ) {
    fail('BAD_ARGUMENT', 'outpoint must be { txHash: 32 bytes, index: 0..65535 }');
  }
  // Only a header this client verified: a caller's object is not evidence.
  if (at !== undefined && !o.headers.returned(at)) {
    fail('BAD_ARGUMENT', 'at must be a header this client returned');
  }
  const head = at ?? (await o.headers.latest());
  const r = obj(
    await o.ask('pos_getOutpoint', (api) =>
      api.getOutpoint(toHex(outpoint.txHash), outpoint.index, head.height),
    ),
    'pos_getOutpoint',
  );
  const state = provenState(r, outpoint, head, o.hash);
  return {
    outpoint: { txHash: outpoint.txHash.slice(), index: outpoint.index },
    ...state,
    ...certifiedAt(head),
  };
}
