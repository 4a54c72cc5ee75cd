// Helpers shared by the simulator test files (sim.test.ts, sim-epochs.test.ts):
// block digests, the safety and well-formedness assertions, and the
// chi-square machinery of the fairness tests.

import { hex } from '@pos/test-utils/node-hash';
import * as assert from 'uvu/assert';
import type { DecidedBlock } from '../src/index.js';
import type { SimEvent, SimResult } from '../src/sim.js';

/** Everything a block says, as one string: two blocks are the same block iff their digests are equal. */
export function digest(b: DecidedBlock<SimEvent>): string {
  return [
    b.round,
    hex(b.leader.hash),
    b.events.map((e) => hex(e.hash)).join(','),
    b.transactions.map(hex).join(','),
    b.timestamp,
    hex(b.seed),
  ].join('|');
}

/** Asserts that of every two sequences, the shorter is a prefix of the longer. */
export function assertPrefixes(seqs: readonly (readonly string[])[], what: string): void {
  for (let i = 0; i < seqs.length; i++) {
    for (let j = i + 1; j < seqs.length; j++) {
      const a = seqs[i]!;
      const b = seqs[j]!;
      for (let k = 0; k < Math.min(a.length, b.length); k++) {
        if (a[k] !== b[k]) {
          assert.unreachable(
            `${what}: sequences ${i} and ${j} differ at block ${k}:\n${a[k]}\n${b[k]}`,
          );
        }
      }
    }
  }
}

/** Nothing that must not happen to a node running the engine happened (its own event refused, a crash). */
export function assertNoAnomalies(r: SimResult): void {
  for (const node of r.nodes) {
    const first = node.anomalies.slice(0, 3).join('; ');
    assert.ok(node.anomalies.length === 0, `node ${node.index}: ${first}`);
  }
}

/** Each node's blocks: rounds strictly increase and no event is ordered twice. */
export function assertWellFormed(blocks: readonly DecidedBlock<SimEvent>[], who: string): void {
  const seen = new Set<string>();
  let prev = -1;
  for (const b of blocks) {
    assert.ok(b.round > prev, `${who}: block rounds increase`);
    prev = b.round;
    for (const e of b.events) {
      const k = hex(e.hash);
      assert.not.ok(seen.has(k), `${who}: event ordered twice`);
      seen.add(k);
    }
    assert.ok(b.events.includes(b.leader), `${who}: the leader is in its block`);
  }
}

/** numRuns scaled by SIM_SCALE (default 1), e.g. SIM_SCALE=20 for a long soak. */
export const runs = (n: number) =>
  Math.max(1, Math.round(n * Number(process.env.SIM_SCALE ?? '1')));

/**
 * Upper tail of the chi-square distribution for an even number of degrees
 * of freedom 2m, exactly: Q(x; 2m) = e^(-x/2) Σ_{k<m} (x/2)^k / k!
 * (the chi-square with 2m degrees is a Gamma(m, 2), whose tail is a Poisson
 * sum). No table lookup, no approximation.
 */
export function chiSquareTail(x: number, df: number): number {
  assert.ok(df > 0 && df % 2 === 0, 'even degrees of freedom');
  let term = 1;
  let sum = 1;
  for (let k = 1; k < df / 2; k++) {
    term *= x / 2 / k;
    sum += term;
  }
  return Math.exp(-x / 2) * sum;
}

/** Pearson's statistic Σ (O − E)² / E of counts against shares (shares as bigint weights). */
export function pearson(counts: readonly number[], weights: readonly bigint[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const w = weights.reduce((a, b) => a + b, 0n);
  let x = 0;
  counts.forEach((o, i) => {
    const e = (total * Number(weights[i]!)) / Number(w);
    x += ((o - e) * (o - e)) / e;
  });
  return x;
}

/** Significance of the fairness tests: the chance that a fair draw fails one. */
export const ALPHA = 0.001;
