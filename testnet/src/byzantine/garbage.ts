/**
 * The `garbage` mode: an honest-looking validator whose every sync answer is
 * broken in one of {@link GARBAGE_KINDS} ways: bytes that are not msgpack,
 * truncated msgpack, a response of the wrong shape, an empty page that
 * claims more, an event with a bad signature, of another chain, over 1 MiB,
 * undecodable, with a missing parent, with a wrong parent descriptor, with a
 * timestamp not above its self-parent's, by a key that is no validator, a
 * page over the puller's cap, a duplicated event. Each peer gets its own
 * sequence of kinds ({@link GARBAGE_PLAN}), then the kinds again in a seeded
 * order.
 */
import {
  type SyncRequest,
  signEvent,
  type Tip,
  type UnsignedEvent,
  type WireEvent,
} from '@pos/gossip';
import { taggedHash, toHex } from '@pos/merkle';
import { createEd25519Signer, generateValidatorKey } from '@pos/node';
import { Writer } from '@pos/protocol';
import {
  type Adversary,
  anyTip,
  createOwn,
  mainHead,
  nextEvent,
  noteRequest,
} from './adversary.js';
import { type Held, pageFor } from './dag.js';
import { Pack, packResponse } from './pack.js';
import { GARBAGE_PLAN, type GarbageKind, type ModeBehaviour } from './types.js';
import { log } from './util.js';

/** What one broken answer is built from. */
interface Spoil {
  readonly adv: Adversary;
  readonly req: SyncRequest;
  /** The honest page the peer would get. */
  readonly evs: readonly Uint8Array[];
  readonly head: Held | null;
  readonly tip: Tip | null;
  /**
   * The honest page with `bad` last: what comes before it is inserted (or
   * refused with it, for faults the client catches).
   */
  withTail(bad: Uint8Array): Uint8Array;
}

/** An own event, signed, with the given fields on top of the next honest-looking one. */
function ownEvent(adv: Adversary, over: Partial<UnsignedEvent>, signer = adv.sign): WireEvent {
  const head = mainHead(adv);
  const other = anyTip(adv);
  return signEvent({ ...nextEvent(adv, head, other), ...over }, signer, adv.hash);
}

/** An honest event the peer holds by its own summary (its own tip), if we hold it too. */
function heldByPeer(adv: Adversary, req: SyncRequest): Held | undefined {
  for (const k of req.known) {
    const h = adv.dag.get(k.hash);
    if (h !== undefined && !h.mine) return h;
  }
  return undefined;
}

/**
 * A correctly signed event of 17 transactions of 64 KiB: over the 1 MiB
 * cap, so it has to be written by hand (`signEvent` refuses it).
 */
function oversizedEvent(adv: Adversary): Uint8Array {
  const head = mainHead(adv);
  const w = new Writer(1 << 21);
  w.u8(1)
    .bytes(adv.chainId)
    .bytes(adv.key.publicKey)
    .u64safe(head === null ? 0 : head.ev.seq + 1);
  w.u8(head === null ? 0 : 1);
  if (head !== null) w.bytes(head.ev.hash);
  w.u64safe(Date.now()).u32be(17);
  const tx = new Uint8Array(1 << 16).fill(7);
  for (let i = 0; i < 17; i++) w.u32be(tx.length).bytes(tx);
  w.u16be(0);
  const body = w.finish();
  const out = new Uint8Array(body.length + 64);
  out.set(body);
  out.set(adv.sign(taggedHash('pos/event', body, adv.hash)), body.length);
  return out;
}

/** A genesis event of a fresh key that is no validator, on an event the peer holds. */
function strangerEvent(adv: Adversary, req: SyncRequest): Uint8Array {
  const stranger = generateValidatorKey();
  const op = heldByPeer(adv, req) ?? anyTip(adv);
  const ev = signEvent(
    {
      chainId: adv.chainId,
      creator: stranger.publicKey,
      seq: 0,
      selfParent: null,
      otherParent:
        op === undefined ? null : { hash: op.ev.hash, creator: op.ev.creator, seq: op.ev.seq },
      timestamp: Date.now(),
      transactions: [],
      payloads: [],
    },
    createEd25519Signer(stranger.secretKey, stranger.publicKey),
    adv.hash,
  );
  return ev.bytes;
}

/** `n` random bytes (not seeded: their content is not a choice). */
function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
}

