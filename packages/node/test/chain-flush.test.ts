// Deferred state flushes (chain.ts write order, docs/PROTOCOL.md 9.2, issue
// 18): random blocks applied with the trie written every F blocks (or once
// a node budget is reached), crashes at random points (between blocks, after
// a block's log batch, after its record with the flush lost), each followed
// by a reopen and the re-execution of the lost blocks as a replay gives
// them; the headers (state roots, history roots), the epoch proofs and an
// owner's outputs proof equal those of an eager run without a crash, byte for
// byte. Plus: a damaged re-execution stops with a one-line CORRUPT_STATE,
// never a silent wrong root.

import { ed25519 } from '@noble/curves/ed25519.js';
import type { DecidedBlock } from '@pos/consensus';
import { type BatchOp, createMemoryStore, type KVStore } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  encodeBlockHeader,
  encodeTx,
  type Genesis,
  type Outpoint,
  type Output,
  signTx,
  type TxSigner,
  txHashOf,
  validatorIdOf,
} from '@pos/protocol';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { mulberry32 } from '@pos/test-utils/random';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AppliedBlock, type Chain, ChainError, openChain } from '../src/chain/chain.js';
import { verifyEd25519Sync } from '../src/crypto/crypto.js';
import type { NodeEvent } from '../src/pipeline/dag.js';
import { crashing } from './crash-store.js';

// --- a fixed random chain -------------------------------------------------------------

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const sks = Array.from({ length: 6 }, (_, i) => fill(32, i + 1));
const signer: TxSigner = {
  sign: (sk, m) => ed25519.sign(m, sk),
  publicKey: (sk) => ed25519.getPublicKey(sk),
};
const pks = sks.map((sk) => signer.publicKey(sk));
const valA = fill(32, 0xa0);
const hA = validatorIdOf(valA);
const MIN_FEE = 1n;

const genesis: Genesis = createGenesis({
  chainName: 'chain-flush-test',
  genesisTime: 1_700_000_000_000,
  params: { minFee: MIN_FEE, lag: 2, epoch: 4 },
  validators: [{ pubkey: valA, name: 'a', p2p: '127.0.0.1:1' }],
  outputs: pks.flatMap((owner) => [1, 2, 3].map(() => ({ amount: 1000n, owner, host: hA }))),
});
const chainId = chainIdOf(genesis);

/** 30 blocks over rounds with gaps: transfers, splits, and double spends (rejected). */
function makeBlocks(): DecidedBlock<NodeEvent>[] {
  const rand = mulberry32(18); // the fixture is the same on every run
  const pick = (n: number) => Math.floor(rand() * n);
  const unspent = genesis.outputs.map((o, i) => ({
    op: { txHash: chainId, index: i } as Outpoint,
    amount: o.amount,
    owner: Math.floor(i / 3),
  }));
  const spent: { op: Outpoint; owner: number }[] = [];
  const blocks: DecidedBlock<NodeEvent>[] = [];
  let round = 0;
  for (let b = 0; b < 30; b++) {
    round += 1 + pick(3);
    const txs: Uint8Array[] = [];
    for (let t = pick(6); t > 0; t--) {
      if (spent.length > 0 && rand() < 0.15) {
        const s = spent[pick(spent.length)]!;
        const body = {
          chainId,
          inputs: [s.op],
          outputs: [{ amount: 10n, owner: pks[0]!, host: hA }],
          fee: MIN_FEE,
          memo: new Uint8Array(0),
        };
        txs.push(encodeTx(signTx(body, [sks[s.owner]!], signer)));
        continue;
      }
      const [u] = unspent.splice(pick(unspent.length), 1);
      if (u === undefined || u.amount < 3n) continue;
      const to = pick(pks.length);
      const first = (u.amount - MIN_FEE) / 2n;
      const outputs: Output[] = [
        { amount: first, owner: pks[to]!, host: hA },
        { amount: u.amount - MIN_FEE - first, owner: pks[u.owner]!, host: hA },
      ];
      const body = { chainId, inputs: [u.op], outputs, fee: MIN_FEE, memo: new Uint8Array(0) };
      const txHash = txHashOf(body);
      txs.push(encodeTx(signTx(body, [sks[u.owner]!], signer)));
      spent.push({ op: u.op, owner: u.owner });
      unspent.push({ op: { txHash, index: 0 }, amount: first, owner: to });
      unspent.push({ op: { txHash, index: 1 }, amount: outputs[1]!.amount, owner: u.owner });
    }
    blocks.push({
      round,
      leader: { hash: sha256(Uint8Array.of(0x4c, round)) } as unknown as NodeEvent,
      events: [],
      transactions: txs,
      timestamp: 1_700_000_000_000 + 1000 * round,
      seed: new Uint8Array(32),
    });
  }
  return blocks;
}

