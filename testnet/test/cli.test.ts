import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const testnetDir = fileURLToPath(new URL('..', import.meta.url));

test('the testnet entry says it is not built yet and exits with status 1', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: testnetDir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 60_000,
  });
  assert.is(r.error, undefined);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /NOT BUILT YET/);
  assert.match(r.stderr, /issue 5/);
  assert.match(r.stderr, /packages\/node/);
  assert.match(r.stderr, /packages\/wallet-client/);
});

test.run();
