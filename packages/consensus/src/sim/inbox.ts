/**
 * A node's receiving side, as the gossip layer runs it (docs/PROTOCOL.md 5.1,
 * 5.9, 8): duplicates are free, an event with a missing parent is buffered
 * until the parent comes, one the engine cannot take yet (`TABLE_PENDING`, or
 * a creator not registered here) is held with its descendants until this
 * node has decided enough.
 */
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import type { Consensus, DecidedBlock } from '../types.js';
import type { SimEvent } from './events.js';
import type { NodeState, SimWorld } from './world.js';

/**
 * Inserts one event whose parents are known: `ok` if it was new and
 * accepted, `held` if this node cannot take it yet (its round's table is
 * pending here, or its creator is not registered here yet), `duplicate`,
 * or `refused` (recorded as an anomaly).
 */
export function tryInsert(
  w: SimWorld,
  node: NodeState,
  e: SimEvent,
): 'ok' | 'held' | 'duplicate' | 'refused' {
  const cons = node.cons!;
  let res: ReturnType<Consensus<SimEvent>['insert']>;
  if (e.creator >= cons.validatorCount) return 'held';
  try {
    res = cons.insert(e);
  } catch (err) {
    if (err instanceof ConsensusError && err.code === 'TABLE_PENDING') return 'held';
    refused(node, e, err);
    return 'refused';
  }
  if (!res.inserted) {
    node.counters.duplicatesIgnored++;
    if (res.blocks.length > 0 || res.evidence.length > 0) {
      node.view.anomalies.push(`node ${node.view.index}: a duplicate insert decided something`);
    }
    return 'duplicate';
  }
  node.known.push(e);
  node.witnesses?.add(cons, e);
  for (const b of res.blocks) {
    node.view.blocks.push(b);
    if (node.witnesses) node.view.candidates.push(node.witnesses.candidates(cons, b.round));
  }
  for (const ev of res.evidence) node.view.evidence.push(ev);
  handToLedger(w, node, res.blocks);
  return 'ok';
}

/** Counts and records an event the engine refused (an anomaly for a node following the protocol). */
function refused(node: NodeState, e: SimEvent, err: unknown): void {
  const code = err instanceof ConsensusError ? err.code : 'THROWN';
  node.counters.rejected[code] = (node.counters.rejected[code] ?? 0) + 1;
  // A crash (not a ConsensusError) carries its innermost frame: where to look.
  const at =
    err instanceof ConsensusError ? '' : ` ${(err as Error).stack?.split('\n')[1]?.trim() ?? ''}`;
  node.view.anomalies.push(
    `node ${node.view.index} rejected event ${e.id} (creator ${e.creator} seq ${e.seq}): ${code} ${(err as Error).message}${at}`,
  );
}

/**
 * The ledger follows the decisions: at once (the next insert may need the
 * new table), or `applyDelay` steps later.
 */
function handToLedger(
  w: SimWorld,
  node: NodeState,
  blocks: readonly DecidedBlock<SimEvent>[],
): void {
  const cons = node.cons!;
  if (!node.ledger || cons.lastDecidedRound === node.handedDecided) return;
  node.handedDecided = cons.lastDecidedRound;
  if (w.applyDelay === 0) node.ledger.absorb(blocks, cons);
  else {
    const decided = cons.lastDecidedRound;
    node.unapplied.push({ due: w.stepsDone + w.applyDelay, blocks, decided });
  }
}

/** A node's ledger applies the decisions that are due, then what waited for their tables goes in. */
export function catchUp(w: SimWorld, node: NodeState): void {
  let applied = false;
  while (node.unapplied.length > 0 && node.unapplied[0]!.due <= w.stepsDone) {
    const u = node.unapplied.shift()!;
    node.ledger!.absorb(u.blocks, node.cons!, u.decided);
    applied = true;
  }
  if (applied && node.held.size > 0) retryHeld(w, node);
}

/** Holds `e` (table pending or creator unknown here) and every buffered event waiting on it. */
function hold(node: NodeState, e: SimEvent): void {
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    const k = keyOf(x.hash);
    if (node.held.has(k)) continue;
    node.held.set(k, x);
    node.buffer.delete(k);
    node.counters.heldTotal++;
    const waiters = node.waiting.get(k);
    if (!waiters) continue;
    node.waiting.delete(k);
    for (const wk of waiters) {
      const b = node.buffer.get(wk);
      if (b) stack.push(b);
    }
  }
}

