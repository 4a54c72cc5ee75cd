/**
 * Stake tables (docs/PROTOCOL.md 5.9): `T_q` asked of the caller, converted
 * once for counting, fixed for a round from its first event on.
 */
import { ConsensusError } from '../errors.js';
import type { ConsensusEventInput } from '../types.js';
import type { EngineState, RoundInfo, Table } from './types.js';

/**
 * `T_round`: the live round's table, else the caller's answer converted
 * (and checked), or `undefined` while the caller does not know it yet.
 * Nothing is recorded for the round here: a round keeps its table from the
 * moment its first event is committed (`roundInfo`), so a pending answer is
 * never cached and a known one never changes while the round is live.
 */
export function tableOf<E extends ConsensusEventInput>(
  st: EngineState<E>,
  round: number,
): Table | undefined {
  const info = st.rounds.get(round);
  if (info) return info.table;
  const stakes = st.opts.stakeTable(round);
  if (stakes === undefined) return undefined;
  const cached =
    typeof stakes === 'object' && stakes !== null ? st.tableCache.get(stakes) : undefined;
  if (cached) return sized(st, cached);
  const t = convertTable(st.n, round, stakes);
  st.tableCache.set(stakes, t);
  return t;
}

/**
 * Checks the caller's stakes for `round` (`BAD_STAKE_TABLE`) and converts
 * them for counting over n creators: doubles when 3 × total is a safe
 * integer (every partial sum is then exact), bigint always.
 */
function convertTable(n: number, round: number, stakes: readonly bigint[]): Table {
  if (!Array.isArray(stakes) || stakes.length > n) {
    throw new ConsensusError('BAD_STAKE_TABLE', `round ${round}: need at most ${n} stakes`);
  }
  const big: bigint[] = [];
  let totalBig = 0n;
  for (let i = 0; i < n; i++) {
    const s = stakes[i] ?? 0n;
    if (typeof s !== 'bigint' || s < 0n) {
      throw new ConsensusError(
        'BAD_STAKE_TABLE',
        `round ${round}: stake ${i} is not a bigint >= 0`,
      );
    }
    big.push(s);
    totalBig += s;
  }
  if (totalBig === 0n) throw new ConsensusError('BAD_STAKE_TABLE', `round ${round}: no stake`);
  const safe = totalBig * 3n <= BigInt(Number.MAX_SAFE_INTEGER);
  const w = new Float64Array(n);
  if (safe) for (let i = 0; i < n; i++) w[i] = Number(big[i]!);
  return { safe, w, total: safe ? Number(totalBig) : 0, big, totalBig };
}

/** `tableOf` for a round that must be known: one of the live rounds (see `tally`). */
export function knownTable<E extends ConsensusEventInput>(
  st: EngineState<E>,
  round: number,
): Table {
  const t = tableOf(st, round);
  if (!t) throw new Error(`consensus invariant: the table of live round ${round} is pending`);
  return t;
}

/** Widens a table converted before an `addValidator` to n creators (new ones: stake 0). */
export function sized<E extends ConsensusEventInput>(st: EngineState<E>, t: Table): Table {
  const n = st.n;
  if (t.big.length < n) {
    const w = new Float64Array(n);
    w.set(t.w);
    t.w = w;
    while (t.big.length < n) t.big.push(0n);
  }
  return t;
}

/** Round `round`'s state, created with table `t` (`T_round`, resolved before any commit). */
export function roundInfo<E extends ConsensusEventInput>(
  st: EngineState<E>,
  round: number,
  t: Table,
): RoundInfo<E> {
  let info = st.rounds.get(round);
  if (!info) {
    info = { round, table: t, witnesses: [], events: [], undecided: 0 };
    st.rounds.set(round, info);
  }
  return info;
}
