/**
 * Rebuilding the in-memory state on open (docs/PROTOCOL.md 9.3: a restarted
 * node resumes from disk): the counters from the `m` record, and per
 * creator its tips, highest seq and fork floor from the top of its `c` range
 * and its `f` record. Cost: per creator, the top of its `c` range down to
 * its 4 best childless events (one event read per entry visited); a creator
 * with many dead fork branches costs more.
 */
import { MAX_TIPS_PER_CREATOR } from '@pos/gossip';
import { readU64be, toHex } from '@pos/merkle';
import { byTipOrder, type CreatorState, type Creators, type TipIx } from './creators.js';
import { EventStoreError } from './errors.js';
import { decodeMeta, type EventKeys } from './keys.js';
import type { EventReader } from './reads.js';
import type { StoreState } from './state.js';
import type { EventDb } from './types.js';

/** What the rebuild reads. */
export interface RebuildDeps {
  readonly db: EventDb;
  readonly keys: EventKeys;
  readonly reader: EventReader;
}

/** Loads `nextIndex` and `pruneFloor` from the `m` record, if there is one. */
export async function loadMeta(deps: RebuildDeps, state: StoreState): Promise<void> {
  const meta = await deps.db.get(deps.keys.meta);
  if (meta === undefined) return;
  const m = decodeMeta(meta);
  state.nextIndex = m.nextIndex;
  state.pruneFloor = m.pruneFloor;
}

/**
 * Fills `creators` from disk: walks the `c` range from the top, one creator
 * at a time (a one-entry reverse seek below the last creator found).
 */
export async function rebuildCreators(deps: RebuildDeps, creators: Creators): Promise<void> {
  creators.clear();
  let upper = deps.keys.creatorsHigh;
  for (;;) {
    const creator = await creatorBelow(deps, upper);
    if (creator === undefined) return;
    const st = await rebuildCreator(deps, creator);
    if (st !== null) creators.set(toHex(creator), st);
    upper = deps.keys.creatorLow(creator);
  }
}

/** The highest creator with a `c` entry below `upper`. */
async function creatorBelow(deps: RebuildDeps, upper: Uint8Array): Promise<Uint8Array | undefined> {
  const { db, keys } = deps;
  let creator: Uint8Array | undefined;
  const it = db.iterator({ gte: keys.creatorsLow, lt: upper, reverse: true, limit: 1 });
  try {
    for await (const [k] of it) {
      if (k.length !== keys.creatorEntryLength) {
        throw new EventStoreError('CORRUPT_STORE', 'bad c key');
      }
      creator = keys.creatorOf(k);
    }
  } finally {
    await it.close();
  }
  return creator;
}

/** Rebuilds one creator's state from the top of its `c` range. */
async function rebuildCreator(
  deps: RebuildDeps,
  creator: Uint8Array,
): Promise<CreatorState | null> {
  const top = await topTips(deps, creator);
  if (top === null) return null;
  const f = await deps.db.get(deps.keys.forkFloor(creator));
  return {
    tips: top.tips,
    maxSeq: top.maxSeq,
    forkFloor: f === undefined ? Number.POSITIVE_INFINITY : readU64be(f, 0),
    seqIdx: new Map(),
    seqFloor: top.maxSeq + 1,
  };
}

/**
 * Walks the creator's `c` range down from its highest seq, a whole seq group
 * at a time, until it holds MAX_TIPS_PER_CREATOR childless events (a child
 * is always at a higher seq, so it was seen first). Null for no entry.
 */
async function topTips(
  deps: RebuildDeps,
  creator: Uint8Array,
): Promise<{ tips: TipIx[]; maxSeq: number } | null> {
  const { db, keys, reader } = deps;
  const withChild = new Set<string>();
  const cands: TipIx[] = [];
  let maxSeq = -1;
  let groupSeq = -1;
  const it = db.iterator({
    gte: keys.creatorLow(creator),
    lt: keys.creatorHigh(creator),
    reverse: true,
  });
  try {
    for await (const [k, v] of it) {
      const seq = keys.seqOf(k);
      const h = keys.hashOf(k);
      if (maxSeq < 0) maxSeq = seq;
      if (seq !== groupSeq) {
        if (cands.length >= MAX_TIPS_PER_CREATOR) break;
        groupSeq = seq;
      }
      const ev = await reader.readAsync(h);
      if (ev === undefined) throw new EventStoreError('CORRUPT_STORE', 'c entry without event');
      const hex = toHex(h);
      if (!withChild.has(hex)) cands.push({ seq, hash: h, index: readU64be(v, 0) });
      if (ev.selfParent) withChild.add(toHex(ev.selfParent));
    }
  } finally {
    await it.close();
  }
  if (maxSeq < 0) return null;
  cands.sort(byTipOrder);
  return { tips: cands.slice(0, MAX_TIPS_PER_CREATOR), maxSeq };
}
