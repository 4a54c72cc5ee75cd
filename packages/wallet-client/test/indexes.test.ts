// The ledger's indexes as the thin wallet checks them (docs/PROTOCOL.md 6.6,
// 6.7, 11; src/verify/history.ts, src/verify/names.ts): against the
// in-process agent of test/fake-chain.ts, whose state trie holds the key
// history entries and name records written as the node's ledger writes them,
// `history` lists exactly a key's transactions in a height range (none left
// out, none added, none altered, the range narrowed only as `limit` allows),
// `resolveName` proves an owner or that a name is free, and
// `resolveAddress('alice@v0')` proves both names under one certified header
// with the agent's owner in the verified validator table. Then every lie of
// a table of lying agents is refused with its typed code, and what cannot be
// a name costs no request at all.

import {
  createMemoryStore,
  createStateTrie,
  trieProofToJSON,
  trieRangeProofToJSON,
} from '@pos/merkle';
import {
  encodeHistoryRecord,
  encodeNameRecord,
  fromHex,
  historyKeyOf,
  historyPrefix,
  historyRange,
  nameKey,
  toHex,
  validatorIdOfKey,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createWalletClient,
  trustFromGenesis,
  type WalletClient,
  WalletError,
  type WalletErrorCode,
} from '../src/index.js';
import {
  buildScenarioChain,
  type Chain,
  crew,
  type FakeAgent,
  fakeAgent,
  historyOf,
  nameAt,
} from './fake-chain.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers as a lying agent edits them
type Json = any;

const TIP = 21;
const hex = toHex;
let chain: Chain;

test.before(
  loud(async () => {
    chain = await buildScenarioChain({ tip: TIP });
  }),
);

function client(agent: FakeAgent): WalletClient {
  return createWalletClient({
    url: 'http://agent.test/',
    trust: trustFromGenesis(chain.genesis),
    fetch: agent.fetch,
  });
}

async function rejects(p: Promise<unknown>, code: WalletErrorCode, match?: RegExp) {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof WalletError)) throw e;
    assert.is(e.code, code, e.message);
    if (match) assert.match(e.message, match);
    return e;
  }
  return assert.unreachable(`expected ${code}`);
}

/** Comparable JSON: bytes as hex, bigints as strings. */
const plain = (v: unknown) =>
  JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? toHex(x) : x,
    ),
  );

const key = (w: 'alice' | 'bob' | 'busy' | 'idle') => chain.keys[w].publicKey;

/** The honest history entries of `k` in [from, to], as the client returns them. */
const truth = (k: Uint8Array, from = 0, to = TIP) => plain(historyOf(chain, k, from, to));

// --- honest: history ------------------------------------------------------------------

test('history: a key with no entry, one, two (committed and rejected), many', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  const none = await c.history(key('idle'));
  assert.equal(none.history, []);
  assert.equal(none.provenFrom, { height: 0, index: 0 });
  assert.is(none.provenTo, TIP);
  assert.is(none.complete, true);
  assert.is(none.height, TIP);
  assert.is(hex(none.stateRoot), hex(chain.roots[TIP]!));
  assert.is(hex(none.key), hex(key('idle')));

  const one = await c.history(chain.other);
  assert.equal(plain(one.history), [
    { height: 3, index: 0, roles: ['output'], status: 'committed', txHash: hex(chain.tx1) },
  ]);
  assert.is(one.complete, true);

  const owner = await c.history(chain.owner.publicKey);
  assert.equal(plain(owner.history), [
    {
      height: 3,
      index: 0,
      roles: ['input', 'output'],
      status: 'committed',
      txHash: hex(chain.tx1),
    },
    {
      height: 10,
      index: 0,
      roles: ['input'],
      status: 'rejected',
      reason: 'INPUT_SPENT',
      txHash: hex(chain.tx2),
    },
  ]);

  const busy = await c.history(key('busy'));
  assert.is(busy.history.length, 26);
  assert.equal(plain(busy.history), truth(key('busy')));
  assert.is(busy.complete, true);
  // Oldest first, strictly.
  for (let i = 1; i < busy.history.length; i++) {
    const [p, q] = [busy.history[i - 1]!, busy.history[i]!];
    assert.ok(p.height < q.height || (p.height === q.height && p.index < q.index));
  }

  // Every name party and payee, as the ledger gives the roles.
  const alice = await c.history(key('alice'));
  assert.equal(
    alice.history.map((e) => [e.height, e.roles.join('+')]),
    [
      [2, 'input+output+name'],
      [5, 'input+output+name'],
      [9, 'input+output+name'],
      [13, 'input+output'],
      [14, 'input+output'],
    ],
  );
  const bob = await c.history(key('bob'));
  assert.equal(
    bob.history.map((e) => [e.height, e.roles.join('+')]),
    [
      [7, 'input+output+name'],
      [9, 'name'],
      [12, 'input+output+name'],
      [14, 'output'],
    ],
  );
});

