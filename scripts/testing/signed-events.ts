// Real Ed25519 keys and signed wire events for tests of the sync layer and
// the node's stores (docs/PROTOCOL.md 6.1).
import { generateKeyPairSync, sign } from 'node:crypto';
import { signEvent, type WireEvent } from '../../packages/gossip/src/index.js';
import { sha256 } from './node-hash.js';

/** A validator key: the raw 32-byte public key and a signer over a message. */
export interface Key {
  pub: Uint8Array;
  sign: (m: Uint8Array) => Uint8Array;
}

/** A fresh node:crypto Ed25519 key. */
export function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  return { pub, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}

/**
 * A maker of signed events on `chainId`: `mk(key, selfParent, otherParent,
 * txByte)`, with timestamps from its own clock (1 ms apart) and one 40-byte
 * transaction filled with `txByte` (so that fork twins differ).
 */
export function eventMaker(chainId: Uint8Array, startMs = 1_700_000_000_000) {
  let clock = startMs;
  return (k: Key, self: WireEvent | null, other: WireEvent | null, txByte = 1): WireEvent => {
    clock += 1;
    return signEvent(
      {
        chainId,
        creator: k.pub,
        seq: self ? self.seq + 1 : 0,
        selfParent: self ? self.hash : null,
        otherParent: other ? { hash: other.hash, creator: other.creator, seq: other.seq } : null,
        timestamp: clock,
        transactions: [new Uint8Array(40).fill(txByte)],
        payloads: [],
      },
      k.sign,
      sha256,
    );
  };
}
