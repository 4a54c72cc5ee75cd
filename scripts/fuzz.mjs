// Runs every package's fuzz suite (packages/*/test/fuzz.test.ts) for longer
// than CI does (issue 7): `pnpm fuzz --minutes M` shares M minutes between
// the suites, one after another (the machine may have two cores only), each
// suite dividing its share between its properties (FUZZ_SUITE_MS, see
// packages/test-utils/src/fuzz.ts).
//
//   pnpm fuzz [--minutes M] [--seed S] [--only merkle,gossip]
//
// One seed for all suites, printed first; `--seed` (or FUZZ_SEED) replays it.
// A suite still running well past its share is hung in synchronous code (no
// per-run timeout can stop that in process): it is killed and reported with
// the seed, and the run fails.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string' },
    only: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
const seed = values.seed ?? process.env.FUZZ_SEED ?? String((Math.random() * 0x7fffffff) | 0);
const only = values.only?.split(',');

const suites = readdirSync(join(root, 'packages'))
  .filter((p) => existsSync(join(root, 'packages', p, 'test', 'fuzz.test.ts')))
  .filter((p) => only === undefined || only.includes(p));
if (suites.length === 0) throw new Error('no fuzz suite to run');
const shareMs = Math.floor((minutes * 60_000) / suites.length);
console.log(
  `fuzz: ${suites.join(', ')}; ${Math.round(shareMs / 1000)} s each; seed ${seed} (replay: --seed ${seed})`,
);

const failed = [];
for (const pkg of suites) {
  console.log(`\n== ${pkg} ==`);
  const code = await new Promise((resolve) => {
    const child = spawn(
      join(root, 'node_modules', '.bin', 'uvu'),
      ['-r', 'tsx', 'test', 'fuzz\\.test\\.ts$'],
      {
        cwd: join(root, 'packages', pkg),
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, FUZZ_SUITE_MS: String(shareMs), FUZZ_SEED: seed },
        detached: true,
      },
    );
    // Setup, the guaranteed minimum runs and shrinking come on top of the
    // share; twice the share and two minutes more means a hang.
    const limit = setTimeout(
      () => {
        console.log(
          `${pkg}: still running after ${2 * shareMs + 120_000} ms: killed (seed ${seed})`,
        );
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      },
      2 * shareMs + 120_000,
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (c) => {
      clearTimeout(limit);
      // uvu 0.5 exits 0 when a before hook failed: count the tests instead.
      const text = out.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
      const num = (label) => Number(text.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
      resolve(c === 0 && num('Total') > 0 && num('Passed') === num('Total') ? 0 : 1);
    });
  });
  if (code !== 0) failed.push(pkg);
}
console.log(
  failed.length === 0
    ? `\nfuzz: all ${suites.length} suites passed (seed ${seed})`
    : `\nfuzz: failed: ${failed.join(', ')} (replay: pnpm fuzz --seed ${seed} --only ${failed.join(',')})`,
);
process.exit(failed.length === 0 ? 0 : 1);
