/**
 * Fame by virtual voting (docs/PROTOCOL.md 5.4): votes are computed when a
 * witness arrives and memoized per (voter, candidate); tallies use
 * `T_{r+d-1}` and the coin bit `signature[len/2] & 1` every `coinFrequency`
 * rounds. Integer stake arithmetic only.
 */
import type { ConsensusEventInput } from '../types.js';
import { sees } from './ancestry.js';
import { stronglySeenWitnesses } from './rounds.js';
import { knownTable } from './tables.js';
import type { EngineState, Ev } from './types.js';

/** The round-(r-1) witnesses that witness y of round r strongly sees (computed once). */
function ssPrevOf<E extends ConsensusEventInput>(st: EngineState<E>, y: Ev<E>): Ev<E>[] {
  if (y.ssPrev) return y.ssPrev;
  const info = st.rounds.get(y.round - 1);
  y.ssPrev = info && y.la ? stronglySeenWitnesses(st, y.la, y.laSeq!, y.creator, info) : [];
  return y.ssPrev;
}

/** vote(y, x) of docs/PROTOCOL.md 5.4, memoized per (y, x). Only for undecided x. */
function voteOf<E extends ConsensusEventInput>(st: EngineState<E>, y: Ev<E>, x: Ev<E>): boolean {
  const memo = y.votes!.get(x);
  if (memo !== undefined) return memo;
  const d = y.round - x.round;
  let v: boolean;
  if (d === 1) {
    v = y.la ? sees(st, y, x) : false;
  } else {
    const t = tally(st, y, x);
    v = t.yes;
    if (d % st.coinFrequency === 0 && !t.super) v = y.coin;
  }
  y.votes!.set(x, v);
  return v;
}

/** Stake of y's strongly seen round-(r-1) witnesses voting yes / no on x. */
function tally<E extends ConsensusEventInput>(
  st: EngineState<E>,
  y: Ev<E>,
  x: Ev<E>,
): { yes: boolean; super: boolean } {
  const ws = ssPrevOf(st, y);
  // T_{r+d-1}: y's previous round is live (an event of it made y's round).
  const t = knownTable(st, y.round - 1);
  let yes = 0n;
  let no = 0n;
  for (const w of ws) {
    if (voteOf(st, w, x)) yes += t.big[w.creator]!;
    else no += t.big[w.creator]!;
  }
  const max = yes >= no ? yes : no;
  return { yes: yes >= no, super: 3n * max > 2n * t.totalBig };
}

/** Whether y (round r+d, d >= 2, normal round) decides x; applies it. */
function tryDecide<E extends ConsensusEventInput>(st: EngineState<E>, y: Ev<E>, x: Ev<E>): boolean {
  const d = y.round - x.round;
  if (d < 2 || x.famous !== null) return false;
  if (d % st.coinFrequency === 0) {
    voteOf(st, y, x);
    return false;
  }
  const t = tally(st, y, x);
  y.votes!.set(x, t.yes);
  if (!t.super) return false;
  x.famous = t.yes;
  st.rounds.get(x.round)!.undecided--;
  return true;
}

/** A new witness y votes in the election of every undecided earlier witness. */
export function electAsVoter<E extends ConsensusEventInput>(st: EngineState<E>, y: Ev<E>): void {
  for (let rx = st.lastDecided + 1; rx <= y.round - 2; rx++) {
    const info = st.rounds.get(rx);
    if (!info) continue;
    for (const x of info.witnesses) if (x.famous === null) tryDecide(st, y, x);
  }
}

/** A new witness x (arrived after later rounds exist) is decided by existing voters. */
export function electAsCandidate<E extends ConsensusEventInput>(
  st: EngineState<E>,
  x: Ev<E>,
): void {
  for (let ry = x.round + 2; ry <= st.maxRound && x.famous === null; ry++) {
    const info = st.rounds.get(ry);
    if (!info) continue;
    for (const y of info.witnesses) {
      if (y.votes && tryDecide(st, y, x)) break;
    }
  }
}
