/** Types shared by the benchmark driver (trie.bench.ts) and its worker (trie.worker.ts). */

export type ImplId = 'pos-noble' | 'pos-node' | 'mpt';

export const IMPLS: readonly ImplId[] = ['pos-noble', 'pos-node', 'mpt'];

export const IMPL_LABEL: Record<ImplId, string> = {
  'pos-noble': 'pos/trie (noble)',
  'pos-node': 'pos/trie (node:crypto)',
  mpt: '@ethereumjs/mpt 10',
};

export interface WorkerArgs {
  impl: ImplId;
  n: number;
  seed: number;
  /** Keys proven and verified (timed). */
  sample: number;
  /** Minimum timed passes over the sample per phase; the median pass is reported. */
  rounds: number;
  /** Passes continue (up to 50) until a phase has taken this long. */
  minPhaseMs: number;
  /** Untimed proofs and verifications first, on other keys (JIT warm-up). */
  warmup: number;
  /** Ops per apply() + root() + commit() of our trie. */
  batch: number;
}

export interface WorkerResult {
  impl: ImplId;
  n: number;
  buildMs: number;
  insertsPerSec: number;
  /** Mean µs per proof (median pass), serialization included. */
  genUs: number;
  /** Mean µs per verification of a serialized proof (median pass). */
  verifyUs: number;
  proofBytesMedian: number;
  proofBytesP99: number;
  proofBytesMean: number;
  /** process.resourceUsage().maxRSS at the end, in MB. */
  maxRssMb: number;
  /** Root hash (hex): both of our hash backends must agree on it. */
  root: string;
}

export type WorkerMessage = { ok: true; result: WorkerResult } | { ok: false; error: string };

/** Worker exit code when a proof failed to verify (or a tampered one verified). */
export const EXIT_BAD_PROOF = 3;

/**
 * Heading of range.bench.ts's section of bench/results.md, which it writes
 * at the end of the file; trie.bench.ts keeps that section when it rewrites
 * the rest.
 */
export const RANGE_HEADING = '## Range completeness proofs';

/** A markdown table with padded cells, left- or right-aligned per column. */
export function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((x, c) => (align[c] === 'r' ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join(' | ')} |`;
  // Separator cells padded like the other cells: the form `biome format` keeps.
  const rule = `| ${widths.map((w, c) => (align[c] === 'r' ? `${'-'.repeat(w - 1)}:` : `:${'-'.repeat(w - 1)}`)).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}
