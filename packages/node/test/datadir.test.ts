// A damaged data dir (issue 7): a real posd makes a chain on a real
// classic-level database, stops, and a copy of its data dir is damaged in one
// way per case (LevelDB files truncated, garbled or deleted; the key file or
// the genesis gone, cut or of another chain; records that are valid LevelDB
// but wrong content, written through classic-level itself). posd must then
// either exit non-zero with one clear line naming the problem (never a bare
// stack trace), or start with state that is verified to be the chain's own:
// the same block hashes and state roots at every height as before the damage.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loud } from '@pos/test-utils/hooks';
import { freePorts } from '@pos/test-utils/ports';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'packages/node/dist/cli.js');
const env = { ...process.env };
delete env.FORCE_COLOR;
for (const k of Object.keys(env)) if (k.startsWith('POS_')) delete env[k];

const dir = mkdtempSync(join(tmpdir(), 'posd-datadir-'));
const pristine = join(dir, 'pristine');
let rpcUrl = '';
let p2pPort = 0;
/** Blocks of the undamaged chain: height → blockHash ‖ stateRoot (null: no block). */
const blocks: (string | null)[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const posdSync = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 30_000 });

async function rpc<T>(method: string, params: unknown[] = []): Promise<T | undefined> {
  const res = await fetch(`${rpcUrl}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  });
  return ((await res.json()) as { result?: T }).result;
}

async function ready(): Promise<boolean> {
  try {
    const res = await fetch(`${rpcUrl}/ready`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

const heightNow = async () => (await rpc<{ height: number | null }>('pos_status'))?.height ?? -1;

async function blockAt(h: number): Promise<string | null> {
  const b = await rpc<{ blockHash: string; header: { stateRoot: string } }>('pos_getBlock', [h]);
  return b === undefined ? null : `${b.blockHash}/${b.header.stateRoot}`;
}

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: () => boolean;
}

function start(dataDir: string): Run {
  const child = spawn(process.execPath, [bin, 'start', '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let done = false;
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    out: () => out,
    done: () => done,
    exited: new Promise((res) =>
      child.once('exit', (code, signal) => {
        done = true;
        res({ code, signal });
      }),
    ),
  };
}

async function stop(r: Run): Promise<void> {
  if (r.done()) return;
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 15_000);
  const e = await r.exited;
  clearTimeout(timer);
  assert.equal(e, { code: 0, signal: null }, `a clean stop\n${r.out().slice(-2000)}`);
}

/** Waits for `cond`; fails after `ms` or when the node exits first. */
async function until(what: string, r: Run, ms: number, cond: () => Promise<boolean>) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (r.done()) assert.unreachable(`${what}: posd exited\n${r.out().slice(-3000)}`);
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

test.before(
  loud(async () => {
    const [rpcPort, p2p] = (await freePorts(2)) as [number, number];
    p2pPort = p2p;
    rpcUrl = `http://127.0.0.1:${rpcPort}`;
    const init = posdSync([
      'init',
      '--data-dir',
      pristine,
      '--rpc-port',
      String(rpcPort),
      '--p2p-port',
      String(p2p),
      '--p2p-host',
      '127.0.0.1',
      '--log-level',
      'warn',
    ]);
    if (init.status !== 0) throw new Error(init.stderr);
    // Two runs: the second open turns the first run's log into a table, so
    // the data dir holds both a .ldb table and a .log.
    for (const minHeight of [3, 6]) {
      const r = start(pristine);
      await until('ready', r, 30_000, ready);
      await until(`height ${minHeight}`, r, 60_000, async () => (await heightNow()) >= minHeight);
      await stop(r);
    }
    const r = start(pristine);
    await until('ready again', r, 30_000, ready);
    const top = await heightNow();
    for (let h = 0; h <= top; h++) blocks.push(await blockAt(h));
    await stop(r);
    const files = readdirSync(join(pristine, 'db'));
    if (!files.some((f) => f.endsWith('.ldb')) || !files.some((f) => f.endsWith('.log'))) {
      throw new Error(`expected .ldb and .log files in db/: ${files.join(' ')}`);
    }
  }),
);

