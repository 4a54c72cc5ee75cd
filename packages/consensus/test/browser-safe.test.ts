import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

// This package runs in browsers (PROTOCOL.md section 1): no node: modules, no
// Node globals, and runtime dependencies only from a browser-safe list.
const BROWSER_SAFE_DEPS = ['@noble/curves', '@noble/hashes', '@pos/merkle'];
const src = join(import.meta.dirname, '..', 'src');
const files = readdirSync(src).filter((f) => f.endsWith('.ts'));

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
      const ok =
        s!.startsWith('./') || BROWSER_SAFE_DEPS.some((d) => s === d || s!.startsWith(`${d}/`));
      assert.ok(ok, `${f} imports ${s}`);
    }
    assert.not.match(text, /\b(Buffer|process|require)\s*[.(]/, `${f} uses a Node global`);
  });
}

test('package.json: runtime dependencies are browser-safe', () => {
  const pkg = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8'));
  for (const d of Object.keys(pkg.dependencies ?? {})) {
    assert.ok(BROWSER_SAFE_DEPS.includes(d), `dependency ${d}`);
  }
});

test.run();
