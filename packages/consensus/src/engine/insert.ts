/**
 * Insertion of one event (docs/PROTOCOL.md 5.1 to 5.3): `prepare` makes every
 * check and computes the event's vectors, round and table without changing
 * any state (`probe` stops there); `commit` stores it, records forks and
 * first descendants, and lets fame and ordering run.
 */
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import type { ConsensusEventInput, DecidedBlock, ForkEvidence, InsertResult } from '../types.js';
import { countForked, markFirstDescendants, mergeParent, ownEntry, selfAnc } from './ancestry.js';
import { compact } from './expiry.js';
import { electAsCandidate, electAsVoter } from './fame.js';
import { decideRounds } from './order.js';
import { advances, inheritMask } from './rounds.js';
import { roundInfo, tableOf } from './tables.js';
import {
  type CreatorState,
  type EngineState,
  type Ev,
  FORKED,
  INF,
  NONE,
  type Plan,
  type Table,
} from './types.js';
import { checkParents, checkShape, checkSignature, opForgotten } from './validate.js';

/** The known event with this hash (live or compact), `null` for no hash, `undefined` if unknown. */
function lookup<E extends ConsensusEventInput>(
  st: EngineState<E>,
  h: Uint8Array | null,
): Ev<E> | null | undefined {
  if (h === null) return null;
  return st.events.get(keyOf(h));
}

/** What `prepare` returns for an event at or below its creator's forgotten horizon. */
export const ANCIENT = 'ancient';

/**
 * Every check of `insert` and the new event's vectors, round and table,
 * changing no state (scratch markers aside): a throw here leaves the engine
 * as it was. Null for a known hash, {@link ANCIENT} for an event at or below
 * its creator's forgotten horizon. `verify` false skips the injected
 * signature check (`probe`).
 */
export function prepare<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ev: E,
  verify: boolean,
): Plan<E> | null | typeof ANCIENT {
  checkShape(st, ev);
  const key = keyOf(ev.hash);
  if (st.events.has(key)) return null;
  if (isAncient(st, ev)) return ANCIENT;
  let sp = lookup(st, ev.selfParent);
  let op = lookup(st, ev.otherParent);
  // An unknown other-parent whose descriptor puts it at or below its
  // creator's forgotten horizon is ancient here: the event stands on its
  // self-parent alone, as a node that still held it would see no live
  // ancestry through it either.
  if (op === undefined && opForgotten(st, ev)) op = null;
  // A self-parent that is unknown but at or below its creator's forgotten
  // horizon was forgotten here (docs/PROTOCOL.md 5.7): the event stands on
  // its other-parent alone. (A parent that is merely late is above it.)
  let spAncient = false;
  if (sp === undefined && ev.seq > 0 && ev.seq - 1 <= st.forgottenSeq[ev.creator]!) {
    spAncient = true;
    sp = null;
  }
  if (sp === undefined || op === undefined) {
    throw new ConsensusError('MISSING_PARENT', 'a parent is not known yet');
  }
  if (verify) checkSignature(st, ev);
  checkParents(ev, sp, op);
  const cs = st.creators[ev.creator]!;
  const forks = isFork(cs, ev, sp, spAncient);
  const branch = branchOf(cs, sp, spAncient, forks);
  // While x is checked, a creator that x itself forks already needs the
  // branch-aware ancestry test (its other branch is not x's ancestor). The
  // commit then marks the creator forked for good.
  st.pendingFork = forks ? ev.creator : -1;
  try {
    return plan(st, ev, key, sp, op, forks, branch, spAncient);
  } finally {
    st.pendingFork = -1;
  }
}

/**
 * An event this engine forgot, sent again (docs/PROTOCOL.md 5.7): at or
 * below its creator's forgotten horizon, and a root or on a self-parent
 * that is not known here (a self-parent is forgotten no later than its
 * child). Any peer can resend one, validly signed; taken as new it would be
 * a second event at its seq, a fork of an honest creator on this node alone,
 * so it is ignored. (Found by the consensus safety property: honest nodes
 * decided different blocks.) A forker's event on a branch whose self-parent
 * is still known is not ancient, whatever its seq: its branches can lag each
 * other by any number of seqs.
 */
export function isAncient<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ev: ConsensusEventInput,
): boolean {
  if (ev.seq > st.forgottenSeq[ev.creator]!) return false;
  return ev.selfParent === null || !st.events.has(keyOf(ev.selfParent));
}

/**
 * Docs/PROTOCOL.md 5.2: a second child of one self-parent (or a second first
 * event) forks. On a forgotten self-parent (5.7) it is the continuation of
 * its creator's latest (forgotten) branch, unless an event at its seq or
 * above is known: then it is a fork (or a resend that cannot be told from
 * one) and starts a root branch. No evidence: proving it would need the
 * forgotten chain.
 */