const BLOCKS = makeBlocks();
/** The chain's block record key (chain.ts module comment): 'b' ‖ u64 height. */
const blockKeyOf = (height: number) => {
  const k = new Uint8Array(9);
  k[0] = 0x62;
  new DataView(k.buffer).setBigUint64(1, BigInt(height));
  return k;
};
const verify = (pk: Uint8Array, m: Uint8Array, sig: Uint8Array) => verifyEd25519Sync(pk, m, sig);

// --- harness --------------------------------------------------------------------------

const isRecord = (ops: readonly BatchOp[]) =>
  ops.some((o) => o.key.length === 1 && o.key[0] === 0x6c);

type CrashMode = 'between' | 'afterLog' | 'afterRecord';

/** The stores survive a crash; the chain object (and the memory it holds) does not. */
interface Disk {
  ledger: KVStore;
  chain: KVStore;
  armed: CrashMode | null;
}

function open(disk: Disk, flushEveryBlocks: number, maxUnflushedNodes: number): Promise<Chain> {
  return openChain({
    genesis,
    ledger: {
      store: crashing(disk.ledger, () => disk.armed === 'afterRecord'),
      verify,
    },
    store: crashing(disk.chain, (ops) => disk.armed === 'afterLog' && isRecord(ops)),
    flushEveryBlocks,
    maxUnflushedNodes,
  });
}

/** What a restart's replay does: every block decided again, the recorded ones re-executed. */
async function replay(chain: Chain, upTo: number): Promise<number> {
  const last = chain.latest()?.header.height ?? -1;
  let i = 0;
  for (; i < upTo && BLOCKS[i]!.round <= last; i++) await chain.reexecute(BLOCKS[i]!);
  assert.is(chain.reexecuteTo, null, 'every lost block re-executed');
  return i;
}

let reference: { applied: AppliedBlock[]; chain: Chain } | undefined;
async function eager() {
  if (reference !== undefined) return reference;
  const chain = await openChain({
    genesis,
    ledger: { store: createMemoryStore(), verify },
    store: createMemoryStore(),
  });
  const applied = [];
  for (const b of BLOCKS) applied.push(await chain.applyDecided(b));
  reference = { applied, chain };
  return reference;
}

async function sameAsReference(chain: Chain): Promise<void> {
  const ref = await eager();
  for (const r of ref.applied) {
    const got = await chain.header(r.header.height);
    assert.ok(got !== undefined, `block ${r.header.height} recorded`);
    assert.equal(got.header, r.header);
  }
  assert.is(hex(chain.ledger.stateRoot()), hex(ref.chain.ledger.stateRoot()));
  for (let e = 1; e <= ref.chain.ledger.lastTableEpoch; e++) {
    assert.equal(await chain.epochProof(e), await ref.chain.epochProof(e), `epoch ${e} proof`);
  }
  const proof = await chain.ledger.proveOutputs(pks[2]!);
  assert.equal(proof, await ref.chain.ledger.proveOutputs(pks[2]!));
}

// --- tests ----------------------------------------------------------------------------

