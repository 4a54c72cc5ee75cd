// The explorer's pure parts, in Node: input validation (search, routes),
// how bytes are shown, the DAG model and its layout, rates, the read-only
// transport, the stored anchor and keystores, and the body search.
import type { ApiClient, EventResult, Transport } from '@pos/api';
import {
  createGenesis,
  ed25519PublicKey,
  encodeTx,
  genesisToJSON,
  signEd25519,
  signTx,
  toHex,
  txHashOf,
  utf8Encoder,
} from '@pos/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDagModel } from '../src/lib/dag-model.js';
import { bytesText, pct, shortHex, visible } from '../src/lib/format.js';
import { createWindow, rateOf } from '../src/lib/rates.js';
import { readOnlyTransport } from '../src/lib/readonly.js';
import { hrefOf, parseRoute } from '../src/lib/route.js';
import { parseSearch } from '../src/lib/search.js';
import { createStateStore, STATE_KEY_KEY, STATE_PREFIX } from '../src/lib/state-store.js';
import { createTrustStore, type KeyValueStorage } from '../src/lib/trust-store.js';
import { findTxBody } from '../src/lib/tx-body.js';
import { createWalletStore } from '../src/lib/wallet-store.js';

const H = `0x${'ab'.repeat(32)}`;

test('search: hashes in any case with or without 0x, heights; anything else refused', () => {
  assert.equal(parseSearch(H.toUpperCase().replace('0X', '0x')), { kind: 'hash', hash: H });
  assert.equal(parseSearch(`  ${'AB'.repeat(32)} `), { kind: 'hash', hash: H });
  assert.equal(parseSearch('42'), { kind: 'height', height: 42 });
  for (const bad of [
    '',
    '<script>alert(1)</script>',
    '0x12',
    `${H}00`,
    '-1',
    '1e3',
    '9'.repeat(16),
    'x'.repeat(500),
  ]) {
    assert.is(parseSearch(bad).kind, 'invalid', bad);
  }
  assert.is(parseSearch(7 as unknown as string).kind, 'invalid');
});

test('routes: each parameter validated; markup in the address is no page', () => {
  assert.equal(parseRoute(''), { page: 'dag' });
  assert.equal(parseRoute('#/block/12'), { page: 'block', height: 12 });
  assert.equal(parseRoute(`#/tx/${H}`), { page: 'tx', hash: H });
  assert.is(parseRoute('#/tx/%3Cimg%20src%3Dx%3E').page, 'invalid');
  assert.is(parseRoute('#/block/-3').page, 'invalid');
  assert.is(parseRoute('#/wallet/extra').page, 'invalid');
  assert.is(parseRoute('#/tx/%E0%A4%A').page, 'invalid');
  assert.is(parseRoute('#/nope').page, 'invalid');
  for (const r of [parseRoute('#/block/3'), parseRoute(`#/address/${H}`), parseRoute('#/node')]) {
    assert.equal(parseRoute(hrefOf(r)), r);
  }
});

test('bytes as text: UTF-8 shown as characters with controls and bidi spelled out, else hex', () => {
  assert.equal(bytesText(new Uint8Array()), { text: '', kind: 'empty' });
  const markup = '<script>x</script>"><img onerror=y>';
  assert.equal(bytesText(utf8Encoder.encode(markup)), { text: markup, kind: 'utf8' });
  assert.is(bytesText(utf8Encoder.encode('a\nb\u202ec')).text, 'a\\u{a}b\\u{202e}c');
  assert.equal(bytesText(new Uint8Array([0xff, 0x00])), { text: '0xff00', kind: 'hex' });
  assert.is(visible('ok\u0007'), 'ok\\u{7}');
  assert.is(pct(715n, 1015n), '70.4%');
  assert.is(pct(1n, 0n), '-');
  assert.is(shortHex(H, 10, 0), `${H.slice(0, 10)}…`);
});

const ev = (
  o: Partial<EventResult> & { hash: string; creator: string; seq: number; round: number | null },
): EventResult => ({
  selfParent: null,
  otherParent: null,
  timestamp: 0,
  txHashes: [],
  payloads: [],
  signature: '0x',
  generation: 0,
  witness: false,
  famous: null,
  orderedIn: null,
  leader: false,
  ...o,
});

