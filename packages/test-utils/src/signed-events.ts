// Real Ed25519 keys and signed wire events for tests of the sync layer and
// the node's stores (docs/PROTOCOL.md 6.1).
import { generateKeyPairSync, sign } from 'node:crypto';
// Gossip's source, not the `@pos/gossip` package: @pos/gossip's own tests use
// this module, and a dependency on it here would be a workspace cycle.
import { signEvent, type WireEvent } from '../../gossip/src/index.js';
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

/**
 * A small DAG of four creators for sync and store tests: `rounds` rounds in
 * which each creator's event takes the previous creator's latest as
 * other-parent, then a fork by creator 3 (`forkA`, `forkB` on one
 * self-parent) and an event of creator 0 on `forkB`. `round()` appends one
 * more round (building on `forkA`); `events` is the creation (topological)
 * order, which callers may extend.
 */
export function forkedRounds(
  mk: ReturnType<typeof eventMaker>,
  keys: readonly Key[],
  rounds: number,
) {
  const events: WireEvent[] = [];
  const last: (WireEvent | null)[] = [null, null, null, null];
  const round = () => {
    for (let i = 0; i < 4; i++) {
      const ev = mk(keys[i]!, last[i]!, last[(i + 3) % 4]!);
      last[i] = ev;
      events.push(ev);
    }
  };
  for (let r = 0; r < rounds; r++) round();
  const forkA = mk(keys[3]!, last[3]!, last[2]!, 0xa);
  const forkB = mk(keys[3]!, last[3]!, last[2]!, 0xb);
  events.push(forkA, forkB);
  last[3] = forkA;
  const x = mk(keys[0]!, last[0]!, forkB);
  last[0] = x;
  events.push(x);
  return { events, last, round, forkA, forkB };
}
