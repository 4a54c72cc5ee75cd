// `pos-wallet` (cli/cli.ts) as a user runs it, as real processes, with no
// network at all: keygen (an encrypted keystore, mode 0600, never replaced;
// the password from POS_WALLET_PASSWORD or --password-file, never guessed),
// address (keystores and plain key files, refusals of bad ones), usage errors
// (exit 2, --json errors as JSON on stdout), the trust anchor's resolution
// (testnet.json and --genesis) up to an agent that is not there (exit 1),
// the wallet journal's reader (cli/io.ts), and `validators 0` (the genesis table,
// which needs no agent). The CLI must be built (tsc -b).
// Keygen costs a scrypt N = 2^17 (about 0.5 s), so one keystore serves most
// tests.
import { type StdioOptions, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chainIdOf,
  createGenesis,
  ed25519PublicKey,
  genesisToJSON,
  toHex,
  validatorIdOfKey,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { journalFile, readJournal } from '../cli/io.js';
import { type KeystoreJSON, keystoreFromText } from '../src/index.js';

const CLI = join(import.meta.dirname, '../dist/cli/cli.js');
const work = mkdtempSync(join(tmpdir(), 'pos-wallet-cli-'));
const at = (...p: string[]) => join(work, ...p);

// uvu sets FORCE_COLOR (a child with NO_COLOR too would warn); the test's own
// POS_* variables must not reach the CLI.
const baseEnv: Record<string, string | undefined> = { ...process.env };
delete baseEnv.FORCE_COLOR;
for (const k of Object.keys(baseEnv)) if (k.startsWith('POS_')) delete baseEnv[k];
// The wallet's saved trust states go to this test's directory, not the user's home.
baseEnv.POS_WALLET_HOME = join(work, 'wallet-home');

const PASSWORD = 'correct horse battery';
const withPw = { POS_WALLET_PASSWORD: PASSWORD };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node cli.js ...args` in `work` (where no .testnet exists) and
 * collects its output. stdin is /dev/null unless `stdin` says 'pipe' (then
 * closed at once): never a terminal, so the CLI can never prompt.
 */
function wallet(
  args: string[],
  o: { env?: Record<string, string>; stdin?: 'ignore' | 'pipe' } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = [o.stdin ?? 'ignore', 'pipe', 'pipe'];
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: work,
      env: { ...baseEnv, ...o.env },
      stdio,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `fn` over `rows`, a few processes at a time (the tables are independent). */
async function each<T>(rows: readonly T[], fn: (row: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < rows.length) await fn(rows[next++]!);
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

const show = (args: string[], r: Run) =>
  `pos-wallet ${args.join(' ')} -> ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Runs with --json and expects exit `code` with `{"ok":false,"error":{"code":errCode}}`. */
async function jsonError(
  args: string[],
  code: number,
  errCode: string,
  env: Record<string, string> = {},
): Promise<string> {
  const r = await wallet([...args, '--json'], { env });
  assert.is(r.code, code, show(args, r));
  const j = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.is(j.ok, false, show(args, r));
  assert.is(j.error.code, errCode, show(args, r));
  assert.type(j.error.message, 'string');
  return j.error.message;
}

/** Runs without --json and expects exit `code` and `error (errCode): ...` on stderr. */
async function humanError(args: string[], code: number, errCode: string): Promise<void> {
  const r = await wallet(args);
  assert.is(r.code, code, show(args, r));
  assert.match(r.stderr, `(${errCode})`, show(args, r));
  assert.is(r.stdout, '', show(args, r));
}

/**
 * The keystore in `file` opened with `password` (its public key, hex). Imported
 * at run time, as an ES module: uvu `require`s this file, and the CommonJS
 * form tsx makes of @noble/hashes runs scrypt N = 2^17 ten times slower.
 */
async function unlock(file: string, password: string): Promise<string> {
  const { decryptKeystore } = await import('../src/index.js');
  const k = await decryptKeystore(keystoreFromText(readFileSync(file, 'utf8')), password);
  return hexOf(k.publicKey);
}

const ADDRESS = /^0x[0-9a-f]{64}$/;
const hexOf = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

// --- fixtures ------------------------------------------------------------------------

// Plain key files as `posd keygen` writes them.
const secretA = new Uint8Array(32).map((_, i) => i + 1);
const secretB = new Uint8Array(32).fill(7);
const pubA = ed25519PublicKey(secretA);
const pubB = ed25519PublicKey(secretB);
const plainKey = (secret: Uint8Array, pub: Uint8Array) =>
  `${JSON.stringify(
    {
      version: 1,
      publicKey: toHex(pub),
      secretKey: toHex(secret),
      validatorId: toHex(validatorIdOfKey(pub)),
    },
    null,
    2,
  )}\n`;

// A valid genesis with two validators; the second genesis differs by its name only.
const genesisOf = (chainName: string) =>
  createGenesis({
    chainName,
    genesisTime: 1_700_000_000_000,
    params: { minFee: 1n },
    validators: [
      { pubkey: pubA, name: 'v0', p2p: '127.0.0.1:9001' },
      { pubkey: pubB, name: 'v1', p2p: '127.0.0.1:9002' },
    ],
    outputs: [
      { amount: 1000n, owner: pubA, host: validatorIdOfKey(pubA) },
      { amount: 1000n, owner: pubB, host: validatorIdOfKey(pubB) },
    ],
  });
const genesis = genesisOf('cli-test');
const otherGenesis = genesisOf('cli-test-other');
const CLOSED = 'http://127.0.0.1:1';

function writeTestnet(dir: string, layout: unknown, genesisText?: string): string {
  mkdirSync(at(dir), { recursive: true });
  if (genesisText !== undefined) writeFileSync(at(dir, 'genesis.json'), genesisText);
  writeFileSync(
    at(dir, 'testnet.json'),
    typeof layout === 'string' ? layout : JSON.stringify(layout, null, 2),
  );
  return at(dir);
}

const layout = (chainId: string, extra: Record<string, unknown> = {}) => ({
  chainId,
  // Relative, as a testnet started elsewhere writes it: found next to testnet.json.
  genesis: 'genesis.json',
  nodes: [{ name: 'v0', rpcUrl: CLOSED }],
  wallets: [],
  ...extra,
});

const genesisText = `${JSON.stringify(genesisToJSON(genesis), null, 2)}\n`;
const chainId = toHex(chainIdOf(genesis));

// The keystore most tests share: made once by `keygen` (test 1).
const keystore = at('wallet.json');
let keystoreAddress = '';

test.before(
  loud(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    writeFileSync(at('plain.json'), plainKey(secretA, pubA));
    writeFileSync(at('mismatch.json'), plainKey(secretA, pubB));
    writeFileSync(at('genesis-alone.json'), genesisText);
    writeTestnet('net-good', layout(chainId), genesisText);
    writeTestnet('net-other-chain', layout(toHex(chainIdOf(otherGenesis))), genesisText);
    writeTestnet('net-no-chainid', layout(chainId, { chainId: undefined }), genesisText);
    writeTestnet('net-not-json', '{"chainId": "0x', genesisText);
    writeTestnet('net-no-genesis-field', layout(chainId, { genesis: undefined }), genesisText);
    writeTestnet('net-genesis-missing', layout(chainId));
    writeTestnet('net-genesis-not-json', layout(chainId), 'genesis, but not JSON');
    writeTestnet('net-genesis-not-genesis', layout(chainId), '{"version": 1}');
    writeTestnet('net-no-nodes', layout(chainId, { nodes: [] }), genesisText);
    mkdirSync(at('empty'));
  }),
);

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

