// A real chain, built in memory, and an in-process agent that serves it over
// the client's `fetch`: what test/client.test.ts checks the thin wallet
// against. Nothing here is mocked below the JSON-RPC surface: the headers
// are real headers, the state roots are real state tries (@pos/merkle,
// 64-byte keys, in a memory store) holding real outputs and the epoch
// tables at `epochTableKey(k)`, the names (docs/PROTOCOL.md 6.6) and the key
// history index (6.7) written as the node's ledger writes them, the history
// root is a real RFC 9162 log of receipts, and every certificate is real
// Ed25519 signatures by the members of the table of the height's epoch. Tests
// make the agent lie by intercepting one method's answer and returning what a
// lying agent would.
import {
  createHistoryLog,
  createMemoryStore,
  createStateTrie,
  type HistoryLog,
  logConsistencyProofToJSON,
  logInclusionProofToJSON,
  type StateTrie,
  taggedHash,
  trieProofToJSON,
  trieRangeProofToJSON,
} from '@pos/merkle';
import {
  type BlockHeader,
  blockHashOf,
  blockHeaderToJSON,
  certificateToJSON,
  chainIdOf,
  createGenesis,
  decodeHistoryRecord,
  decodeNameRecord,
  decodeOutpointRecord,
  ed25519PublicKey,
  encodeHistoryRecord,
  encodeNameRecord,
  encodeOutput,
  encodeReceipt,
  encodeSpentRecord,
  encodeUnspentRecord,
  encodeValidatorSet,
  epochOfRound,
  epochTableKey,
  type FinalityCertificate,
  firstRoundOf,
  fromHex,
  type Genesis,
  genesisOutpoint,
  HISTORY_ROLES,
  type HistoryRole,
  historyKeyOf,
  historyPosition,
  historyPrefix,
  historyRange,
  isValidName,
  lastRoundOf,
  makeValidatorSet,
  type NameOp,
  nameKey,
  type Outpoint,
  type Output,
  outpointId,
  outpointRecordKey,
  outputKey,
  ownerPrefix,
  type Receipt,
  type RejectReason,
  receiptToJSON,
  signEd25519,
  snapshotRoundOf,
  type TxBody,
  toHex,
  txHashOf,
  type ValidatorSet,
  validatorIdOfKey,
  validatorSetHash,
} from '@pos/protocol';
import type { FetchLike } from '../src/index.js';

/** A validator of the fake chain: its keys, and what it registered. */
export interface Member {
  name: string;
  endpoint: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  validatorId: Uint8Array;
}

/** A deterministic member from a seed byte. */
export function member(name: string, seed: number): Member {
  const secretKey = new Uint8Array(32).fill(seed);
  const publicKey = ed25519PublicKey(secretKey);
  return {
    name,
    endpoint: `127.0.0.1:${9000 + seed}`,
    secretKey,
    publicKey,
    validatorId: validatorIdOfKey(publicKey),
  };
}

/** One epoch's table as the test writes it: members and stakes. */
export type TableSpec = readonly (readonly [Member, bigint])[];

export function setOf(spec: TableSpec): ValidatorSet {
  return makeValidatorSet(spec.map(([m, stake]) => ({ publicKey: m.publicKey, stake })));
}

/** The certificate of `header` signed by `signers` (sorted by validatorId, as the rule wants). */
export function certify(header: BlockHeader, signers: readonly Member[]): FinalityCertificate {
  const blockHash = blockHashOf(header);
  const signatures = [...signers]
    .sort((a, b) => (toHex(a.validatorId) < toHex(b.validatorId) ? -1 : 1))
    .map((m) => ({ validatorId: m.validatorId, signature: signEd25519(m.secretKey, blockHash) }));
  return { height: header.height, blockHash, signatures };
}

export interface Block {
  header: BlockHeader;
  /** Signatures over the block hash by every member of the table of its epoch, by validatorId hex. */
  signatures: Map<string, Uint8Array>;
  certificate: FinalityCertificate;
}