function isFork<E extends ConsensusEventInput>(
  cs: CreatorState<E>,
  ev: E,
  sp: Ev<E> | null,
  spAncient: boolean,
): boolean {
  if (spAncient) return cs.latest !== null && cs.latest.seq >= ev.seq;
  return sp ? sp.firstSelfChild !== null : cs.firstRoot !== null;
}

/** The branch of the new event: a new one if it forks, else its self-parent's. */
function branchOf<E extends ConsensusEventInput>(
  cs: CreatorState<E>,
  sp: Ev<E> | null,
  spAncient: boolean,
  forks: boolean,
): number {
  if (forks) return cs.branches.length;
  if (spAncient) return cs.latest ? cs.latest.branch : 0;
  return sp ? sp.branch : 0;
}

/** The rest of `prepare`: vectors, round, witness flag and membership. */
function plan<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ev: E,
  key: string,
  sp: Ev<E> | null,
  op: Ev<E> | null,
  forks: boolean,
  branch: number,
  spAncient: boolean,
): Plan<E> {
  const n = st.n;
  const cx = ev.creator;
  // Latest-ancestor vectors: the merge of the parents', with forks absorbing.
  const la: (Ev<E> | null)[] = new Array(n).fill(null);
  const laSeq = new Int32Array(n).fill(NONE);
  mergeParent(st, la, laSeq, sp);
  mergeParent(st, la, laSeq, op);
  setOwnEntry(st, la, laSeq, ev, sp, op, spAncient);

  // Round (docs/PROTOCOL.md 5.3): r = max parent round; r + 1 if x strongly
  // sees a supermajority of round-r witnesses, weighed with T_r (the live
  // round's table, resolved when its first event was committed). Round r's
  // witnesses are live unless r is below the expiry horizon, where x is
  // stale anyway (see `expire`).
  const r = Math.max(sp ? sp.round : 0, op ? op.round : 0);
  let round = r;
  const rInfo = sp || op ? st.rounds.get(r) : undefined;
  const forkCount = countForked(laSeq, n);
  let ssMask: Uint32Array | null = null;
  if (rInfo) {
    ssMask = inheritMask(rInfo, forkCount, sp, op);
    if (advances(st, la, laSeq, cx, rInfo, ssMask)) round = r + 1;
  }
  if (round !== r) ssMask = null;
  const witness = !sp || round > sp.round;
  const table = memberTable(st, round, cx);
  return {
    ev,
    key,
    sp,
    op,
    forks,
    branch,
    spAncient,
    la,
    laSeq,
    forkCount,
    ssMask,
    round,
    witness,
    table,
  };
}

/** The new event's own entry: x itself, unless the ancestry already holds another branch of cx. */
function setOwnEntry<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  ev: E,
  sp: Ev<E> | null,
  op: Ev<E> | null,
  spAncient: boolean,
): void {
  const cx = ev.creator;
  if (laSeq[cx] === FORKED) return;
  const other = op ? ownEntry(op, cx) : null;
  let clash = false;
  if (other) {
    // `other` must be a self-ancestor of x, i.e. sp or one of sp's.
    clash = spAncient
      ? other.seq >= ev.seq
      : !sp || !(other === sp || selfAnc(st, cx, other.seq, other.branch, sp.seq, sp.branch));
  }
  if (clash) {
    laSeq[cx] = FORKED;
    la[cx] = null;
  } else {
    // Until x is committed, its own-creator entry points at its
    // self-parent: x's ancestors by cx are exactly sp's self-ancestors
    // (the own-entry check above), and that is what ancestry tests need.
    laSeq[cx] = ev.seq;
    la[cx] = sp;
  }
}

/**
 * Membership in `T_round(x)` (docs/PROTOCOL.md 5.9): the only table lookup
 * that can be pending (T_r is a live round's). Pending means "not yet":
 * nothing has changed.
 */
function memberTable<E extends ConsensusEventInput>(
  st: EngineState<E>,
  round: number,
  cx: number,
): Table {
  const table = tableOf(st, round);
  if (!table) {
    throw new ConsensusError(
      'TABLE_PENDING',
      `the stake table of round ${round} is not known yet (retry after more blocks)`,
    );
  }
  if ((table.big[cx] ?? 0n) === 0n) {
    throw new ConsensusError('NOT_A_VALIDATOR', `creator ${cx} has no stake in round ${round}`);
  }
  return table;
}

