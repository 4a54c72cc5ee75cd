import { keyOf } from './bytes.js';
import { mergeParent, ownEntry, selfAnc } from './engine/ancestry.js';
import { compact } from './engine/expiry.js';
import { electAsCandidate, electAsVoter } from './engine/fame.js';
import { decideRounds } from './engine/order.js';
import { advances, inheritMask } from './engine/rounds.js';
import { createEngineState, newCreatorState } from './engine/state.js';
import { roundInfo, sized, tableOf } from './engine/tables.js';
import { type Ev, FORKED, INF, NONE, type Plan } from './engine/types.js';
import { ConsensusError } from './errors.js';
import type {
  Consensus,
  ConsensusEventInput,
  ConsensusOpts,
  ConsensusStats,
  DecidedBlock,
  EventInfo,
  ForkEvidence,
  InsertResult,
  ProbeResult,
} from './types.js';

const isSafeNat = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Creates a consensus engine (PROTOCOL.md section 4). Insert events in any
 * topological order; the engine returns decided blocks as they happen. The
 * same set of events gives the same blocks whatever the order.
 */
export function createConsensus<E extends ConsensusEventInput>(
  opts: ConsensusOpts<E>,
): Consensus<E> {
  const st = createEngineState(opts);

  // ---- stake tables -------------------------------------------------------

  // ---- ancestry -----------------------------------------------------------

  // ---- insertion ----------------------------------------------------------

  /** Whether the other-parent's descriptor puts it at or below its creator's forgotten horizon. */
  function opForgotten(ev: ConsensusEventInput): boolean {
    const c = ev.otherParentCreator;
    const s = ev.otherParentSeq;
    if (c === undefined || s === undefined || ev.otherParent === null) return false;
    return c >= 0 && c < st.n && c !== ev.creator && s <= st.forgottenSeq[c]!;
  }

  function lookup(h: Uint8Array | null): Ev<E> | null | undefined {
    if (h === null) return null;
    return st.events.get(keyOf(h));
  }

  function checkShape(ev: E): void {
    const bad = (m: string) => new ConsensusError('BAD_EVENT', m);
    if (!(ev.hash instanceof Uint8Array) || ev.hash.length !== 32) throw bad('hash: 32 bytes');
    if (!Number.isSafeInteger(ev.creator) || ev.creator < 0 || ev.creator >= st.n) {
      throw bad(`creator ${ev.creator} is not a known validator index`);
    }
    if (!isSafeNat(ev.seq)) throw bad('seq: safe integer >= 0');
    if (!isSafeNat(ev.timestamp)) throw bad('timestamp: safe integer >= 0');
    if (!(ev.signature instanceof Uint8Array) || ev.signature.length === 0) {
      throw bad('signature: bytes');
    }
    for (const p of [ev.selfParent, ev.otherParent]) {
      if (p !== null && (!(p instanceof Uint8Array) || p.length !== 32)) {
        throw bad('parent: 32 bytes or null');
      }
    }
    if (ev.otherParentCreator !== undefined || ev.otherParentSeq !== undefined) {
      const c = ev.otherParentCreator;
      if (ev.otherParent === null || !Number.isSafeInteger(c) || c! < 0 || c! >= st.n) {
        throw bad('otherParentCreator: a validator index, with an otherParent');
      }
      if (!isSafeNat(ev.otherParentSeq)) throw bad('otherParentSeq: safe integer >= 0');
    }
    if ((ev.seq === 0) !== (ev.selfParent === null)) {
      throw bad('selfParent must be null iff seq = 0');
    }
    const txs = ev.transactions ?? [];
    if (!Array.isArray(txs) || txs.length > st.maxTx)
      throw bad(`transactions: at most ${st.maxTx}`);
    for (const tx of txs) if (!(tx instanceof Uint8Array)) throw bad('transactions: bytes');
  }

  function insert(ev: E): InsertResult<E> {
    const plan = prepare(ev, true);
    if (!plan) return { inserted: false, blocks: [], evidence: [] };
    return commit(plan);
  }

  function probe(ev: E): ProbeResult {
    const plan = prepare(ev, false);
    if (plan) return { round: plan.round, witness: plan.witness };
    const known = st.events.get(keyOf(ev.hash))!;
    return { round: known.round, witness: known.witness };
  }

  /**
   * Every check of `insert` and the new event's vectors, round and table,
   * changing no state (scratch markers aside): a throw here leaves the engine
   * as it was. Null for a known hash. `verify` false skips the injected
   * signature check (`probe`).
   */
  function prepare(ev: E, verify: boolean): Plan<E> | null {
    checkShape(ev);
    const key = keyOf(ev.hash);
    if (st.events.has(key)) return null;
    let sp = lookup(ev.selfParent);
    let op = lookup(ev.otherParent);
    // An unknown other-parent whose descriptor puts it at or below its
    // creator's forgotten horizon is ancient here: the event stands on its
    // self-parent alone, as a node that still held it would see no live
    // ancestry through it either.
    if (op === undefined && opForgotten(ev)) op = null;
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
    if (verify && opts.verify) {
      let ok = false;
      try {
        ok = opts.verify(ev);
      } catch {
        ok = false;
      }
      if (!ok) throw new ConsensusError('BAD_SIGNATURE', 'the verifier refused the event');
    }
    const cx = ev.creator;
    const cs = st.creators[cx]!;
    if (sp) {
      if (sp.creator !== cx || sp.seq !== ev.seq - 1) {
        throw new ConsensusError('BAD_PARENT', 'selfParent is not the creator’s previous event');
      }
      if (ev.timestamp <= sp.timestamp) {
        throw new ConsensusError('BAD_EVENT', 'timestamp must exceed the selfParent’s');
      }
    }
    if (op && op.creator === cx) {
      throw new ConsensusError('BAD_PARENT', 'otherParent must be another creator’s event');
    }
    if (
      op &&
      ev.otherParentCreator !== undefined &&
      (op.creator !== ev.otherParentCreator || op.seq !== ev.otherParentSeq)
    ) {
      throw new ConsensusError('BAD_PARENT', 'the otherParent descriptor does not match it');
    }

    // Branch: a second child of one self-parent (or a second first event) forks.
    let forks: boolean;
    let branch: number;
    if (spAncient) {
      // The continuation of its creator's latest (forgotten) branch, unless
      // an event at its seq or above is known: then it is a fork (or a
      // resend that cannot be told from one) and starts a root branch. No
      // evidence: proving it would need the forgotten chain.
      const l = cs.latest;
      forks = l !== null && l.seq >= ev.seq;
      branch = forks ? cs.branches.length : l ? l.branch : 0;
    } else {
      forks = sp ? sp.firstSelfChild !== null : cs.firstRoot !== null;
      branch = forks ? cs.branches.length : sp ? sp.branch : 0;
    }
    // While x is checked, a creator that x itself forks already needs the
    // branch-aware ancestry test (its other branch is not x's ancestor). The
    // commit then marks the creator forked for good.
    st.pendingFork = forks ? cx : -1;
    try {
      return plan(ev, key, sp, op, forks, branch, spAncient);
    } finally {
      st.pendingFork = -1;
    }
  }

  function plan(
    ev: E,
    key: string,
    sp: Ev<E> | null,
    op: Ev<E> | null,
    forks: boolean,
    branch: number,
    spAncient: boolean,
  ): Plan<E> {
    const cx = ev.creator;

    // Latest-ancestor vectors: the merge of the parents', with forks absorbing.
    const la: (Ev<E> | null)[] = new Array(st.n).fill(null);
    const laSeq = new Int32Array(st.n).fill(NONE);
    mergeParent(st, la, laSeq, sp);
    mergeParent(st, la, laSeq, op);
    // Own entry: x itself, unless the ancestry already holds another branch of cx.
    if (laSeq[cx] !== FORKED) {
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

    // Round (section 4): r = max parent round; r + 1 if x strongly sees a
    // supermajority of round-r witnesses, weighed with T_r (the live round's
    // table, resolved when its first event was committed). Round r's
    // witnesses are live unless r is below the expiry horizon, where x is
    // stale anyway (see `expire`).
    const r = Math.max(sp ? sp.round : 0, op ? op.round : 0);
    let round = r;
    const rInfo = sp || op ? st.rounds.get(r) : undefined;
    let forkCount = 0;
    for (let c = 0; c < st.n; c++) if (laSeq[c] === FORKED) forkCount++;
    let ssMask: Uint32Array | null = null;
    if (rInfo) {
      ssMask = inheritMask(rInfo, forkCount, sp, op);
      if (advances(st, la, laSeq, cx, rInfo, ssMask)) round = r + 1;
    }
    if (round !== r) ssMask = null;
    const witness = !sp || round > sp.round;
    // Membership in T_round(x) (the only table lookup that can be pending:
    // T_r is a live round's). Pending means "not yet": nothing has changed.
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

  function commit(p: Plan<E>): InsertResult<E> {
    const {
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
    } = p;
    const cx = ev.creator;
    const cs = st.creators[cx]!;

    // ---- commit: nothing above this line has changed any state ----
    if (forks) {
      cs.branches.push({ parent: sp ? sp.branch : -1, firstSeq: ev.seq });
      cs.forked = true;
    }
    const x: Ev<E> = {
      input: ev,
      key,
      hash: ev.hash,
      creator: cx,
      seq: ev.seq,
      branch,
      round,
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
      ssMask,
      forkCount,
      forkMask: null,
      firstSelfChild: null,
      ordered: -1,
      live: true,
    };
    if (laSeq[cx] !== FORKED) la[cx] = x;
    x.fd![cx] = ev.seq;
    st.events.set(key, x);
    st.liveCount++;
    st.insertedTotal++;
    if (round > st.maxRound) st.maxRound = round;

    const evidence: ForkEvidence<E>[] = [];
    if (spAncient) {
      // Nothing to compare with below the horizon: no fork bookkeeping.
    } else if (sp) {
      if (sp.firstSelfChild === null) sp.firstSelfChild = x;
      else if (!cs.evidence && sp.firstSelfChild.input) {
        cs.evidence = { creator: cx, a: sp.firstSelfChild.input!, b: ev };
        evidence.push(cs.evidence);
      }
    } else if (cs.firstRoot === null) {
      cs.firstRoot = x;
    } else if (!cs.evidence && cs.firstRoot.input) {
      cs.evidence = { creator: cx, a: cs.firstRoot.input, b: ev };
      evidence.push(cs.evidence);
    }
    if (cs.evidence && evidence.length > 0) st.allEvidence.push(cs.evidence);
    if (!cs.latest || ev.seq > cs.latest.seq) cs.latest = x;

    // First descendants: walk each creator's chain down from x's latest
    // ancestor until an event already has one by cx (all below it do too).
    for (let c = 0; c < st.n; c++) {
      if (c === cx || laSeq[c]! < 0) continue;
      let e = la[c] ?? null;
      while (e?.fd && e.fd[cx] === INF) {
        e.fd[cx] = ev.seq;
        e = e.selfParent;
      }
    }

    const blocks: DecidedBlock<E>[] = [];
    if (round < st.expiredBelow) {
      // Stale on arrival: its round is already expired, so it can never be
      // ordered or vote. Keep it compact, findable for K rounds like the rest.
      if (witness) x.famous = false;
      compact(st, x);
      const bucket = Math.max(round, st.expiredBelow - 1);
      const list = st.compactByRound.get(bucket);
      if (list) list.push(x);
      else st.compactByRound.set(bucket, [x]);
      return { inserted: true, blocks, evidence };
    }
    const info = roundInfo(st, round, p.table);
    info.events.push(x);
    if (witness) {
      info.witnesses.push(x);
      if (round <= st.lastDecided) {
        // A witness of an already decided round: not famous (Hedera's rule;
        // docs/PROTOCOL.md "Late witnesses"). Every node that decided the
        // round without it would also have decided it not famous.
        x.famous = false;
      } else {
        info.undecided++;
        electAsVoter(st, x);
        electAsCandidate(st, x);
      }
      decideRounds(st, blocks);
    }
    return { inserted: true, blocks, evidence };
  }

  // ---- fame (virtual voting) ------------------------------------------------

  // ---- rounds, leaders, blocks --------------------------------------------

  // ---- validator set --------------------------------------------------------

  /**
   * Appends a creator index (docs/PROTOCOL.md 5.9). Every vector indexed by
   * creator grows by one entry meaning "nothing by it": the creator states,
   * the forgotten horizons, the scratch markers, each live event's `la`
   * (null), `laSeq` (NONE) and `fd` (INF), and every converted table (stake
   * 0; cached conversions are widened when next used). No decision depends on
   * n itself, only on stakes, so the timing of this call relative to inserts
   * does not matter.
   */
  function addValidator(id: Uint8Array): number {
    if (!(id instanceof Uint8Array) || id.length !== 32) {
      throw new ConsensusError('BAD_ARGUMENT', 'validatorId: 32 bytes');
    }
    const k = keyOf(id);
    const known = st.indexById.get(k);
    if (known !== undefined) return known;
    const c = st.n;
    st.n++;
    st.validators.push(id.slice());
    st.indexById.set(k, c);
    st.creators.push(newCreatorState<E>());
    st.forgottenSeq.push(-1);
    const grow = (a: Int32Array, fill: number) => {
      const b = new Int32Array(st.n);
      b.set(a);
      b[c] = fill;
      return b;
    };
    st.seenStamp = grow(st.seenStamp, 0);
    st.possibleStamp = grow(st.possibleStamp, 0);
    for (const e of st.events.values()) {
      if (!e.live) continue;
      e.la!.push(null);
      e.laSeq = grow(e.laSeq!, NONE);
      e.fd = grow(e.fd!, INF);
    }
    for (const info of st.rounds.values()) sized(st, info.table);
    return c;
  }

  // ---- queries --------------------------------------------------------------

  return {
    insert,
    probe,
    addValidator,
    get validatorCount() {
      return st.n;
    },
    has: (h) => st.events.has(keyOf(h)),
    missingParents(ev) {
      const out: Uint8Array[] = [];
      const sp = ev.selfParent;
      if (sp && !st.events.has(keyOf(sp)) && !(ev.seq - 1 <= (st.forgottenSeq[ev.creator] ?? -1))) {
        out.push(sp);
      }
      const op = ev.otherParent;
      if (op && !st.events.has(keyOf(op)) && !opForgotten(ev)) out.push(op);
      return out;
    },
    info(h): EventInfo<E> | undefined {
      const e = st.events.get(keyOf(h));
      if (!e?.input) return undefined;
      return {
        event: e.input,
        round: e.round,
        generation: e.gen,
        witness: e.witness,
        famous: e.witness ? e.famous : undefined,
        orderedIn: e.ordered >= 0 ? e.ordered : undefined,
      };
    },
    latest: (c) => st.creators[c]?.latest?.input ?? undefined,
    evidence: () => st.allEvidence.slice(),
    get lastDecidedRound() {
      return st.lastDecided;
    },
    stats(): ConsensusStats {
      return {
        liveEvents: st.liveCount,
        compactEvents: st.compactCount,
        insertedTotal: st.insertedTotal,
        blocksTotal: st.blocksTotal,
        orderedEventsTotal: st.orderedTotal,
        maxRound: st.maxRound,
        lastDecidedRound: st.lastDecided,
        forkers: st.allEvidence.length,
      };
    },
  };
}
