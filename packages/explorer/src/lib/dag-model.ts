/**
 * The DAG page's model: the events the page fetched (`pos_getDag`), merged
 * as their consensus facts become known (docs/PROTOCOL.md 5.3-5.6: round,
 * witness, fame, the block that ordered each, its leader), and laid out for
 * drawing: one column per creator, one band of rows per round (a creator's
 * events of a round one above the other, by seq).
 *
 * @module
 */
import type { EventResult } from '@pos/api';

/** One event as the view draws it. */
export interface DagNode {
  readonly hash: string;
  /** Its creator's column. */
  column: number;
  readonly creator: string;
  readonly seq: number;
  round: number;
  readonly selfParent: string | null;
  readonly otherParent: string | null;
  witness: boolean | null;
  famous: boolean | null;
  orderedIn: number | null;
  leader: boolean;
  readonly txCount: number;
  readonly timestamp: number;
  /** Named by fork evidence (`pos_getEquivocations`). */
  forked: boolean;
  /** Row in the layout: 0 is the oldest. */
  row: number;
}

/** A round's band of rows. */
export interface RoundBand {
  readonly round: number;
  readonly firstRow: number;
  readonly rows: number;
  /** The event that led the round's block, once known. */
  readonly leader: DagNode | null;
  readonly witnesses: number;
  readonly decided: boolean;
}

/** The laid-out DAG. */
export interface DagLayout {
  /** Every event, oldest row first. */
  readonly nodes: readonly DagNode[];
  readonly bands: readonly RoundBand[];
  readonly rows: number;
  readonly creators: readonly string[];
}

/** Options of {@link createDagModel}. */
export interface DagModelOpts {
  /** Most events kept: past it, the oldest rounds are dropped. */
  readonly maxEvents: number;
}

/** Defaults of {@link DagModelOpts}. */
export const defaultDagModelOpts: DagModelOpts = { maxEvents: 20_000 };

/** Lays out the events: rounds oldest first, each a band as tall as its busiest creator. */
function layoutOf(
  byRound: ReadonlyMap<number, ReadonlySet<string>>,
  byHash: ReadonlyMap<string, DagNode>,
  creators: readonly string[],
): DagLayout {
  const nodes: DagNode[] = [];
  const bands: RoundBand[] = [];
  let row = 0;
  for (const r of [...byRound.keys()].sort((a, b) => a - b)) {
    const perCreator = new Map<number, DagNode[]>();
    for (const h of byRound.get(r)!) {
      const n = byHash.get(h)!;
      perCreator.set(n.column, [...(perCreator.get(n.column) ?? []), n]);
    }
    let rows = 1;
    let leader: DagNode | null = null;
    let witnesses = 0;
    let undecided = 0;
    for (const list of perCreator.values()) {
      list.sort((a, b) => a.seq - b.seq || (a.hash < b.hash ? -1 : 1));
      list.forEach((n, i) => {
        n.row = row + i;
        nodes.push(n);
        if (n.leader && n.orderedIn === r) leader = n;
        if (n.witness === true) {
          witnesses++;
          if (n.famous === null) undecided++;
        }
      });
      rows = Math.max(rows, list.length);
    }
    bands.push({
      round: r,
      firstRow: row,
      rows,
      leader,
      witnesses,
      decided: witnesses > 0 && undecided === 0,
    });
    row += rows;
  }
  nodes.sort((a, b) => a.row - b.row);
  return { nodes, bands, rows: row, creators: [...creators] };
}

/** A new node of event `e` (which has a round). */
function nodeOf(e: EventResult, column: number, forked: boolean): DagNode {
  return {
    hash: e.hash,
    column,
    creator: e.creator,
    seq: e.seq,
    round: e.round!,
    selfParent: e.selfParent,
    otherParent: e.otherParent?.hash ?? null,
    witness: e.witness,
    famous: e.famous,
    orderedIn: e.orderedIn,
    leader: e.leader,
    txCount: e.txHashes.length,
    timestamp: e.timestamp,
    forked,
    row: 0,
  };
}

/** Merges the facts of `e` into `n`: facts only become known, so a null (compacted) keeps what was seen. */
function mergeFacts(n: DagNode, e: EventResult): boolean {
  const next = {
    witness: e.witness ?? n.witness,
    famous: e.famous ?? n.famous,
    orderedIn: e.orderedIn ?? n.orderedIn,
    leader: e.leader || n.leader,
  };
  let changed = false;
  for (const k of ['witness', 'famous', 'orderedIn', 'leader'] as const) {
    if (n[k] !== next[k]) {
      (n as unknown as Record<string, unknown>)[k] = next[k];
      changed = true;
    }
  }
  return changed;
}

/** The model of the events fetched so far. */
export function createDagModel(opts: DagModelOpts = defaultDagModelOpts) {
  const byHash = new Map<string, DagNode>();
  const byRound = new Map<number, Set<string>>();
  const creators: string[] = [];
  const forks = new Set<string>();
  let cached: DagLayout | null = null;

  function place(n: DagNode, round: number): void {
    byRound.get(n.round)?.delete(n.hash);
    n.round = round;
    let s = byRound.get(round);
    if (s === undefined) byRound.set(round, (s = new Set()));
    s.add(n.hash);
  }

  function addCreator(key: string): void {
    if (creators.includes(key)) return;
    creators.push(key);
    creators.sort();
    for (const n of byHash.values()) n.column = creators.indexOf(n.creator);
  }

  /** Merges one answer's events; whether anything changed. */
  function upsert(events: readonly EventResult[]): boolean {
    let changed = false;
    for (const e of events) {
      const old = byHash.get(e.hash);
      if (old === undefined) {
        if (e.round === null) continue; // compacted before we saw it: no place for it
        addCreator(e.creator);
        const n = nodeOf(e, creators.indexOf(e.creator), forks.has(e.hash));
        byHash.set(n.hash, n);
        place(n, e.round);
        changed = true;
        continue;
      }
      if (e.round !== null && e.round !== old.round) {
        place(old, e.round);
        changed = true;
      }
      changed = mergeFacts(old, e) || changed;
    }
    if (changed) cached = null;
    trim();
    return changed;
  }

  function trim(): void {
    if (byHash.size <= opts.maxEvents) return;
    const rounds = [...byRound.keys()].sort((a, b) => a - b);
    for (const r of rounds) {
      if (byHash.size <= opts.maxEvents) break;
      for (const h of byRound.get(r)!) byHash.delete(h);
      byRound.delete(r);
    }
    cached = null;
  }

  /** Marks the events named by fork evidence. */
  function setForks(hashes: Iterable<string>): boolean {
    let changed = false;
    for (const h of hashes) {
      if (forks.has(h)) continue;
      forks.add(h);
      const n = byHash.get(h);
      if (n !== undefined) n.forked = changed = true;
    }
    if (changed) cached = null;
    return changed;
  }

  function layout(): DagLayout {
    if (cached === null) cached = layoutOf(byRound, byHash, creators);
    return cached;
  }

  return {
    upsert,
    setForks,
    layout,
    get: (hash: string) => byHash.get(hash),
    get size() {
      return byHash.size;
    },
    /** The oldest and newest rounds held (null when empty). */
    range(): { min: number; max: number } | null {
      if (byRound.size === 0) return null;
      const rs = [...byRound.keys()];
      return { min: Math.min(...rs), max: Math.max(...rs) };
    },
  };
}

/** The model's type. */
export type DagModel = ReturnType<typeof createDagModel>;
