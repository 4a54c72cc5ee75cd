import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryEventStore,
  type EventStore,
  type KnownEntry,
  knownFromHeads,
  type Tip,
  type WireEvent,
} from '@pos/gossip';
import { concatBytes } from '@pos/merkle';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { eventMaker, forkedRounds, newKey } from '@pos/test-utils/signed-events';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type EventDb,
  type EventDbOp,
  EventStoreError,
  type LevelEventStore,
  openLevelEventStore,
} from '../src/db/event-store.js';

const CHAIN = new Uint8Array(32).fill(0xc4);
const keys = [newKey(), newKey(), newKey(), newKey(), newKey()] as const;

const mk = eventMaker(CHAIN);

/**
 * 5 rounds of 4 creators; a fork by creator 3 (two events on one self-parent)
 * and a child on one branch; then creator 4 forks six ways off its root (more
 * branches than tips kept) and extends the last branch; then 2 more rounds.
 */
function buildDag() {
  const { events: out, last, round, forkA, forkB } = forkedRounds(mk, keys, 5);
  const root = mk(keys[4], null, last[1]!);
  out.push(root);
  const branches = [1, 2, 3, 4, 5, 6].map((i) => mk(keys[4], root, null, i));
  out.push(...branches);
  const deep = mk(keys[4], branches[5]!, null);
  out.push(deep);
  round();
  round();
  return { events: out, forkA, forkB, root, branches, deep };
}
const D = buildDag();
const DAG = D.events;

const headsHex = (h: Map<string, Tip[]>) =>
  [...h.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([c, tips]) => `${c}:${tips.map((t) => `${t.seq}/${hex(t.hash)}`).join(',')}`);

async function collect(it: Iterable<WireEvent> | AsyncIterable<WireEvent>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(hex(e.hash));
  return out;
}

function memWith(events: readonly WireEvent[]): EventStore {
  const s = createMemoryEventStore();
  for (const e of events) s.add(e);
  return s;
}

/** The peer summaries both stores must answer alike. */
function summaries(): [string, KnownEntry[]][] {
  const k3 = keys[3].pub;
  const k4 = keys[4].pub;
  const at = (n: number) => knownFromHeads(memWith(DAG.slice(0, n)).heads());
  return [
    ['nothing', []],
    ['prefix 4', at(4)],
    ['prefix 13', at(13)],
    ['prefix 21 (fork A only)', at(21)],
    ['prefix 23', at(23)],
    ['prefix 31 (mid forker)', at(31)],
    ['everything', at(DAG.length)],
    ['only fork B of creator 3', [{ creator: k3, seq: D.forkB.seq, hash: D.forkB.hash }]],
    ['deep only', [{ creator: k4, seq: D.deep.seq, hash: D.deep.hash }]],
    [
      'an unknown hash of creator 0 at seq 3',
      [{ creator: keys[0].pub, seq: 3, hash: new Uint8Array(32).fill(7) }],
    ],
    [
      'unknown hash at a high seq plus a known low one',
      [
        { creator: keys[1].pub, seq: 9, hash: new Uint8Array(32).fill(9) },
        { creator: keys[1].pub, seq: DAG[1]!.seq, hash: DAG[1]!.hash },
      ],
    ],
    ['creator 3 at its root', [{ creator: k3, seq: 0, hash: DAG[3]!.hash }]],
  ];
}

const dirs: string[] = [];
async function openDb(dir?: string) {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'pos-es-')));
  if (dir === undefined) dirs.push(d);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(d, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  return { dir: d, db };
}

async function countKeys(db: ClassicLevel<Uint8Array, Uint8Array>): Promise<number> {
  let n = 0;
  for await (const _ of db.keys()) n++;
  return n;
}

/** The default recent index; one so small that since falls back to disk; none at all. */
const RECENT_INDEX = [16_384, 3, 0];

async function sameAsMemory(mem: EventStore, lvl: LevelEventStore, label: string) {
  assert.equal(headsHex(lvl.heads()), headsHex(mem.heads()), `${label}: heads`);
  for (const [name, known] of summaries()) {
    assert.equal(
      await collect(lvl.since(known)),
      await collect(mem.since(known)),
      `${label}: since(${name})`,
    );
  }
}