test('history: each entry is a transaction whose receipt proves the same status', async () => {
  const c = client(fakeAgent(chain));
  const head = await c.certifiedHeader();
  for (const k of [chain.owner.publicKey, key('bob'), key('busy')]) {
    const h = await c.history(k, {}, head);
    for (const e of h.history) {
      const r = await c.receipt(e.txHash, head);
      assert.is(r.receipt.status, e.status);
      assert.is(r.height, e.height);
      assert.is(r.receipt.index, e.index);
      assert.is(r.receipt.reason, e.reason);
    }
  }
});

test('history: height ranges, the same block at both ends, a range with nothing', async () => {
  const c = client(fakeAgent(chain));
  const busy = key('busy');
  const mid = await c.history(busy, { fromHeight: 4, toHeight: 8 });
  assert.equal(plain(mid.history), truth(busy, 4, 8));
  assert.equal(
    mid.history.map((e) => `${e.height}:${e.index}`),
    ['4:1', '4:2', '5:1', '6:0', '7:1', '8:0', '8:1'],
  );
  assert.equal(mid.provenFrom, { height: 4, index: 0 });
  assert.is(mid.provenTo, 8);
  assert.is(mid.complete, true);
  // One block: both of busy's entries in block 12 (its transactions 1 and 2).
  const twelve = await c.history(busy, { fromHeight: 12, toHeight: 12 });
  assert.equal(plain(twelve.history), truth(busy, 12, 12));
  assert.is(twelve.history.length, 2);
  const thirteen = await c.history(busy, { fromHeight: 13, toHeight: 13 });
  assert.equal(
    thirteen.history.map((e) => e.roles.join('+')),
    ['input+output', 'output'],
  );
  // Nothing of alice's after 14, proven: an empty range is a claim too.
  const late = await c.history(key('alice'), { fromHeight: 15 });
  assert.equal(late.history, []);
  assert.is(late.complete, true);
  assert.is(late.provenTo, TIP);
  // toHeight above the certified height is the certified height.
  const above = await c.history(busy, { fromHeight: 19, toHeight: 1000 });
  assert.is(above.provenTo, TIP);
  assert.equal(plain(above.history), truth(busy, 19));
  // At an older certified header: the state of that block.
  const old = fakeAgent(chain, 9);
  const oc = client(old);
  const head9 = await oc.certifiedHeader();
  const h9 = await oc.history(key('alice'), {}, head9);
  assert.is(h9.height, 9);
  assert.equal(plain(h9.history), truth(key('alice'), 0, 9));
  assert.is(h9.history.length, 3);
});

test('history: limit keeps the newest entries and says where the proof starts', async () => {
  const c = client(fakeAgent(chain));
  const busy = key('busy');
  const all = truth(busy);
  for (const limit of [1, 5, 25]) {
    const h = await c.history(busy, { limit });
    assert.equal(plain(h.history), all.slice(-limit), `limit ${limit}`);
    assert.is(h.complete, false, `limit ${limit}`);
    const oldest = h.history[0]!;
    assert.equal(h.provenFrom, { height: oldest.height, index: oldest.index });
    assert.is(h.provenTo, TIP);
  }
  // Exactly as many as the range holds, or more: nothing is cut.
  for (const limit of [26, 27, 1000]) {
    const h = await c.history(busy, { limit });
    assert.equal(plain(h.history), all, `limit ${limit}`);
    assert.is(h.complete, true, `limit ${limit}`);
    assert.equal(h.provenFrom, { height: 0, index: 0 });
  }
  // Within a range: the newest of the range, the next page asked with toHeight.
  const page = await c.history(busy, { fromHeight: 4, toHeight: 12, limit: 3 });
  assert.equal(
    page.history.map((e) => `${e.height}:${e.index}`),
    ['11:0', '12:1', '12:2'],
  );
  assert.equal(page.provenFrom, { height: 11, index: 0 });
  assert.is(page.complete, false);
  const next = await c.history(busy, { fromHeight: 4, toHeight: 10, limit: 3 });
  assert.equal(
    next.history.map((e) => `${e.height}:${e.index}`),
    ['8:1', '9:1', '10:1'],
  );
});