// --- keygen and address --------------------------------------------------------------

test('keygen --out: the address, a 0600 keystore of it; address --key agrees', async () => {
  const args = ['keygen', '--out', 'wallet.json'];
  const r = await wallet(args, { env: withPw });
  assert.is(r.code, 0, show(args, r));
  const m = /^address {3}(0x[0-9a-f]{64})$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  keystoreAddress = m![1]!;
  assert.match(r.stdout, `keystore  ${keystore} (scrypt N=2^17`);
  assert.is(statSync(keystore).mode & 0o777, 0o600, 'mode 0600');
  const ks = keystoreFromText(readFileSync(keystore, 'utf8')) as KeystoreJSON;
  assert.is(ks.publicKey, keystoreAddress);
  assert.is(ks.kdf.N, 2 ** 17);
  assert.not.match(readFileSync(keystore, 'utf8'), /secretKey/);
  // The password was POS_WALLET_PASSWORD's, and the secret is the address's.
  assert.is(await unlock(keystore, PASSWORD), keystoreAddress);

  const a = await wallet(['address', '--key', keystore]);
  assert.is(a.code, 0, a.stderr);
  assert.is(a.stdout, `${keystoreAddress}\n`);
  const j = await wallet(['address', '--key', keystore, '--json']);
  assert.is(j.code, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout), {
    ok: true,
    address: keystoreAddress,
    keyFile: keystore,
    kind: 'keystore',
  });
});

