import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUNDLE_FORMAT,
  buildReplayDag,
  bundleEntries,
  isBundle,
  parseReplayInput,
  ReplayError,
  type ReplayOutput,
  replay,
  replayBundle,
  utf8Bytes,
} from '../src/replay.js';
import { referenceConsensus } from './reference.js';

const pkg = join(import.meta.dirname, '..');
const root = join(pkg, '../..');
const fixtureDir = join(import.meta.dirname, 'fixtures/hashgraph');
const fixtureFiles = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const babble = join(fixtureDir, 'babble_hashgraph_fixtures.json');

// --- the conformance fixtures: rounds, witnesses, fame ------------------------

interface Expected {
  round: Record<string, number>;
  witness: string[];
  famous: Record<string, boolean | null>;
}

test('the fixture dir has the babble bundle with its seven cross-check keys', () => {
  assert.ok(fixtureFiles.includes('babble_hashgraph_fixtures.json'));
  const json = JSON.parse(readFileSync(babble, 'utf8'));
  assert.equal(Object.keys(json.cross_check.results).sort(), [
    'basic_n3',
    'consensus_n3',
    'funky_n4_coin4/full',
    'funky_n4_coin4/partial',
    'funky_n4_coin4/partial/c=10',
    'round_n3',
    'sparse_n4',
  ]);
});

for (const file of fixtureFiles) {
  const json: unknown = JSON.parse(readFileSync(join(fixtureDir, file), 'utf8'));
  if (!isBundle(json)) {
    // A single replay fixture has no expected values: it must at least replay.
    test(`${file}: replays`, () => {
      const out = replay(parseReplayInput(json), { hash: sha256 });
      assert.is(Object.keys(out.rounds).length, (json as { events: unknown[] }).events.length);
    });
    continue;
  }
  const results = (json as { cross_check?: { results?: Record<string, Expected> } }).cross_check
    ?.results;
  const entries = bundleEntries(json);
  test(`${file}: the bundle's replays have exactly the keys of cross_check.results`, () => {
    assert.equal(entries.map((e) => e.key).sort(), Object.keys(results ?? {}).sort());
  });
  for (const entry of entries) {
    const want = results?.[entry.key];
    if (!want) continue;
    test(`${file} ${entry.key} (c=${entry.coinFrequency}): rounds, witnesses, fame`, () => {
      const out = replay(entry.input, { hash: sha256, coinFrequency: entry.coinFrequency });
      assert.equal(out.rounds, want.round, 'rounds');
      assert.equal([...out.witnesses].sort(), [...want.witness].sort(), 'witnesses');
      assert.equal(out.fame, want.famous, 'fame');
      checkOutputShape(out);
    });
  }
}

test('funky partial: c = 4 leaves round 0 undecided, c = 10 decides it (coin round sensitivity)', () => {
  const json = JSON.parse(readFileSync(babble, 'utf8'));
  const partial = bundleEntries(json).find((e) => e.key === 'funky_n4_coin4/partial')!;
  const c4 = replay(partial.input, { hash: sha256, coinFrequency: 4 });
  const c10 = replay(partial.input, { hash: sha256, coinFrequency: 10 });
  assert.is(c4.fame.w00, null);
  assert.is(c10.fame.w00, true);
  assert.equal(c4.leaders, {});
  assert.equal(c4.blocks, []);
  assert.ok(c10.blocks.length > 0);
});

test('replayBundle answers every key of cross_check.results, equal to replaying the entry', () => {
  const json = JSON.parse(readFileSync(babble, 'utf8'));
  const all = replayBundle(json, { hash: sha256 });
  for (const key of Object.keys(json.cross_check.results)) {
    const entry = bundleEntries(json).find((e) => e.key === key)!;
    assert.equal(
      all[key],
      replay(entry.input, { hash: sha256, coinFrequency: entry.coinFrequency }),
    );
  }
});