test('the fixture: 30 blocks, some transfers rejected as double spends, epoch tables written', async () => {
  const ref = await eager();
  const statuses = ref.applied.flatMap((a) => a.receipts.map((r) => r.status));
  assert.ok(statuses.filter((s) => s === 'committed').length >= 40, 'committed transfers');
  assert.ok(statuses.includes('rejected'), 'a rejected double spend');
  assert.ok(ref.chain.ledger.lastTableEpoch >= 5, 'several epochs');
});

test('property: flushes every F blocks or at a node budget, crashes anywhere, recovery by re-execution give the eager chain', async () => {
  await eager();
  const crashArb = fc.record({
    at: fc.integer({ min: 0, max: BLOCKS.length - 1 }),
    mode: fc.constantFrom<CrashMode>('between', 'afterLog', 'afterRecord'),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom(40, 200, 1_000_000),
      fc.uniqueArray(crashArb, { maxLength: 3, selector: (c) => c.at }),
      async (flushEvery, maxNodes, crashes) => {
        const disk: Disk = { ledger: createMemoryStore(), chain: createMemoryStore(), armed: null };
        let chain = await open(disk, flushEvery, maxNodes);
        const pending = [...crashes];
        for (let i = 0; i < BLOCKS.length; ) {
          const k = pending.findIndex((c) => c.at === i);
          const crash = k < 0 ? undefined : pending.splice(k, 1)[0];
          if (crash !== undefined && crash.mode !== 'between') disk.armed = crash.mode;
          try {
            await chain.applyDecided(BLOCKS[i]!);
          } catch (e) {
            assert.is((e as Error).message, 'simulated crash');
          }
          disk.armed = null;
          i++;
          if (crash === undefined) continue;
          // The process dies here: its memory (the unflushed trie) is gone.
          chain = await open(disk, flushEvery, maxNodes);
          i = await replay(chain, BLOCKS.length);
        }
        await sameAsReference(chain);
        // A clean stop flushes: the next open redoes nothing.
        await chain.flush();
        const again = await open(disk, flushEvery, maxNodes);
        assert.is(again.reexecuteTo, null);
        assert.is(again.flushedHeight, BLOCKS.at(-1)!.round);
      },
    ),
    { numRuns: 40 },
  );
});

test('a flush every 4 blocks: the store holds the state of the last flush; reopen re-executes the rest', async () => {
  const disk: Disk = { ledger: createMemoryStore(), chain: createMemoryStore(), armed: null };
  const chain = await open(disk, 4, 1_000_000);
  for (const b of BLOCKS.slice(0, 10)) await chain.applyDecided(b);
  assert.is(chain.flushedHeight, BLOCKS[7]!.round);
  const reopened = await open(disk, 4, 1_000_000);
  assert.is(reopened.ledger.height, BLOCKS[7]!.round);
  assert.is(reopened.reexecuteTo, BLOCKS[9]!.round);
  // Nothing new is applied before the lost blocks are redone.
  try {
    await reopened.applyDecided(BLOCKS[10]!);
    assert.unreachable('applied above lost blocks');
  } catch (e) {
    assert.is((e as ChainError).code, 'BAD_HEIGHT');
  }
  // Out of order: block 9 before block 8 is refused, nothing changes.
  try {
    await reopened.reexecute(BLOCKS[9]!);
    assert.unreachable('skipped a lost block');
  } catch (e) {
    assert.is((e as ChainError).code, 'BAD_HEIGHT');
  }
  assert.is(await reopened.reexecute(BLOCKS[8]!), true);
  assert.is(await reopened.reexecute(BLOCKS[9]!), true);
  assert.is(reopened.reexecuteTo, null);
  const ref = await eager();
  assert.is(hex(reopened.ledger.stateRoot()), hex(ref.applied[9]!.header.stateRoot));
});

/**
 * Six blocks applied with no flush, then a restart: every block is lost, and
 * those before the first one with a transaction are already redone. `i` is
 * that block's index.
 */
