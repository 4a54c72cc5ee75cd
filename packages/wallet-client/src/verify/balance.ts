/**
 * A balance (docs/PROTOCOL.md 3, 6.3, 11): `pos_getOutputs(owner, height)`
 * at the certified height; the wallet rebuilds each trie entry from the
 * answer's outputs (`outputKey`, `encodeOutput`: a changed amount, owner,
 * host or outpoint changes a key or value) and checks the completeness
 * proof of the prefix `sha256(owner)` under that header's state root
 * (`BAD_PROOF`). Only then is the sum returned.
 *
 * @module
 */
import { type HashFn, toHex, trieProofFromJSON, verifyTrieCompleteness } from '@pos/merkle';
import {
  encodeOutput,
  fromHex,
  type Outpoint,
  type Output,
  outputKey,
  ownerPrefix,
  parseAmount,
} from '@pos/protocol';
import { type Ask, fail, obj } from '../agent.js';
import type { VerifiedBalance } from '../types.js';
import { certifiedAt, type HeaderVerifier } from './header.js';

type Owned = { outpoint: Outpoint; output: Output };

/** `owner`'s unspent outputs at the latest certified height, verified complete. */
export async function verifiedBalance(
  o: { readonly ask: Ask; readonly hash: HashFn; readonly headers: HeaderVerifier },
  owner: Uint8Array,
): Promise<VerifiedBalance> {
  const { hash } = o;
  if (!(owner instanceof Uint8Array) || owner.length !== 32) {
    fail('BAD_ARGUMENT', 'owner must be a 32-byte public key');
  }
  const head = await o.headers.latest();
  const r = obj(
    await o.ask('pos_getOutputs', (api) => api.getOutputs(toHex(owner), head.height)),
    'pos_getOutputs',
  );
  if (r.height !== head.height) fail('BAD_ANSWER', 'outputs at another height than asked');
  if (!Array.isArray(r.outputs)) fail('BAD_ANSWER', 'outputs must be an array');
  const outputs = readOutputs(r.outputs as unknown[]);
  // The wallet's own entries, not the agent's: a changed amount, owner or
  // outpoint changes a key or a value and so the rebuilt subtree.
  const entries = outputs.map(({ outpoint, output }) => {
    if (toHex(output.owner) !== toHex(owner)) fail('BAD_PROOF', 'an output of another owner');
    return { key: outputKey(owner, outpoint, hash), value: encodeOutput(output) };
  });
  entries.sort((a, b) => (toHex(a.key) < toHex(b.key) ? -1 : toHex(a.key) > toHex(b.key) ? 1 : 0));
  let proof: ReturnType<typeof trieProofFromJSON>;
  try {
    proof = trieProofFromJSON(r.proof);
  } catch (e) {
    return fail('BAD_PROOF', `proof: ${(e as Error).message}`);
  }
  if (!verifyTrieCompleteness(head.stateRoot, ownerPrefix(owner, hash), entries, proof, { hash })) {
    fail(
      'BAD_PROOF',
      `the outputs are not all of ${toHex(owner)}'s under the certified state root`,
    );
  }
  return {
    owner,
    balance: outputs.reduce((a, x) => a + x.output.amount, 0n),
    outputs,
    ...certifiedAt(head),
  };
}

/** The answer's outputs, strictly parsed (`BAD_ANSWER`). */
function readOutputs(list: readonly unknown[]): Owned[] {
  const outputs: Owned[] = [];
  try {
    for (const x of list) {
      const o = obj(x, 'output');
      const op = obj(o.outpoint, 'outpoint');
      const index = op.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 0xffff) {
        throw new Error('an outpoint index must be an integer in 0..65535');
      }
      const outpoint = { txHash: fromHex(op.txHash as string, 32), index };
      const output: Output = {
        amount: parseAmount(o.amount),
        owner: fromHex(o.owner as string, 32),
        host: fromHex(o.host as string, 32),
      };
      outputs.push({ outpoint, output });
    }
  } catch (e) {
    return fail('BAD_ANSWER', `outputs: ${(e as Error).message}`);
  }
  return outputs;
}