/** Invariants of any replay output (docs/PROTOCOL.md 5.8). */
function checkOutputShape(out: ReplayOutput): void {
  const decided = Object.keys(out.leaders).map(Number);
  assert.equal(
    decided,
    decided.map((_, i) => i),
    'leaders has one key per decided round, from 0',
  );
  const seen = new Set<string>();
  let prevTs = Number.NEGATIVE_INFINITY;
  let prevRound = -1;
  for (const b of out.blocks) {
    assert.is(out.leaders[String(b.round)], b.leader, `leader of round ${b.round}`);
    assert.ok(b.round > prevRound, 'blocks by round');
    assert.is(out.fame[b.leader], true, 'the leader is a famous witness');
    assert.is(out.rounds[b.leader], b.round, 'the leader is of the block round');
    // The leader has the highest generation of its ancestors: it ends its block.
    assert.is(b.events[b.events.length - 1], b.leader, 'the leader ends its block');
    for (const e of b.events) {
      assert.not.ok(seen.has(e), `${e} in two blocks`);
      seen.add(e);
    }
    assert.ok(b.timestamp > prevTs, 'block timestamps increase');
    prevTs = b.timestamp;
    prevRound = b.round;
  }
  for (const [r, leader] of Object.entries(out.leaders)) {
    if (leader !== null) assert.ok(out.blocks.some((b) => b.round === Number(r)));
  }
}

// --- a hand-built fixture with unequal stakes ------------------------------------

// name creator selfParent otherParent timestamp [tx...]; "-" = null.
// Four creators a..d with stakes 1, 2, 3, 5 (total 11; a supermajority needs 8:
// any three including d, or all four). Gossip mostly round-robin with some
// irregular syncs, two events without an other-parent, and a repeated tx.
const HAND = `
a0 0 - - 100 t1
b0 1 - - 101
c0 2 - - 102
d0 3 - - 103 t2
a1 0 a0 d0 110
b1 1 b0 a1 111 t1
c1 2 c0 b1 112
d1 3 d0 c1 113
a2 0 a1 d1 120 t3
b2 1 b1 - 121
c2 2 c1 a2 122
d2 3 d1 c2 123
b3 1 b2 d2 131 t4
a3 0 a2 b3 130
c3 2 c2 a3 132
d3 3 d2 c3 133 t3
a4 0 a3 d3 140
b4 1 b3 a4 141
c4 2 c3 b4 142
d4 3 d3 c4 143
d5 3 d4 - 150
a5 0 a4 d5 151
c5 2 c4 a5 152 t5
b5 1 b4 c5 153
d6 3 d5 b5 160
a6 0 a5 d6 161
b6 1 b5 a6 162
c6 2 c5 b6 163
d7 3 d6 c6 170
a7 0 a6 d7 171
b7 1 b6 a7 172
c7 2 c6 b7 173
d8 3 d7 c7 180
a8 0 a7 d8 181
b8 1 b7 a8 182
c8 2 c7 b8 183
d9 3 d8 c8 190
`;

function handFixture() {
  const seqOf = new Map<string, number>();
  const events = HAND.trim()
    .split('\n')
    .map((line) => {
      const [name, creator, sp, op, ts, ...txs] = line.split(/\s+/);
      const seq = sp === '-' ? 0 : seqOf.get(sp!)! + 1;
      seqOf.set(name!, seq);
      return {
        name: name!,
        creator: Number(creator),
        seq,
        selfParent: sp === '-' ? null : sp!,
        otherParent: op === '-' ? null : op!,
        timestamp: Number(ts),
        transactions: txs,
      };
    });
  return { stakes: [1, 2, '3', 5], coinRoundFrequency: 4, events };
}

