/**
 * The fault kinds' state, per directed link `puller->server`: the rules
 * (delay, jitter, loss, duplicates, reordering, black holes), the blocks of
 * partitions and one-way cuts, the counters, and each link's seeded dice.
 * The proxies (src/faults/proxy.ts) read it on every request; the controls
 * of {@link FaultControls} change it.
 */
import { TestnetError } from '../stakes.js';
import { linkSeed, mulberry32 } from './random.js';
import type { BlockMode, FaultControls, LinkRule, LinkStats } from './types.js';

/**
 * The values one request draws, whatever its rule: the same count every
 * time keeps each link's stream aligned, so that the n-th request of a link
 * meets the same fate in every run with that seed.
 */
export interface Dice {
  hang: number;
  loss: number;
  /** Below 0.5: lost before the server sees it; else after. */
  lossSide: number;
  duplicate: number;
  requestJitter: number;
  duplicateJitter: number;
  answerJitter: number;
  reorder: number;
  reorderMs: number;
}
/** Values drawn per request (the fields of {@link Dice}). */
const DRAWS = 9;

/** The links' state as the proxies read it, and the controls. */
export interface Links extends FaultControls {
  /** The name of the link `from → to`. */
  linkOf(from: string, to: string): string;
  /** The rule of `link` (an unknown caller `?` gets the default). */
  ruleOf(from: string, link: string): LinkRule;
  /** The counters of `link`, made on first use. */
  statsOf(link: string): LinkStats;
  /** The next request's dice on `link`. */
  draw(link: string): Dice;
  isBlocked(link: string): boolean;
  /** How blocked links fail now. */
  blockMode(): BlockMode;
}

/** Every counter at 0. */
export const emptyStats = (): LinkStats => ({
  requests: 0,
  forwarded: 0,
  blocked: 0,
  lost: 0,
  hung: 0,
  duplicated: 0,
  replayRefused: 0,
  replayServed: 0,
  delayed: 0,
  reordered: 0,
  upstreamErrors: 0,
});

/** The counters summed. */
function sum(all: Iterable<LinkStats>): LinkStats {
  const t = emptyStats();
  for (const s of all) for (const k of Object.keys(t) as (keyof LinkStats)[]) t[k] += s[k];
  return t;
}

/** The draws in their order of old (the order is part of what a seed replays). */
function diceOf(v: number[]): Dice {
  const [
    hang,
    loss,
    lossSide,
    duplicate,
    requestJitter,
    duplicateJitter,
    answerJitter,
    reorder,
    reorderMs,
  ] = v;
  return {
    hang: hang!,
    loss: loss!,
    lossSide: lossSide!,
    duplicate: duplicate!,
    requestJitter: requestJitter!,
    duplicateJitter: duplicateJitter!,
    answerJitter: answerJitter!,
    reorder: reorder!,
    reorderMs: reorderMs!,
  };
}

/** Every pair of nodes in different groups, both ways; each validator in exactly one group. */
function partitionPairs(
  groups: readonly (readonly string[])[],
  names: ReadonlySet<string>,
  known: (name: string) => string,
): [string, string][] {
  const seen = groups.flat().map(known);
  if (new Set(seen).size !== seen.length || seen.length !== names.size) {
    throw new TestnetError(`a partition names every validator exactly once: ${seen}`);
  }
  const pairs: [string, string][] = [];
  for (const [i, g] of groups.entries()) {
    for (const [j, h] of groups.entries()) {
      if (i !== j) for (const a of g) for (const b of h) pairs.push([a, b]);
    }
  }
  return pairs;
}

/** The links between the validators `nodeNames`, with dice seeded by `seed`. */
export function createLinks(nodeNames: readonly string[], seed: number, mode: BlockMode): Links {
  const names = new Set(nodeNames);
  let blockMode = mode;
  let defaultRule: LinkRule = {};
  const rules = new Map<string, LinkRule>();
  const blocked = new Set<string>();
  const stats = new Map<string, LinkStats>();
  const dice = new Map<string, () => number>();
  const known = (name: string) => {
    if (!names.has(name)) throw new TestnetError(`no validator named ${name}`);
    return name;
  };
  const linkOf = (from: string, to: string) => `${from}->${to}`;
  const setBlocks = (pairs: [string, string][]) => {
    for (const [a, b] of pairs) blocked.add(linkOf(known(a), known(b)));
  };
  const others = (name: string) => [...names].filter((x) => x !== known(name));
  const partition = (groups: readonly (readonly string[])[]) =>
    setBlocks(partitionPairs(groups, names, known));
  // Zeroed in place: exchanges still in flight hold their link's object.
  const zero = () => {
    for (const s of stats.values()) Object.assign(s, emptyStats());
  };
  return {
    linkOf,
    ruleOf: (from, link) => (from === '?' ? undefined : rules.get(link)) ?? defaultRule,
    statsOf(link) {
      let s = stats.get(link);
      if (s === undefined) stats.set(link, (s = emptyStats()));
      return s;
    },
    draw(link) {
      let g = dice.get(link);
      if (g === undefined) dice.set(link, (g = mulberry32(linkSeed(seed, link))));
      return diceOf(Array.from({ length: DRAWS }, g));
    },
    isBlocked: (link) => blocked.has(link),
    blockMode: () => blockMode,
    setAll(rule) {
      defaultRule = { ...rule };
      rules.clear();
    },
    setLink(from, to, rule) {
      const link = linkOf(known(from), known(to));
      if (rule === null) rules.delete(link);
      else rules.set(link, { ...rule });
    },
    block: (from, to) => setBlocks([[from, to]]),
    partition,
    isolate: (name) => partition([[name], others(name)]),
    cutPullsFrom: (name) => setBlocks(others(name).map((x) => [x, name])),
    cutPullsBy: (name) => setBlocks(others(name).map((x) => [name, x])),
    setBlockMode(m) {
      blockMode = m;
    },
    heal: () => blocked.clear(),
    clear() {
      blocked.clear();
      rules.clear();
      defaultRule = {};
    },
    stats(o) {
      const out = Object.fromEntries([...stats].map(([k, v]) => [k, { ...v }]));
      if (o?.reset === true) zero();
      return out;
    },
    totals(o) {
      const t = sum(stats.values());
      if (o?.reset === true) zero();
      return t;
    },
  };
}