export interface Chain {
  genesis: Genesis;
  chainId: Uint8Array;
  lag: number;
  epochLength: number;
  /** Every member that ever was in a table, by validatorId hex. */
  members: Map<string, Member>;
  /** Table of epoch k (k = 0 is the genesis set), up to the one the last header commits to. */
  tables: ValidatorSet[];
  tableSpecs: TableSpec[];
  blocks: Block[];
  trie: StateTrie;
  log: HistoryLog;
  /** State root of block h. */
  roots: Uint8Array[];
  /** Every output ever created, by trie key hex. */
  outputs: Map<string, { outpoint: Outpoint; output: Output }>;
  receipts: Receipt[];
  /** History size after block h. */
  historySizes: number[];
  /** The wallet owner with genesis outputs, its second transfer's recipient. */
  owner: { secretKey: Uint8Array; publicKey: Uint8Array };
  other: Uint8Array;
  /** The committed transfer (height 3) and the rejected one (height 10). */
  tx1: Uint8Array;
  tx2: Uint8Array;
  /** The wallets of the index scenario ({@link indexPlan}); `idle` is never touched. */
  keys: { alice: Wallet; bob: Wallet; busy: Wallet; idle: Wallet };
  /** The validator that registers the agent name `v0` (in every table of the chain). */
  agent: Member;
  /** Every transaction in a block, in (height, index) order, as the indexes see it. */
  txs: IndexedTx[];
  /** Every change of a name, in order: its owner from `height` on, or null once released. */
  nameEvents: { height: number; name: string; owner: Uint8Array | null }[];
}

