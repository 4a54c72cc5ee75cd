// One check, shared by every package that must run in browsers (merkle,
// protocol, api, consensus, wallet-client; docs/PROTOCOL.md 1): its src/ imports only
// relative modules and packages from an allow-list, uses no Node global, and
// its runtime dependencies are all on the list.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  // Every module, in subfolders too (src/methods/… of @pos/api).
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );

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
        // A relative import must stay inside src/.
        const inside = /^\.\.?\//.test(s!) && resolve(dirname(join(src, f)), s!).startsWith(src);
        const ok = inside || allowed.some((d) => s === d || s!.startsWith(`${d}/`));
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