test("history: the agent's decoded list is not what the wallet reads", async () => {
  const agent = fakeAgent(chain);
  agent.intercept = async (m, _p, next) => {
    const a = (await next()) as Json;
    if (m === 'pos_getHistory') {
      a.history = a.history.map((e: Json) => ({ ...e, roles: ['name'], status: 'rejected' }));
      a.history.push({ ...a.history[0], height: 20 });
    }
    return a;
  };
  const h = await client(agent).history(chain.owner.publicKey);
  assert.equal(plain(h.history), truth(chain.owner.publicKey));
});

// --- honest: names ----------------------------------------------------------------------

test('names: free, registered, at genesis, transferred, released (and owned before)', async () => {
  const c = client(fakeAgent(chain));
  const free = await c.resolveName('nobody');
  assert.is(free.owner, null);
  assert.is(free.sinceHeight, undefined);
  assert.is(free.name, 'nobody');
  assert.is(free.height, TIP);
  assert.is(hex(free.stateRoot), hex(chain.roots[TIP]!));
  const alice = await c.resolveName('alice');
  assert.is(hex(alice.owner!), hex(key('alice')));
  assert.is(alice.sinceHeight, 2);
  // A genesis validator's display name, owned since genesis.
  const charlie = await c.resolveName('charlie');
  assert.is(hex(charlie.owner!), hex(crew.C.publicKey));
  assert.is(charlie.sinceHeight, 0);
  const shared = await c.resolveName('shared');
  assert.is(hex(shared.owner!), hex(key('bob')));
  assert.is(shared.sinceHeight, 9);
  assert.is((await c.resolveName('gone')).owner, null);
  // The same name in an older certified state: still bob's.
  const oc = client(fakeAgent(chain, 10));
  const head10 = await oc.certifiedHeader();
  const gone = await oc.resolveName('gone', head10);
  assert.is(hex(gone.owner!), hex(key('bob')));
  assert.is(gone.sinceHeight, 7);
  assert.is(gone.height, 10);
  assert.is(hex((await oc.resolveName('shared', head10)).owner!), hex(key('bob')));
});

test('names and histories at every certified height: what the state of that block holds', async () => {
  for (let h = 0; h <= TIP; h++) {
    const c = client(fakeAgent(chain, h));
    const head = await c.certifiedHeader();
    for (const name of ['alice', 'v0', 'shared', 'gone', 'delta', 'nobody']) {
      const n = await c.resolveName(name, head);
      const want = nameAt(chain, name, h);
      assert.equal(
        [n.owner === null ? null : hex(n.owner), n.sinceHeight],
        want === undefined ? [null, undefined] : [hex(want.owner), want.sinceHeight],
        `${name} at ${h}`,
      );
    }
    const k = key('alice');
    assert.equal(plain((await c.history(k, {}, head)).history), truth(k, 0, h), `alice at ${h}`);
  }
});

test('address: alice@v0 is alice, hosted by the validator that owns v0', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  const r = await c.resolveAddress('alice@v0');
  assert.is(r.address, 'alice@v0');
  assert.is(hex(r.owner), hex(key('alice')));
  assert.is(hex(r.host), hex(validatorIdOfKey(chain.agent.publicKey)));
  assert.is(hex(r.host), hex(crew.C.validatorId));
  assert.is(r.wallet.name, 'alice');
  assert.is(r.wallet.sinceHeight, 2);
  assert.is(r.agent.name, 'v0');
  assert.is(r.agent.sinceHeight, 4);
  // Both names under one certified header, the latest.
  assert.is(r.wallet.height, TIP);
  assert.is(r.agent.height, TIP);
  assert.is(hex(r.wallet.blockHash), hex(r.agent.blockHash));
  // The host is a validator of the table that signs the next block.
  const table = await c.validators();
  assert.ok(table.validators.some((v) => hex(v.validatorId) === hex(r.host)));
  // A genesis validator's own name is an agent name too.
  const viaName = await c.resolveAddress('shared@charlie');
  assert.is(hex(viaName.owner), hex(key('bob')));
  assert.is(hex(viaName.host), hex(crew.C.validatorId));
});