/** A key pair. */
export interface Wallet {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** A deterministic wallet from a seed byte. */
export function wallet(seed: number): Wallet {
  const secretKey = new Uint8Array(32).fill(seed);
  return { secretKey, publicKey: ed25519PublicKey(secretKey) };
}

/**
 * A transaction of a block as the ledger's indexes see it (docs/PROTOCOL.md
 * 6.6, 6.7): the keys it touched with their roles, its status and its name
 * operation. Only `tx1` is in the UTXO set: the others are, like `tx2`, a
 * receipt in the history log and their index entries, nothing else, so that
 * every balance the other suites check stays as it was.
 */
export interface IndexedTx {
  height: number;
  index: number;
  txHash: Uint8Array;
  /** Absent iff committed. */
  reason?: RejectReason;
  /** One per key, roles in {@link HISTORY_ROLES} order. */
  touched: { key: Uint8Array; roles: HistoryRole[] }[];
  /** Its name operation (applied only if committed). */
  name?: NameOp;
}

const ROLE_ORDER = Object.keys(HISTORY_ROLES) as HistoryRole[];

/** `touched` merged per key (the ledger writes one entry per key and transaction). */
function touchedOf(parts: readonly (readonly [Uint8Array, readonly HistoryRole[]])[]) {
  const m = new Map<string, { key: Uint8Array; roles: Set<HistoryRole> }>();
  for (const [key, roles] of parts) {
    const e = m.get(toHex(key)) ?? { key, roles: new Set<HistoryRole>() };
    for (const r of roles) e.roles.add(r);
    m.set(toHex(key), e);
  }
  return [...m.values()].map((e) => ({
    key: e.key,
    roles: ROLE_ORDER.filter((r) => e.roles.has(r)),
  }));
}

type Planned = Omit<IndexedTx, 'index'>;

/**
 * The transactions of every block up to `tip`, in block order, with the
 * roles the ledger gives each key (docs/PROTOCOL.md 6.7): a name operation's
 * signer pays the fee from one of its outputs and takes the change back
 * (`input`, `output`), and every party of the operation gets `name`
 * (register: the new owner; transfer: the old and the new one; release: the
 * owner); a payment gives `input` and `output` to the payer, `output` to the
 * payee; a rejected transaction touches only the owners of the inputs the
 * ledger found unspent before it refused it.
 *
 * - 2: alice registers `alice`; 4: the agent registers `v0`; 5: alice
 *   registers `shared`; 7: bob registers `gone`; 9: alice transfers `shared`
 *   to bob; 12: bob releases `gone`; 14: alice pays bob;
 * - 3: tx1 (owner pays other); 10: tx2 (rejected, INPUT_SPENT: it spends an
 *   unspent output of owner, then the one tx1 spent);
 * - busy: a payment to itself in every block 1..20, a rejected one
 *   (UNBALANCED) in every fourth, and one from alice at 13: 26 entries.
 */
function indexPlan(
  c: Pick<Chain, 'owner' | 'other' | 'tx1' | 'tx2' | 'keys' | 'agent'>,
  tip: number,
): Planned[][] {
  const { alice, bob, busy } = c.keys;
  const A = alice.publicKey;
  const B = bob.publicKey;
  const V = c.agent.publicKey;
  const blocks: Planned[][] = Array.from({ length: tip + 1 }, () => []);
  const add = (height: number, t: Omit<Planned, 'height' | 'txHash'> & { txHash?: Uint8Array }) => {
    if (height > tip) return;
    const i = blocks[height]!.length;
    blocks[height]!.push({
      height,
      txHash: t.txHash ?? taggedHash('test/tx', Uint8Array.of(height, i)),
      touched: t.touched,
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      ...(t.name === undefined ? {} : { name: t.name }),
    });
  };
  const paid = ['input', 'output'] as const;
  const nameTx = (signer: Uint8Array, name: NameOp, parties: Uint8Array[]) => ({
    touched: touchedOf([[signer, paid], ...parties.map((p) => [p, ['name']] as const)]),
    name,
  });
  const pay = (from: Uint8Array, to: Uint8Array) => ({
    touched: touchedOf([
      [from, paid],
      [to, ['output']],
    ]),
  });
  // tx1 and tx2 first in their blocks: index 0, as their receipts say.
  add(3, { txHash: c.tx1, ...pay(c.owner.publicKey, c.other) });
  add(10, {
    txHash: c.tx2,
    reason: 'INPUT_SPENT',
    touched: touchedOf([[c.owner.publicKey, ['input']]]),
  });
  add(2, nameTx(A, { op: 'register', name: 'alice', owner: A }, [A]));
  add(4, nameTx(V, { op: 'register', name: 'v0', owner: V }, [V]));
  add(5, nameTx(A, { op: 'register', name: 'shared', owner: A }, [A]));
  add(7, nameTx(B, { op: 'register', name: 'gone', owner: B }, [B]));
  add(9, nameTx(A, { op: 'transfer', name: 'shared', owner: B }, [A, B]));
  add(12, nameTx(B, { op: 'release', name: 'gone' }, [B]));
  add(14, pay(A, B));
  for (let h = 1; h <= 20; h++) {
    add(h, pay(busy.publicKey, busy.publicKey));
    if (h % 4 === 0) {
      add(h, { reason: 'UNBALANCED', touched: touchedOf([[busy.publicKey, ['input']]]) });
    }
    if (h === 13) add(h, pay(A, busy.publicKey));
  }
  return blocks;
}

/** The member of `specs`' first table that is in all of them. */
function steadyMember(specs: readonly TableSpec[]): Member {
  const all = specs[0]!.map(([m]) => m);
  return (
    all.find((m) =>
      specs.every((s) => s.some(([x]) => toHex(x.validatorId) === toHex(m.validatorId))),
    ) ?? all[0]!
  );
}

export interface ChainOpts {
  lag: number;
  epochLength: number;
  /** Genesis table (epoch 0): its stakes become the genesis outputs of `owner`. */
  genesisTable: TableSpec;
  /** Tables of epochs 1, 2, ...: one per epoch up to the last header's next one. */
  tables: TableSpec[];
  /** Last height. */
  tip: number;
}

/**
 * Builds blocks 0..tip. Block h writes into the state the table of every
 * epoch k with `snapshotRound(k) = h` (the first block at or after it: every
 * round has a block here), the owner's transfer at height 3 (one genesis
 * output spent, a change output and one to `other`), and appends a committed
 * receipt at 3 and a rejected one at 10 to the history log.
 */
export async function buildChain(o: ChainOpts): Promise<Chain> {
  const ownerSk = new Uint8Array(32).fill(0x77);
  const owner = { secretKey: ownerSk, publicKey: ed25519PublicKey(ownerSk) };
  const other = ed25519PublicKey(new Uint8Array(32).fill(0x78));
  const members = new Map<string, Member>();
  for (const spec of [o.genesisTable, ...o.tables]) {
    for (const [m] of spec) members.set(toHex(m.validatorId), m);
  }
  const genesis = createGenesis({
    chainName: 'fake-epochs',
    genesisTime: 1_700_000_000_000,
    params: { minFee: 1n, lag: o.lag, epoch: o.epochLength },
    validators: o.genesisTable.map(([m]) => ({
      pubkey: m.publicKey,
      name: m.name,
      p2p: m.endpoint,
    })),
    // A validator with no stake hosts nothing (an output is never 0).
    outputs: o.genesisTable
      .filter(([, stake]) => stake > 0n)
      .map(([m, stake]) => ({ amount: stake, owner: owner.publicKey, host: m.validatorId })),
  });
  const chainId = chainIdOf(genesis);
  // One block a second, the tip a second ago: a current chain, as the
  // wallet's freshness bound expects (tests of staleness move the clock).
  const startMs = Date.now() - 1000 * (o.tip + 2);
  const tableSpecs = [o.genesisTable, ...o.tables];
  const tables = tableSpecs.map(setOf);
  const p = { lag: o.lag, epoch: o.epochLength };
  const needed = epochOfRound(o.tip + 1, p);
  if (tables.length <= needed) throw new Error(`need tables up to epoch ${needed}`);

  const trie = await createStateTrie({
    keyBytes: 64,
    store: createMemoryStore(),
    keepVersions: 100_000,
  });
  const log = await createHistoryLog({ store: createMemoryStore() });
  const outputs = new Map<string, { outpoint: Outpoint; output: Output }>();
  // Each output and its outpoint record, as the node's ledger writes them (docs/PROTOCOL.md 6.3).
  const putOutput = async (outpoint: Outpoint, output: Output) => {
    const key = outputKey(output.owner, outpoint);
    outputs.set(toHex(key), { outpoint, output });
    await trie.put(key, encodeOutput(output));
    await trie.put(
      outpointRecordKey(outpointId(outpoint)),
      encodeUnspentRecord(outpoint, output.owner),
    );
  };
  for (let i = 0; i < genesis.outputs.length; i++) {
    await putOutput(genesisOutpoint(chainId, i), genesis.outputs[i]!);
  }
  const nameEvents: Chain['nameEvents'] = [];
  // Genesis validators own their display names, in genesis order, a valid
  // name not taken by an earlier one (the ledger's genesisNames).
  for (const v of genesis.validators) {
    if (!isValidName(v.name) || nameEvents.some((e) => e.name === v.name)) continue;
    await trie.put(
      nameKey(v.name),
      encodeNameRecord({ name: v.name, owner: v.pubkey, sinceHeight: 0 }),
    );
    nameEvents.push({ height: 0, name: v.name, owner: v.pubkey });
  }
  await trie.commit(0);

  // The owner's transfer: genesis output 0 -> 30 to `other`, change 69 (fee 1).
  const spent = genesisOutpoint(chainId, 0);
  const host = o.genesisTable[0]![0].validatorId;
  const body: TxBody = {
    chainId,
    inputs: [spent],
    outputs: [
      { amount: 30n, owner: other, host },
      { amount: genesis.outputs[0]!.amount - 31n, owner: owner.publicKey, host },
    ],
    fee: 1n,
    memo: new Uint8Array(0),
  };
  const tx1 = txHashOf(body);
  const tx2 = taggedHash('test/rejected', Uint8Array.of(2));
  const keys = { alice: wallet(0x79), bob: wallet(0x7a), busy: wallet(0x7b), idle: wallet(0x7c) };
  const agent = steadyMember(tableSpecs);
  const plan = indexPlan({ owner, other, tx1, tx2, keys, agent }, o.tip);
  const txs: IndexedTx[] = [];

  const blocks: Block[] = [];
  const roots: Uint8Array[] = [];
  const receipts: Receipt[] = [];
  const historySizes: number[] = [];
  let prev: Uint8Array = new Uint8Array(32);
  for (let h = 0; h <= o.tip; h++) {
    let txCount = 0;
    for (let k = 1; k < tables.length; k++) {
      if (snapshotRoundOf(k, p) === h)
        await trie.put(epochTableKey(k), encodeValidatorSet(tables[k]!));
    }
    if (h === 3) {
      await trie.del(outputKey(owner.publicKey, spent));
      await trie.put(outpointRecordKey(outpointId(spent)), encodeSpentRecord(3));
      await putOutput({ txHash: tx1, index: 0 }, body.outputs[0]!);
      await putOutput({ txHash: tx1, index: 1 }, body.outputs[1]!);
    }
    for (const [index, t] of plan[h]!.entries()) {
      const tx: IndexedTx = { ...t, index };
      txs.push(tx);
      await applyIndexes(trie, tx, nameEvents);
      const rc: Receipt =
        tx.reason === undefined
          ? { txHash: tx.txHash, status: 'committed', height: h, index }
          : { txHash: tx.txHash, status: 'rejected', reason: tx.reason, height: h, index };
      receipts.push(rc);
      await log.append(encodeReceipt(rc));
      txCount++;
    }
    const { root } = await trie.commit(h + 1);
    roots.push(root);
    historySizes.push(log.size);
    const header: BlockHeader = {
      chainId,
      height: h,
      leader: taggedHash('test/leader', Uint8Array.of(h >> 8, h & 0xff)),
      prevBlockHash: prev,
      timestamp: startMs + 1000 * (h + 1),
      txCount,
      stateRoot: root,
      historyRoot: await log.root(),
      historySize: log.size,
      validatorSetHash: validatorSetHash(tables[epochOfRound(h + 1, p)]!),
    };
    const blockHash = blockHashOf(header);
    const signers = tableSpecs[epochOfRound(h, p)]!.map(([m]) => m);
    const signatures = new Map(
      signers.map((m) => [toHex(m.validatorId), signEd25519(m.secretKey, blockHash)]),
    );
    blocks.push({ header, signatures, certificate: certify(header, signers) });
    prev = blockHash;
  }
  return {
    genesis,
    chainId,
    lag: o.lag,
    epochLength: o.epochLength,
    members,
    tables,
    tableSpecs,
    blocks,
    trie,
    log,
    roots,
    outputs,
    receipts,
    historySizes,
    owner,
    other,
    tx1,
    tx2,
    keys,
    agent,
    txs,
    nameEvents,
  };
}

/**
 * What the ledger writes for one transaction of block `tx.height`
 * (docs/PROTOCOL.md 6.6, 6.7): a committed name operation's record (or its
 * delete), then one history entry per touched key.
 */
async function applyIndexes(
  trie: StateTrie,
  tx: IndexedTx,
  nameEvents: Chain['nameEvents'],
): Promise<void> {
  const n = tx.name;
  if (n !== undefined && tx.reason === undefined) {
    if (n.op === 'release') await trie.del(nameKey(n.name));
    else {
      const rec = { name: n.name, owner: n.owner!, sinceHeight: tx.height };
      await trie.put(nameKey(n.name), encodeNameRecord(rec));
    }
    nameEvents.push({ height: tx.height, name: n.name, owner: n.owner ?? null });
  }
  for (const { key, roles } of tx.touched) {
    const value = encodeHistoryRecord(
      tx.reason === undefined
        ? { roles, status: 'committed', txHash: tx.txHash }
        : { roles, status: 'rejected', reason: tx.reason, txHash: tx.txHash },
    );
    await trie.put(historyKeyOf(historyPrefix(key), tx.height, tx.index), value);
  }
}

/** One entry of a key's history as the chain holds it. */
export interface HistoryEntry {
  height: number;
  index: number;
  roles: HistoryRole[];
  status: 'committed' | 'rejected';
  reason?: RejectReason;
  txHash: Uint8Array;
}

/** `key`'s history entries with heights in [from, to], oldest first: what an index proof must show. */
export function historyOf(chain: Chain, key: Uint8Array, from = 0, to = Infinity): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const t of chain.txs) {
    if (t.height < from || t.height > to) continue;
    const e = t.touched.find((x) => toHex(x.key) === toHex(key));
    if (e === undefined) continue;
    out.push({
      height: t.height,
      index: t.index,
      roles: e.roles,
      status: t.reason === undefined ? 'committed' : 'rejected',
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      txHash: t.txHash,
    });
  }
  return out;
}