test('the DAG and summaries exercise forks and differ from one another', async () => {
  const mem = memWith(DAG);
  const tips = mem.heads();
  assert.is(tips.get(`0x${hex(keys[3].pub)}`)!.length, 2, 'creator 3 forked');
  assert.is(tips.get(`0x${hex(keys[4].pub)}`)!.length, 4, 'creator 4 capped at 4 tips');
  const outs = new Set<string>();
  for (const [, known] of summaries()) outs.add((await collect(mem.since(known))).join());
  assert.ok(outs.size >= 8, `distinct answers: ${outs.size}`);
  // Knowing everything, a peer still gets the forker's branches beyond its 4 tips.
  const resent = [...(mem.since(summaries()[6]![1]) as Iterable<WireEvent>)];
  assert.equal(
    resent.map((e) => hex(e.hash)),
    D.branches.slice(3, 5).map((e) => hex(e.hash)),
  );
});

for (const recentIndex of RECENT_INDEX) {
  test(`same heads and since as the memory store, after every add and with a prefix (recentIndex ${recentIndex})`, async () => {
    const { db } = await openDb(undefined);
    const mem = createMemoryEventStore();
    const lvl = await openLevelEventStore({ db, hash: sha256, recentIndex });
    try {
      for (const [i, e] of DAG.entries()) {
        mem.add(e);
        lvl.add(e);
        assert.ok(lvl.has(e.hash), 'visible at once');
        assert.is(hex(lvl.get(e.hash)!.bytes), hex(e.bytes));
        assert.equal(headsHex(lvl.heads()), headsHex(mem.heads()), `heads after ${i}`);
        if (i === 12 || i === 25) await sameAsMemory(mem, lvl, `after ${i}`);
      }
      lvl.add(DAG[3]!); // duplicate: no-op
      assert.is(lvl.nextIndex, DAG.length);
      await sameAsMemory(mem, lvl, 'full');
      assert.not.ok(lvl.has(new Uint8Array(32).fill(1)));
      assert.is(lvl.get(new Uint8Array(32).fill(1)), undefined);
    } finally {
      await lvl.close();
      await db.close();
    }
  });
}

