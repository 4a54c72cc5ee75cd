/**
 * The soak's resident memory: each posd's RSS sampled every 10 s; "flat"
 * compares the mean of the last third of its last process's samples with
 * the middle third.
 */
import { readFileSync } from 'node:fs';
import type { Testnet } from '../network.js';

/** One sample, tagged with the pid: a restarted node starts low again. */
interface Sample {
  pid: number;
  mb: number;
}

/** The sampler of a run. */
export interface RssSampler {
  /** Samples per node, in the order of the names given. */
  readonly samples: readonly (readonly Sample[])[];
  stop(): void;
}

/** Resident set size of a process in MB, NaN when it is gone. */
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

const mean = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
};

/** Samples the RSS of the nodes `names` of `net` every 10 s until stopped. */
export function startRssSampler(net: Testnet, names: readonly string[]): RssSampler {
  const samples: Sample[][] = names.map(() => []);
  const timer = setInterval(() => {
    for (const [i, n] of names.entries()) {
      const pid = net.process(n)?.pid;
      const mb = rssMb(pid);
      if (pid !== undefined && Number.isFinite(mb)) samples[i]!.push({ pid, mb });
    }
  }, 10_000);
  return { samples, stop: () => clearInterval(timer) };
}

/**
 * The memory table's row of node `name`, judged on its last process's
 * samples; a failure is added to `failures` when it grew.
 */
export function memoryRow(name: string, all: readonly Sample[], failures: string[]): string {
  const third = (xs: number[], k: number) =>
    xs.slice(Math.floor((k * xs.length) / 3), Math.floor(((k + 1) * xs.length) / 3));
  const lastPid = all.at(-1)?.pid;
  const xs = all.filter((x) => x.pid === lastPid).map((x) => x.mb);
  const restarts = new Set(all.map((x) => x.pid)).size - 1;
  const [a, b, c] = [0, 1, 2].map((k) => mean(third(xs, k))) as [number, number, number];
  // Growth beyond 20% + 16 MB from the middle to the last third of the
  // last process's life; fewer than 6 samples (a minute) cannot tell.
  const verdict = xs.length < 6 ? 'too short to tell' : c > b * 1.2 + 16 ? 'GROWING' : 'flat';
  if (verdict === 'GROWING')
    failures.push(`${name}: RSS grew from ${b.toFixed(0)} to ${c.toFixed(0)} MB`);
  return `| ${name} | ${restarts} | ${xs.length} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${c.toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${verdict} |`;
}
