// Wire events through the engine (docs/PROTOCOL.md 5, 6.1, 6.2): real
// Ed25519 keys, signed events, blocks decided, transactions deduplicated by
// the ledger's id, hostile events refused with a code.
import { generateKeyPairSync, sign } from 'node:crypto';
import { type ConsensusError, createConsensus, type DecidedBlock } from '@pos/consensus';
import { signEvent, type UnsignedEvent, type WireEvent } from '@pos/gossip';
import { taggedHash } from '@pos/merkle';
import { encodeTx, type TxBody } from '@pos/protocol';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { verifyEd25519Sync } from '../src/crypto/crypto.js';
import {
  createValidatorIndex,
  DagError,
  ledgerTxHash,
  type NodeEvent,
  nodeConsensusOpts,
  toConsensusEvent,
} from '../src/pipeline/dag.js';

const chainId = sha256(Uint8Array.of(1, 2, 3));
const keys = [0, 1, 2, 3].map(() => generateKeyPairSync('ed25519'));
const pubs = keys.map(
  (k) => new Uint8Array(k.publicKey.export({ format: 'der', type: 'spki' }).subarray(12)),
);
const validators = pubs
  .map((publicKey) => ({ publicKey, validatorId: taggedHash('pos/validator', publicKey, sha256) }))
  .sort((a, b) => (hex(a.validatorId) < hex(b.validatorId) ? -1 : 1));
const index = createValidatorIndex(chainId, validators);
const keyOf = (pk: Uint8Array) => keys[pubs.findIndex((p) => hex(p) === hex(pk))]!.privateKey;
const signer = (pk: Uint8Array) => (h: Uint8Array) => new Uint8Array(sign(null, h, keyOf(pk)));
const stakes = [40n, 30n, 20n, 10n];

function engine() {
  return createConsensus<NodeEvent>({
    ...nodeConsensusOpts(index, verifyEd25519Sync, sha256),
    stakeTable: () => stakes,
  });
}

/** A random-gossip DAG of signed wire events (seeded), optionally with transactions. */
function dag(count: number, seed: number, txFor?: (i: number) => Uint8Array[]): WireEvent[] {
  let s = seed;
  const rnd = (k: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % k;
  };
  const last: (WireEvent | null)[] = [null, null, null, null];
  const out: WireEvent[] = [];
  for (let i = 0; i < count; i++) {
    const a = rnd(4);
    let b = rnd(3);
    if (b >= a) b++;
    const sp = last[a]!;
    const op = last[b]!;
    const pk = index.publicKeys[a]!;
    const u: UnsignedEvent = {
      chainId,
      creator: pk,
      seq: sp ? sp.seq + 1 : 0,
      selfParent: sp ? sp.hash : null,
      otherParent: op ? { hash: op.hash, creator: op.creator, seq: op.seq } : null,
      timestamp: 1_700_000_000_000 + i * 5,
      transactions: txFor ? txFor(i) : [],
      payloads: [],
    };
    const ev = signEvent(u, signer(pk), sha256);
    out.push(ev);
    last[a] = ev;
  }
  return out;
}

test('signed wire events decide blocks; every event is ordered once', () => {
  const c = engine();
  const blocks: DecidedBlock<NodeEvent>[] = [];
  for (const w of dag(800, 7)) blocks.push(...c.insert(toConsensusEvent(w, index)).blocks);
  assert.ok(blocks.length > 20, `${blocks.length} blocks`);
  const seen = new Set<string>();
  for (const b of blocks) {
    for (const e of b.events) {
      assert.not.ok(seen.has(hex(e.hash)));
      seen.add(hex(e.hash));
      assert.is(e.wire.hash, e.hash, 'the wire event travels with it');
    }
  }
});

test('a forged signature is refused by the engine, nothing inserted', () => {
  const c = engine();
  const [first] = dag(1, 3);
  const forged = toConsensusEvent({ ...first!, signature: new Uint8Array(64).fill(1) }, index);
  let code = '';
  try {
    c.insert(forged);
  } catch (e) {
    code = (e as ConsensusError).code;
  }
  assert.is(code, 'BAD_SIGNATURE');
  assert.not.ok(c.has(first!.hash));
  assert.ok(c.insert(toConsensusEvent(first!, index)).inserted);
});

test('unknown creator, unknown other-parent creator, other chain: DagError codes', () => {
  const [e0] = dag(1, 5);
  const stranger = sha256(Uint8Array.of(9));
  const cases: [WireEvent, string][] = [
    [{ ...e0!, creator: stranger }, 'UNKNOWN_CREATOR'],
    [{ ...e0!, otherParent: { hash: stranger, creator: stranger, seq: 0 } }, 'UNKNOWN_CREATOR'],
    [{ ...e0!, chainId: stranger }, 'WRONG_CHAIN'],
  ];
  for (const [w, want] of cases) {
    try {
      toConsensusEvent(w, index);
      assert.unreachable(want);
    } catch (e) {
      assert.instance(e, DagError);
      assert.is((e as DagError).code, want);
    }
  }
});

test('one transaction under two signature encodings is ordered once (the ledger id)', () => {
  const body: TxBody = {
    chainId,
    inputs: [{ txHash: chainId, index: 0 }],
    outputs: [{ amount: 5n, owner: pubs[0]!, host: validators[0]!.validatorId }],
    fee: 1n,
    memo: new Uint8Array(0),
  };
  const a = encodeTx({
    body,
    signatures: [{ publicKey: pubs[0]!, signature: new Uint8Array(64).fill(2) }],
  });
  const b = encodeTx({
    body,
    signatures: [{ publicKey: pubs[0]!, signature: new Uint8Array(64).fill(3) }],
  });
  assert.is.not(hex(a), hex(b));
  const id = ledgerTxHash(sha256);
  assert.is(hex(id(a)), hex(id(b)));
  assert.is.not(hex(id(Uint8Array.of(1, 2))), hex(id(a)), 'garbage gets its own MALFORMED id');
  const c = engine();
  const ordered: Uint8Array[] = [];
  for (const w of dag(600, 11, (i) => (i === 10 ? [a] : i === 20 ? [b] : []))) {
    for (const blk of c.insert(toConsensusEvent(w, index)).blocks)
      ordered.push(...blk.transactions);
  }
  assert.is(ordered.length, 1);
  assert.is(hex(ordered[0]!), hex(a));
});

test.run();
