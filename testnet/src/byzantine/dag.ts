/**
 * The Byzantine validator's copy of the DAG (every event pulled or created)
 * and the per-peer views over it that the equivocating and withholding modes
 * serve from. Memory only: a test run is short, and a Byzantine node has no
 * restart to survive.
 */
import {
  type KnownEntry,
  MAX_PAGE_BYTES,
  MAX_PAGE_EVENTS,
  type SyncRequest,
  type WireEvent,
} from '@pos/gossip';
import { toHex } from '@pos/merkle';

/** One event held, with its insertion index. */
export interface Held {
  readonly ev: WireEvent;
  /** Insertion index: parents first. */
  readonly idx: number;
  readonly mine: boolean;
}

/**
 * What this process holds: every event pulled or created, in insertion
 * order, with the lookups the responder needs (per creator by insertion, the
 * own self-parent tree). Memory only: a test run is short, and a Byzantine
 * node has no restart to survive.
 */
export class Dag {
  readonly byHash = new Map<string, Held>();
  readonly log: Held[] = [];
  /** Honest creators' events in insertion order (an honest creator's seq grows with it). */
  readonly byCreator = new Map<string, Held[]>();
  readonly mine: Held[] = [];
  /** Own seqs seen twice: the process forked. */
  forked = false;
  private readonly ownSeqs = new Set<number>();

  constructor(readonly selfHex: string) {}

  has(hash: Uint8Array): boolean {
    return this.byHash.has(toHex(hash));
  }
  get(hash: Uint8Array | string): Held | undefined {
    return this.byHash.get(typeof hash === 'string' ? hash : toHex(hash));
  }

  add(ev: WireEvent): Held {
    const key = toHex(ev.hash);
    const known = this.byHash.get(key);
    if (known !== undefined) return known;
    const c = toHex(ev.creator);
    const h: Held = { ev, idx: this.log.length, mine: c === this.selfHex };
    this.byHash.set(key, h);
    this.log.push(h);
    if (h.mine) {
      if (this.ownSeqs.has(ev.seq)) this.forked = true;
      this.ownSeqs.add(ev.seq);
      this.mine.push(h);
    } else {
      let list = this.byCreator.get(c);
      if (list === undefined) this.byCreator.set(c, (list = []));
      list.push(h);
    }
    return h;
  }

  latestOf(creatorHex: string): Held | undefined {
    const list = this.byCreator.get(creatorHex);
    return list?.[list.length - 1];
  }

  /**
   * The events a peer with summary `known` lacks, in insertion order: the
   * rule of `EventStore.since` (per creator, seq above the peer's highest;
   * for this forking creator also what is not a self-ancestor of a tip the
   * peer reported).
   */
  since(known: readonly KnownEntry[]): Held[] {
    const peer = new Map<string, { maxSeq: number; hashes: string[] }>();
    for (const k of known) {
      const c = toHex(k.creator);
      const e = peer.get(c) ?? { maxSeq: -1, hashes: [] };
      e.maxSeq = Math.max(e.maxSeq, k.seq);
      e.hashes.push(toHex(k.hash));
      peer.set(c, e);
    }
    const out: Held[] = [];
    for (const [c, list] of this.byCreator) {
      const maxSeq = peer.get(c)?.maxSeq ?? -1;
      for (let i = list.length - 1; i >= 0 && list[i]!.ev.seq > maxSeq; i--) out.push(list[i]!);
    }
    const p = peer.get(this.selfHex);
    const theirs = new Set<string>();
    if (p !== undefined && this.forked) {
      for (const h of p.hashes) this.selfAncestors(h, theirs);
    }
    for (const h of this.mine) {
      if (p === undefined || h.ev.seq > p.maxSeq) out.push(h);
      else if (this.forked && !theirs.has(toHex(h.ev.hash))) out.push(h);
    }
    return out.sort((a, b) => a.idx - b.idx);
  }

  /** Adds `tipHex` and its own self-ancestors to `into`. */
  selfAncestors(tipHex: string, into: Set<string>): void {
    let cur = this.byHash.get(tipHex);
    while (cur !== undefined) {
      const k = toHex(cur.ev.hash);
      if (into.has(k)) return;
      into.add(k);
      cur = cur.ev.selfParent === null ? undefined : this.byHash.get(toHex(cur.ev.selfParent));
    }
  }

  /** Whether `ancestorHex` is a self-ancestor of (or is) own event `hex`. */
  isSelfAncestor(ancestorHex: string, hex: string): boolean {
    const target = this.byHash.get(ancestorHex);
    let cur = this.byHash.get(hex);
    while (cur !== undefined) {
      if (cur === target) return true;
      if (target !== undefined && cur.ev.seq < target.ev.seq) return false;
      cur = cur.ev.selfParent === null ? undefined : this.byHash.get(toHex(cur.ev.selfParent));
    }
    return false;
  }
}

/**
 * Which events one peer may see: own events in `allowed` (all when null),
 * and anything whose ancestry holds no other own event. Verdicts are kept
 * until `allowed` grows (`bump`), which can turn a refusal into a yes.
 */
export class View {
  private memo = new Map<string, boolean>();
  constructor(
    private readonly dag: Dag,
    readonly allowed: Set<string> | null,
  ) {}
  bump(): void {
    this.memo.clear();
  }
  /** Iterative: ancestries are thousands of events deep. */
  ok(h: Held): boolean {
    if (this.allowed === null) return true;
    const stack: Held[] = [h];
    while (stack.length > 0) {
      const x = stack[stack.length - 1]!;
      const key = toHex(x.ev.hash);
      if (this.memo.has(key)) {
        stack.pop();
        continue;
      }
      if (x.mine && !this.allowed.has(key)) {
        this.memo.set(key, false);
        stack.pop();
        continue;
      }
      const parents: Held[] = [];
      for (const p of [x.ev.selfParent, x.ev.otherParent?.hash ?? null]) {
        if (p === null) continue;
        const ph = this.dag.get(p);
        if (ph !== undefined) parents.push(ph); // one we lack the peer must hold
      }
      const pending = parents.filter((p) => !this.memo.has(toHex(p.ev.hash)));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      this.memo.set(
        key,
        parents.every((p) => this.memo.get(toHex(p.ev.hash)) === true),
      );
      stack.pop();
    }
    return this.memo.get(toHex(h.ev.hash)) === true;
  }
}

/**
 * The honest page for `req` under `ok`: what the peer lacks by its summary,
 * capped like the node's server (docs/PROTOCOL.md 8).
 */
export function pageFor(
  dag: Dag,
  req: SyncRequest,
  ok: (h: Held) => boolean,
): { events: Held[]; more: boolean } {
  const capEvents = Math.min(req.maxEvents, MAX_PAGE_EVENTS);
  const capBytes = Math.min(req.maxBytes, MAX_PAGE_BYTES);
  const events: Held[] = [];
  let bytes = 0;
  let more = false;
  for (const h of dag.since(req.known)) {
    if (!ok(h)) continue;
    if (events.length >= capEvents || (events.length > 0 && bytes + h.ev.bytes.length > capBytes)) {
      more = true;
      break;
    }
    events.push(h);
    bytes += h.ev.bytes.length;
  }
  return { events, more };
}
