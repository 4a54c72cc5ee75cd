// Runs every workspace package's uvu suite one after another, streams its
// output, and closes with one summary line over all of them, so a reader (or
// CI) sees at a glance how many tests ran. Exit code is non-zero if any
// package fails or if no test ran at all.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = [
  ...readdirSync(join(root, 'packages')).map((d) => join('packages', d)),
  'testnet',
].filter((d) => existsSync(join(root, d, 'package.json')));

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const strip = (s) => s.replace(ANSI, '');
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
/** Packages whose test process had to be killed after its summary. */
const lateExit = [];

for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  process.stdout.write(`\n== ${pkg.name} ==\n`);
  const code = await new Promise((resolve) => {
    // pnpm from the root devDependencies, so this also runs outside `pnpm run`.
    const child = spawn(join(root, 'node_modules', '.bin', 'pnpm'), ['run', '--silent', 'test'], {
      cwd: join(root, dir),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      // Its own process group, so a hung run can be stopped whole (below).
      detached: true,
    });
    let out = '';
    let hung = null;
    child.stdout.on('data', (b) => {
      out += b;
      process.stdout.write(b);
      // uvu prints Duration last. A run still alive 20 s later is held open
      // by a leaked timer, socket or child (a suite whose cleanup never ran):
      // stop it and fail the package rather than wait for CI's time limit.
      if (hung === null && /Duration:/.test(strip(out))) {
        hung = setTimeout(() => {
          process.stdout.write(
            `${pkg.name}: tests finished but the process did not exit: killed\n`,
          );
          lateExit.push(pkg.name);
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {}
        }, 20_000);
      }
    });
    child.on('exit', () => hung !== null && clearTimeout(hung));
    child.on('error', (e) => {
      process.stdout.write(`cannot run the tests of ${pkg.name}: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (c) => {
      const text = strip(out);
      // uvu prints one summary per run: Total, Passed, Skipped.
      const num = (label) =>
        Number([...text.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].at(-1)?.[1] ?? 0);
      const total = num('Total');
      const ok = num('Passed');
      const skip = num('Skipped');
      passed += ok;
      skipped += skip;
      failed += Math.max(0, total - ok - skip);
      resolve(c ?? 1);
    });
  });
  if (code !== 0 || lateExit.includes(pkg.name)) failures.push(pkg.name);
}

console.log('');
if (failures.length > 0) console.log(`failing packages: ${failures.join(', ')}`);
if (failures.length > 0 && failed === 0) failed = failures.length;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
// Tests that never ran count as failed too (uvu 0.5 passes a suite whose
// before hook threw, see packages/test-utils/src/hooks.ts).
process.exit(failures.length > 0 || failed > 0 || passed === 0 ? 1 : 0);