test('the DAG model: merges facts as they become known, lays out rounds, finds leaders, trims', () => {
  const m = createDagModel({ maxEvents: 6 });
  const a = 'a'.repeat(4);
  const b = 'b'.repeat(4);
  assert.ok(
    m.upsert([
      ev({ hash: 'a0', creator: a, seq: 0, round: 0, witness: true }),
      ev({ hash: 'b0', creator: b, seq: 0, round: 0, witness: true }),
      ev({ hash: 'a1', creator: a, seq: 1, round: 0, selfParent: 'a0' }),
      ev({ hash: 'x', creator: a, seq: 9, round: null }),
    ]),
  );
  let l = m.layout();
  assert.equal(l.creators, [a, b]);
  assert.is(l.rows, 2, "round 0: a's two events stacked");
  assert.is(l.bands[0]!.decided, false);
  assert.is(m.get('x'), undefined, 'an event without a round has no place');
  // Fame, the block and the leader arrive; nulls later never erase them.
  m.upsert([
    ev({
      hash: 'a0',
      creator: a,
      seq: 0,
      round: 0,
      witness: true,
      famous: true,
      orderedIn: 0,
      leader: true,
    }),
    ev({ hash: 'b0', creator: b, seq: 0, round: 0, witness: true, famous: false }),
  ]);
  assert.not.ok(m.upsert([ev({ hash: 'a0', creator: a, seq: 0, round: null, witness: null })]));
  l = m.layout();
  assert.is(l.bands[0]!.leader?.hash, 'a0');
  assert.is(l.bands[0]!.decided, true);
  assert.ok(m.setForks(['b0']));
  assert.ok(m.get('b0')!.forked);
  m.upsert([1, 2, 3].map((r) => ev({ hash: `b${r}`, creator: b, seq: r, round: r })));
  assert.is(m.size, 6);
  m.upsert([ev({ hash: 'b4', creator: b, seq: 4, round: 4 })]);
  assert.equal(m.range(), { min: 1, max: 4 }, 'the oldest round dropped past maxEvents');
});

test('rates: a counter per second, a sliding window', () => {
  assert.is(rateOf(null, { atMs: 1000, value: 5 }), null);
  assert.is(rateOf({ atMs: 0, value: 0 }, { atMs: 2000, value: 10 }), 5);
  assert.is(rateOf({ atMs: 0, value: 10 }, { atMs: 2000, value: 3 }), null, 'a restarted counter');
  const w = createWindow(10_000);
  w.add(0, 20);
  w.add(5000, 30);
  assert.is(w.perSecond(6000), 5);
  assert.is(w.perSecond(12_000), 3);
});

test('the read-only transport: a send is refused before anything is sent', async () => {
  const sent: string[] = [];
  const inner: Transport = {
    request: async (m) => {
      sent.push(m);
      return {};
    },
    batch: async (calls) => {
      sent.push(...calls.map((c) => c.method));
      return [];
    },
  };
  const t = readOnlyTransport(inner);
  await t.request('pos_status', []);
  for (const attempt of [
    () => t.request('pos_sendTransaction', ['0x00']),
    () =>
      t.batch([
        { method: 'pos_getBlock', params: [1] },
        { method: 'pos_sendTransaction', params: [] },
      ]),
  ]) {
    try {
      await attempt();
      assert.unreachable();
    } catch (e) {
      assert.match(String((e as Error).message), /read-only/);
    }
  }
  assert.equal(sent, ['pos_status']);
});

function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

const secret = new Uint8Array(32).fill(3);
const owner = ed25519PublicKey(secret);
const genesis = createGenesis({
  chainName: 'lib-test',
  genesisTime: 1,
  params: { minFee: 1n },
  validators: [{ pubkey: owner, name: 'v0', p2p: '127.0.0.1:1' }],
  outputs: [{ amount: 1000n, owner, host: new Uint8Array(32).fill(9) }],
});

test('the trust store: pins a genesis, loads it back, refuses what is no genesis', () => {
  const s = memoryStorage();
  const store = createTrustStore(s);
  assert.is(store.load(), null);
  const a = store.pin(genesisToJSON(genesis), 'file', 5);
  assert.is(store.load()!.chainId, a.chainId);
  assert.is(a.trust.validators.length, 1);
  assert.throws(() => store.pin({ version: 2 }, 'file', 6));
  assert.is(store.load()!.chainId, a.chainId, 'a refused pin keeps the old anchor');
  s.map.set([...s.map.keys()][0]!, '{broken');
  assert.is(store.load(), null);
});