/** Who owns `name` in the state of block `h` (and since when), or undefined. */
export function nameAt(
  chain: Chain,
  name: string,
  h: number,
): { owner: Uint8Array; sinceHeight: number } | undefined {
  let last: Chain['nameEvents'][number] | undefined;
  for (const e of chain.nameEvents) if (e.name === name && e.height <= h) last = e;
  return last?.owner ? { owner: last.owner, sinceHeight: last.height } : undefined;
}

/** The certificate of block h signed by the members `ids` (hex) of its epoch's table, from the stored signatures. */
export function certificateBy(b: Block, ids: readonly string[]): FinalityCertificate {
  return {
    height: b.header.height,
    blockHash: b.certificate.blockHash,
    signatures: [...ids].sort().map((id) => {
      const signature = b.signatures.get(id);
      if (signature === undefined) throw new Error(`no signature of ${id}`);
      return { validatorId: fromHex(id, 32), signature };
    }),
  };
}

/** A JSON-RPC error an answer function throws (the agent answers `{error}`). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = unknown[];
type Answer = (params: Params) => Promise<unknown>;

/** The in-process agent: honest answers, a hook to replace any of them, and a log of calls. */
export interface FakeAgent {
  fetch: FetchLike;
  /** The height `pos_status` names as the latest certified one. */
  tip: number;
  /** `method(params)` as an honest node answers it. */
  honest(method: string, params: Params): Promise<unknown>;
  /** Replaces answers: return `next()` for the honest one. Cleared with `undefined`. */
  intercept:
    | ((method: string, params: Params, next: () => Promise<unknown>) => Promise<unknown>)
    | undefined;
  /** Every call, in order: `method` and its params. */
  calls: { method: string; params: Params }[];
  /** How many times `pos_getValidators` was asked for each epoch. */
  validatorCalls(): Map<number, number>;
}

