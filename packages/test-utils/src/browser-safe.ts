// One check, shared by every package that must run in browsers (merkle,
// protocol, api, consensus, wallet-client; docs/PROTOCOL.md 1): its src/ imports only
// relative modules and packages from an allow-list, uses no Node global, and
// its runtime dependencies are all on the list. Every .ts and .tsx file under
// src/ is checked, in subfolders too (a relative import must stay inside src/).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/** Packages a browser-safe package may import at run time. */
export const BROWSER_SAFE_DEPS = [
  '@noble/curves',
  '@noble/hashes',
  '@pos/api',
  '@pos/merkle',
  '@pos/protocol',
];

/** Registers and runs the suite for the package whose root is `pkgDir`. */
export function browserSafeSuite(pkgDir: string, allowed: readonly string[] = BROWSER_SAFE_DEPS) {
  const src = join(pkgDir, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => f.split(sep).join('/'))
    .sort();

  test('src has files to check', () => {
    assert.ok(files.length >= 2);
  });

  for (const f of files) {
    test(`${f}: imports only relative modules and browser-safe packages`, () => {
      const text = readFileSync(join(src, f), 'utf8');
      const specs = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map(
        (m) => m[1] ?? m[2],
      );
      for (const s of specs) {
        const ok = insideSrc(src, f, s!) || allowed.some((d) => s === d || s!.startsWith(`${d}/`));
        assert.ok(ok, `${f} imports ${s}`);
      }
      assert.not.match(text, /\b(Buffer|process|require)\s*[.(]/, `${f} uses a Node global`);
    });
  }

  test('package.json: runtime dependencies are browser-safe', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    for (const d of Object.keys(pkg.dependencies ?? {})) {
      assert.ok(allowed.includes(d), `dependency ${d}`);
    }
  });

  test.run();
}

/** Whether `spec`, imported by `file` (relative to `src`), is a relative module inside `src`. */
function insideSrc(src: string, file: string, spec: string): boolean {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return false;
  const target = relative(src, resolve(src, dirname(file), spec));
  return target !== '' && !target.startsWith('..');
}
