/**
 * What the DAG page fetches (docs/PROTOCOL.md 10.1 `pos_getDag`, at most
 * {@link MAX_DAG_ROUNDS} rounds a call): on first load the latest rounds;
 * then, each second, from a few rounds below the decided one (whose events
 * still learn their fame, block and leader) up to the newest; and older
 * rounds when the view scrolls back to them, until the node no longer
 * indexes them.
 *
 * @module
 */
import { type ApiClient, MAX_DAG_ROUNDS } from '@pos/api';
import type { DagModel } from '../lib/dag-model.js';

/** Options of {@link createDagSync}. */
export interface DagSyncOpts {
  /** Rounds fetched on first load. */
  readonly initialRounds: number;
  /** Rounds below the decided one fetched again each time (facts still arriving). */
  readonly settleRounds: number;
  /** Most rounds one sync asks for (one batch request). */
  readonly maxRounds: number;
}

/** Defaults of {@link DagSyncOpts}. */
export const defaultDagSyncOpts: DagSyncOpts = {
  initialRounds: 48,
  settleRounds: 6,
  maxRounds: 96,
};

/** `from..to` in windows of {@link MAX_DAG_ROUNDS}. */
export function windowsOf(from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = from; a <= to; a += MAX_DAG_ROUNDS)
    out.push([a, Math.min(to, a + MAX_DAG_ROUNDS - 1)]);
  return out;
}

/** The fetching of `model` from `api`. */
export function createDagSync(api: ApiClient, model: DagModel, opts = defaultDagSyncOpts) {
  /** The oldest round the node still indexed when asked (below it: nothing more to fetch). */
  let floor = -1;
  let loadingOlder = false;

  async function fetchRounds(
    from: number,
    to: number,
  ): Promise<{ changed: boolean; empty: boolean }> {
    const pages = await api.batch('getDag', windowsOf(from, to));
    let changed = false;
    let empty = true;
    for (const p of pages) {
      if (p instanceof Error) throw p;
      if (p.events.length > 0) empty = false;
      changed = model.upsert(p.events) || changed;
    }
    return { changed, empty };
  }

  return {
    /** One step of following the node; whether the model changed, and the node's status. */
    async step() {
      const st = await api.status();
      const r = model.range();
      let from =
        r === null
          ? st.round - opts.initialRounds + 1
          : Math.max(r.min, Math.min(r.max + 1, st.decidedRound - opts.settleRounds));
      from = Math.max(0, from, st.round - opts.maxRounds + 1);
      const changed = st.round >= from ? (await fetchRounds(from, st.round)).changed : false;
      return { changed, status: st };
    },
    /** Fetches the rounds before the oldest held; false when there are none (any more). */
    async older(): Promise<boolean> {
      const r = model.range();
      if (r === null || loadingOlder || r.min <= 0 || r.min - 1 <= floor) return false;
      loadingOlder = true;
      try {
        const to = r.min - 1;
        const from = Math.max(0, to - MAX_DAG_ROUNDS + 1);
        const { changed, empty } = await fetchRounds(from, to);
        if (empty) floor = to;
        return changed;
      } finally {
        loadingOlder = false;
      }
    },
    /** Fork evidence: marks the events it names. */
    async forks(): Promise<boolean> {
      const ev = await api.getEquivocations();
      return model.setForks(ev.events.flatMap((e) => [e.a.hash, e.b.hash]));
    },
  };
}