const hexId = (b: Uint8Array) => toHex(b);

export function fakeAgent(chain: Chain, tip = chain.blocks.length - 1): FakeAgent {
  const p = { lag: chain.lag, epoch: chain.epochLength };
  const knownEpochs = (t: number) => epochOfRound(t + 1, p);
  const answers: Record<string, Answer> = {
    pos_status: async () => ({
      chainId: toHex(chain.chainId),
      lastCertifiedHeight: agent.tip,
    }),
    pos_getCertificate: async ([h]) => {
      if (typeof h !== 'number' || h > agent.tip || h < 0)
        throw new RpcError(-32001, 'no certificate');
      const b = chain.blocks[h]!;
      return {
        height: h,
        certificate: certificateToJSON(b.certificate),
        header: blockHeaderToJSON(b.header),
      };
    },
    pos_getValidators: async ([k]) => {
      if (typeof k !== 'number' || k < 0 || k > knownEpochs(agent.tip)) {
        throw new RpcError(-32001, `unknown epoch ${String(k)}`);
      }
      const set = chain.tables[k]!;
      const encoded = encodeValidatorSet(set);
      const spec = chain.tableSpecs[k]!;
      const base = {
        epoch: k,
        firstRound: firstRoundOf(k, p),
        lastRound: lastRoundOf(k, p),
        snapshotRound: snapshotRoundOf(k, p),
        validators: set.validators.map((v) => {
          const m = chain.members.get(hexId(v.validatorId))!;
          return {
            validatorId: toHex(v.validatorId),
            publicKey: toHex(v.publicKey),
            stake: v.stake.toString(),
            name: m.name,
            endpoint: m.endpoint,
          };
        }),
        totalStake: spec.reduce((a, [, s]) => a + s, 0n).toString(),
        validatorSetHash: toHex(validatorSetHash(set)),
        encoded: toHex(encoded),
      };
      if (k === 0) return { ...base, proof: null };
      return { ...base, proof: await proofOf(chain, k, snapshotRoundOf(k, p)!) };
    },
    pos_getOutputs: async ([owner, height]) => {
      const h = height as number;
      if (h > agent.tip) throw new RpcError(-32001, 'no block');
      const ownerBytes = fromHex(owner, 32);
      const r = await chain.trie.at(chain.roots[h]!).provePrefix(ownerPrefix(ownerBytes));
      return {
        owner,
        height: h,
        stateRoot: toHex(chain.roots[h]!),
        prefix: toHex(ownerPrefix(ownerBytes)),
        entries: r.entries.map((e) => ({ key: toHex(e.key), value: toHex(e.value) })),
        proof: trieProofToJSON(r.proof),
        outputs: r.entries.map((e) => {
          const { outpoint, output } = chain.outputs.get(toHex(e.key))!;
          return {
            outpoint: { txHash: toHex(outpoint.txHash), index: outpoint.index },
            amount: output.amount.toString(),
            owner: toHex(output.owner),
            host: toHex(output.host),
          };
        }),
      };
    },
    pos_getOutpoint: async ([txHash, index, height]) => {
      const h = (height as number | undefined) ?? agent.tip;
      if (h > agent.tip) throw new RpcError(-32001, 'no block');
      const outpoint = { txHash: fromHex(txHash as string, 32), index: index as number };
      const state = chain.trie.at(chain.roots[h]!);
      const recordKey = outpointRecordKey(outpointId(outpoint));
      const bytes = await state.get(recordKey);
      const rec = bytes === undefined ? undefined : decodeOutpointRecord(bytes);
      const recordProof = trieProofToJSON(await state.prove(recordKey));
      const base = { outpoint: { txHash, index }, height: h, stateRoot: toHex(chain.roots[h]!) };
      if (rec === undefined) {
        return {
          ...base,
          status: 'unknown',
          spentHeight: null,
          output: null,
          recordProof,
          outputProof: null,
        };
      }
      if (rec.spent) {
        return {
          ...base,
          status: 'spent',
          spentHeight: rec.height,
          output: null,
          recordProof,
          outputProof: null,
        };
      }
      const key = outputKey(rec.owner, outpoint);
      const { output } = chain.outputs.get(toHex(key))!;
      return {
        ...base,
        status: 'unspent',
        spentHeight: null,
        output: {
          amount: output.amount.toString(),
          owner: toHex(output.owner),
          host: toHex(output.host),
        },
        recordProof,
        outputProof: trieProofToJSON(await state.prove(key)),
      };
    },
    pos_getTransaction: async ([txHash, atHeight]) => {
      const i = chain.receipts.findIndex((r) => toHex(r.txHash) === txHash);
      if (i < 0) return { txHash, status: 'unknown' };
      const rc = chain.receipts[i]!;
      const h = (atHeight as number | undefined) ?? agent.tip;
      if (rc.height > h) throw new RpcError(-32001, 'the block precedes the receipt');
      const size = chain.historySizes[h]!;
      return {
        txHash,
        status: rc.status,
        height: rc.height,
        receipt: receiptToJSON(rc),
        leafIndex: i,
        inclusionProof: logInclusionProofToJSON(await chain.log.inclusionProof(i, size)),
        historyRoot: toHex(await chain.log.root(size)),
        historySize: size,
      };
    },
    // As the node's pos_getHistory (packages/node/src/api/methods/indexes.ts)
    // and its ledger's proveHistory: the key's range, narrowed to the newest
    // `limit` entries when it holds more.
    pos_getHistory: async ([key, from, to, limit, height]) => {
      const h = (height as number | undefined) ?? agent.tip;
      if (h > agent.tip) throw new RpcError(-32001, 'no block');
      const n = (limit as number | undefined) ?? 100;
      if (n < 1 || n > 1000) throw new RpcError(-32602, 'Invalid params: limit must be in 1..1000');
      const hi = (to as number | undefined) ?? h;
      if (hi > h) throw new RpcError(-32602, `Invalid params: to must be at most ${h}`);
      const lo = (from as number | undefined) ?? 0;
      const pubkey = fromHex(key as string, 32);
      const range = historyRange(pubkey, lo, hi);
      const state = chain.trie.at(chain.roots[h]!);
      let start = range.lo;
      let r = await state.proveRange(start, range.hi);
      if (r.entries.length > n) {
        start = r.entries[r.entries.length - n]!.key;
        r = await state.proveRange(start, range.hi, { maxEntries: n });
      }
      const prefix = historyPrefix(pubkey);
      return {
        key,
        height: h,
        stateRoot: toHex(chain.roots[h]!),
        lo: toHex(start),
        hi: toHex(range.hi),
        entries: r.entries.map((e) => ({ key: toHex(e.key), value: toHex(e.value) })),
        proof: trieRangeProofToJSON(r.proof),
        history: r.entries.map((e) => {
          const rec = decodeHistoryRecord(e.value);
          return {
            ...historyPosition(e.key, prefix)!,
            roles: [...rec.roles],
            status: rec.status,
            ...(rec.reason === undefined ? {} : { reason: rec.reason }),
            txHash: toHex(rec.txHash),
          };
        }),
      };
    },
    pos_resolveName: async ([name, height]) => {
      const h = (height as number | undefined) ?? agent.tip;
      if (h > agent.tip) throw new RpcError(-32001, 'no block');
      const key = nameKey(name as string);
      const state = chain.trie.at(chain.roots[h]!);
      const bytes = await state.get(key);
      const rec = bytes === undefined ? undefined : decodeNameRecord(bytes);
      return {
        name,
        height: h,
        stateRoot: toHex(chain.roots[h]!),
        owner: rec === undefined ? null : toHex(rec.owner),
        sinceHeight: rec === undefined ? null : rec.sinceHeight,
        proof: trieProofToJSON(await state.prove(key)),
      };
    },
    pos_getConsistencyProof: async ([from, to]) =>
      logConsistencyProofToJSON(await chain.log.consistencyProof(from as number, to as number)),
  };
  const honest = (method: string, params: Params): Promise<unknown> => {
    const a = answers[method];
    if (a === undefined) return Promise.reject(new RpcError(-32601, `no method ${method}`));
    return a(params);
  };
  const agent: FakeAgent = {
    tip,
    honest,
    intercept: undefined,
    calls: [],
    validatorCalls() {
      const m = new Map<number, number>();
      for (const c of agent.calls) {
        if (c.method === 'pos_getValidators') {
          const k = c.params[0] as number;
          m.set(k, (m.get(k) ?? 0) + 1);
        }
      }
      return m;
    },
    fetch: async (_url, init) => {
      const req = JSON.parse(init.body) as { id: number; method: string; params: Params };
      agent.calls.push({ method: req.method, params: req.params });
      let body: unknown;
      try {
        const next = () => honest(req.method, req.params);
        const result = await (agent.intercept
          ? agent.intercept(req.method, req.params, next)
          : next());
        body = { jsonrpc: '2.0', id: req.id, result };
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        body = { jsonrpc: '2.0', id: req.id, error: { code: e.code, message: e.message } };
      }
      // Through JSON, as on the wire: no object identity leaks to the client.
      const text = JSON.stringify(body);
      return { status: 200, json: async () => JSON.parse(text) };
    },
  };
  return agent;
}

