/**
 * Events by round, as the engine placed them since the process started (the
 * replay included): what `pos_getDag` reads (docs/PROTOCOL.md 10.1). Rounds
 * far below the decided round are dropped, so memory stays bounded.
 */

/** The round index. */
export interface RoundIndex {
  /** Notes that `hash` was placed in `round` (a negative round is ignored). */
  note(round: number, hash: Uint8Array): void;
  /** The hashes of a round, in insertion order (a copy). */
  eventsOf(round: number): Uint8Array[];
  /** Forgets every round below `round`. */
  dropBelow(round: number): void;
}

/** Creates an empty index. */
export function createRoundIndex(): RoundIndex {
  const byRound = new Map<number, Uint8Array[]>();
  return {
    note(round, hash) {
      if (round < 0) return;
      let list = byRound.get(round);
      if (list === undefined) byRound.set(round, (list = []));
      list.push(hash);
    },
    eventsOf: (round) => [...(byRound.get(round) ?? [])],
    dropBelow(round) {
      for (const r of byRound.keys()) if (r < round) byRound.delete(r);
    },
  };
}