test('hand-built fixture, unequal stakes: blocks in (generation, hash) order, disjoint', () => {
  const fx = handFixture();
  const input = parseReplayInput(fx);
  const out = replay(input, { hash: sha256 });
  assert.ok(out.blocks.length >= 2, `blocks: ${out.blocks.length}`);
  checkOutputShape(out);

  const byName = new Map(fx.events.map((e) => [e.name, e]));
  const gen = new Map<string, number>();
  for (const e of fx.events) {
    const ps = [e.selfParent, e.otherParent].filter((p): p is string => p !== null);
    gen.set(e.name, ps.length === 0 ? 0 : 1 + Math.max(...ps.map((p) => gen.get(p)!)));
  }
  const ancestors = (name: string, acc = new Set<string>()): Set<string> => {
    if (acc.has(name)) return acc;
    acc.add(name);
    const e = byName.get(name)!;
    if (e.selfParent) ancestors(e.selfParent, acc);
    if (e.otherParent) ancestors(e.otherParent, acc);
    return acc;
  };
  const nameHex = (n: string) => hex(sha256(utf8Bytes(n)));
  const ordered = new Set<string>();
  for (const b of out.blocks) {
    for (let i = 1; i < b.events.length; i++) {
      const [p, q] = [b.events[i - 1]!, b.events[i]!];
      const before =
        gen.get(p)! < gen.get(q)! || (gen.get(p) === gen.get(q) && nameHex(p) < nameHex(q));
      assert.ok(before, `round ${b.round}: ${p} before ${q}`);
    }
    // Exactly the leader's ancestors not in an earlier block.
    const want = [...ancestors(b.leader)].filter((n) => !ordered.has(n)).sort();
    assert.equal([...b.events].sort(), want, `block ${b.round} contents`);
    for (const e of b.events) ordered.add(e);
  }
  // Timestamps are explicit here: the block timestamps come from them.
  assert.ok(out.blocks.every((b) => b.timestamp >= 100));

  // The reference agrees (blocks, timestamps included).
  const dag = buildReplayDag(input, sha256);
  const ref = referenceConsensus(dag.events, {
    validators: dag.validators,
    stakeTable: () => dag.stakes,
    initialSeed: dag.initialSeed,
    hash: sha256,
    coinFrequency: 4,
  });
  assert.equal(
    out.blocks,
    ref.blocks.map((b) => ({
      round: b.round,
      leader: b.leader.name,
      events: b.events.map((e) => e.name),
      timestamp: b.timestamp,
    })),
  );
});

test('without timestamps an event is stamped with its seq', () => {
  const input = parseReplayInput({
    events: [
      { name: 'x', creator: 0, seq: 0, selfParent: null, otherParent: null },
      { name: 'y', creator: 0, seq: 1, selfParent: 'x', otherParent: null, timestamp: 7 },
      { name: 'z', creator: 1, seq: 0, selfParent: null, otherParent: 'y' },
    ],
  });
  assert.equal(
    input.events.map((e) => e.timestamp),
    [0, 7, 0],
  );
  assert.equal(input.stakes, [1n, 1n]);
  assert.is(input.coinRoundFrequency, 10);
});

// --- parsing errors ------------------------------------------------------------

const ev = (name: string, creator: number, seq: number, sp: string | null, op: string | null) => ({
  name,
  creator,
  seq,
  selfParent: sp,
  otherParent: op,
});
const ok2 = [ev('a', 0, 0, null, null), ev('b', 1, 0, null, 'a')];