/** The `proof` object of `pos_getValidators(k)` under block `h` of `chain`. */
export async function proofOf(chain: Chain, k: number, h: number) {
  const b = chain.blocks[h]!;
  const key = epochTableKey(k);
  return {
    height: h,
    header: blockHeaderToJSON(b.header),
    certificate: certificateToJSON(b.certificate),
    key: toHex(key),
    trieProof: trieProofToJSON(await chain.trie.at(chain.roots[h]!).prove(key)),
  };
}

// --- the scenario both the client and the CLI suites run ------------------------

/** Validators of the shared scenario; H is in the genesis with stake 0. */
export const crew = {
  A: member('alpha', 1),
  B: member('bravo', 2),
  C: member('charlie', 3),
  D: member('delta', 4),
  E: member('echo', 5),
  F: member('foxtrot', 6),
  G: member('golf', 7),
  H: member('hotel', 8),
} as const;

/**
 * Tables of epochs 1..6 (lag 2, epoch 4: snapshots after rounds 0, 4, 8, 12,
 * 16, 20): every kind of set change, until no genesis key is left.
 */
export const scenarioTables: readonly TableSpec[] = (() => {
  const { A, B, C, D, E, F, G } = crew;
  return [
    // 1: the genesis state (H has no stake and is no longer a member).
    [
      [A, 100n],
      [B, 100n],
      [C, 100n],
      [D, 100n],
    ],
    // 2: E joins.
    [
      [A, 100n],
      [B, 100n],
      [C, 100n],
      [D, 100n],
      [E, 60n],
    ],
    // 3: D leaves, A's stake grows.
    [
      [A, 150n],
      [B, 100n],
      [C, 100n],
      [E, 60n],
    ],
    // 4: stake shifts to E: A, B and C alone are short of 2/3.
    [
      [A, 150n],
      [B, 40n],
      [C, 100n],
      [E, 300n],
    ],
    // 5: A leaves, F joins: no genesis key but B and C is left.
    [
      [B, 40n],
      [C, 100n],
      [E, 300n],
      [F, 200n],
    ],
    // 6: B leaves, G joins.
    [
      [C, 100n],
      [E, 300n],
      [F, 200n],
      [G, 10n],
    ],
  ];
})();

/**
 * The scenario chain of the CLI, trust-state and fuzz suites: LAG 2, EPOCH
 * 4, the crew's A..D with 100 each at genesis (and H with 0 when
 * `zeroStakeH`), then {@link scenarioTables} as far as `tip` needs them
 * (default tip 21: all of them).
 */
export function buildScenarioChain(o: { tip?: number; zeroStakeH?: boolean } = {}): Promise<Chain> {
  const { A, B, C, D, H } = crew;
  const tip = o.tip ?? 21;
  return buildChain({
    lag: 2,
    epochLength: 4,
    genesisTable: [
      [A, 100n],
      [B, 100n],
      [C, 100n],
      [D, 100n],
      ...(o.zeroStakeH ? ([[H, 0n]] as const) : []),
    ],
    tables: scenarioTables.slice(0, epochOfRound(tip + 1, { lag: 2, epoch: 4 })),
    tip,
  });
}