test('address: an agent name not owned by a validator, and names nobody owns', async () => {
  const c = client(fakeAgent(chain));
  // alice is nobody's validator; alpha's owner (A) left the table at epoch 5.
  await rejects(c.resolveAddress('shared@alice'), 'NOT_AN_AGENT', /alice is owned by a key/);
  await rejects(c.resolveAddress('alice@alpha'), 'NOT_AN_AGENT', /alpha/);
  await rejects(c.resolveAddress('nobody@v0'), 'UNKNOWN_NAME', /nobody is not registered/);
  await rejects(c.resolveAddress('alice@nobody'), 'UNKNOWN_NAME', /agent nobody/);
  await rejects(c.resolveAddress('gone@v0'), 'UNKNOWN_NAME');
  // alpha was an agent while A was a validator: at height 10 (table of epoch 3: A, B, C, E).
  const old = client(fakeAgent(chain, 10));
  const r = await old.resolveAddress('alice@alpha');
  assert.is(hex(r.host), hex(crew.A.validatorId));
});

// --- what cannot be asked -----------------------------------------------------------------

test('malformed names, addresses and history options: BAD_ARGUMENT before any request', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  const names: unknown[] = [
    'Alice', // no case folding
    'a', // too short
    'x'.repeat(33), // too long
    '\u0430lice', // a Cyrillic а: not a name, not alice
    '-alice',
    '_alice',
    'al ice',
    'al.ice',
    'alice@v0',
    '',
    'admin', // reserved
    'wallet',
    42,
    null,
  ];
  for (const n of names) {
    await rejects(c.resolveName(n as string), 'BAD_ARGUMENT');
  }
  const addresses = [
    'alice',
    'alice@',
    '@v0',
    'Alice@v0',
    'alice@V0',
    'alice@v0@v1',
    'admin@v0',
    'alice@system',
    'al ice@v0',
    '\u0430lice@v0',
  ];
  for (const a of addresses) await rejects(c.resolveAddress(a), 'BAD_ARGUMENT');
  const k = key('busy');
  const bad: [Uint8Array, object][] = [
    [k.subarray(1), {}],
    [new Uint8Array(33), {}],
    [k, { limit: 0 }],
    [k, { limit: 1001 }],
    [k, { limit: 1.5 }],
    [k, { fromHeight: -1 }],
    [k, { toHeight: 2.5 }],
    [k, { fromHeight: Number.MAX_SAFE_INTEGER + 1 }],
  ];
  for (const [kk, o] of bad) await rejects(c.history(kk, o), 'BAD_ARGUMENT');
  assert.equal(agent.calls, [], 'no request for what cannot be asked');
  // Needs the head to know: from above to (and above the certified height).
  await rejects(c.history(k, { fromHeight: 9, toHeight: 8 }), 'BAD_ARGUMENT');
  await rejects(c.history(k, { fromHeight: TIP + 1 }), 'BAD_ARGUMENT');
  assert.not.ok(agent.calls.some((x) => x.method === 'pos_getHistory'));
  // A header this client did not return.
  const other = await client(fakeAgent(chain)).certifiedHeader();
  await rejects(c.history(k, {}, other), 'BAD_ARGUMENT');
  await rejects(c.resolveName('alice', other), 'BAD_ARGUMENT');
  assert.not.ok(
    agent.calls.some((x) => x.method === 'pos_getHistory' || x.method === 'pos_resolveName'),
  );
});

// --- lies -------------------------------------------------------------------------------------

