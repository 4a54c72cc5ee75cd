/** The contracts of the soak run (src/soak.ts): its options, its report, and its tally. */
import type { Accepted } from './transfers.js';

/** Options of `runSoak` (src/soak.ts). */
export interface SoakOpts {
  minutes: number;
  /** Offered load, transfers per second. */
  ratePerSec: number;
  seed: number;
  /** A fault starts this often; it lasts half of it, the other half is quiet. */
  faultEveryS: number;
  dir: string;
  say: (line: string) => void;
}

/** Defaults of {@link SoakOpts} (`dir`, `seed` and `say` have none). */
export const defaultSoakOpts = { minutes: 5, ratePerSec: 20, faultEveryS: 40 } as const;

/** What a soak run found. */
export interface SoakReport {
  ok: boolean;
  markdown: string;
}

/** What a run counts as it goes, for the report. */
export interface SoakTally {
  /** Accepted transfers by hash. */
  readonly accepted: Map<string, Accepted>;
  /** Faults injected, by kind. */
  readonly faultCounts: Map<string, number>;
  /** Each SIGKILLed node's restart: how long until its RPC answered. */
  readonly restarts: { cycle: number; name: string; ms: number }[];
  /** Every invariant that failed, and where. */
  readonly failures: string[];
  /** The rows of the table of checks after each fault. */
  readonly checkRows: string[];
}
