// The database's size on disk (src/db/disk-usage.ts): real files in a
// temporary directory, a table of layouts, and the background measure.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDiskUsage, directoryBytes } from '../src/db/disk-usage.js';

const root = mkdtempSync(join(tmpdir(), 'pos-disk-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const layouts: Array<[name: string, files: Record<string, number>, bytes: number]> = [
  ['empty', {}, 0],
  ['one file', { '000005.log': 1234 }, 1234],
  ['LevelDB-like', { CURRENT: 16, LOCK: 0, 'MANIFEST-000002': 50, '000007.ldb': 4096 }, 4162],
  ['nested', { 'a/b/c.ldb': 10, 'a/d.ldb': 20, 'e.ldb': 30 }, 60],
];

for (const [name, files, bytes] of layouts) {
  test(`directoryBytes: ${name}`, async () => {
    const dir = join(root, name.replace(/\W/g, '-'));
    mkdirSync(dir, { recursive: true });
    for (const [path, size] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), new Uint8Array(size));
    }
    assert.is(await directoryBytes(dir), bytes);
  });
}

test('a missing directory is an error, not a zero', async () => {
  try {
    await directoryBytes(join(root, 'nope'));
    assert.unreachable('should throw');
  } catch (e) {
    assert.is((e as NodeJS.ErrnoException).code, 'ENOENT');
  }
});

test('createDiskUsage measures at once, reports each figure, and follows growth on refresh', async () => {
  const dir = join(root, 'live');
  mkdirSync(dir);
  writeFileSync(join(dir, 'x'), new Uint8Array(100));
  const seen: number[] = [];
  const du = createDiskUsage(dir, (b) => seen.push(b), { intervalMs: 60_000 });
  try {
    assert.is(await du.refresh(), 100);
    assert.is(du.bytes, 100);
    writeFileSync(join(dir, 'y'), new Uint8Array(50));
    assert.is(await du.refresh(), 150);
    assert.is(du.bytes, 150);
    assert.ok(seen.includes(100) && seen.at(-1) === 150, String(seen));
  } finally {
    du.close();
  }
});

test('createDiskUsage keeps the last figure when a walk fails', async () => {
  const dir = join(root, 'vanishing');
  mkdirSync(dir);
  writeFileSync(join(dir, 'x'), new Uint8Array(7));
  const du = createDiskUsage(dir, () => {}, { intervalMs: 60_000 });
  try {
    assert.is(await du.refresh(), 7);
    rmSync(dir, { recursive: true });
    await du.refresh().then(
      () => assert.unreachable('should reject'),
      () => {},
    );
    assert.is(du.bytes, 7);
  } finally {
    du.close();
  }
});

test.run();
