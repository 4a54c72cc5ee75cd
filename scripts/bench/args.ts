// Command-line helpers shared by the benches (packages/*/bench).

/**
 * Parses a count such as `200000`, `200_000`, `200k` or `1.5m`; calls `fail`
 * (which prints usage and exits) for anything else or a value below `min`.
 */
export function parseCount(s: string, fail: (msg: string) => never, min = 1): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim().replaceAll('_', ''));
  if (!m) fail(`not a count: ${s}`);
  const mult = { '': 1, k: 1e3, m: 1e6 }[m[2]!.toLowerCase() as '' | 'k' | 'm'];
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n < min) fail(`not a count ≥ ${min}: ${s}`);
  return n;
}
