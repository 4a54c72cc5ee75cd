/**
 * Event creation in the simulator: after a sync with B, node A creates an
 * event on its own latest with B's shown tip as other-parent (the forker,
 * every `forkEvery`-th time, two of them), probing it first as a node does
 * (docs/PROTOCOL.md 5.9, `probe`).
 */
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import type { ProbeResult } from '../types.js';
import { makeSimEvent, randomTxs, type SimEvent, type SimEventFields } from './events.js';
import { forkTip, groupOf, shownTip } from './gossip.js';
import { tryInsert } from './inbox.js';
import { encodeLedgerTx } from './ledger.js';
import type { NodeState, SimWorld } from './world.js';

/** The ledger transactions validator `a` submits at this step (not yet applied by its ledger). */
function actionTxs(w: SimWorld, a: NodeState): Uint8Array[] {
  if (!w.L || !a.ledger) return [];
  const out: Uint8Array[] = [];
  w.L.actions.forEach((act, nonce) => {
    if (act.by === a.view.index && act.atStep <= w.stepsDone && !a.ledger!.applied(nonce)) {
      out.push(encodeLedgerTx(nonce, act.tx));
    }
  });
  return out;
}

/** A creates its next event(s) after syncing with B. */
export function create(w: SimWorld, a: NodeState, b: NodeState): void {
  const ai = a.view.index;
  const op = shownTip(w, b, ai);
  if (op && !a.cons!.has(op.hash)) {
    if (a.held.has(keyOf(op.hash))) {
      // Held for a table its ledger has not computed yet: nothing to build on this turn.
      a.counters.idleTurns++;
      return;
    }
    a.view.anomalies.push(`node ${ai} lacks the tip of its peer ${b.view.index} after a sync`);
    return;
  }
  const g = groupOf(b.view.index);
  const sp = a.view.forker ? forkTip(a, g) : a.tip;
  const ts = Math.max(w.clock + a.view.clockAheadMs, sp ? sp.timestamp + 1 : 0);
  const seq = sp ? sp.seq + 1 : 0;
  const fields = (twin: number): SimEventFields => ({
    creator: ai,
    seq,
    selfParent: sp ? sp.hash : null,
    otherParent: op ? op.hash : null,
    ...(op ? { otherParentCreator: op.creator, otherParentSeq: op.seq } : {}),
    timestamp: ts,
    transactions: [...randomTxs(w.rng, ai, seq, w.o.maxTxPerEvent, twin), ...actionTxs(w, a)],
  });
  if (a.view.forker && a.forkCounter++ % w.o.forkEvery === w.o.forkEvery - 1) {
    // Equivocate: two events on one self-parent, one per half of the network.
    const e1 = publish(w, a, fields(0));
    const e2 = publish(w, a, fields(1));
    if (e1 && e2) {
      a.tips[g] = e1;
      a.tips[(1 - g) as 0 | 1] = e2;
    }
    return;
  }
  const e = publish(w, a, fields(0));
  if (e) setTip(a, e, g);
}

/** A's new tip after creating e: its tip, or the forker's tip of half g (both before its first fork). */
function setTip(a: NodeState, e: SimEvent, g: 0 | 1): void {
  if (!a.view.forker) a.tip = e;
  else if (a.tips[0] === a.tips[1]) {
    // Not forked yet: one chain, shown to everyone.
    a.tips[0] = e;
    a.tips[1] = e;
  } else a.tips[g] = e;
}

/**
 * Signs an event and gives it to its creator's own engine first; null if
 * refused. As a node does, it first asks `probe` whether the engine would
 * take it: with a ledger, a validator that is no member in the event's
 * round, or whose table for it is pending, creates nothing this turn.
 */
function publish(w: SimWorld, a: NodeState, f: SimEventFields): SimEvent | null {
  const e = makeSimEvent(f, w.events.length, w.o.hash);
  const probed = probeOwn(w, a, e);
  if (!probed) return null;
  a.member = true;
  if (tryInsert(w, a, e) !== 'ok') {
    a.view.anomalies.push(`node ${a.view.index}: its own event was refused after probe`);
    return null;
  }
  const got = a.cons!.info(e.hash);
  if (got && (got.round !== probed.round || got.witness !== probed.witness)) {
    a.view.anomalies.push(
      `node ${a.view.index}: probe said round ${probed.round}, insert ${got.round}`,
    );
  }
  w.events.push(e);
  a.counters.created++;
  if (a.view.forker) a.own.set(keyOf(e.hash), e);
  return e;
}

/**
 * `probe` of A's own new event; null (an idle turn, or an anomaly) if its
 * engine would refuse it.
 */
function probeOwn(w: SimWorld, a: NodeState, e: SimEvent): ProbeResult | null {
  const cons = a.cons!;
  try {
    if (e.creator >= cons.validatorCount) {
      throw new ConsensusError('NOT_A_VALIDATOR', 'not registered here yet');
    }
    return cons.probe(e);
  } catch (err) {
    const code = err instanceof ConsensusError ? err.code : 'THROWN';
    if (w.L && (code === 'NOT_A_VALIDATOR' || code === 'TABLE_PENDING')) {
      if (code === 'NOT_A_VALIDATOR') a.member = false;
      a.counters.idleTurns++;
    } else {
      a.view.anomalies.push(`node ${a.view.index}: probe refused its own event: ${code}`);
    }
    return null;
  }
}