for (const [what, input, path] of [
  ['not an object', [1, 2], 'input'],
  ['a string', 'events', 'input'],
  ['no events', {}, 'events'],
  ['an unknown top-level key', { events: ok2, coinRoundFrequncy: 4 }, 'input'],
  ['a negative stake', { stakes: [1, -1], events: ok2 }, 'stakes[1]'],
  ['a fractional stake', { stakes: [1, 1.5], events: ok2 }, 'stakes[1]'],
  ['a non-decimal stake string', { stakes: ['1', '0x2'], events: ok2 }, 'stakes[1]'],
  ['a stake above u64', { stakes: ['18446744073709551616', 1], events: ok2 }, 'stakes[0]'],
  ['coin frequency 0', { coinRoundFrequency: 0, events: ok2 }, 'coinRoundFrequency'],
  ['an event that is not an object', { events: [null] }, 'events[0]'],
  ['an empty name', { events: [ev('', 0, 0, null, null)] }, 'events[0].name'],
  ['a duplicate name', { events: [...ok2, ev('a', 2, 0, null, null)] }, 'events[2].name'],
  ['an unknown parent', { events: [...ok2, ev('c', 0, 1, 'a', 'x')] }, 'events[2].otherParent'],
  [
    'a parent listed later',
    { events: [ev('b', 1, 0, null, 'a'), ev('a', 0, 0, null, null)] },
    'events[0].otherParent',
  ],
  [
    'a creator out of range',
    { stakes: [1, 1], events: [...ok2, ev('c', 2, 0, null, null)] },
    'events[2].creator',
  ],
  ['a negative creator', { events: [ev('a', -1, 0, null, null)] }, 'events[0].creator'],
  [
    'a self-parent by another creator',
    { events: [...ok2, ev('c', 0, 1, 'b', null)] },
    'events[2].selfParent',
  ],
  ['a wrong seq', { events: [...ok2, ev('c', 0, 2, 'a', 'b')] }, 'events[2].seq'],
  ['seq > 0 without self-parent', { events: [ev('a', 0, 1, null, null)] }, 'events[0].seq'],
  [
    'a missing otherParent',
    { events: [{ name: 'a', creator: 0, seq: 0, selfParent: null }] },
    'events[0].otherParent',
  ],
  [
    'a timestamp not above the self-parent',
    {
      events: [
        { ...ev('a', 0, 0, null, null), timestamp: 5 },
        { ...ev('b', 0, 1, 'a', null), timestamp: 5 },
      ],
    },
    'events[1].timestamp',
  ],
  [
    'a non-string transaction',
    { events: [{ ...ev('a', 0, 0, null, null), transactions: [1] }] },
    'events[0].transactions[0]',
  ],
  ['a lone surrogate in a name', { events: [ev('\ud800', 0, 0, null, null)] }, 'events[0].name'],
  ['an unknown event key', { events: [{ ...ev('a', 0, 0, null, null), ts: 1 }] }, 'events[0]'],
] as const) {
  test(`parseReplayInput rejects ${what} at ${path}`, () => {
    try {
      parseReplayInput(input);
    } catch (e) {
      assert.instance(e, ReplayError);
      assert.is((e as ReplayError).code, 'BAD_FIXTURE');
      assert.is((e as ReplayError).path, path);
      assert.ok((e as Error).message.startsWith(`${path}: `), (e as Error).message);
      assert.not.match((e as Error).message, /\n/);
      return;
    }
    assert.unreachable('accepted');
  });
}

test('the unknown-parent message names the event', () => {
  assert.throws(
    () => parseReplayInput({ events: [...ok2, ev('c', 0, 1, 'a', 'x')] }),
    (e: Error) => e.message === 'events[2].otherParent: unknown event "x"',
  );
});

test('an event the engine rejects is a ReplayError at its path', () => {
  // The replay format allows it; the engine refuses an other-parent by the
  // creator itself (docs/PROTOCOL.md 5.1, BAD_PARENT).
  const input = parseReplayInput({ events: [ev('a', 0, 0, null, null), ev('b', 0, 1, 'a', 'a')] });
  assert.throws(
    () => replay(input, { hash: sha256 }),
    (e: Error) => e instanceof ReplayError && e.path === 'events[1]',
  );
});

test('bundle: a wrong format or a variant naming an unknown event is a ReplayError', () => {
  assert.throws(
    () => bundleEntries({ format: 'v0', fixtures: {} }),
    (e: Error) => e instanceof ReplayError && e.path === 'format',
  );
  const bundle = {
    format: BUNDLE_FORMAT,
    fixtures: {
      f: { n: 1, events: [ev('a', 0, 0, null, null)], variants: { p: 'all events except zz' } },
    },
  };
  assert.throws(
    () => bundleEntries(bundle),
    (e: Error) => e instanceof ReplayError && e.message.includes('"zz"'),
  );
});

test('utf8Bytes equals node’s UTF-8 for well-formed strings', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
      assert.is(hex(utf8Bytes(s)), Buffer.from(s, 'utf8').toString('hex'));
    }),
  );
  assert.is(hex(utf8Bytes('é€😀')), 'c3a9e282acf09f9880');
  assert.throws(() => utf8Bytes('a\udc00'), RangeError);
});

// --- the CLI, end to end ------------------------------------------------------

