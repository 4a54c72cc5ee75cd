// The README's example runs as written (examples/transfer.ts) and prints
// what it says: a transaction id, its size, its JSON and the owner prefix.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..');

test('examples/transfer.ts runs and prints a verified transfer', () => {
  const tsx = join(root, '../../node_modules/.bin/tsx');
  // uvu sets FORCE_COLOR, which would colour console.log's numbers.
  const { FORCE_COLOR: _, ...env } = process.env;
  const r = spawnSync(tsx, [join(root, 'examples/transfer.ts')], {
    cwd: root,
    encoding: 'utf8',
    env,
  });
  assert.is(r.status, 0, r.stderr);
  const [id, json, prefix] = r.stdout.trim().split('\n');
  assert.match(id!, /^0x[0-9a-f]{64} \d+ bytes$/);
  const tx = JSON.parse(json!) as { fee: string; memo: string };
  assert.is(tx.fee, '10');
  assert.is(tx.memo, '0x72656e74');
  assert.match(prefix!, /^my outputs live under 0x[0-9a-f]{64}$/);
});

test.run();
