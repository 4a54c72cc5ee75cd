/**
 * The creator index universe (docs/PROTOCOL.md 5.9): `addValidator` appends
 * an index when a registration's block is applied.
 */
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import type { ConsensusEventInput } from '../types.js';
import { newCreatorState } from './state.js';
import { sized } from './tables.js';
import { type EngineState, INF, NONE } from './types.js';

/**
 * Appends a creator index (docs/PROTOCOL.md 5.9). Every vector indexed by
 * creator grows by one entry meaning "nothing by it": the creator states,
 * the forgotten horizons, the scratch markers, each live event's `la`
 * (null), `laSeq` (NONE) and `fd` (INF), and every converted table (stake
 * 0; cached conversions are widened when next used). No decision depends on
 * n itself, only on stakes, so the timing of this call relative to inserts
 * does not matter.
 */
export function addValidator<E extends ConsensusEventInput>(
  st: EngineState<E>,
  id: Uint8Array,
): number {
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
  st.seenStamp = grown(st.seenStamp, st.n, 0);
  st.possibleStamp = grown(st.possibleStamp, st.n, 0);
  for (const e of st.events.values()) {
    if (!e.live) continue;
    e.la!.push(null);
    e.laSeq = grown(e.laSeq!, st.n, NONE);
    e.fd = grown(e.fd!, st.n, INF);
  }
  for (const info of st.rounds.values()) sized(st, info.table);
  return c;
}

/** A copy of `a` widened to n entries, the new last one `fill`. */
function grown(a: Int32Array, n: number, fill: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  b[n - 1] = fill;
  return b;
}