test.after(() => rmSync(dir, { recursive: true, force: true }));

// --- damage ---------------------------------------------------------------------------

const dbFile = (d: string, re: RegExp, pick: 'largest' | 'newest' = 'largest') => {
  const files = readdirSync(join(d, 'db'))
    .filter((f) => re.test(f))
    .map((f) => ({ f, size: statSync(join(d, 'db', f)).size }));
  if (files.length === 0) throw new Error(`no ${re} in ${d}/db`);
  files.sort((a, b) => (pick === 'largest' ? b.size - a.size : b.f.localeCompare(a.f)));
  return join(d, 'db', files[0]!.f);
};

function garble(file: string, at: number, n: number): void {
  const bytes = readFileSync(file);
  for (let i = 0; i < n && at + i < bytes.length; i++) bytes[at + i]! ^= 0xa5;
  writeFileSync(file, bytes);
}

const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const lastHeight = () => {
  for (let h = blocks.length - 1; h >= 0; h--) if (blocks[h] !== null) return h;
  throw new Error('no block');
};
const heightBefore = (h: number) => {
  for (let p = h - 1; p >= 0; p--) if (blocks[p] !== null) return p;
  throw new Error(`no block before ${h}`);
};

/** Opens the copy's database with classic-level, as posd does, for content damage. */
async function withDb(d: string, fn: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>) {
  const db = new ClassicLevel<Buffer, Buffer>(join(d, 'db'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

interface Case {
  name: string;
  damage: (d: string) => void | Promise<void>;
  /** What the error line must name, if posd refuses. */
  error: RegExp;
  /** Whether starting (with verified state) is an acceptable outcome. */
  mayStart: boolean;
}

const PREFIX_TRIE = Buffer.of(1);
const PREFIX_CHAIN = Buffer.of(2);
const PREFIX_EVENTS = Buffer.of(3);

/**
 * A state-trie node of the latest version satisfying `pred`, found by walking
 * from that version's root. The trie keeps older versions' nodes for a while,
 * so the first node in key order may be one the latest state no longer uses;
 * damaging that would leave the state intact (store layout: merkle's trie.ts).
 */
async function liveTrieNode(
  db: ClassicLevel<Buffer, Buffer>,
  pred: (v: Buffer) => boolean,
): Promise<[Buffer, Buffer]> {
  for await (const [k, v] of liveTrieNodes(db)) if (pred(v)) return [k, v];
  throw new Error('no live trie node matches');
}

const trieKey = (tag: string, ...parts: Buffer[]) =>
  Buffer.concat([PREFIX_TRIE, Buffer.from(tag), ...parts]);

/** Every trie node the latest version reaches, root first. */
async function* liveTrieNodes(db: ClassicLevel<Buffer, Buffer>): AsyncGenerator<[Buffer, Buffer]> {
  const version = await db.get(trieKey('m'));
  if (version === undefined) throw new Error('no trie meta record');
  const root = await db.get(trieKey('r', version));
  if (root === undefined) throw new Error('no root of the latest version');
  const todo = [root];
  while (todo.length > 0) {
    const k = trieKey('n', todo.pop()!);
    const v = await db.get(k);
    if (v === undefined) throw new Error(`live trie node ${k.toString('hex')} missing`);
    yield [k, v];
    // u64 version ‖ 0x01 ‖ u16 bit ‖ left ‖ right: a branch.
    if (v[8] === 0x01) {
      for (const c of [v.subarray(43, 75), v.subarray(11, 43)]) {
        if (c.some((b) => b !== 0)) todo.push(Buffer.from(c));
      }
    }
  }
}

/** A trie node kept only for an older version (the latest one does not reach it). */
async function staleTrieNode(db: ClassicLevel<Buffer, Buffer>): Promise<Buffer> {
  const live = new Set<string>();
  for await (const [k] of liveTrieNodes(db)) live.add(k.toString('hex'));
  const gte = trieKey('n');
  for await (const k of db.keys({ gte, lt: trieKey('o') })) {
    if (!live.has(k.toString('hex'))) return k;
  }
  throw new Error('no stale trie node kept');
}

/** A leaf record: u64 version ‖ 0x00 ‖ 64-byte key ‖ value. */
const isTrieLeaf = (v: Buffer) => v[8] === 0 && v.length > 9 + 64;

const cases: Case[] = [
  {
    // The log's tail is what a crash (or a power cut) loses: a prefix of the
    // writes, which the node recovers from.
    name: 'the newest .log truncated to half',
    damage: (d) => {
      const f = dbFile(d, /\.log$/, 'newest');
      truncateSync(f, Math.floor(statSync(f).size / 2));
    },
    error: /damaged/,
    mayStart: true,
  },
  {
    name: 'the largest .ldb table truncated to half',
    damage: (d) => {
      const f = dbFile(d, /\.ldb$/);
      truncateSync(f, Math.floor(statSync(f).size / 2));
    },
    error: /damaged/,
    mayStart: false,
  },
  {
    name: 'bytes garbled in the middle of the largest .ldb table',
    damage: (d) => {
      const f = dbFile(d, /\.ldb$/);
      garble(f, Math.floor(statSync(f).size / 3), 64);
    },
    error: /damaged/,
    mayStart: false,
  },
  {
    name: 'bytes garbled in the middle of the newest .log',
    damage: (d) => {
      const f = dbFile(d, /\.log$/, 'newest');
      garble(f, Math.floor(statSync(f).size / 2), 64);
    },
    error: /damaged/,
    mayStart: true,
  },
  {
    name: 'CURRENT deleted',
    damage: (d) => unlinkSync(join(d, 'db', 'CURRENT')),
    error: /no CURRENT file/,
    mayStart: false,
  },
  {
    name: 'CURRENT names a MANIFEST that does not exist',
    damage: (d) => writeFileSync(join(d, 'db', 'CURRENT'), 'MANIFEST-999999\n'),
    error: /damaged.*(MANIFEST|No such file|not found)/i,
    mayStart: false,
  },
  {
    name: 'CURRENT garbled (no newline)',
    damage: (d) => writeFileSync(join(d, 'db', 'CURRENT'), 'garbage'),
    error: /damaged.*CURRENT/,
    mayStart: false,
  },
  {
    name: 'MANIFEST deleted',
    damage: (d) => unlinkSync(dbFile(d, /^MANIFEST-/)),
    error: /damaged.*(MANIFEST|No such file|not found)/i,
    mayStart: false,
  },
  {
    name: 'MANIFEST garbled',
    damage: (d) => {
      const f = dbFile(d, /^MANIFEST-/);
      garble(f, 0, statSync(f).size);
    },
    error: /damaged/,
    mayStart: false,
  },
  {
    name: 'validator.key deleted',
    damage: (d) => unlinkSync(join(d, 'validator.key')),
    error: /validator\.key.*ENOENT/,
    mayStart: false,
  },
  {
    name: 'validator.key truncated',
    damage: (d) => {
      const f = join(d, 'validator.key');
      truncateSync(f, Math.floor(statSync(f).size / 2));
    },
    error: /validator\.key/,
    mayStart: false,
  },
  {
    name: 'genesis.json deleted',
    damage: (d) => unlinkSync(join(d, 'genesis.json')),
    error: /genesis.*genesis\.json.*ENOENT/,
    mayStart: false,
  },
  {
    name: "another chain's genesis.json swapped in (same validator key)",
    damage: (d) => {
      const r = posdSync([
        'genesis',
        '--out',
        join(d, 'genesis.json'),
        '--force',
        '--chain-name',
        'another-chain',
        '--validator',
        `${join(d, 'validator.key')},v0,127.0.0.1:${p2pPort},1000000000`,
      ]);
      if (r.status !== 0) throw new Error(r.stderr);
    },
    error: /holds another chain than .*genesis\.json.*CHAIN_MISMATCH/,
    mayStart: false,
  },
  {
    name: 'valid LevelDB, wrong content: the last block record holds the block before it',
    damage: (d) =>
      withDb(d, async (db) => {
        const last = lastHeight();
        const key = (h: number) => Buffer.concat([PREFIX_CHAIN, Buffer.from('b'), u64(h)]);
        await db.put(key(last), (await db.get(key(heightBefore(last))))!);
      }),
    error: /damaged.*CORRUPT_STATE.*height/,
    mayStart: false,
  },
  {
    name: 'valid LevelDB, wrong content: the last-height record set back one block',
    damage: (d) =>
      withDb(d, async (db) => {
        await db.put(
          Buffer.concat([PREFIX_CHAIN, Buffer.from('l')]),
          u64(heightBefore(lastHeight())),
        );
      }),
    error: /damaged.*CORRUPT_STATE.*above the last/,
    mayStart: false,
  },
  {
    name: 'valid LevelDB, wrong content: a byte of a state-trie leaf changed',
    damage: (d) =>
      withDb(d, async (db) => {
        // Flip the last byte of a live leaf's value.
        const [k, v] = await liveTrieNode(db, isTrieLeaf);
        v[v.length - 1]! ^= 0x01;
        await db.put(k, v);
      }),
    error: /damaged.*CORRUPT_STATE.*state/,
    mayStart: false,
  },
  {
    name: 'valid LevelDB, wrong content: a state-trie leaf of the latest state deleted',
    damage: (d) =>
      withDb(d, async (db) => {
        const [k] = await liveTrieNode(db, isTrieLeaf);
        await db.del(k);
      }),
    error: /damaged.*(MISSING_NODE|CORRUPT)/,
    mayStart: false,
  },
  {
    // Nodes kept for older versions serve proofs at recent heights only; the
    // state the node starts from does not read them.
    name: 'valid LevelDB, wrong content: a trie node only an older version uses deleted',
    damage: (d) => withDb(d, async (db) => db.del(await staleTrieNode(db))),
    error: /damaged/,
    mayStart: true,
  },
  {
    name: "valid LevelDB, wrong content: an event record holds another event's bytes",
    damage: (d) =>
      withDb(d, async (db) => {
        const gte = Buffer.concat([PREFIX_EVENTS, Buffer.from('e')]);
        const lt = Buffer.concat([PREFIX_EVENTS, Buffer.from('f')]);
        const two = await db.iterator({ gte, lt, limit: 2 }).all();
        if (two.length < 2) throw new Error('fewer than two events stored');
        await db.put(two[0]![0], two[1]![1]);
      }),
    error: /damaged.*CORRUPT_STORE/,
    mayStart: false,
  },
];

for (const c of cases) {
  test(`damaged data dir: ${c.name}`, async () => {
    const d = join(dir, 'case');
    rmSync(d, { recursive: true, force: true });
    cpSync(pristine, d, { recursive: true });
    await c.damage(d);
    const r = start(d);
    const deadline = Date.now() + 60_000;
    while (!r.done() && !(await ready())) {
      if (Date.now() > deadline) {
        r.child.kill('SIGKILL');
        assert.unreachable(`neither an error nor ready within 60 s\n${r.out().slice(-3000)}`);
      }
      await sleep(100);
    }
    if (r.done()) {
      const { code, signal } = await r.exited;
      const out = r.out();
      assert.is(signal, null, out);
      assert.ok(code !== 0 && code !== null, `exit code ${code}\n${out}`);
      const lines = out.trimEnd().split('\n');
      const last = lines.at(-1)!;
      process.stdout.write(`\n    ${c.name}: exit ${code}: ${last}\n`);
      assert.match(last, /^posd: /, `the last line names the problem:\n${out.slice(-3000)}`);
      assert.match(last, c.error);
      assert.not.match(out, /\n\s+at /, `no stack trace:\n${out.slice(-3000)}`);
      return;
    }
    // It started: its chain must be the one it had, block for block.
    try {
      assert.ok(c.mayStart, `posd started on a damaged data dir (${c.name})`);
      await until(
        'the old height again',
        r,
        60_000,
        async () => (await heightNow()) >= blocks.length - 1,
      );
      for (let h = 0; h < blocks.length; h++) {
        assert.is(await blockAt(h), blocks[h], `block and state root at height ${h}`);
      }
      process.stdout.write(`\n    ${c.name}: started, ${blocks.length} heights verified\n`);
    } finally {
      await stop(r);
    }
  });
}

test.run();