test('keygen never replaces a file: exit 2, EXISTS, the file unchanged', async () => {
  assert.ok(keystoreAddress, 'needs the keystore of the first test');
  const before = readFileSync(keystore, 'utf8');
  const msg = await jsonError(['keygen', '--out', keystore], 2, 'EXISTS', withPw);
  assert.match(msg, keystore);
  // Found before a password is asked for (none is available here).
  await jsonError(['keygen', '--out', keystore], 2, 'EXISTS', {});
  assert.is(readFileSync(keystore, 'utf8'), before);
  assert.is(statSync(keystore).mode & 0o777, 0o600);
});

test('keygen --password-file: its first line is the password; --json output', async () => {
  const pwFile = at('pw.txt');
  writeFileSync(pwFile, 'first-line-password\nsecond line, not part of it\n');
  const out = at('from-file.json');
  // The file given on the command line wins over POS_WALLET_PASSWORD.
  const args = ['keygen', '--out', out, '--password-file', pwFile, '--json'];
  const r = await wallet(args, { env: { POS_WALLET_PASSWORD: 'short' } });
  assert.is(r.code, 0, show(args, r));
  const j = JSON.parse(r.stdout) as { ok: boolean; address: string; keystore: string };
  assert.equal(Object.keys(j).sort(), ['address', 'keystore', 'ok']);
  assert.is(j.ok, true);
  assert.match(j.address, ADDRESS);
  assert.is(j.keystore, out);
  assert.is.not(j.address, keystoreAddress, 'a fresh key');
  assert.is(statSync(out).mode & 0o777, 0o600);
  assert.is(await unlock(out, 'first-line-password'), j.address);
});

test('keygen refuses a missing, short or unreadable password before any file', async () => {
  writeFileSync(at('short-pw.txt'), 'short\nlong enough second line\n');
  type Row = [string, string[], Record<string, string>, 'ignore' | 'pipe', string, RegExp];
  const table: Row[] = [
    ['no password, stdin /dev/null', [], {}, 'ignore', 'NO_PASSWORD', /POS_WALLET_PASSWORD/],
    ['no password, stdin a pipe', [], {}, 'pipe', 'NO_PASSWORD', /POS_WALLET_PASSWORD/],
    ['empty env', [], { POS_WALLET_PASSWORD: '' }, 'ignore', 'NO_PASSWORD', /no password/],
    ['7 characters', [], { POS_WALLET_PASSWORD: '1234567' }, 'ignore', 'USAGE', /8 characters/],
    [
      'short first line of the file',
      ['--password-file', at('short-pw.txt')],
      {},
      'ignore',
      'USAGE',
      /8 characters/,
    ],
    [
      'missing password file',
      ['--password-file', at('no-such-pw.txt')],
      {},
      'ignore',
      'NO_FILE',
      /ENOENT/,
    ],
  ];
  // Every other refusal in --json.
  const rows = table.map((row, i) => [row, i % 2 === 1] as const);
  await each(rows, async ([[name, extra, env, stdin, code, msg], json]) => {
    const out = at(`refused-${name.replace(/\W+/g, '-')}-${json}.json`);
    const args = ['keygen', '--out', out, ...extra, ...(json ? ['--json'] : [])];
    const r = await wallet(args, { env, stdin });
    assert.is(r.code, 2, `${name}: ${show(args, r)}`);
    if (json) {
      const j = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
      assert.is(j.ok, false, name);
      assert.is(j.error.code, code, name);
      assert.match(j.error.message, msg, name);
    } else {
      assert.match(r.stderr, `error (${code}): `, name);
      assert.match(r.stderr, msg, name);
      assert.is(r.stdout, '', name);
    }
    assert.throws(() => statSync(out), /ENOENT/, `${name}: no file written`);
  });
});