/** Stores a prepared event and decides what it lets decide. Nothing before this changed state. */
export function commit<E extends ConsensusEventInput>(
  st: EngineState<E>,
  p: Plan<E>,
): InsertResult<E> {
  const ev = p.ev;
  const cs = st.creators[ev.creator]!;
  if (p.forks) {
    cs.branches.push({ parent: p.sp ? p.sp.branch : -1, firstSeq: ev.seq });
    cs.forked = true;
  }
  const x = newEv(st, p);
  st.events.set(p.key, x);
  st.liveCount++;
  st.insertedTotal++;
  if (p.round > st.maxRound) st.maxRound = p.round;
  const evidence = recordFork(st, cs, x, p);
  if (!cs.latest || ev.seq > cs.latest.seq) cs.latest = x;
  markFirstDescendants(st, x);
  const blocks: DecidedBlock<E>[] = [];
  if (p.round < st.expiredBelow) keepStale(st, x);
  else placeLive(st, x, p.table, blocks);
  return { inserted: true, blocks, evidence };
}

/** The engine's record of a prepared event. */
function newEv<E extends ConsensusEventInput>(st: EngineState<E>, p: Plan<E>): Ev<E> {
  const { ev, sp, op, la, laSeq, witness } = p;
  const cx = ev.creator;
  const x: Ev<E> = {
    input: ev,
    key: p.key,
    hash: ev.hash,
    creator: cx,
    seq: ev.seq,
    branch: p.branch,
    round: p.round,
    gen: 1 + Math.max(sp ? sp.gen : -1, op ? op.gen : -1),
    timestamp: ev.timestamp,
    witness,
    famous: null,
    coin: ((ev.signature[ev.signature.length >> 1] ?? 0) & 1) === 1,
    selfParent: sp,
    otherParent: op,
    la,
    laSeq,
    fd: new Int32Array(st.n).fill(INF),
    votes: witness ? new Map() : null,
    ssPrev: null,
    ssMask: p.ssMask,
    forkCount: p.forkCount,
    forkMask: null,
    firstSelfChild: null,
    ordered: -1,
    live: true,
  };
  if (laSeq[cx] !== FORKED) la[cx] = x;
  x.fd![cx] = ev.seq;
  return x;
}

/**
 * Fork evidence (docs/PROTOCOL.md 5.2): once per forker, when the second
 * child of a self-parent (or the second first event) appears. Returns the
 * evidence found with this event.
 */
function recordFork<E extends ConsensusEventInput>(
  st: EngineState<E>,
  cs: CreatorState<E>,
  x: Ev<E>,
  p: Plan<E>,
): ForkEvidence<E>[] {
  const { ev, sp } = p;
  const evidence: ForkEvidence<E>[] = [];
  if (p.spAncient) {
    // Nothing to compare with below the horizon: no fork bookkeeping.
  } else if (sp) {
    if (sp.firstSelfChild === null) sp.firstSelfChild = x;
    else if (!cs.evidence && sp.firstSelfChild.input) {
      cs.evidence = { creator: ev.creator, a: sp.firstSelfChild.input!, b: ev };
      evidence.push(cs.evidence);
    }
  } else if (cs.firstRoot === null) {
    cs.firstRoot = x;
  } else if (!cs.evidence && cs.firstRoot.input) {
    cs.evidence = { creator: ev.creator, a: cs.firstRoot.input, b: ev };
    evidence.push(cs.evidence);
  }
  if (cs.evidence && evidence.length > 0) st.allEvidence.push(cs.evidence);
  return evidence;
}

/**
 * Stale on arrival: its round is already expired (docs/PROTOCOL.md 5.7), so
 * it can never be ordered or vote. Keep it compact, findable for K rounds
 * like the rest.
 */
function keepStale<E extends ConsensusEventInput>(st: EngineState<E>, x: Ev<E>): void {
  if (x.witness) x.famous = false;
  compact(st, x);
  const bucket = Math.max(x.round, st.expiredBelow - 1);
  const list = st.compactByRound.get(bucket);
  if (list) list.push(x);
  else st.compactByRound.set(bucket, [x]);
}

/** Adds x to its live round (created with `table` if new); a witness votes and may decide rounds. */
function placeLive<E extends ConsensusEventInput>(
  st: EngineState<E>,
  x: Ev<E>,
  table: Table,
  blocks: DecidedBlock<E>[],
): void {
  const info = roundInfo(st, x.round, table);
  info.events.push(x);
  if (!x.witness) return;
  info.witnesses.push(x);
  if (x.round <= st.lastDecided) {
    // A witness of an already decided round: not famous (Hedera's rule;
    // docs/PROTOCOL.md 5.4, "Late witnesses"). Every node that decided the
    // round without it would also have decided it not famous.
    x.famous = false;
  } else {
    info.undecided++;
    electAsVoter(st, x);
    electAsCandidate(st, x);
  }
  decideRounds(st, blocks);
}
