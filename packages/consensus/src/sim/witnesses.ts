/** Leader candidates of decided rounds, read back through `info()` (docs/PROTOCOL.md 5.5). */
import type { Consensus, ConsensusEventInput } from '../types.js';

/**
 * Remembers the witnesses an engine reported, by round, so that when round r
 * is decided the leader candidates (docs/PROTOCOL.md 5.5) can be listed: the famous
 * witnesses of round r whose creator has exactly one famous witness. The
 * engine does not return candidates with a block, and they are live (so
 * `info()` answers) at the moment the block is returned.
 */
export class WitnessIndex<E extends ConsensusEventInput = ConsensusEventInput> {
  private readonly byRound = new Map<number, E[]>();

  /** Call right after `event` was inserted into `cons`. */
  add(cons: Consensus<E>, event: E): void {
    const info = cons.info(event.hash);
    // A witness of an already decided round is never a candidate.
    if (!info?.witness || info.round <= cons.lastDecidedRound) return;
    const list = this.byRound.get(info.round);
    if (list) list.push(event);
    else this.byRound.set(info.round, [event]);
  }

  /** The candidates of a round just decided by `cons`; forgets that round and earlier ones. */
  candidates(cons: Consensus<E>, round: number): E[] {
    const famous = (this.byRound.get(round) ?? []).filter(
      (w) => cons.info(w.hash)?.famous === true,
    );
    const per = new Map<number, number>();
    for (const w of famous) per.set(w.creator, (per.get(w.creator) ?? 0) + 1);
    for (const r of [...this.byRound.keys()]) if (r <= round) this.byRound.delete(r);
    return famous.filter((w) => per.get(w.creator) === 1);
  }
}
