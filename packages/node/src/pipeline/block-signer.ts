/**
 * This node's signatures over the blocks it applies (docs/PROTOCOL.md 7):
 * a member of the set that signs height h signs its blockHash, counts the
 * signature itself, and gossips it as a payload of its next event. A
 * signature over a block with transactions is urgent: it goes out with the
 * next step's event, not at the heartbeat, since a wallet waits for it.
 */
import { type Payload, PayloadKind } from '@pos/gossip';
import { encodeBlockSignature } from '@pos/protocol';
import type { CertificateCollector } from '../chain/certificates.js';

/** What the signer needs. */
export interface BlockSignerDeps {
  /** Ed25519 signature by this node's key. */
  sign(message: Uint8Array): Uint8Array;
  /** This node's validatorId when it is registered (its engine index is known). */
  selfId(): Uint8Array | undefined;
  /** Whether this node's key has stake in the set that signs `height`. */
  signsAt(height: number): boolean;
  readonly collector: Pick<CertificateCollector, 'addSignature'>;
  /** Checks whether `height` is certified now (the own signature may complete it). */
  certify(height: number): void;
}

/** The signatures waiting for the node's next event. */
export interface BlockSigner {
  /** Signs block `height` if this node is in its set; the payload waits for the next event. */
  sign(height: number, blockHash: Uint8Array): void;
  /** Up to `max` waiting payloads, oldest first (they stay waiting until {@link BlockSigner.sent}). */
  peek(max: number): Payload[];
  /** The first `n` waiting payloads went out in an event. */
  sent(n: number): void;
  /** A block with transactions was applied: send its signature at the next step. */
  markUrgent(): void;
  /** Whether a waiting signature is urgent. */
  readonly urgent: boolean;
}

/** Creates the signer. */
export function createBlockSigner(deps: BlockSignerDeps): BlockSigner {
  const pending: Payload[] = [];
  let urgent = false;
  return {
    sign(height, blockHash) {
      const selfId = deps.selfId();
      if (selfId === undefined || !deps.signsAt(height)) return; // not in that set: nothing to sign
      const signature = deps.sign(blockHash);
      pending.push({
        kind: PayloadKind.BLOCK_SIGNATURE,
        data: encodeBlockSignature({ height, blockHash, signature }),
      });
      deps.collector.addSignature(height, blockHash, selfId, signature);
      deps.certify(height);
    },
    peek: (max) => pending.slice(0, max),
    sent(n) {
      pending.splice(0, n);
      if (pending.length === 0) urgent = false;
    },
    markUrgent() {
      urgent = true;
    },
    get urgent() {
      return urgent;
    },
  };
}
