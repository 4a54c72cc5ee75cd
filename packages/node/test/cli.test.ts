// posd keygen as a real process: the key file (mode 0600, consistent, never
// replaced by accident), the printed ids, and usage errors with exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readKeyFile } from '../src/keyfile.js';

const root = join(import.meta.dirname, '../../..');
const tsx = join(root, 'node_modules/.bin/tsx');
const cli = join(root, 'packages/node/src/cli.ts');
// uvu sets FORCE_COLOR; a child with it and NO_COLOR prints a warning first.
const env = { ...process.env };
delete env.FORCE_COLOR;
const posd = (...args: string[]) => spawnSync(tsx, [cli, ...args], { encoding: 'utf8', env });

const dir = mkdtempSync(join(tmpdir(), 'posd-cli-'));

test('keygen --out writes a 0600 key file whose ids follow from the secret', async () => {
  const file = join(dir, 'key.json');
  const r = posd('keygen', '--out', file, '--json');
  assert.is(r.status, 0, r.stderr);
  const shown = JSON.parse(r.stdout) as Record<string, string>;
  assert.not.ok('secretKey' in shown, 'the secret is not printed when written to a file');
  assert.is((statSync(file).mode & 0o777).toString(8), '600');
  const key = await readKeyFile(file);
  assert.is(shown.publicKey, `0x${Buffer.from(key.publicKey).toString('hex')}`);
  assert.is(shown.validatorId, `0x${Buffer.from(key.validatorId).toString('hex')}`);
});

test('keygen refuses to replace a key file without --force, replaces it with', () => {
  const file = join(dir, 'key2.json');
  assert.is(posd('keygen', '--out', file).status, 0);
  const before = readFileSync(file, 'utf8');
  const again = posd('keygen', '--out', file);
  assert.is(again.status, 2);
  assert.match(again.stderr, /exists; pass --force/);
  assert.is(readFileSync(file, 'utf8'), before, 'the old key is untouched');
  assert.is(posd('keygen', '--out', file, '--force').status, 0);
  assert.is.not(readFileSync(file, 'utf8'), before);
});

test('a hand-edited key file is refused on reading', async () => {
  const file = join(dir, 'key3.json');
  assert.is(posd('keygen', '--out', file).status, 0);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  j.publicKey = `0x${'00'.repeat(32)}`;
  writeFileSync(file, JSON.stringify(j));
  try {
    await readKeyFile(file);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code: string }).code, 'BAD_KEY_FILE');
  }
});

test('keygen without --out prints a fresh key each time', () => {
  const a = JSON.parse(posd('keygen', '--json').stdout);
  const b = JSON.parse(posd('keygen', '--json').stdout);
  assert.match(a.secretKey, /^0x[0-9a-f]{64}$/);
  assert.is.not(a.publicKey, b.publicKey);
});

test('usage errors: no command, unknown command, unknown flag → exit 2 with a message', () => {
  for (const args of [[], ['frobnicate'], ['keygen', '--bogus']]) {
    const r = posd(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^posd: /, JSON.stringify(r.stderr.slice(0, 300)));
  }
  const help = posd('help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /usage: posd/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
