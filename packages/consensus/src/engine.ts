/**
 * The consensus engine: the fork-aware blockdag of PROTOCOL.md section 3 and
 * the ordering of section 4 (rounds, witnesses, fame by virtual voting, the
 * retrospective stake-weighted leader, blocks).
 *
 * Ancestry is answered from two per-event vectors indexed by creator, never by
 * walking sets:
 * - `la[c]` / `laSeq[c]`: the latest ancestor by creator c (or FORKED when the
 *   event's ancestry holds a fork by c, which is absorbing: section 4's `sees`);
 * - `fd[c]`: the lowest seq of creator c's events that descend from this one,
 *   filled in as descendants arrive (each (event, creator) pair is set once).
 * With them `x sees y` is one comparison and `x strongly sees y` is one pass
 * over the creators. Forkers (rare, Byzantine) fall back to an exact check
 * through the branch tree of their events.
 *
 * Everything is a pure function of the events inserted and the stake tables:
 * no clock, no randomness, no Map iteration in a decision, and integer stake
 * arithmetic only (see `Table`).
 *
 * Stake tables change per round (docs/PROTOCOL.md 5.9): round r's table is
 * asked for when the first event lands in round r, before anything changes,
 * and an unknown one (`undefined`) refuses the event with `TABLE_PENDING`.
 * The creator index universe grows with `addValidator`, which widens every
 * vector indexed by creator.
 */
