/**
 * Names (docs/PROTOCOL.md 6.6, 11): `pos_resolveName(name, height)` at a
 * certified height. The wallet checks the name rule itself (no request for
 * what cannot be a name), rebuilds the record (`encodeNameRecord`) and checks
 * its inclusion proof under the header's state root, or the exclusion proof
 * of the name's key for a free name: an agent cannot point a name at another
 * key, deny a name that exists, or invent one (`BAD_PROOF`).
 *
 * An address `wallet@agent` resolves both names under one certified header;
 * the agent's owner must be a validator of the verified table that signs the
 * next block (`NOT_AN_AGENT`), and the wallet name must exist
 * (`UNKNOWN_NAME`). Sending to it pays the wallet's owner and hosts the new
 * output at that validator.
 *
 * @module
 */
import {
  type HashFn,
  type TrieProof,
  toHex,
  trieProofFromJSON,
  verifyTrieExclusion,
  verifyTrieInclusion,
} from '@pos/merkle';
import {
  encodeNameRecord,
  fromHex,
  nameKey,
  nameProblem,
  parseNameAddress,
  validatorIdOfKey,
} from '@pos/protocol';
import { type Ask, fail, obj } from '../agent.js';
import type {
  CertifiedHeader,
  ResolvedAddress,
  VerifiedName,
  VerifiedValidatorSet,
} from '../types.js';
import { certifiedAt, type HeaderVerifier } from './header.js';

/** What resolving needs of the client. */
export interface NameDeps {
  readonly ask: Ask;
  readonly hash: HashFn;
  readonly headers: HeaderVerifier;
}

function proofOf(v: unknown): TrieProof {
  try {
    return trieProofFromJSON(v);
  } catch (e) {
    return fail('BAD_PROOF', `name proof: ${(e as Error).message}`);
  }
}

/** `name`'s owner (or that it is free), proven under the latest certified header or `at`. */
export async function verifiedName(
  o: NameDeps,
  name: string,
  at?: CertifiedHeader,
): Promise<VerifiedName> {
  const problem = typeof name === 'string' ? nameProblem(name) : 'BAD_NAME';
  if (problem !== null) fail('BAD_ARGUMENT', `${JSON.stringify(name)} is not a name (${problem})`);
  if (at !== undefined && !o.headers.returned(at)) {
    fail('BAD_ARGUMENT', 'at must be a header this client returned');
  }
  const head = at ?? (await o.headers.latest());
  const r = obj(
    await o.ask('pos_resolveName', (api) => api.resolveName(name, head.height)),
    'pos_resolveName',
  );
  if (r.height !== head.height) fail('BAD_ANSWER', 'name resolved at another height than asked');
  if (r.name !== name) fail('BAD_ANSWER', 'the answer is for another name');
  const key = nameKey(name, o.hash);
  const proof = proofOf(r.proof);
  const base = { name, ...certifiedAt(head) };
  if (r.owner === null) {
    if (!verifyTrieExclusion(head.stateRoot, key, proof, { hash: o.hash })) {
      fail('BAD_PROOF', `${name} is not proven free under the certified state root`);
    }
    return { ...base, owner: null };
  }
  let owner: Uint8Array;
  const since = r.sinceHeight;
  try {
    owner = fromHex(r.owner as string, 32);
  } catch {
    return fail('BAD_ANSWER', 'owner must be a 32-byte key');
  }
  if (
    typeof since !== 'number' ||
    !Number.isSafeInteger(since) ||
    since < 0 ||
    since > head.height
  ) {
    fail('BAD_ANSWER', `sinceHeight must be a height at or below ${head.height}`);
  }
  const value = encodeNameRecord({ name, owner, sinceHeight: since as number });
  if (!verifyTrieInclusion(head.stateRoot, key, value, proof, { hash: o.hash })) {
    fail('BAD_PROOF', `${name} is not proven owned by ${toHex(owner)}`);
  }
  return { ...base, owner, sinceHeight: since as number };
}

/**
 * Resolves `wallet@agent`: both names under one certified header, the
 * agent's owner a validator of `table` (the verified table of the next block).
 */
export async function resolvedAddress(
  o: NameDeps & { table(head: CertifiedHeader): Promise<VerifiedValidatorSet> },
  address: string,
): Promise<ResolvedAddress> {
  let parts: { wallet: string; agent: string };
  try {
    parts = parseNameAddress(address);
  } catch (e) {
    return fail('BAD_ARGUMENT', (e as Error).message);
  }
  const head = await o.headers.latest();
  const [wallet, agent] = await Promise.all([
    verifiedName(o, parts.wallet, head),
    verifiedName(o, parts.agent, head),
  ]);
  if (wallet.owner === null) fail('UNKNOWN_NAME', `${parts.wallet} is not registered`);
  if (agent.owner === null) fail('UNKNOWN_NAME', `agent ${parts.agent} is not registered`);
  const validatorId = validatorIdOfKey(agent.owner!, o.hash);
  const table = await o.table(head);
  if (!table.validators.some((v) => toHex(v.validatorId) === toHex(validatorId))) {
    fail('NOT_AN_AGENT', `${parts.agent} is owned by a key that is not a validator`);
  }
  return { address, owner: wallet.owner!, host: validatorId, wallet, agent };
}
