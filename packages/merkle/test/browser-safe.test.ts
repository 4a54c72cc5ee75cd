import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

// The wallet imports this package in browsers (PROTOCOL.md section 7): no
// node: modules, no Node globals, no dependency beyond @noble/hashes.
const src = join(import.meta.dirname, '..', 'src');
const files = readdirSync(src).filter((f) => f.endsWith('.ts'));

test('src has files to check', () => {
  assert.ok(files.length >= 5);
});

for (const f of files) {
  test(`${f}: imports only relative modules and @noble/hashes`, () => {
    const text = readFileSync(join(src, f), 'utf8');
    const specs = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map(
      (m) => m[1] ?? m[2],
    );
    for (const s of specs) {
      assert.ok(s!.startsWith('./') || s!.startsWith('@noble/hashes/'), `${f} imports ${s}`);
    }
    assert.not.match(text, /\b(Buffer|process|require)\s*[.(]/, `${f} uses a Node global`);
  });
}

test('package.json: runtime dependencies are browser-safe', () => {
  const pkg = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8'));
  assert.equal(Object.keys(pkg.dependencies ?? {}), ['@noble/hashes']);
});

test.run();
