// The mempool over a real ledger: checked against the latest state, idempotent
// by hash, conflicts and bounds refused with clear codes, oldest first.
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  chainIdOf,
  createGenesis,
  decodeTx,
  encodeTx,
  genesisOutpoint,
  type Outpoint,
  signTx,
  type TxBody,
  type TxSigner,
  txHashOf,
  validatorIdOf,
} from '@pos/protocol';
import { fill } from '@pos/test-utils/bytes';
import { hex } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLedger } from '../src/chain/ledger.js';
import { createMempool, MempoolError } from '../src/mempool.js';

const signer: TxSigner = {
  sign: (sk, msg) => ed25519.sign(msg, sk),
  publicKey: (sk) => ed25519.getPublicKey(sk),
};
const sk = fill(32, 1);
const owner = ed25519.getPublicKey(sk);
const valKey = fill(32, 0xa0);
const host = validatorIdOf(valKey);
const genesis = createGenesis({
  chainName: 'mempool-test',
  genesisTime: 1_700_000_000_000,
  params: { minFee: 1n },
  validators: [{ pubkey: valKey, name: 'a', p2p: 'http://127.0.0.1:1' }],
  outputs: [0, 1, 2, 3].map(() => ({ amount: 100n, owner, host })),
});
const chainId = chainIdOf(genesis);
const verify = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) =>
  ed25519.verify(sig, msg, pk, { zip215: false });

function spend(inputs: Outpoint[], amount: bigint, fee = 1n, memo = 0): Uint8Array {
  const body: TxBody = {
    chainId,
    inputs,
    outputs: [{ amount, owner, host }],
    fee,
    memo: Uint8Array.of(memo),
  };
  return encodeTx(signTx(body, [sk], signer));
}

async function setup(opts: { maxTxs?: number; maxBytes?: number } = {}) {
  const ledger = await createLedger({ genesis, verify });
  const pool = createMempool({ checkTx: (tx) => ledger.checkTx(tx), ...opts });
  return { ledger, pool };
}

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof MempoolError) return e.reason ? `${e.code}:${e.reason}` : e.code;
    throw e;
  }
  return 'none';
};

test('accepts a valid transaction once; resubmitting is idempotent', async () => {
  const { pool } = await setup();
  const tx = spend([genesisOutpoint(chainId, 0)], 99n);
  const a = await pool.submit(tx);
  assert.ok(a.added);
  const b = await pool.submit(tx);
  assert.not.ok(b.added);
  assert.is(hex(a.txHash), hex(b.txHash));
  assert.is(pool.size, 1);
  assert.is(pool.bytes, tx.length);
});

test('idempotent after the block too: resending an ordered transaction is added: false', async () => {
  const ledger = await createLedger({ genesis, verify });
  const ordered = new Set<string>();
  const pool = createMempool({
    checkTx: (tx) => ledger.checkTx(tx),
    isOrdered: async (h) => ordered.has(hex(h)),
  });
  const tx = spend([genesisOutpoint(chainId, 0)], 99n);
  const { txHash } = await pool.submit(tx);
  await ledger.applyBlock(0, [tx]);
  await ledger.commit(0);
  pool.remove([txHash]);
  // Its inputs are spent now. Until a receipt is known it is refused as such...
  assert.is(await code(pool.submit(tx)), 'REJECTED:INPUT_SPENT');
  // ...and once the block ordered it, the resend is a no-op, not an error.
  ordered.add(hex(txHash));
  const again = await pool.submit(tx);
  assert.not.ok(again.added);
  assert.is(hex(again.txHash), hex(txHash));
  assert.is(pool.size, 0);
  // Another transaction spending the same inputs is still refused.
  assert.is(
    await code(pool.submit(spend([genesisOutpoint(chainId, 0)], 98n, 2n))),
    'REJECTED:INPUT_SPENT',
  );
});

test('refusals: ledger rules with their reason, conflicts, size', async () => {
  const { pool } = await setup();
  const op0 = genesisOutpoint(chainId, 0);
  const cases: [string, Uint8Array, string][] = [
    ['unbalanced', spend([op0], 100n), 'REJECTED:UNBALANCED'],
    ['fee too low', spend([op0], 100n, 0n), 'REJECTED:FEE_TOO_LOW'],
    ['unknown input', spend([{ txHash: fill(32, 9), index: 0 }], 99n), 'REJECTED:UNKNOWN_INPUT'],
    ['garbage', Uint8Array.of(1, 2, 3), 'REJECTED:MALFORMED'],
    ['empty', new Uint8Array(0), 'TOO_LARGE'],
    ['over 64 KiB', new Uint8Array(70_000), 'TOO_LARGE'],
  ];
  for (const [what, tx, want] of cases) assert.is(await code(pool.submit(tx)), want, what);
  assert.is(pool.size, 0);
  // A second spend of an outpoint already spent by a pending transaction.
  await pool.submit(spend([op0], 99n, 1n, 1));
  assert.is(await code(pool.submit(spend([op0], 98n, 2n, 2))), 'CONFLICT');
  assert.is(pool.size, 1);
});

test('bounded: count and bytes', async () => {
  const { pool } = await setup({ maxTxs: 2 });
  await pool.submit(spend([genesisOutpoint(chainId, 0)], 99n));
  await pool.submit(spend([genesisOutpoint(chainId, 1)], 99n));
  assert.is(await code(pool.submit(spend([genesisOutpoint(chainId, 2)], 99n))), 'FULL');
  const tx = spend([genesisOutpoint(chainId, 0)], 99n);
  const small = await setup({ maxBytes: tx.length + 10 });
  await small.pool.submit(tx);
  assert.is(await code(small.pool.submit(spend([genesisOutpoint(chainId, 1)], 99n))), 'FULL');
});

test('take: oldest first, within bounds, once; untake gives them back; remove frees inputs', async () => {
  const { pool } = await setup();
  const txs = [0, 1, 2].map((i) => spend([genesisOutpoint(chainId, i)], 99n));
  for (const tx of txs) await pool.submit(tx);
  const first = pool.take(2, 1 << 20);
  assert.equal(first.map(hex), txs.slice(0, 2).map(hex));
  assert.equal(pool.take(5, 1 << 20).map(hex), [hex(txs[2]!)]);
  assert.equal(pool.take(5, 1 << 20), []);
  assert.equal(pool.take(5, txs[0]!.length - 1), []);
  const h0 = txHashOf(decodeTx(txs[0]!).body);
  pool.untake([h0]);
  assert.equal(pool.take(5, 1 << 20).map(hex), [hex(txs[0]!)]);
  pool.remove([h0]);
  assert.not.ok(pool.has(h0));
  assert.is(pool.size, 2);
  // The freed input can be spent again by a new submission.
  assert.ok((await pool.submit(spend([genesisOutpoint(chainId, 0)], 98n, 2n))).added);
});

test('revalidate drops what a committed block made invalid', async () => {
  const { ledger, pool } = await setup();
  const op0 = genesisOutpoint(chainId, 0);
  const a = spend([op0], 99n, 1n, 1);
  const b = spend([op0], 98n, 2n, 2);
  await pool.submit(a);
  // Another node's transaction spending the same outpoint commits first.
  await ledger.applyBlock(0, [b]);
  await ledger.commit(0);
  assert.is(await pool.revalidate(), 1);
  assert.is(pool.size, 0);
});

test.run();