test('near the tip, since is answered from memory: no LevelDB iterator', async () => {
  const { db } = await openDb(undefined);
  let iterators = 0;
  const counted = new Proxy(db, {
    get(t, k) {
      if (k === 'iterator') {
        return (o: object) => {
          iterators++;
          return t.iterator(o);
        };
      }
      const v = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  const mem = memWith(DAG);
  const lvl = await openLevelEventStore({ db: counted, hash: sha256 });
  try {
    for (const e of DAG) lvl.add(e);
    iterators = 0;
    await sameAsMemory(mem, lvl, 'memory path');
    assert.is(iterators, 0);
  } finally {
    await lvl.close();
    await db.close();
  }
});

test('a prefix (sublevel-like namespace) keeps two stores apart in one database', async () => {
  const { db } = await openDb(undefined);
  const a = await openLevelEventStore({ db, prefix: Uint8Array.of(1), hash: sha256 });
  const b = await openLevelEventStore({ db, prefix: Uint8Array.of(2), hash: sha256 });
  try {
    for (const e of DAG.slice(0, 10)) a.add(e);
    for (const e of DAG.slice(0, 4)) b.add(e);
    await a.flush();
    await b.flush();
    assert.is((await collect(a.since([]))).length, 10);
    assert.is((await collect(b.since([]))).length, 4);
    assert.not.ok(b.has(DAG[5]!.hash));
  } finally {
    await a.close();
    await b.close();
    await db.close();
  }
});

for (const recentIndex of RECENT_INDEX) {
  test(`restart: close and reopen gives the same heads, since and has (recentIndex ${recentIndex})`, async () => {
    const first = await openDb(undefined);
    const mem = memWith(DAG.slice(0, 30));
    let lvl = await openLevelEventStore({ db: first.db, hash: sha256, recentIndex });
    for (const e of DAG.slice(0, 30)) lvl.add(e);
    await lvl.close();
    await first.db.close();

    let again = await openDb(first.dir);
    lvl = await openLevelEventStore({ db: again.db, hash: sha256, recentIndex });
    try {
      assert.is(lvl.nextIndex, 30);
      for (const e of DAG.slice(0, 30)) assert.ok(lvl.has(e.hash), 'has after restart');
      assert.not.ok(lvl.has(DAG[30]!.hash));
      await sameAsMemory(mem, lvl, 'reopened');
      // Continue after the restart, then restart once more.
      for (const e of DAG.slice(30)) {
        mem.add(e);
        lvl.add(e);
      }
      await sameAsMemory(mem, lvl, 'continued');
      await lvl.close();
      await again.db.close();
      again = await openDb(first.dir);
      lvl = await openLevelEventStore({ db: again.db, hash: sha256, recentIndex });
      await sameAsMemory(mem, lvl, 'reopened twice');
      assert.is(lvl.nextIndex, DAG.length);
    } finally {
      await lvl.close();
      await again.db.close();
    }
  });
}

/** The real database behind a gate: batches wait for `release`, and are recorded. */
function gated(db: ClassicLevel<Uint8Array, Uint8Array>) {
  const calls: { ops: EventDbOp[]; sync: boolean | undefined; landed: boolean }[] = [];
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  const wrapped: EventDb = {
    get: (k) => db.get(k),
    getSync: (k) => db.getSync(k),
    iterator: (o) => db.iterator(o),
    async batch(ops, o) {
      const call = { ops, sync: o?.sync, landed: false };
      calls.push(call);
      await gate;
      await db.batch(ops, { sync: o?.sync ?? false });
      call.landed = true;
    },
  };
  return {
    wrapped,
    calls,
    open() {
      release();
    },
    close() {
      gate = new Promise<void>((r) => (release = r));
    },
  };
}

test('addOwn resolves only after its batch is written with sync', async () => {
  const { db } = await openDb(undefined);
  const g = gated(db);
  g.open();
  const lvl = await openLevelEventStore({ db: g.wrapped, hash: sha256 });
  try {
    lvl.add(DAG[0]!);
    await lvl.flush();
    g.close();
    const own = DAG[1]!;
    let done = false;
    const p = lvl.addOwn(own).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    assert.not.ok(done, 'not resolved while the batch is held');
    assert.ok(lvl.has(own.hash), 'served from memory meanwhile');
    assert.is(await db.get(concatBytes(Uint8Array.of(0x65), own.hash)), undefined, 'not on disk');
    g.open();
    await p;
    assert.ok(done);
    const mine = g.calls.find((c) =>
      c.ops.some((o) => o.type === 'put' && hex(o.key) === `65${hex(own.hash)}`),
    );
    assert.ok(mine, 'a batch carried the event');
    assert.is(mine!.sync, true, 'written with sync: true');
    assert.ok(mine!.landed, 'landed before addOwn resolved');
    const onDisk = await db.get(concatBytes(Uint8Array.of(0x65), own.hash));
    assert.is(hex(onDisk!), hex(own.bytes));
    // Plain add does not ask for sync.
    assert.is(g.calls[0]!.sync, false);
  } finally {
    g.open();
    await lvl.close();
    await db.close();
  }
});

test('a write failure is a typed error, and later writes are refused', async () => {
  const { db } = await openDb(undefined);
  const wrapped: EventDb = {
    get: (k) => db.get(k),
    getSync: (k) => db.getSync(k),
    iterator: (o) => db.iterator(o),
    batch: async () => {
      throw new Error('disk full');
    },
  };
  const lvl = await openLevelEventStore({ db: wrapped, hash: sha256 });
  try {
    let code = 'none';
    try {
      await lvl.addOwn(DAG[0]!);
    } catch (e) {
      code = e instanceof EventStoreError ? e.code : String(e);
    }
    assert.is(code, 'WRITE_FAILED');
    assert.throws(
      () => lvl.add(DAG[1]!),
      (e: unknown) => e instanceof EventStoreError,
    );
  } finally {
    await db.close();
  }
});

test('a corrupted event record is CORRUPT_STORE, never a wrong event', async () => {
  const { db } = await openDb(undefined);
  // No decoded-event cache: a cached event was checked when read and would be
  // served (correctly) without reading the record corrupted behind its back.
  const lvl = await openLevelEventStore({ db, hash: sha256, cachedEvents: 0 });
  try {
    for (const e of DAG.slice(0, 6)) lvl.add(e);
    await lvl.flush();
    const codeOf = (h: Uint8Array) => {
      try {
        lvl.get(h);
        return 'none';
      } catch (e) {
        return e instanceof EventStoreError ? e.code : String(e);
      }
    };
    assert.is(codeOf(DAG[2]!.hash), 'none');
    await db.put(concatBytes(Uint8Array.of(0x65), DAG[2]!.hash), Uint8Array.of(1, 2, 3, 4));
    assert.is(codeOf(DAG[2]!.hash), 'CORRUPT_STORE', 'garbage bytes');
    // Valid bytes of another event under this hash: decodes, but is not it.
    await db.put(concatBytes(Uint8Array.of(0x65), DAG[3]!.hash), DAG[4]!.bytes);
    assert.is(codeOf(DAG[3]!.hash), 'CORRUPT_STORE', 'another event');
    let sinceCode = 'none';
    try {
      await collect(lvl.since([]));
    } catch (e) {
      sinceCode = e instanceof EventStoreError ? e.code : String(e);
    }
    assert.is(sinceCode, 'CORRUPT_STORE', 'since too');
  } finally {
    await lvl.close();
    await db.close();
  }
});

for (const recentIndex of RECENT_INDEX) {
  test(`pruneBelow bounds the disk and forgets exactly the old events (recentIndex ${recentIndex})`, async () => {
    const { dir, db } = await openDb(undefined);
    let lvl = await openLevelEventStore({ db, hash: sha256, recentIndex });
    let db2: ClassicLevel<Uint8Array, Uint8Array> | undefined;
    try {
      for (const e of DAG) lvl.add(e);
      await lvl.flush();
      const before = await countKeys(db);
      // 3 records per event, one meta and one fork floor per forker (creators 3 and 4).
      assert.is(before, 3 * DAG.length + 1 + 2);
      const all = await collect(lvl.since([]));
      assert.is(await lvl.pruneBelow(20), 20);
      assert.is(await countKeys(db), before - 60);
      assert.is(lvl.pruneFloor, 20);
      for (const e of DAG.slice(0, 20)) {
        assert.not.ok(lvl.has(e.hash), 'pruned');
        assert.is(lvl.get(e.hash), undefined);
      }
      for (const e of DAG.slice(20)) assert.ok(lvl.has(e.hash), 'kept');
      assert.equal(await collect(lvl.since([])), all.slice(20));
      assert.is(await lvl.pruneBelow(10), 0, 'already pruned');
      // Heads keep only stored events.
      for (const tips of lvl.heads().values()) {
        for (const t of tips) assert.ok(lvl.has(t.hash));
      }
      await lvl.close();
      await db.close();
      db2 = (await openDb(dir)).db;
      lvl = await openLevelEventStore({ db: db2, hash: sha256, recentIndex });
      assert.is(lvl.pruneFloor, 20);
      assert.equal(await collect(lvl.since([])), all.slice(20));
      assert.is(await lvl.pruneBelow(DAG.length + 5), DAG.length - 20);
      assert.is(await countKeys(db2), 1 + 2);
      assert.equal(await collect(lvl.since([])), []);
    } finally {
      await lvl.close();
      if (db2) await db2.close();
      else if (db.status === 'open') await db.close();
    }
  });
}

for (const recentIndex of RECENT_INDEX) {
  test(`after a prune, since still finds an event whose self-parent was pruned (recentIndex ${recentIndex})`, async () => {
    const { db } = await openDb(undefined);
    const lvl = await openLevelEventStore({ db, hash: sha256, recentIndex });
    try {
      const k = keys[2];
      const e0 = mk(k, null, null);
      const a = mk(k, e0, null, 0xa);
      const b = mk(k, a, null);
      const c = mk(k, e0, null, 0xc); // fork at seq 1, inserted after b
      const d = mk(k, c, null);
      for (const e of [e0, a, b, c, d]) lvl.add(e);
      assert.is(await lvl.pruneBelow(2), 2); // e0 and a: b (seq 2) now has the lowest index
      const want = [b, c, d].map((e) => hex(e.hash));
      assert.equal(await collect(lvl.since([])), want);
      assert.equal(await collect(lvl.since([{ creator: k.pub, seq: 0, hash: e0.hash }])), want);
      assert.equal(
        await collect(lvl.since([{ creator: k.pub, seq: 2, hash: d.hash }])),
        [hex(b.hash)],
        'knowing d, only the other branch',
      );
    } finally {
      await lvl.close();
      await db.close();
    }
  });
}

test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test.run();