/** How each kind spoils an answer. */
const SPOILERS: Record<GarbageKind, (s: Spoil) => Uint8Array> = {
  'not-msgpack': () => {
    // 0xc1 is the one byte msgpack never uses.
    const b = randomBytes(64);
    b[0] = 0xc1;
    return b;
  },
  truncated: ({ adv, evs, tip }) => {
    const full = packResponse(evs.length > 0 ? evs : [ownEvent(adv, {}).bytes], false, tip);
    return full.subarray(0, Math.max(1, full.length >> 1));
  },
  'wrong-shape': () => new Pack().map(2).str('events').str('nope').str('more').uint(1).finish(),
  // "Nothing, but there is more": a puller that believed it would loop.
  'empty-more': ({ tip }) => packResponse([], true, tip),
  'bad-signature': ({ adv, withTail }) => {
    const b = ownEvent(adv, {}).bytes.slice();
    b[b.length - 10]! ^= 0x01;
    return withTail(b);
  },
  'wrong-chain': ({ adv, withTail }) =>
    withTail(
      ownEvent(adv, { chainId: taggedHash('byzantine/chain', adv.chainId, adv.hash) }).bytes,
    ),
  'too-large-event': ({ adv, withTail }) => withTail(oversizedEvent(adv)),
  'undecodable-event': ({ adv, withTail }) => {
    const b = ownEvent(adv, {}).bytes.slice();
    b[0] = 2; // an unknown version
    return withTail(b);
  },
  // Over the puller's body cap (4 MiB of events + framing): refused from the
  // declared length, before it is read.
  'huge-page': ({ tip }) => packResponse(Array(10).fill(new Uint8Array(512 * 1024)), false, tip),
  'missing-parent': ({ adv, head, withTail }) => {
    const sp = randomBytes(32);
    return withTail(ownEvent(adv, { seq: (head?.ev.seq ?? 0) + 1, selfParent: sp }).bytes);
  },
  'bad-parent': ({ adv, req, head, withTail }) => {
    // A real other-parent with a descriptor that lies about its seq.
    const op = heldByPeer(adv, req) ?? anyTip(adv);
    if (op === undefined) return withTail(ownEvent(adv, { seq: (head?.ev.seq ?? 0) + 5 }).bytes);
    const lie = { hash: op.ev.hash, creator: op.ev.creator, seq: op.ev.seq + 1 };
    return withTail(ownEvent(adv, { otherParent: lie }).bytes);
  },
  'stale-timestamp': ({ adv, head, withTail }) => {
    if (head === null) return withTail(ownEvent(adv, { timestamp: 0 }).bytes);
    // Needs the self-parent at the peer: the honest page carries our
    // events it lacks, parents first.
    return withTail(ownEvent(adv, { timestamp: head.ev.timestamp }).bytes);
  },
  'unknown-creator': ({ adv, req, withTail }) => withTail(strangerEvent(adv, req)),
  duplicate: ({ evs, head, tip }) => {
    const own = head === null ? [] : [head.ev.bytes];
    return packResponse([...evs, ...own, ...own], false, tip);
  },
};

/** The answer of `kind` to `req`. */
export function garbage(adv: Adversary, kind: GarbageKind, req: SyncRequest): Uint8Array {
  const evs = pageFor(adv.dag, req, () => true).events.map((h) => h.ev.bytes);
  const head = mainHead(adv);
  const tip = head === null ? null : { hash: head.ev.hash, seq: head.ev.seq };
  const withTail = (bad: Uint8Array) => packResponse([...evs, bad], false, tip);
  return SPOILERS[kind]({ adv, req, evs, head, tip, withTail });
}

/** The mode: each peer its plan (peer i plan i mod 3), then `cycle` over and over. */
export function createGarbage(adv: Adversary, cycle: readonly GarbageKind[]): ModeBehaviour {
  const plans = new Map<string, GarbageKind[]>(
    adv.peers.map((p, i) => [p.hex, [...GARBAGE_PLAN[i % GARBAGE_PLAN.length]!]]),
  );
  let next = 0;
  return {
    branches: ['main'],
    resumed() {},
    tick() {
      createOwn(adv, 'main', anyTip(adv));
    },
    // Garbage is built around the own chain: nothing before its first event.
    answers: () => mainHead(adv) !== null,
    respond(req) {
      const peerHex = toHex(req.from);
      const pr = noteRequest(adv, peerHex);
      const kind = plans.get(peerHex)!.shift() ?? cycle[next++ % cycle.length]!;
      pr.garbage.push(kind);
      log('garbage', { peer: pr.name, kind });
      return garbage(adv, kind, req);
    },
  };
}