async function reopenedBeforeFirstTransfer() {
  const disk: Disk = { ledger: createMemoryStore(), chain: createMemoryStore(), armed: null };
  const chain = await open(disk, 100, 1_000_000);
  for (const b of BLOCKS.slice(0, 6)) await chain.applyDecided(b);
  const reopened = await open(disk, 100, 1_000_000);
  const i = BLOCKS.findIndex((b) => b.transactions.length > 0);
  for (let j = 0; j < i; j++) await reopened.reexecute(BLOCKS[j]!);
  return { disk, reopened, i };
}

test('a block replayed with other transactions than recorded: CORRUPT_STATE naming the height, the chain stops', async () => {
  const { reopened, i } = await reopenedBeforeFirstTransfer();
  // The first lost block with a transaction: its bytes altered (the same count).
  const b = BLOCKS[i]!;
  const bad = { ...b, transactions: [b.transactions.at(-1)!, ...b.transactions.slice(0, -1)] };
  if (b.transactions.length === 1) bad.transactions = [b.transactions[0]!.slice(0, -1)];
  try {
    await reopened.reexecute(bad);
    assert.unreachable('a wrong block was re-executed');
  } catch (e) {
    assert.instance(e, ChainError, String(e));
    assert.is((e as ChainError).code, 'CORRUPT_STATE');
    assert.match((e as Error).message, `block ${b.round} re-executed with other transactions`);
    assert.not.match((e as Error).message, '\n');
  }
  try {
    await reopened.reexecute(b);
    assert.unreachable('went on after a damaged re-execution');
  } catch (e) {
    assert.is((e as ChainError).code, 'FAILED');
  }
});

test('a block re-executed to another state root than its header: CORRUPT_STATE naming the height', async () => {
  // The ledger's store damaged under the lost blocks: the genesis state is
  // what it is, but the header of the first block says another root.
  const { disk, reopened, i } = await reopenedBeforeFirstTransfer();
  const header = (await reopened.header(BLOCKS[i]!.round))!.header;
  const forged = { ...header, stateRoot: new Uint8Array(32).fill(7) };
  await disk.chain.batch([
    { type: 'put', key: blockKeyOf(BLOCKS[i]!.round), value: encodeBlockHeader(forged) },
  ]);
  try {
    await reopened.reexecute(BLOCKS[i]!);
    assert.unreachable('re-executed to a root its header does not name');
  } catch (e) {
    assert.is((e as ChainError).code, 'CORRUPT_STATE', String(e));
    assert.match((e as Error).message, `block ${BLOCKS[i]!.round} re-executed to a state root`);
  }
});

test('a damaged flushed state is refused at open (the root of a flushed height differs from its header)', async () => {
  const k = BLOCKS.findIndex((b, i) => i > 0 && b.transactions.length > 0);
  const disk: Disk = { ledger: createMemoryStore(), chain: createMemoryStore(), armed: null };
  const chain = await open(disk, 1, 1_000_000);
  for (const b of BLOCKS.slice(0, k + 1)) await chain.applyDecided(b);
  // Another state flushed at the same height: block k without its transactions.
  const other: Disk = { ledger: createMemoryStore(), chain: createMemoryStore(), armed: null };
  const o = await open(other, 1, 1_000_000);
  for (const b of BLOCKS.slice(0, k)) await o.applyDecided(b);
  await o.applyDecided({ ...BLOCKS[k]!, transactions: [] });
  const mixed: Disk = { ledger: other.ledger, chain: disk.chain, armed: null };
  try {
    await open(mixed, 1, 1_000_000);
    assert.unreachable('opened a state that is not its header’s');
  } catch (e) {
    assert.is((e as ChainError).code, 'CORRUPT_STATE');
    assert.match((e as Error).message, `state root differs from header ${BLOCKS[k]!.round}'s`);
  }
});

test.run();