/** An intercept that edits the honest answer of `method`. */
function editing(method: string, edit: (a: Json, params: unknown[]) => unknown) {
  return async (m: string, params: unknown[], next: () => Promise<unknown>) => {
    const a = (await next()) as Json;
    if (m !== method) return a;
    const r = await edit(a, params);
    return r === undefined ? a : r;
  };
}

const entry = (k: Uint8Array, v: Uint8Array) => ({ key: hex(k), value: hex(v) });

/** The range `[lo, hi]` of state `h`: its entries and proof, as an answer carries them. */
async function rangeOf(h: number, lo: Uint8Array, hi: Uint8Array) {
  const r = await chain.trie.at(chain.roots[h]!).proveRange(lo, hi);
  return {
    lo: hex(lo),
    entries: r.entries.map((e) => entry(e.key, e.value)),
    proof: trieRangeProofToJSON(r.proof),
  };
}

/** A trie holding only `entries`: its root and proofs are another chain's. */
async function forgedTrie(entries: [Uint8Array, Uint8Array][]) {
  const t = await createStateTrie({ keyBytes: 64, store: createMemoryStore() });
  for (const [k, v] of entries) await t.put(k, v);
  await t.commit(1);
  return t;
}

interface Lie {
  why: string;
  intercept: (m: string, params: unknown[], next: () => Promise<unknown>) => Promise<unknown>;
  run: (c: WalletClient) => Promise<unknown>;
  code: WalletErrorCode;
  match?: RegExp;
}

const busyAll = (c: WalletClient) => c.history(key('busy'));
const busy5 = (c: WalletClient) => c.history(key('busy'), { limit: 5 });