const tsx = join(root, 'node_modules/.bin/tsx');
const cli = join(pkg, 'cli/replay.ts');
const tmp = mkdtempSync(join(tmpdir(), 'consensus-replay-'));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
/** Starts the CLI now; the runs overlap, which keeps this file fast. */
function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // No colour variables: node warns on stderr when NO_COLOR and FORCE_COLOR meet.
    const env = { ...process.env };
    delete env.FORCE_COLOR;
    delete env.NO_COLOR;
    const child = spawn(tsx, [cli, ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const single = file('single.json', JSON.stringify(handFixture()));
const runs = {
  bundle: runCli([babble]),
  bundleKey: runCli([babble, '--fixture', 'funky_n4_coin4/partial/c=10']),
  single: runCli([single]),
  singleCoin: runCli([single, '--coin', '3']),
};
const bad: [string, string[]][] = [
  ['bad JSON', [file('bad.json', '{"events": [')]],
  [
    'an unknown parent',
    [file('parent.json', JSON.stringify({ events: [ev('a', 0, 0, null, 'x')] }))],
  ],
  [
    'a duplicate name',
    [
      file(
        'dup.json',
        JSON.stringify({ events: [ev('a', 0, 0, null, null), ev('a', 1, 0, null, null)] }),
      ),
    ],
  ],
  ['a creator out of range', [file('range.json', JSON.stringify({ stakes: [1], events: ok2 }))]],
  ['a negative stake', [file('stake.json', JSON.stringify({ stakes: [1, -3], events: ok2 }))]],
  ['not an object', [file('array.json', '[1, 2, 3]')]],
  ['a missing file', [join(tmp, 'no-such-file.json')]],
  ['an unknown --fixture key', [babble, '--fixture', 'nope']],
  ['no file', []],
  ['a bad --coin', [single, '--coin', 'many']],
];
const badRuns = bad.map(([what, args]) => [what, runCli(args)] as const);

test('CLI: a bundle prints every cross-check key as JSON, exit 0', async () => {
  const r = await runs.bundle;
  assert.is(r.stderr, '');
  assert.is(r.status, 0);
  const out = JSON.parse(r.stdout);
  const json = JSON.parse(readFileSync(babble, 'utf8'));
  assert.equal(Object.keys(out).sort(), Object.keys(json.cross_check.results).sort());
  assert.equal(out.consensus_n3.fame, json.cross_check.results.consensus_n3.famous);
  assert.ok(r.stdout.startsWith('{\n  "'), 'pretty-printed, 2 spaces');
});

test('CLI: --fixture prints that replay only', async () => {
  const r = await runs.bundleKey;
  assert.is(r.status, 0, r.stderr);
  const entry = bundleEntries(JSON.parse(readFileSync(babble, 'utf8'))).find(
    (e) => e.key === 'funky_n4_coin4/partial/c=10',
  )!;
  assert.equal(JSON.parse(r.stdout), replay(entry.input, { hash: sha256, coinFrequency: 10 }));
});

test('CLI: a single fixture, and --coin overrides its coin frequency', async () => {
  const input = parseReplayInput(handFixture());
  const [a, b] = await Promise.all([runs.single, runs.singleCoin]);
  assert.is(a.status, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout), replay(input, { hash: sha256 }));
  assert.is(b.status, 0, b.stderr);
  assert.equal(JSON.parse(b.stdout), replay(input, { hash: sha256, coinFrequency: 3 }));
});

for (const [what, run] of badRuns) {
  test(`CLI: ${what} → exit 2, one stderr line, nothing on stdout`, async () => {
    const r = await run;
    assert.is(r.status, 2, `status ${r.status}, stderr ${r.stderr}`);
    assert.is(r.stdout, '');
    assert.match(r.stderr, /^consensus:replay: [^\n]+\n$/);
  });
}

test('CLI: the messages name what is wrong', async () => {
  const byWhat = new Map(await Promise.all(badRuns.map(async ([w, p]) => [w, await p] as const)));
  assert.match(
    byWhat.get('an unknown parent')!.stderr,
    /events\[0\]\.otherParent: unknown event "x"/,
  );
  assert.match(
    byWhat.get('a duplicate name')!.stderr,
    /events\[1\]\.name: duplicate event name "a"/,
  );
  assert.match(byWhat.get('a creator out of range')!.stderr, /events\[1\]\.creator/);
  assert.match(byWhat.get('a negative stake')!.stderr, /stakes\[1\]/);
  assert.match(byWhat.get('an unknown --fixture key')!.stderr, /"nope"/);
});

test('cleanup', async () => {
  await Promise.all([...Object.values(runs), ...badRuns.map(([, p]) => p)]);
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
