/**
 * The `clock-ahead` mode: not this program's own validator but the real
 * `posd` on the data dir, with the `clock-ahead.js` preload shifting its wall
 * clock by `--offset-ms`; this process only forwards signals and exits with
 * posd's code.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ByzantineArgs } from './types.js';
import { log } from './util.js';

/** Starts posd under the shifted clock and hands the process over to it. */
export function runClockAhead(a: ByzantineArgs): void {
  const pkg = createRequire(import.meta.url).resolve('@pos/node/package.json');
  const posd = join(dirname(pkg), 'dist', 'cli.js');
  // The preload is src/clock-ahead.ts, built next to the entry, one level up.
  const preload = pathToFileURL(
    join(dirname(fileURLToPath(import.meta.url)), '..', 'clock-ahead.js'),
  );
  log('starting posd with a shifted clock', { offsetMs: a.offsetMs, seed: a.seed });
  const child = spawn(
    process.execPath,
    ['--import', preload.href, '--max-old-space-size=1024', posd, 'start', '--data-dir', a.dataDir],
    { env: { ...process.env, POS_CLOCK_OFFSET_MS: String(a.offsetMs) }, stdio: 'inherit' },
  );
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 1));
}