const historyLies = (): Lie[] => [
  {
    why: 'history: one entry dropped',
    intercept: editing('pos_getHistory', (a) => {
      a.entries.splice(7, 1);
      a.history.splice(7, 1);
    }),
    run: busyAll,
    code: 'BAD_PROOF',
    match: /not all of/,
  },
  {
    why: 'history: the newest entry dropped',
    intercept: editing('pos_getHistory', (a) => {
      a.entries.pop();
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: every entry dropped (nothing to see)',
    intercept: editing('pos_getHistory', (a) => {
      a.entries = [];
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: "history: an entry of another key added (alice's, in key order)",
    intercept: editing('pos_getHistory', async (a) => {
      const [e] = (await rangeOf(TIP, ...bounds(key('alice')))).entries;
      a.entries.push(e);
      a.entries.sort((x: Json, y: Json) => (x.key < y.key ? -1 : 1));
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: a forged entry of the key added (a transaction that never was)',
    intercept: editing('pos_getHistory', (a) => {
      const k = historyKeyOf(historyPrefix(key('busy')), 21, 7);
      const v = encodeHistoryRecord({
        roles: ['output'],
        status: 'committed',
        txHash: new Uint8Array(32).fill(9),
      });
      a.entries.push(entry(k, v));
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: two entries reordered',
    intercept: editing('pos_getHistory', (a) => {
      const e = a.entries;
      [e[3], e[4]] = [e[4], e[3]];
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: a role altered (paid only, not spent from)',
    intercept: editing('pos_getHistory', (a) => {
      const e = a.entries[0];
      const v = fromHex(e.value);
      v[1] = 2;
      e.value = hex(v);
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: a status altered (a rejected transaction shown committed)',
    intercept: editing('pos_getHistory', (a) => {
      const e = a.entries.find((x: Json) => fromHex(x.value)[2] === 1);
      const v = fromHex(e.value);
      v[2] = 0; // committed
      v[3] = 0; // with no reason: a well-formed record
      e.value = hex(v);
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: "history: a transaction's hash altered",
    intercept: editing('pos_getHistory', (a) => {
      const v = fromHex(a.entries[2].value);
      v[35] = (v[35]! + 1) & 0xff;
      a.entries[2].value = hex(v);
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: a narrower range (from 12) with its own valid proof, fewer than limit entries',
    intercept: editing('pos_getHistory', async (a) => {
      const { hi } = historyRange(key('busy'), 0, TIP);
      const lo = historyKeyOf(historyPrefix(key('busy')), 12, 0);
      Object.assign(a, await rangeOf(TIP, lo, hi));
    }),
    run: busyAll,
    code: 'BAD_ANSWER',
    match: /starts above the asked one without reason/,
  },
  {
    why: 'history: narrowed to limit entries, but from a key that is not the oldest kept',
    intercept: editing('pos_getHistory', async (a) => {
      // The five newest, proven from just below the oldest of them (the
      // same entries, a valid proof, but not the bound the rule allows).
      const lo = fromHex(a.entries[0].key);
      lo[63] = 3;
      Object.assign(a, await rangeOf(TIP, lo, historyRange(key('busy'), 0, TIP).hi));
      assert.is(a.entries.length, 5);
    }),
    run: busy5,
    code: 'BAD_ANSWER',
    match: /without reason/,
  },
  {
    why: 'history: the newest limit entries claimed as the whole range',
    intercept: editing('pos_getHistory', (a) => {
      a.lo = hex(historyRange(key('busy'), 0, TIP).lo);
    }),
    run: busy5,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: more entries than the limit',
    intercept: editing('pos_getHistory', async (a) =>
      Object.assign(a, await rangeOf(TIP, ...bounds(key('busy')))),
    ),
    run: busy5,
    code: 'BAD_ANSWER',
    match: /more than 5 entries/,
  },
  {
    why: 'history: an older state (height 12) served as it is',
    intercept: async (m, p, next) =>
      m === 'pos_getHistory' ? fakeAgent(chain).honest(m, [p[0], p[1], 12, p[3], 12]) : next(),
    run: busyAll,
    code: 'BAD_ANSWER',
    match: /another height/,
  },
  {
    why: 'history: an older state (height 12) labelled as the asked one: a proof from another root',
    intercept: editing('pos_getHistory', async (a) => {
      Object.assign(a, await rangeOf(12, ...bounds(key('busy'))));
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: a forged trie holding the claimed entries (another root)',
    intercept: editing('pos_getHistory', async (a) => {
      const kept = a.entries.slice(0, 3);
      const t = await forgedTrie(kept.map((e: Json) => [fromHex(e.key), fromHex(e.value)]));
      const r = await t.proveRange(...bounds(key('busy')));
      a.entries = kept;
      a.proof = trieRangeProofToJSON(r.proof);
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: "history: another key's history with its valid proof",
    intercept: async (m, p, next) => {
      if (m !== 'pos_getHistory') return next();
      const a = (await fakeAgent(chain).honest(m, [hex(key('alice')), ...p.slice(1)])) as Json;
      return { ...a, key: hex(key('bob')), lo: hex(bounds(key('bob'))[0]) };
    },
    run: (c) => c.history(key('bob')),
    code: 'BAD_PROOF',
  },
  {
    why: 'history: a malformed proof',
    intercept: editing('pos_getHistory', (a) => {
      a.proof.items.pop();
    }),
    run: busyAll,
    code: 'BAD_PROOF',
  },
  {
    why: 'history: entries that are not hex',
    intercept: editing('pos_getHistory', (a) => {
      a.entries[0].key = 'zz';
    }),
    run: busyAll,
    code: 'BAD_ANSWER',
  },
];

/** The full history range of `k`, up to the tip. */
const bounds = (k: Uint8Array): [Uint8Array, Uint8Array] => {
  const r = historyRange(k, 0, TIP);
  return [r.lo, r.hi];
};

const nameLies = (): Lie[] => [
  {
    why: 'name: resolved to another key (the honest proof kept)',
    intercept: editing('pos_resolveName', (a) => {
      a.owner = hex(key('bob'));
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_PROOF',
    match: /not proven owned by/,
  },
  {
    why: 'name: resolved to another key with a forged record and proof (another root)',
    intercept: editing('pos_resolveName', async (a) => {
      const k = nameKey('alice');
      const v = encodeNameRecord({ name: 'alice', owner: key('bob'), sinceHeight: 2 });
      const t = await forgedTrie([[k, v]]);
      a.owner = hex(key('bob'));
      a.proof = trieProofToJSON(await t.prove(k));
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_PROOF',
  },
  {
    why: 'name: a name that exists denied (owner null, its inclusion proof kept)',
    intercept: editing('pos_resolveName', (a) => {
      a.owner = null;
      a.sinceHeight = null;
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_PROOF',
    match: /not proven free/,
  },
  {
    why: "name: a name that exists denied with a free name's exclusion proof",
    intercept: editing('pos_resolveName', async (a) => {
      const free = (await fakeAgent(chain).honest('pos_resolveName', ['nobody', TIP])) as Json;
      a.owner = null;
      a.sinceHeight = null;
      a.proof = free.proof;
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_PROOF',
  },
  {
    why: 'name: a released name claimed still owned (the state of height 10)',
    intercept: async (m, p, next) =>
      m === 'pos_resolveName'
        ? { ...((await fakeAgent(chain).honest(m, [p[0], 10])) as Json), height: TIP }
        : next(),
    run: (c) => c.resolveName('gone'),
    code: 'BAD_PROOF',
  },
  {
    why: 'name: an invented owner of a free name (its exclusion proof kept)',
    intercept: editing('pos_resolveName', (a) => {
      a.owner = hex(key('alice'));
      a.sinceHeight = 3;
    }),
    run: (c) => c.resolveName('nobody'),
    code: 'BAD_PROOF',
  },
  {
    why: "name: an invented owner with another name's inclusion proof",
    intercept: editing('pos_resolveName', async (a) => {
      const alice = (await fakeAgent(chain).honest('pos_resolveName', ['alice', TIP])) as Json;
      a.owner = alice.owner;
      a.sinceHeight = alice.sinceHeight;
      a.proof = alice.proof;
    }),
    run: (c) => c.resolveName('nobody'),
    code: 'BAD_PROOF',
  },
  {
    why: 'name: a wrong sinceHeight',
    intercept: editing('pos_resolveName', (a) => {
      a.sinceHeight = 3;
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_PROOF',
  },
  {
    why: 'name: a sinceHeight above the certified height',
    intercept: editing('pos_resolveName', (a) => {
      a.sinceHeight = TIP + 1;
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_ANSWER',
    match: /sinceHeight/,
  },
  {
    why: 'name: answered at another height',
    intercept: async (m, p, next) =>
      m === 'pos_resolveName' ? fakeAgent(chain).honest(m, [p[0], 12]) : next(),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_ANSWER',
    match: /another height/,
  },
  {
    why: "name: another name's answer",
    intercept: async (m, p, next) =>
      m === 'pos_resolveName' ? fakeAgent(chain).honest(m, ['bravo', p[1]]) : next(),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_ANSWER',
    match: /another name/,
  },
  {
    why: 'name: an owner that is not a key',
    intercept: editing('pos_resolveName', (a) => {
      a.owner = '0x12';
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_ANSWER',
  },
  {
    why: 'name: a malformed proof',
    intercept: editing('pos_resolveName', (a) => {
      a.proof = { nonsense: true };
    }),
    run: (c) => c.resolveName('alice'),
    code: 'BAD_PROOF',
  },
  {
    why: "address: the wallet name pointed at the liar's key",
    intercept: editing('pos_resolveName', (a, p) => {
      if (p[0] === 'alice') a.owner = hex(crew.E.publicKey);
    }),
    run: (c) => c.resolveAddress('alice@v0'),
    code: 'BAD_PROOF',
  },
  {
    why: "address: the agent name pointed at another validator (the liar's host)",
    intercept: editing('pos_resolveName', (a, p) => {
      if (p[0] === 'v0') a.owner = hex(crew.E.publicKey);
    }),
    run: (c) => c.resolveAddress('alice@v0'),
    code: 'BAD_PROOF',
  },
  {
    why: 'address: the agent name denied',
    intercept: editing('pos_resolveName', (a, p) => {
      if (p[0] === 'v0') a.owner = null;
    }),
    run: (c) => c.resolveAddress('alice@v0'),
    code: 'BAD_PROOF',
  },
];

test('every lie about an index is refused with its code', async () => {
  const all = [...historyLies(), ...nameLies()];
  // Each lie is heard: without it the same call succeeds.
  for (const l of all) {
    const agent = fakeAgent(chain);
    await l.run(client(agent));
    agent.intercept = l.intercept;
    try {
      await rejects(l.run(client(agent)), l.code, l.match);
    } catch (e) {
      throw new Error(`${l.why}: ${(e as Error).message}`);
    }
  }
});

test.run();