test('address: a plain key file as posd writes it', async () => {
  const r = await wallet(['address', '--key', 'plain.json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${toHex(pubA)}\n`);
  const j = await wallet(['address', `--key=${at('plain.json')}`, '--json']);
  assert.is(j.code, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout), {
    ok: true,
    address: toHex(pubA),
    keyFile: at('plain.json'),
    kind: 'plain',
  });
});

test('address refuses bad key files: BAD_FILE, or NO_FILE when missing', async () => {
  const ks = readFileSync(at('plain.json'), 'utf8');
  const bad: [string, string][] = [
    ['not-json.json', 'a key? no'],
    ['null.json', 'null'],
    ['array.json', '[1, 2]'],
    ['neither.json', JSON.stringify({ version: 1, publicKey: toHex(pubA) })],
    ['short-secret.json', ks.replace(/"secretKey": "0x[0-9a-f]{64}"/, '"secretKey": "0x0102"')],
    [
      'keystore-bad-pubkey.json',
      JSON.stringify({ version: 1, publicKey: 'nope', ciphertext: '0x00' }),
    ],
  ];
  for (const [file, text] of bad) writeFileSync(at(file), text);
  const table: [string, string, RegExp][] = [
    ['mismatch.json', 'BAD_FILE', /publicKey is not the secret key's/],
    ...bad.map(([f]): [string, string, RegExp] => [f, 'BAD_FILE', /./]),
    ['no-such-key.json', 'NO_FILE', /ENOENT/],
  ];
  await each(table, async ([file, code, msg]) => {
    assert.match(await jsonError(['address', '--key', file], 2, code), msg, file);
  });
  await humanError(['address', '--key', 'mismatch.json'], 2, 'BAD_FILE');
  await humanError(['address', '--key', 'no-such-key.json'], 2, 'NO_FILE');
});

// --- usage -----------------------------------------------------------------------------

test('usage: no command is exit 2, --help exit 0, both print it on stdout', async () => {
  const table: [string[], number][] = [
    [[], 2],
    [['--help'], 0],
    [['-h'], 0],
    [['keygen', '--help'], 0],
  ];
  await each(table, async ([args, code]) => {
    const r = await wallet(args);
    assert.is(r.code, code, show(args, r));
    assert.match(r.stdout, /^usage: pnpm wallet <command> \[options\]/, show(args, r));
    assert.match(r.stdout, /--password-file F/);
    assert.is(r.stderr, '');
  });
});

test('usage errors: exit 2 and a message that names the problem', async () => {
  const table: [string[], RegExp][] = [
    [['frobnicate'], /^unknown command frobnicate\n\nusage: /],
    [['address', '--bogus'], /^unknown option --bogus\n\nusage: /],
    [['address', '--key'], /^--key needs a value\n\nusage: /],
    [['address'], /^error \(USAGE\): address needs --key\n$/],
    [['keygen'], /^error \(USAGE\): keygen needs --out\n$/],
    [['address', '--key', 'a', '--key', 'b'], /^error \(USAGE\): --key given twice\n$/],
    [['address', '--key=a', '--key', 'a'], /^error \(USAGE\): --key given twice\n$/],
    [
      ['balance', '--testnet', 'net-good'],
      /^error \(USAGE\): balance needs an ADDRESS or --key\n$/,
    ],
    // Checked before any network: no testnet here, still the usage error.
    [['balance', '--testnet', 'nowhere'], /^error \(USAGE\): balance needs an ADDRESS or --key\n$/],
    [
      ['send', '--key', 'k', '--to', 'x', '--testnet', 'nowhere'],
      /^error \(USAGE\): send needs --amount\n$/,
    ],
    [['history', '--testnet', 'nowhere'], /^error \(USAGE\): history needs an ADDRESS or --key\n$/],
    [
      ['history', '--key', 'k', '--limit', '0', '--testnet', 'nowhere'],
      /^error \(USAGE\): --limit must be 1\.\.1000\n$/,
    ],
    [
      ['history', '--key', 'k', '--limit', '1001', '--testnet', 'nowhere'],
      /^error \(USAGE\): --limit must be a whole number up to 1000\n$/,
    ],
    [
      ['history', '--key', 'k', '--from', '-1', '--testnet', 'nowhere'],
      /^error \(USAGE\): --from must be a whole number/,
    ],
    // Names: the rule is checked before any network, never folded to lower case.
    [
      ['name', 'register', 'Alice', '--key', 'k', '--testnet', 'nowhere'],
      /^error \(USAGE\): "Alice" is not a name \(BAD_NAME\)\n$/,
    ],
    [
      ['name', 'register', 'admin', '--key', 'k', '--testnet', 'nowhere'],
      /^error \(USAGE\): "admin" is not a name \(NAME_RESERVED\)\n$/,
    ],
    [
      ['name', 'register', '\u0430lice', '--key', 'k', '--testnet', 'nowhere'],
      /is not a name \(BAD_NAME\)/,
    ],
    [
      ['name', 'rename', 'alice', '--key', 'k'],
      /^error \(USAGE\): name needs register\|transfer\|release and a NAME\n$/,
    ],
    [
      ['name', 'register'],
      /^error \(USAGE\): name needs register\|transfer\|release and a NAME\n$/,
    ],
    [
      ['name', 'transfer', 'alice', '--key', 'k', '--testnet', 'nowhere'],
      /^error \(USAGE\): name transfer needs --to\n$/,
    ],
    [
      ['name', 'register', 'alice', '--key', 'k', '--to', 'x', '--testnet', 'nowhere'],
      /^error \(USAGE\): name register takes no --to\n$/,
    ],
    [['resolve', '--testnet', 'nowhere'], /^error \(USAGE\): resolve takes one NAME\n$/],
    [['resolve', 'a1', 'b2'], /^error \(USAGE\): resolve takes one NAME\n$/],
    // Checked before any network too.
    [
      ['validators', 'x', '--testnet', 'nowhere'],
      /^error \(USAGE\): EPOCH must be a whole number\n$/,
    ],
    [['validators', '1', '2'], /^error \(USAGE\): validators takes at most one EPOCH\n$/],
    // A value that is the next option is refused, not taken as a file name.
    [['keygen', '--out', '--testnet', 'x'], /^--out needs a value\n\nusage: /],
    [['keygen', '--out='], /^--out needs a value\n\nusage: /],
    [
      ['send', '--key', 'k', '--to', 'x', '--amount', '1', '--timeout', 'abc'],
      /^error \(USAGE\): --timeout must be whole seconds/,
    ],
    [
      ['balance', '0x12', '--testnet', 'net-good'],
      /^error \(USAGE\): ADDRESS must be a 0x-prefixed 32-byte public key/,
    ],
    [
      ['balance', toHex(pubA), '--testnet', 'net-good', '--node', 'v7'],
      /^error \(USAGE\): no agent v7 \(have v0\)\n$/,
    ],
    [
      ['balance', toHex(pubA), '--testnet', 'a', '--testnet', 'b'],
      /^error \(USAGE\): --testnet given twice\n$/,
    ],
  ];
  await each(table, async ([args, msg]) => {
    const r = await wallet(args, { env: withPw });
    assert.is(r.code, 2, show(args, r));
    assert.match(r.stderr, msg, show(args, r));
    assert.is(r.stdout, '', show(args, r));
  });
});

test('usage errors in --json mode: {"ok":false,"error":{"code":"USAGE"}} on stdout', async () => {
  const table: [string[], RegExp][] = [
    [['address'], /address needs --key/],
    [['keygen'], /keygen needs --out/],
    [['address', '--key', 'a', '--key', 'b'], /--key given twice/],
    [['balance', '--testnet', 'net-good'], /balance needs an ADDRESS or --key/],
    // Errors found while reading the arguments are JSON too.
    [['frobnicate'], /unknown command frobnicate/],
    [['address', '--bogus'], /unknown option --bogus/],
    [['address', '--key'], /--key needs a value/],
    [['keygen', '--out'], /--out needs a value/],
    [['balance', 'nobody', '--testnet', 'net-good'], /ADDRESS must be/],
  ];
  await each(table, async ([args, msg]) => {
    assert.match(await jsonError(args, 2, 'USAGE', withPw), msg, args.join(' '));
  });
});

// --- the network: trust anchor and agents, none of them running ------------------------

test('network resolution errors, before any request: exit 2', async () => {
  const addr = toHex(pubA);
  const table: [string, string[], string, RegExp][] = [
    ['no testnet.json', ['--testnet', 'empty'], 'NO_NETWORK', /empty\/testnet\.json/],
    ['default .testnet, absent', [], 'NO_NETWORK', /\.testnet\/testnet\.json/],
    ['testnet without agents', ['--testnet', 'net-no-nodes'], 'NO_NETWORK', /no agent/],
    ['--genesis without --rpc', ['--genesis', 'genesis-alone.json'], 'NO_NETWORK', /--rpc/],
    [
      '--genesis not JSON',
      ['--genesis', at('net-genesis-not-json', 'genesis.json'), '--rpc', CLOSED],
      'BAD_FILE',
      /not JSON/,
    ],
    [
      '--genesis not a genesis',
      ['--genesis', at('net-genesis-not-genesis', 'genesis.json'), '--rpc', CLOSED],
      'BAD_FILE',
      /genesis/,
    ],
    [
      '--genesis missing',
      ['--genesis', at('no-such-genesis.json'), '--rpc', CLOSED],
      'NO_FILE',
      /ENOENT/,
    ],
    ['testnet.json not JSON', ['--testnet', 'net-not-json'], 'BAD_FILE', /not JSON/],
    ['names no genesis', ['--testnet', 'net-no-genesis-field'], 'BAD_FILE', /names no genesis/],
    ['its genesis missing', ['--testnet', 'net-genesis-missing'], 'NO_FILE', /ENOENT/],
    ['its genesis not JSON', ['--testnet', 'net-genesis-not-json'], 'BAD_FILE', /not JSON/],
    [
      'chainId of another genesis',
      ['--testnet', 'net-other-chain'],
      'BAD_FILE',
      /chainId is not the chainId of/,
    ],
    ['no chainId', ['--testnet', 'net-no-chainid'], 'BAD_FILE', /chainId is not the chainId of/],
  ];
  await each(table, async ([name, extra, code, msg]) => {
    assert.match(await jsonError(['balance', addr, ...extra], 2, code), msg, name);
  });
  await humanError(['balance', addr, '--testnet', 'empty'], 2, 'NO_NETWORK');
  await humanError(['balance', addr, '--testnet', 'net-other-chain'], 2, 'BAD_FILE');
});

test('an agent that is not there: exit 1, AGENT_UNREACHABLE', async () => {
  const addr = toHex(pubA);
  const table: [string, string[]][] = [
    ['testnet.json, ADDRESS', ['balance', addr, '--testnet', 'net-good']],
    ['testnet.json, --node by index', ['balance', addr, '--testnet', 'net-good', '--node', '0']],
    ['testnet.json, plain --key', ['balance', '--key', 'plain.json', '--testnet', 'net-good']],
    ['testnet.json, keystore --key', ['balance', '--key', keystore, '--testnet', 'net-good']],
    [
      '--genesis and --rpc',
      ['balance', addr, '--genesis', 'genesis-alone.json', '--rpc', CLOSED, '--testnet', 'empty'],
    ],
    ['verify', ['verify', '--testnet', 'net-good']],
    ["validators (the next block's table)", ['validators', '--testnet', 'net-good']],
    ['validators 1 (a proven table)', ['validators', '1', '--testnet', 'net-good']],
    ['history, plain --key', ['history', '--key', 'plain.json', '--testnet', 'net-good']],
  ];
  await each(table, async ([name, args]) => {
    assert.match(await jsonError(args, 1, 'AGENT_UNREACHABLE'), /^pos_/, name);
  });
  await humanError(['balance', addr, '--testnet', 'net-good'], 1, 'AGENT_UNREACHABLE');
});

test('validators 0: the genesis table needs no agent at all', async () => {
  const r = await wallet(['validators', '0', '--testnet', 'net-good', '--json']);
  assert.is(r.code, 0, show(['validators', '0'], r));
  const j = JSON.parse(r.stdout);
  assert.is(j.epoch, 0);
  assert.equal(j.provenance, { epoch: 0, kind: 'anchor' });
  assert.equal(j.validators.map((v: { name: string; stake: string }) => [v.name, v.stake]).sort(), [
    ['v0', '1000'],
    ['v1', '1000'],
  ]);
  assert.is(j.namesVerified, true);
  assert.is(j.firstRound, 0);
  assert.is(j.lastRound, 999);
});

// --- the journal (cli/io.ts) ------------------------------------------------------------

test('journalFile: KEYFILE.history.jsonl next to the key file', () => {
  assert.is(journalFile('/a/b/k.json'), '/a/b/k.json.history.jsonl');
  assert.is(journalFile('k.json'), 'k.json.history.jsonl');
});

test('readJournal: sent entries of this chain; a torn last line skipped; [] without a file', () => {
  assert.equal(readJournal(at('no-such.history.jsonl'), chainId), []);
  const entry = (n: number) => ({
    type: 'sent',
    chainId,
    txHash: `0x${String(n).repeat(64)}`,
    tx: '0x00',
    spent: [{ txHash: `0x${'a'.repeat(64)}`, index: n, amount: '10' }],
    outputs: [{ owner: toHex(pubB), host: toHex(validatorIdOfKey(pubA)), amount: '9' }],
    fee: '1',
    signedAt: '2024-01-01T00:00:00.000Z',
  });
  const lines = [
    JSON.stringify(entry(1)),
    '',
    JSON.stringify({ ...entry(2), type: 'received' }),
    JSON.stringify({ type: 'note', text: 'not a transfer' }),
    JSON.stringify({ ...entry(3), txHash: 3 }),
    JSON.stringify({ ...entry(6), chainId: toHex(chainIdOf(otherGenesis)) }),
    JSON.stringify({ ...entry(7), chainId: undefined }),
    JSON.stringify(entry(4)),
    JSON.stringify(entry(5)).slice(0, 40),
  ];
  const file = at('k.json.history.jsonl');
  writeFileSync(file, lines.join('\n'));
  assert.equal(readJournal(file, chainId), [entry(1), entry(4)]);
  // A complete last line (with its newline) is read.
  writeFileSync(file, `${lines.slice(0, -1).join('\n')}\n${JSON.stringify(entry(5))}\n`);
  assert.equal(
    readJournal(file, chainId).map((e) => e.txHash),
    [1, 4, 5].map((n) => entry(n).txHash),
  );
  writeFileSync(file, '');
  assert.equal(readJournal(file, chainId), []);
});

test.run();