test('the state store: resumes at the saved epoch, keeps the highest, drops a changed state', () => {
  const s = memoryStorage();
  const anchor = createTrustStore(s).pin(genesisToJSON(genesis), 'file', 5);
  const states = createStateStore(s, (b) => b.fill(9));
  assert.equal(states.resume(anchor), { trust: anchor.trust, refused: null });
  const at = (epoch: number) => ({ ...anchor.trust, epoch });
  states.save(anchor, [at(3), at(2)]);
  assert.is(states.resume(anchor).trust.epoch, 3);
  states.save(anchor, [at(1)]); // older: kept as it was
  assert.is(states.resume(anchor).trust.epoch, 3);
  states.save(anchor, [at(4)]);
  assert.is(states.resume(anchor).trust.epoch, 4);
  // A state changed in storage: dropped, said, and the page starts from the genesis.
  const item = [...s.map.keys()].find((k) => k.startsWith(STATE_PREFIX))!;
  const o = JSON.parse(s.map.get(item)!);
  o.state.epoch = 9;
  s.map.set(item, JSON.stringify(o));
  const r = states.resume(anchor);
  assert.is(r.trust, anchor.trust);
  assert.match(r.refused!, /^BAD_TRUST_STATE: the seal does not verify/);
  assert.not.ok(s.map.has(item));
  // Sealed under another key (the key replaced): dropped too.
  states.save(anchor, [at(2)]);
  s.map.set(STATE_KEY_KEY, `0x${'11'.repeat(32)}`);
  assert.match(states.resume(anchor).refused!, /^BAD_TRUST_STATE/);
});

test('the wallet store: keystores by address, a journal without duplicates', () => {
  const store = createWalletStore(memoryStorage());
  const k = { version: 1, publicKey: H, kdf: {}, cipher: {}, ciphertext: '0x' } as never;
  store.add(k);
  store.add(JSON.stringify(k));
  assert.is(store.keystores().length, 1);
  assert.throws(() => store.add('{"no": 1}'));
  const e = { txHash: H, to: H, amount: '1', fee: '1', tx: '0x', spent: [], atMs: 1 };
  store.record(H, e);
  store.record(H, e);
  assert.equal(store.journal(H), [e]);
  store.remove(H);
  assert.is(store.keystores().length, 0);
});

test('the body of a transaction: found in its event, kept only if it hashes to the id', async () => {
  const body = {
    chainId: new Uint8Array(32),
    inputs: [{ txHash: new Uint8Array(32).fill(1), index: 0 }],
    outputs: [{ amount: 5n, owner, host: owner }],
    fee: 1n,
    memo: utf8Encoder.encode('<b>hi</b>'),
  };
  const tx = signTx(body, [secret], { sign: signEd25519, publicKey: ed25519PublicKey });
  const id = toHex(txHashOf(body));
  const other = toHex(
    encodeTx(
      signTx({ ...body, fee: 2n }, [secret], { sign: signEd25519, publicKey: ed25519PublicKey }),
    ),
  );
  const api = (bytes: string) =>
    ({
      status: async () => ({ round: 30 }),
      batch: async () => [
        { events: [ev({ hash: 'e', creator: 'c', seq: 0, round: 20, txHashes: [id] })] },
      ],
      getEventTransactions: async () => ({ hash: 'e', transactions: [bytes] }),
    }) as unknown as ApiClient;
  const found = await findTxBody(api(toHex(encodeTx(tx))), id, 21);
  assert.ok(found.found && found.eventHash === 'e' && found.tx.body.fee === 1n);
  const lied = await findTxBody(api(other), id, 21);
  assert.ok(!lied.found && /do not hash to this id/.test(lied.reason));
  const broken = await findTxBody(api('0x0102'), id, 21);
  assert.ok(!broken.found && /MALFORMED/.test(broken.reason));
  const missing = await findTxBody(api('0x'), H, 21);
  assert.ok(!missing.found && /no longer indexed/.test(missing.reason));
});

test.run();
