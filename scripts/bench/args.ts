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

/**
 * Walks `--flag value`, `--flag=value` and bare `--flag` arguments: `on(flag,
 * value)` handles one and returns false for a flag it does not know. Skips the
 * `--` that `pnpm run bench -- ...` passes through; `--help`/`-h` and unknown
 * flags call `fail` (usage and exit). `value()` reads the flag's value or fails.
 */
export function forEachFlag(
  argv: readonly string[],
  fail: (msg: string) => never,
  help: string,
  on: (flag: string, value: () => string) => boolean,
): void {
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const eq = a.indexOf('=');
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    const value = () => inline ?? argv[++k] ?? fail(`${flag} needs a value`);
    if (flag === '--') continue;
    if (flag === '--help' || flag === '-h') fail(help);
    if (!on(flag, value)) fail(`unknown argument ${a}`);
  }
}