/**
 * Inserts the held events that can go in now, in creation order (which is
 * topological), pass after pass while a pass inserts something: each
 * insert may decide rounds and so make more tables known.
 */
export function retryHeld(w: SimWorld, node: NodeState): void {
  const cons = node.cons!;
  for (let progress = true; progress && node.held.size > 0; ) {
    progress = false;
    const list = [...node.held.values()].sort((a, b) => a.id - b.id);
    for (const e of list) {
      const k = keyOf(e.hash);
      if (cons.has(e.hash)) {
        node.held.delete(k);
        continue;
      }
      if (cons.missingParents(e).length > 0) continue;
      const out = tryInsert(w, node, e);
      if (out === 'held') continue; // still: the engine changed nothing
      node.held.delete(k);
      progress = true;
      if (out === 'ok') for (const r of release(node, e)) admit(w, node, r);
    }
  }
}

/** Drops held events that wait on a parent that is neither known nor held (it was forgotten). */
export function pruneHeld(node: NodeState): void {
  const cons = node.cons!;
  for (let changed = true; changed; ) {
    changed = false;
    for (const [k, e] of node.held) {
      const orphan = cons
        .missingParents(e)
        .some((q) => !node.held.has(keyOf(q)) && !node.buffer.has(keyOf(q)));
      if (orphan) {
        node.held.delete(k);
        node.counters.dropped++;
        changed = true;
      }
    }
  }
}

/** Records that the buffered event `key` waits on each of `missing`. */
function wait(node: NodeState, key: string, missing: readonly Uint8Array[]): void {
  for (const m of missing) {
    const mk = keyOf(m);
    const list = node.waiting.get(mk);
    if (list) list.push(key);
    else node.waiting.set(mk, [key]);
  }
}

/**
 * Delivers one event as the gossip layer would: duplicates are free; an
 * event with a missing parent is buffered and retried when the parent
 * comes; one the engine cannot take yet (`held` by `tryInsert`), or one
 * whose parent is held, is held until this node has decided enough.
 */
export function receive(w: SimWorld, node: NodeState, x: SimEvent): void {
  const cons = node.cons!;
  const key = keyOf(x.hash);
  if (node.buffer.has(key) || node.held.has(key)) {
    node.counters.duplicatesIgnored++;
    return;
  }
  if (cons.has(x.hash)) {
    // Hand it to the engine anyway: it must answer `inserted: false`.
    tryInsert(w, node, x);
    return;
  }
  const missing = cons.missingParents(x);
  if (missing.length > 0) {
    if (missing.some((m) => node.held.has(keyOf(m)))) {
      hold(node, x);
      return;
    }
    node.buffer.set(key, x);
    wait(node, key, missing);
    node.counters.bufferedTotal++;
    if (node.buffer.size > node.counters.maxBuffered) node.counters.maxBuffered = node.buffer.size;
    return;
  }
  admit(w, node, x);
}

/** Inserts x, whose parents are known, then the buffered events that were waiting on it. */
function admit(w: SimWorld, node: NodeState, x: SimEvent): void {
  const stack = [x];
  while (stack.length > 0) {
    const e = stack.pop()!;
    const out = tryInsert(w, node, e);
    if (out === 'held') hold(node, e);
    if (out === 'ok') stack.push(...release(node, e));
  }
}

/** The buffered events that waited on `e` (just inserted) and now have every parent. */
function release(node: NodeState, e: SimEvent): SimEvent[] {
  const cons = node.cons!;
  const k = keyOf(e.hash);
  const waiters = node.waiting.get(k);
  const ready: SimEvent[] = [];
  if (!waiters) return ready;
  node.waiting.delete(k);
  for (const wk of waiters) {
    const b = node.buffer.get(wk);
    if (!b) continue; // already inserted through its other parent, or held
    const still = cons.missingParents(b);
    if (still.length > 0) {
      if (still.some((m) => node.held.has(keyOf(m)))) hold(node, b);
      else wait(node, wk, still);
      continue;
    }
    node.buffer.delete(wk);
    ready.push(b);
  }
  return ready;
}