import { compareBytes } from '@pos/merkle';
import { keyOf } from './bytes.js';
import { mergeParent, ownEntry, sees, selfAnc } from './engine/ancestry.js';
import { advances, inheritMask, stronglySeenWitnesses } from './engine/rounds.js';
import { createEngineState, newCreatorState } from './engine/state.js';
import { knownTable, roundInfo, sized, tableOf } from './engine/tables.js';
import { type Ev, FORKED, INF, NONE, type Plan, type RoundInfo } from './engine/types.js';
import { ConsensusError } from './errors.js';
import { drawLeader, leaderSeed } from './leader.js';
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
      compact(x);
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
        electAsVoter(x);
        electAsCandidate(x);
      }
      decideRounds(blocks);
    }
    return { inserted: true, blocks, evidence };
  }

  // ---- fame (virtual voting) ------------------------------------------------

  function ssPrevOf(y: Ev<E>): Ev<E>[] {
    if (y.ssPrev) return y.ssPrev;
    const info = st.rounds.get(y.round - 1);
    y.ssPrev = info && y.la ? stronglySeenWitnesses(st, y.la, y.laSeq!, y.creator, info) : [];
    return y.ssPrev;
  }

  /** vote(y, x) of section 4, memoized per (y, x). Only for undecided x. */
  function voteOf(y: Ev<E>, x: Ev<E>): boolean {
    const memo = y.votes!.get(x);
    if (memo !== undefined) return memo;
    const d = y.round - x.round;
    let v: boolean;
    if (d === 1) {
      v = y.la ? sees(st, y, x) : false;
    } else {
      const t = tally(y, x);
      v = t.yes;
      if (d % st.coinFrequency === 0 && !t.super) v = y.coin;
    }
    y.votes!.set(x, v);
    return v;
  }

  /** Stake of y's strongly seen round-(r-1) witnesses voting yes / no on x. */
  function tally(y: Ev<E>, x: Ev<E>): { yes: boolean; super: boolean } {
    const ws = ssPrevOf(y);
    // T_{r+d-1}: y's previous round is live (an event of it made y's round).
    const t = knownTable(st, y.round - 1);
    let yes = 0n;
    let no = 0n;
    for (const w of ws) {
      if (voteOf(w, x)) yes += t.big[w.creator]!;
      else no += t.big[w.creator]!;
    }
    const max = yes >= no ? yes : no;
    return { yes: yes >= no, super: 3n * max > 2n * t.totalBig };
  }

  /** Whether y (round r+d, d >= 2, normal round) decides x; applies it. */
  function tryDecide(y: Ev<E>, x: Ev<E>): boolean {
    const d = y.round - x.round;
    if (d < 2 || x.famous !== null) return false;
    if (d % st.coinFrequency === 0) {
      voteOf(y, x);
      return false;
    }
    const t = tally(y, x);
    y.votes!.set(x, t.yes);
    if (!t.super) return false;
    x.famous = t.yes;
    st.rounds.get(x.round)!.undecided--;
    return true;
  }

  /** A new witness y votes in the election of every undecided earlier witness. */
  function electAsVoter(y: Ev<E>): void {
    for (let rx = st.lastDecided + 1; rx <= y.round - 2; rx++) {
      const info = st.rounds.get(rx);
      if (!info) continue;
      for (const x of info.witnesses) if (x.famous === null) tryDecide(y, x);
    }
  }

  /** A new witness x (arrived after later rounds exist) is decided by existing voters. */
  function electAsCandidate(x: Ev<E>): void {
    for (let ry = x.round + 2; ry <= st.maxRound && x.famous === null; ry++) {
      const info = st.rounds.get(ry);
      if (!info) continue;
      for (const y of info.witnesses) {
        if (y.votes && tryDecide(y, x)) break;
      }
    }
  }

  // ---- rounds, leaders, blocks --------------------------------------------

  function decideRounds(out: DecidedBlock<E>[]): void {
    for (;;) {
      const r = st.lastDecided + 1;
      const info = st.rounds.get(r);
      if (!info || info.witnesses.length === 0 || info.undecided > 0) return;
      const block = decideRound(info);
      st.lastDecided = r;
      if (block) out.push(block);
      expire();
    }
  }

  function decideRound(info: RoundInfo<E>): DecidedBlock<E> | null {
    const r = info.round;
    // Candidates: famous witnesses whose creator has exactly one famous witness.
    const famousBy = new Map<number, number>();
    for (const w of info.witnesses) {
      if (w.famous) famousBy.set(w.creator, (famousBy.get(w.creator) ?? 0) + 1);
    }
    const candidates = info.witnesses.filter((w) => w.famous && famousBy.get(w.creator) === 1);
    if (candidates.length === 0) return null;
    const t = info.table;
    const seed = leaderSeed(r, st.seedPrev, st.hash);
    const k = drawLeader(
      seed,
      candidates.map((w) => ({ validatorId: st.validators[w.creator]!, stake: t.big[w.creator]! })),
    );
    if (k === null) return null;
    const leader = candidates[k]!;
    st.seedPrev = leader.hash;

    // The leader's ancestors in no earlier block and not stale, by (gen, hash).
    const staleBelow = r - st.expireRounds;
    const picked: Ev<E>[] = [];
    const stack: Ev<E>[] = [leader];
    leader.ordered = r;
    while (stack.length > 0) {
      const e = stack.pop()!;
      picked.push(e);
      for (const p of [e.selfParent, e.otherParent]) {
        if (p?.live && p.ordered < 0 && p.round >= staleBelow) {
          p.ordered = r;
          stack.push(p);
        }
      }
    }
    picked.sort((a, b) => a.gen - b.gen || compareBytes(a.hash, b.hash));

    const txs: Uint8Array[] = [];
    for (const e of picked) {
      for (const tx of e.input!.transactions ?? []) {
        const h = keyOf(st.txHash(tx));
        if (st.orderedTx.has(h)) continue;
        st.orderedTx.set(h, r);
        txs.push(tx);
      }
    }
    // Transaction dedup window: the same rounds as staleness (insertion order
    // of the map is round order, so the oldest are at the front).
    for (const [h, round] of st.orderedTx) {
      if (round >= staleBelow) break;
      st.orderedTx.delete(h);
    }

    // Stake-weighted lower median of the candidates' timestamps (section 4).
    const byTs = candidates
      .map((w) => ({ ts: w.timestamp, s: t.big[w.creator]! }))
      .sort((a, b) => a.ts - b.ts);
    let total = 0n;
    for (const c of byTs) total += c.s;
    let cum = 0n;
    let median = byTs[byTs.length - 1]!.ts;
    for (const c of byTs) {
      cum += c.s;
      if (2n * cum >= total) {
        median = c.ts;
        break;
      }
    }
    const timestamp = median > st.prevBlockTs ? median : st.prevBlockTs + 1;
    st.prevBlockTs = timestamp;
    st.blocksTotal++;
    st.orderedTotal += picked.length;
    return {
      round: r,
      leader: leader.input!,
      events: picked.map((e) => e.input!),
      transactions: txs,
      timestamp,
      seed,
    };
  }

  /**
   * Expiry (docs/PROTOCOL.md "Expiry"): once round d is decided, block rounds
   * are > d, and a block of round b never orders an event of round < b - K.
   * So live events of rounds < d - K will never be ordered or voted on: they
   * become compact (no vectors, votes or parent links). Compact events stay
   * findable by hash for K more rounds, so that late children still find
   * their parents, then are forgotten.
   */
  function expire(): void {
    const below = st.lastDecided - st.expireRounds;
    for (let q = st.expiredBelow; q < below; q++) {
      const info = st.rounds.get(q);
      if (info) {
        for (const e of info.events) compact(e);
        st.compactByRound.set(q, info.events);
        st.rounds.delete(q);
      }
      const old = st.compactByRound.get(q - st.expireRounds);
      if (old) {
        for (const e of old) {
          st.events.delete(e.key);
          if (e.seq > st.forgottenSeq[e.creator]!) st.forgottenSeq[e.creator] = e.seq;
          e.input = null;
          e.firstSelfChild = null;
          st.compactCount--;
        }
        st.compactByRound.delete(q - st.expireRounds);
      }
    }
    if (below > st.expiredBelow) st.expiredBelow = below;
  }

  function compact(e: Ev<E>): void {
    if (!e.live) return;
    const mask: number[] = [];
    const ls = e.laSeq!;
    for (let c = 0; c < st.n; c++) if (ls[c] === FORKED) mask.push(c);
    e.forkMask = mask.length > 0 ? mask : null;
    e.la = null;
    e.laSeq = null;
    e.fd = null;
    e.votes = null;
    e.ssPrev = null;
    e.ssMask = null;
    e.selfParent = null;
    e.otherParent = null;
    e.live = false;
    st.liveCount--;
    st.compactCount++;
  }

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
