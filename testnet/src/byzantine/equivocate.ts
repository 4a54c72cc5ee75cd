/**
 * The `equivocate` mode: a validator that pulls, keeps the DAG and creates
 * events like an honest one for a seeded warm-up, then forks: two events on
 * one self-parent, branch A served to one peer (group A, told apart by the
 * signed `from` of its sync requests) and branch B to the rest, both built
 * on from then on. A peer keeps getting only its own branch (and only
 * honest events that do not descend from the other) until its own summary
 * shows that it holds the other branch, learned from honest peers: the fork
 * evidence has to travel through honest gossip (docs/PROTOCOL.md 8).
 * Once every peer holds both, it forks again every `--fork-every` events
 * (the other group's head gets a second child).
 */
import type { SyncRequest } from '@pos/gossip';
import { toHex } from '@pos/merkle';
import { type Adversary, anyTip, createOwn, noteRequest, otherParentFor } from './adversary.js';
import { type Held, pageFor, View } from './dag.js';
import { packResponse } from './pack.js';
import type { ByzantineStatus, ModeBehaviour } from './types.js';
import { log, sinceStart } from './util.js';

type Group = 'A' | 'B';
const GROUPS = ['A', 'B'] as const;

/** The state of the fork: who sees which branch, and who holds both. */
interface Fork {
  readonly groupOf: ReadonlyMap<string, Group>;
  /** Own events each group may see. */
  readonly lineage: Record<Group, Set<string>>;
  readonly views: Record<Group, View>;
  /** Peers whose summary showed an own event off their branch. */
  readonly aware: Set<string>;
  /** self-parent (or "root") -> children */
  readonly siblings: Map<string, Set<string>>;
  ticks: number;
  /** The group whose head moves onto the other's at the next refork. */
  refork: Group;
}

function noteChild(f: Fork, h: Held): void {
  const k = h.ev.selfParent === null ? 'root' : toHex(h.ev.selfParent);
  let s = f.siblings.get(k);
  if (s === undefined) f.siblings.set(k, (s = new Set()));
  s.add(toHex(h.ev.hash));
}

/** Before the fork: one chain, both groups' head and lineage. */
function warmupTick(adv: Adversary, f: Fork): void {
  const h = createOwn(adv, 'A', anyTip(adv));
  adv.heads.set('B', h);
  f.lineage.A.add(toHex(h.ev.hash));
  f.lineage.B.add(toHex(h.ev.hash));
  noteChild(f, h);
}

/** A fresh fork once everyone holds both branches: the other group's head gets a second child. */
function refork(adv: Adversary, f: Fork): void {
  const from: Group = f.refork === 'A' ? 'B' : 'A';
  adv.heads.set(f.refork, adv.heads.get(from)!);
  adv.dag.selfAncestors(toHex(adv.heads.get(from)!.ev.hash), f.lineage[f.refork]);
  f.views[f.refork].bump();
  f.refork = from;
  adv.report.reforks++;
}

/** One event on each branch, each on an honest event its group may see. */
function forkTick(adv: Adversary, f: Fork): void {
  const everyoneAware = f.aware.size === adv.peers.length;
  if (everyoneAware && f.ticks % adv.args.forkEvery === 0) refork(adv, f);
  for (const g of GROUPS) {
    const group = adv.peers.filter((p) => f.groupOf.get(p.hex) === g);
    const other = everyoneAware ? anyTip(adv) : otherParentFor(adv, (h) => f.views[g].ok(h), group);
    const h = createOwn(adv, g, other);
    f.lineage[g].add(toHex(h.ev.hash));
    noteChild(f, h);
  }
}

/** Whether a peer's summary names an own event off the branch it was given. */
function forkedFor(adv: Adversary, f: Fork, req: SyncRequest, g: Group): boolean {
  for (const k of req.known) {
    if (toHex(k.creator) !== adv.selfHex) continue;
    if (!f.lineage[g].has(toHex(k.hash))) return true;
  }
  return false;
}

/** A peer's page: its branch only until it holds both, then everything. */
function respond(adv: Adversary, f: Fork, req: SyncRequest): Uint8Array {
  const peerHex = toHex(req.from);
  const pr = noteRequest(adv, peerHex);
  const g = f.groupOf.get(peerHex)!;
  if (!f.aware.has(peerHex) && forkedFor(adv, f, req, g)) {
    f.aware.add(peerHex);
    pr.awareAtMs = sinceStart();
    pr.view = 'all';
    log('a peer holds both branches', { peer: pr.name, reforks: adv.report.reforks });
  }
  const view = f.aware.has(peerHex) ? null : f.views[g];
  const p = pageFor(adv.dag, req, (h) => view === null || view.ok(h));
  const tip = adv.heads.get(g) ?? null;
  return packResponse(
    p.events.map((h) => h.ev.bytes),
    p.more,
    tip === null ? null : { hash: tip.ev.hash, seq: tip.ev.seq },
  );
}

/** Every self-parent with two children, and the children. */
function forksOf(adv: Adversary, f: Fork): ByzantineStatus['forks'] {
  return [...f.siblings.values()]
    .filter((c) => c.size > 1)
    .map((c) => ({ seq: adv.dag.get([...c][0]!)!.ev.seq, hashes: [...c] }));
}

/**
 * The mode: group A is the first peer (in the seeded order), group B the
 * rest; the fork comes after `warmup` events.
 */
export function createEquivocate(adv: Adversary, warmup: number): ModeBehaviour {
  const lineage = { A: new Set<string>(), B: new Set<string>() };
  const f: Fork = {
    groupOf: new Map(adv.peers.map((p, i) => [p.hex, i === 0 ? 'A' : 'B'])),
    lineage,
    views: { A: new View(adv.dag, lineage.A), B: new View(adv.dag, lineage.B) },
    aware: new Set(),
    siblings: new Map(),
    ticks: 0,
    refork: 'A',
  };
  for (const p of adv.peers) adv.report.peers[p.hex]!.view = f.groupOf.get(p.hex)!;
  return {
    branches: GROUPS,
    resumed(own) {
      for (const h of own) {
        const k = toHex(h.ev.hash);
        lineage.A.add(k);
        lineage.B.add(k);
      }
      f.views.A.bump();
      f.views.B.bump();
    },
    tick() {
      f.ticks++;
      if (f.ticks <= warmup) warmupTick(adv, f);
      else forkTick(adv, f);
    },
    respond: (req) => respond(adv, f, req),
    forks: () => forksOf(adv, f),
  };
}
