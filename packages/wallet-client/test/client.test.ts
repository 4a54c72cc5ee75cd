// The thin wallet follows validator-set changes (docs/PROTOCOL.md 11.1, 6.5
// and 7; src/client.ts): against an in-process agent serving a REAL chain
// (test/fake-chain.ts: real state tries holding the epoch tables, real
// Ed25519 certificates, lag 2 and epoch 4, 22 blocks over epochs 0..5 with
// the table of epoch 6 committed), in which a validator joins, one leaves,
// stake shifts and, by epoch 5, half the signers were never in the genesis.
// The honest agent's balance, receipts, headers and tables verify; every lie
// below is refused with the exact code of the first check it breaks; a
// failed fetch does not poison a retry; concurrent callers fetch each table
// once; the walk is bounded; and no header is accepted whose signers hold
// 2/3 or less of the verified table's stake.

import { createMemoryStore, createStateTrie, trieProofToJSON } from '@pos/merkle';
import {
  type BlockHeader,
  blockHeaderFromJSON,
  blockHeaderToJSON,
  certificateToJSON,
  encodeValidatorSet,
  epochOfRound,
  epochTableKey,
  firstRoundOf,
  genesisOutpoint,
  snapshotRoundOf,
  toHex,
  type ValidatorSet,
  validatorSetHash,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type CertifiedHeader,
  checkAgentsCurrent,
  createWalletClient,
  DEFAULT_MAX_AGENT_LAG_MS,
  DEFAULT_MAX_STATE_AGE_MS,
  trustFromGenesis,
  type WalletClient,
  type WalletClientOpts,
  WalletError,
  type WalletErrorCode,
  type WalletTrust,
} from '../src/index.js';
import {
  buildChain,
  type Chain,
  certificateBy,
  certify,
  crew,
  type FakeAgent,
  fakeAgent,
  type Member,
  member,
  proofOf,
  RpcError,
  scenarioTables,
  setOf,
  type TableSpec,
} from './fake-chain.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers as a lying agent edits them
type Json = any;

/** H: in the genesis, hosting nothing: stake 0, still a member of epoch 0's table. */
const { A, B, C, D, E, H } = crew;
/** Keys of nobody the chain knows: what a forger signs with. */
const forgers = [member('x1', 0x41), member('x2', 0x42), member('x3', 0x43)];

const LAG = 2;
const EPOCH = 4;
const P = { lag: LAG, epoch: EPOCH };
const TIP = 21;
const genesisTable: TableSpec = [
  [A, 100n],
  [B, 100n],
  [C, 100n],
  [D, 100n],
  [H, 0n],
];
/** Tables of epochs 1..6 (fake-chain.ts). */
const tables = scenarioTables;

let chain: Chain;
let trust: WalletTrust;

test.before(
  loud(async () => {
    chain = await buildChain({
      lag: LAG,
      epochLength: EPOCH,
      genesisTable,
      tables,
      tip: TIP,
    });
    trust = trustFromGenesis(chain.genesis);
  }),
);

function client(agent: FakeAgent, o: Partial<WalletClientOpts> = {}): WalletClient {
  return createWalletClient({ url: 'http://agent.test/', trust, fetch: agent.fetch, ...o });
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

const hex = toHex;
const ids = (s: ValidatorSet) => s.validators.map((v) => `${hex(v.validatorId)}:${v.stake}`);
const sum = (spec: TableSpec) => spec.reduce((a, [, s]) => a + s, 0n);
const specOf = (k: number): TableSpec => (k === 0 ? genesisTable : tables[k - 1]!);
const membersOf = (k: number) => specOf(k).map(([m]) => m);

/** The header of block h with `edit` applied, and a certificate over it by `signers`. */
function reSigned(h: number, edit: Partial<BlockHeader>, signers: readonly Member[]) {
  const header: BlockHeader = { ...chain.blocks[h]!.header, ...edit };
  return {
    height: header.height,
    header: blockHeaderToJSON(header),
    certificate: certificateToJSON(certify(header, signers)),
  };
}

/** A state trie holding only `set` at epoch k's key, and its root and inclusion proof. */
async function forgedState(k: number, set: ValidatorSet) {
  const t = await createStateTrie({ keyBytes: 64, store: createMemoryStore() });
  await t.put(epochTableKey(k), encodeValidatorSet(set));
  const { root } = await t.commit(1);
  return { root, trieProof: trieProofToJSON(await t.prove(epochTableKey(k))) };
}

/** The answer of pos_getValidators(k) for a forged table under a forged state root signed by `signers`. */
async function forgedAnswer(k: number, spec: TableSpec, signers: readonly Member[]) {
  const set = setOf(spec);
  const { root, trieProof } = await forgedState(k, set);
  const h = snapshotRoundOf(k, P)!;
  const signed = reSigned(h, { stateRoot: root }, signers);
  return {
    epoch: k,
    firstRound: firstRoundOf(k, P),
    lastRound: firstRoundOf(k + 1, P) - 1,
    snapshotRound: h,
    validators: set.validators.map((v) => ({
      validatorId: hex(v.validatorId),
      publicKey: hex(v.publicKey),
      stake: v.stake.toString(),
      name: 'forged',
      endpoint: 'h:1',
    })),
    totalStake: sum(spec).toString(),
    validatorSetHash: hex(validatorSetHash(set)),
    encoded: hex(encodeValidatorSet(set)),
    proof: { ...signed, key: hex(epochTableKey(k)), trieProof },
  };
}

/** An intercept that edits the honest answer of `method` (for `epoch` only, if given). */
function editing(method: string, edit: (a: Json) => unknown | Promise<unknown>, epoch?: number) {
  return async (m: string, params: unknown[], next: () => Promise<unknown>) => {
    const a = (await next()) as Json;
    if (m !== method || (epoch !== undefined && params[0] !== epoch)) return a;
    const r = await edit(a);
    return r === undefined ? a : r;
  };
}

// --- honest -------------------------------------------------------------------------

test('honest: the tip verifies across the set changes, each table fetched once', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  const h = await c.certifiedHeader();
  assert.is(h.height, TIP);
  assert.is(h.epoch, 5);
  assert.is(h.totalStake, sum(specOf(5)));
  assert.is(h.signedStake, sum(specOf(5)));
  assert.is(hex(h.stateRoot), hex(chain.roots[TIP]!));
  // Epochs 1..5 for the certificate, 6 for the table the header names.
  assert.equal(
    [...agent.validatorCalls()],
    [1, 2, 3, 4, 5, 6].map((k) => [k, 1]),
  );
  // A second call fetches no table.
  await c.certifiedHeader();
  assert.is(agent.validatorCalls().size, 6);
  assert.equal([...agent.validatorCalls().values()], [1, 1, 1, 1, 1, 1]);
});

test('honest: every height as the tip, a fresh client, exactly the epochs it needs', async () => {
  for (let tip = 0; tip <= TIP; tip++) {
    const agent = fakeAgent(chain, tip);
    const h = await client(agent).certifiedHeader();
    assert.is(h.height, tip);
    assert.is(h.epoch, epochOfRound(tip, P), `tip ${tip}`);
    assert.is(h.totalStake, sum(specOf(h.epoch)));
    const want = Array.from({ length: epochOfRound(tip + 1, P) }, (_, i) => [i + 1, 1]);
    assert.equal([...agent.validatorCalls()], want, `tip ${tip}`);
  }
});

test('honest: balance, receipts and consistency verify after the changes', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  const b = await c.balance(chain.owner.publicKey);
  assert.is(b.balance, 369n);
  assert.is(b.outputs.length, 4);
  assert.is(b.height, TIP);
  assert.is(b.epoch, 5);
  assert.is(b.signedStake, 640n);
  assert.is(b.totalStake, 640n);
  const other = await c.balance(chain.other);
  assert.is(other.balance, 30n);
  const r1 = await c.receipt(chain.tx1);
  assert.is(r1.receipt.status, 'committed');
  assert.is(r1.height, 3);
  assert.is(r1.certifiedHeight, TIP);
  assert.is(r1.epoch, 5);
  const head = await c.certifiedHeader();
  const r2 = await c.receipt(chain.tx2, head);
  assert.is(r2.receipt.status, 'rejected');
  assert.is(r2.epoch, 5);
  // An older head, verified by a client that stopped at epoch 2.
  const old = fakeAgent(chain, 9);
  const oldHead = await client(old).certifiedHeader();
  assert.is(oldHead.epoch, 2);
  await c.verifyConsistency(oldHead, head);
  // A receipt not yet under a certified header.
  const early = fakeAgent(chain, 2);
  await rejects(client(early).receipt(chain.tx1), 'NOT_YET');
});

test('honest: validators(k) is the chain table, with how it was proven', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  for (let k = 0; k <= 6; k++) {
    const t = await c.validators(k);
    assert.is(t.epoch, k);
    assert.equal(ids(t), ids(chain.tables[k]!), `epoch ${k}`);
    assert.is(t.totalStake, sum(specOf(k)));
    assert.is(hex(t.validatorSetHash), hex(validatorSetHash(chain.tables[k]!)));
    assert.is(t.firstRound, firstRoundOf(k, P));
    assert.is(t.lastRound, firstRoundOf(k + 1, P) - 1);
    assert.is(t.snapshotRound, snapshotRoundOf(k, P));
    const names = t.validators.map((v) => t.labels.get(hex(v.validatorId))?.name);
    assert.equal(
      names,
      t.validators.map((v) => chain.members.get(hex(v.validatorId))!.name),
    );
    if (k === 0) {
      assert.equal(t.provenance, { kind: 'anchor' });
      assert.is(t.labels.get(hex(A.validatorId))?.endpoint, A.endpoint);
    } else {
      const p = t.provenance;
      if (p.kind !== 'proof') return assert.unreachable('a proven table');
      assert.is(p.height, snapshotRoundOf(k, P));
      assert.is(p.certifiedBy, epochOfRound(p.height, P));
      assert.ok(p.certifiedBy < k);
      assert.is(hex(p.stateRoot), hex(chain.roots[p.height]!));
      assert.is(p.signedStake, sum(specOf(p.certifiedBy)));
      assert.is(p.certifierTotalStake, sum(specOf(p.certifiedBy)));
    }
  }
  // Default: the table that signs the block after the latest certified one.
  assert.is((await c.validators()).epoch, 6);
  // An epoch the agent does not know.
  await rejects(c.validators(7), 'UNKNOWN_SET', /no table of epoch 7/);
  await rejects(c.validators(-1), 'BAD_ARGUMENT');
  await rejects(c.validators(1.5), 'BAD_ARGUMENT');
  // What validators() returns is a copy: editing it changes nothing verified.
  const t = await c.validators(5);
  (t.validators as unknown as { stake: bigint }[])[0]!.stake = 1n;
  t.validators[0]!.publicKey.fill(0);
  assert.equal(ids(await c.validators(5)), ids(chain.tables[5]!));
  assert.is((await c.certifiedHeader()).signedStake, 640n);
});

// --- lies ----------------------------------------------------------------------------

const alteredStake: TableSpec = [
  [A, 150n],
  [B, 100n],
  [C, 100n],
  [E, 600n],
];
const extraMember: TableSpec = [...tables[2]!, [forgers[0]!, 1000n]];

interface Lie {
  why: string;
  tip?: number;
  intercept: (m: string, params: unknown[], next: () => Promise<unknown>) => Promise<unknown>;
  /** Default: certifiedHeader(). */
  run?: (c: WalletClient) => Promise<unknown>;
  code: WalletErrorCode;
  match?: RegExp;
}

const lies: Lie[] = [
  {
    why: 'a forged table (altered stake) with the honest proof',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        const set = setOf(alteredStake);
        a.encoded = hex(encodeValidatorSet(set));
        a.validatorSetHash = hex(validatorSetHash(set));
        a.validators = set.validators.map((v) => ({
          validatorId: hex(v.validatorId),
          publicKey: hex(v.publicKey),
          stake: v.stake.toString(),
          name: '',
          endpoint: 'h:1',
        }));
        a.totalStake = sum(alteredStake).toString();
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /not in the state of certified block 8/,
  },
  {
    why: 'a forged table (an extra member) with the honest proof',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        const set = setOf(extraMember);
        a.encoded = hex(encodeValidatorSet(set));
        a.validatorSetHash = hex(validatorSetHash(set));
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /inclusion proof fails/,
  },
  {
    why: 'a forged table with a forged proof of the right shape (another trie root)',
    intercept: editing(
      'pos_getValidators',
      async (a) => {
        const { trieProof } = await forgedState(3, setOf(alteredStake));
        const set = setOf(alteredStake);
        a.encoded = hex(encodeValidatorSet(set));
        a.validatorSetHash = hex(validatorSetHash(set));
        a.proof.trieProof = trieProof;
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /inclusion proof fails/,
  },
  {
    why: 'the proven table listed with an altered stake',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.validators[0].stake = '1000';
      },
      4,
    ),
    code: 'BAD_PROOF',
    match: /listed for epoch 4 are not the proven table/,
  },
  {
    why: 'the proven table listed with a member left out',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.validators.pop();
      },
      4,
    ),
    code: 'BAD_PROOF',
    match: /listed/,
  },
  {
    why: 'a wrong totalStake',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.totalStake = '1';
      },
      4,
    ),
    code: 'BAD_PROOF',
    match: /listed/,
  },
  {
    why: 'a validatorSetHash that is not the proven table hash',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.validatorSetHash = hex(validatorSetHash(chain.tables[2]!));
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /validatorSetHash/,
  },
  {
    why: "an older epoch's table replayed with its own key and proof",
    intercept: editing(
      'pos_getValidators',
      async (a) => {
        // Table 2 is in block 8's state too (written at 4): the proof holds, for key 2.
        const p = await proofOf(chain, 2, 8);
        a.encoded = hex(encodeValidatorSet(chain.tables[2]!));
        a.validatorSetHash = hex(validatorSetHash(chain.tables[2]!));
        a.proof = p;
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /not epoch 3's table key/,
  },
  {
    why: "an older epoch's table under the new epoch's key",
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.encoded = hex(encodeValidatorSet(chain.tables[2]!));
        a.validatorSetHash = hex(validatorSetHash(chain.tables[2]!));
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /inclusion proof fails/,
  },
  {
    why: 'a table proven under a header that the new set itself signed (circular)',
    intercept: async (m, params, next) =>
      m === 'pos_getValidators' && params[0] === 3
        ? forgedAnswer(
            3,
            forgers.map((f) => [f, 100n] as const),
            forgers,
          )
        : next(),
    code: 'BAD_CERTIFICATE',
    match: /proving epoch 3's table\) does not verify against epoch 2's table: UNKNOWN_SIGNER/,
  },
  {
    why: 'an honest table proven at its first round (a header certified by the table itself)',
    intercept: editing(
      'pos_getValidators',
      async (a) => {
        a.proof = await proofOf(chain, 3, firstRoundOf(3, P));
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /height 8\.\.9, not 10/,
  },
  {
    why: 'a proof header before the snapshot round',
    intercept: editing(
      'pos_getValidators',
      async (a) => {
        a.proof = await proofOf(chain, 3, 7);
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /height 8\.\.9, not 7/,
  },
  {
    why: 'proof.height that is not the header height',
    intercept: editing(
      'pos_getValidators',
      async (a) => {
        a.proof = { ...(await proofOf(chain, 3, 9)), height: 8 };
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /proof.height 8 but a header of 9/,
  },
  {
    why: 'a proof header certified by 2/3 or less of the older table',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        const b = chain.blocks[8]!;
        a.proof.certificate = certificateToJSON(
          certificateBy(b, [hex(A.validatorId), hex(B.validatorId), hex(E.validatorId)]),
        );
      },
      3,
    ),
    code: 'BAD_CERTIFICATE',
    match: /INSUFFICIENT_STAKE/,
  },
  {
    why: "a forged set claiming epoch 5's place, its proof signed by itself",
    intercept: async (m, params, next) => {
      if (m === 'pos_getValidators' && params[0] === 5) {
        return forgedAnswer(
          5,
          forgers.map((f) => [f, 100n] as const),
          forgers,
        );
      }
      if (m === 'pos_getCertificate') return reSigned(TIP, {}, forgers);
      return next();
    },
    code: 'BAD_CERTIFICATE',
    match: /proving epoch 5's table\) does not verify against epoch 4's table: UNKNOWN_SIGNER/,
  },
  {
    why: 'the tip signed by keys of a set the wallet has not verified',
    intercept: async (m, _params, next) =>
      m === 'pos_getCertificate' ? reSigned(TIP, {}, forgers) : next(),
    code: 'BAD_CERTIFICATE',
    match: /against epoch 5's table: UNKNOWN_SIGNER/,
  },
  {
    why: "the tip signed by the previous epoch's set",
    intercept: async (m, _params, next) =>
      m === 'pos_getCertificate' ? reSigned(TIP, {}, membersOf(4)) : next(),
    code: 'BAD_CERTIFICATE',
    match: /UNKNOWN_SIGNER/,
  },
  {
    why: "the epoch's last header naming another set than the next verified table",
    intercept: async (m, _params, next) =>
      m === 'pos_getCertificate'
        ? reSigned(TIP, { validatorSetHash: validatorSetHash(chain.tables[5]!) }, membersOf(5))
        : next(),
    code: 'UNKNOWN_SET',
    match: /not epoch 6's verified table/,
  },
  {
    why: 'a mid-epoch header naming the next epoch set early',
    tip: 19,
    intercept: async (m, _params, next) =>
      m === 'pos_getCertificate'
        ? reSigned(19, { validatorSetHash: validatorSetHash(chain.tables[6]!) }, membersOf(5))
        : next(),
    code: 'UNKNOWN_SET',
    match: /height 19 names a validator set that is not epoch 5's/,
  },
  {
    why: 'a proof header naming a set that is not the table of its next round',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        const s = reSigned(8, { validatorSetHash: new Uint8Array(32).fill(9) }, membersOf(2));
        a.proof.header = s.header;
        a.proof.certificate = s.certificate;
      },
      3,
    ),
    code: 'UNKNOWN_SET',
    match: /proof header 8 commits to a validator set that is not epoch 2's table/,
  },
  {
    why: 'proof: null for epoch 3',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.proof = null;
      },
      3,
    ),
    code: 'UNKNOWN_SET',
    match: /no proof/,
  },
  {
    why: 'no proof field at all',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        delete a.proof;
      },
      1,
    ),
    code: 'UNKNOWN_SET',
    match: /no proof/,
  },
  {
    why: 'a JSON-RPC error for the next epoch (not provable yet)',
    intercept: async (m, params, next) => {
      if (m === 'pos_getValidators' && params[0] === 6) throw new RpcError(-32001, 'unknown epoch');
      return next();
    },
    code: 'UNKNOWN_SET',
    match: /no table of epoch 6/,
  },
  {
    why: 'a tip header of another chain (re-signed by the real set)',
    intercept: async (m, _params, next) =>
      m === 'pos_getCertificate'
        ? reSigned(TIP, { chainId: new Uint8Array(32).fill(1) }, membersOf(5))
        : next(),
    code: 'WRONG_CHAIN',
  },
  {
    why: 'a proof header of another chain (re-signed by the real set)',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        const s = reSigned(8, { chainId: new Uint8Array(32).fill(1) }, membersOf(2));
        a.proof.header = s.header;
        a.proof.certificate = s.certificate;
      },
      3,
    ),
    code: 'WRONG_CHAIN',
    match: /epoch 3's proof header/,
  },
  {
    why: "another epoch's answer",
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.epoch = 4;
      },
      3,
    ),
    code: 'BAD_ANSWER',
    match: /asked for epoch 3's table, got 4/,
  },
  {
    why: 'rounds of other epoch parameters',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.snapshotRound = 9;
      },
      3,
    ),
    code: 'BAD_ANSWER',
    match: /rounds/,
  },
  {
    why: 'a proof without a header',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        delete a.proof.header;
      },
      3,
    ),
    code: 'BAD_ANSWER',
  },
  {
    why: 'a trie proof that does not parse',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.proof.trieProof = { version: 2 };
      },
      3,
    ),
    code: 'BAD_PROOF',
    match: /trie proof/,
  },
  {
    why: 'an upper-case hex table',
    intercept: editing(
      'pos_getValidators',
      (a) => {
        a.encoded = a.encoded.toUpperCase().replace('0X', '0x');
      },
      3,
    ),
    code: 'BAD_ANSWER',
  },
];

for (const l of lies) {
  test(`refused: ${l.why} (${l.code})`, async () => {
    const tip = l.tip ?? TIP;
    const agent = fakeAgent(chain, tip);
    const c = client(agent);
    agent.intercept = l.intercept;
    await rejects((l.run ?? ((x) => x.certifiedHeader()))(c), l.code, l.match);
    // The same client believes the honest agent afterwards: nothing false was
    // kept, and what it verified before the lie is the chain's.
    agent.intercept = undefined;
    assert.is((await c.certifiedHeader()).height, tip);
    for (let k = 0; k <= epochOfRound(tip + 1, P); k++) {
      assert.equal(ids(await c.validators(k)), ids(chain.tables[k]!), `epoch ${k}`);
    }
  });
}

test('a failed fetch does not poison a retry; verified tables are not fetched again', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  let failures = 1;
  agent.intercept = async (m, params, next) => {
    if (m === 'pos_getValidators' && params[0] === 3 && failures-- > 0) {
      const a = (await next()) as Json;
      return { ...a, proof: null };
    }
    return next();
  };
  // Two concurrent callers share the one failing fetch.
  const [x, y] = await Promise.allSettled([c.certifiedHeader(), c.validators(4)]);
  for (const r of [x, y]) {
    assert.is(r.status, 'rejected');
    assert.is(((r as PromiseRejectedResult).reason as WalletError).code, 'UNKNOWN_SET');
  }
  assert.equal(
    [...agent.validatorCalls()],
    [
      [1, 1],
      [2, 1],
      [3, 1],
    ],
  );
  const h = await c.certifiedHeader();
  assert.is(h.epoch, 5);
  assert.equal(
    [...agent.validatorCalls()],
    [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 1],
      [5, 1],
      [6, 1],
    ],
  );
});

test('concurrent callers fetch each table once', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  const all = await Promise.all([
    ...Array.from({ length: 6 }, () => c.certifiedHeader()),
    c.validators(6),
    c.validators(3),
    c.balance(chain.owner.publicKey),
    c.receipt(chain.tx1),
  ]);
  assert.is(all.length, 10);
  assert.equal(
    [...agent.validatorCalls()].sort((a, b) => a[0] - b[0]),
    [1, 2, 3, 4, 5, 6].map((k) => [k, 1]),
  );
});

// --- the walk's bound and pinned checkpoints ---------------------------------------

test('an absurd height costs no table fetch: UNKNOWN_SET before any request', async () => {
  const far = 2 ** 50;
  const agent = fakeAgent(chain);
  agent.intercept = async (m, _params, next) => {
    if (m === 'pos_status') return { lastCertifiedHeight: far };
    if (m === 'pos_getCertificate') return reSigned(TIP, { height: far }, forgers);
    return next();
  };
  await rejects(client(agent).certifiedHeader(), 'UNKNOWN_SET', /epochs past the last verified/);
  assert.is(agent.validatorCalls().size, 0);
});

test('maxEpochWalk bounds one call; tables verified by earlier calls count as progress', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent, { maxEpochWalk: 3 });
  await rejects(c.certifiedHeader(), 'UNKNOWN_SET', /5 epochs past the last verified table \(0\)/);
  assert.is(agent.validatorCalls().size, 0);
  assert.is((await c.validators(3)).epoch, 3);
  assert.is((await c.certifiedHeader()).epoch, 5);
  for (const bad of [0, -1, 1.5]) {
    try {
      client(agent, { maxEpochWalk: bad });
      assert.unreachable('maxEpochWalk');
    } catch (e) {
      assert.is((e as WalletError).code, 'BAD_ARGUMENT');
    }
  }
});

test('a pinned checkpoint: epoch 3 trusted, only later tables fetched, earlier refused', async () => {
  const pinned: WalletTrust = {
    chainId: chain.chainId,
    validators: tables[2]!.map(([m, stake]) => ({ publicKey: m.publicKey, stake })),
    lag: LAG,
    epochLength: EPOCH,
    epoch: 3,
  };
  const agent = fakeAgent(chain);
  const c = client(agent, { trust: pinned });
  const h = await c.certifiedHeader();
  assert.is(h.epoch, 5);
  assert.equal(
    [...agent.validatorCalls()],
    [
      [4, 1],
      [5, 1],
      [6, 1],
    ],
  );
  assert.equal((await c.validators(3)).provenance, { kind: 'anchor' });
  await rejects(c.validators(2), 'UNKNOWN_SET', /precedes the trust anchor's epoch 3/);
  // A head before the checkpoint is not verifiable from it.
  await rejects(client(fakeAgent(chain, 9), { trust: pinned }).certifiedHeader(), 'UNKNOWN_SET');
  // A wrong checkpoint (another table for epoch 3) verifies nothing after it.
  const wrong: WalletTrust = {
    ...pinned,
    validators: forgers.map((f) => ({ publicKey: f.publicKey, stake: 100n })),
  };
  await rejects(
    client(fakeAgent(chain), { trust: wrong }).certifiedHeader(),
    'BAD_CERTIFICATE',
    /proving epoch 4's table\) does not verify against epoch 3's table: UNKNOWN_SIGNER/,
  );
});

test('the trust anchor is checked: epoch parameters, epoch, chainId', () => {
  const agent = fakeAgent(chain);
  for (const bad of [
    { ...trust, lag: 0 },
    { ...trust, lag: 1.5 },
    { ...trust, epochLength: 0 },
    { ...trust, epochLength: undefined as unknown as number },
    { ...trust, epoch: -1 },
    { ...trust, chainId: new Uint8Array(31) },
  ]) {
    try {
      client(agent, { trust: bad });
      assert.unreachable(JSON.stringify(Object.keys(bad)));
    } catch (e) {
      assert.is((e as WalletError).code, 'BAD_ARGUMENT');
    }
  }
});

test('trustFromGenesis: chainId, epoch 0, lag and epoch length, names from the genesis', () => {
  assert.is(hex(trust.chainId), hex(chain.chainId));
  assert.is(trust.lag, LAG);
  assert.is(trust.epochLength, EPOCH);
  assert.is(trust.epoch, 0);
  assert.equal(ids(setOf(genesisTable)), ids(chain.tables[0]!));
  assert.equal(
    trust.validators.map((v) => [hex(v.publicKey), v.stake, v.name, v.endpoint]),
    chain.tables[0]!.validators.map((v) => {
      const m = chain.members.get(hex(v.validatorId))!;
      return [hex(v.publicKey), v.stake, m.name, m.endpoint];
    }),
  );
});

// --- the supermajority rule, against every verified table -----------------------------

/** Subsets of `members` by bitmask. */
const subset = (members: readonly Member[], mask: number) =>
  members.filter((_, i) => (mask >> i) & 1);
const stakeOf = (k: number, ms: readonly Member[]) =>
  specOf(k)
    .filter(([m]) => ms.includes(m))
    .reduce((a, [, s]) => a + s, 0n);

test('every subset of signers, at a height of every epoch: accepted iff > 2/3 of the stake', async () => {
  const agent = fakeAgent(chain);
  const c = client(agent);
  await c.certifiedHeader(); // every table verified once
  let accepted = 0;
  let refused = 0;
  for (let e = 0; e <= 5; e++) {
    const h = Math.min(firstRoundOf(e, P) + 1, TIP);
    agent.tip = h;
    const ms = membersOf(e);
    for (let mask = 1; mask < 1 << ms.length; mask++) {
      const signers = subset(ms, mask);
      agent.intercept = async (m, _params, next) =>
        m === 'pos_getCertificate'
          ? {
              height: h,
              header: blockHeaderToJSON(chain.blocks[h]!.header),
              certificate: certificateToJSON(
                certificateBy(
                  chain.blocks[h]!,
                  signers.map((s) => hex(s.validatorId)),
                ),
              ),
            }
          : next();
      const signed = stakeOf(e, signers);
      const total = sum(specOf(e));
      const ok = 3n * signed > 2n * total;
      try {
        const head = await c.certifiedHeader();
        assert.ok(ok, `epoch ${e}: ${signed} of ${total} accepted`);
        assert.is(head.signedStake, signed);
        assert.is(head.totalStake, total);
        accepted++;
      } catch (err) {
        assert.ok(!ok, `epoch ${e}: ${signed} of ${total} refused: ${(err as Error).message}`);
        assert.is((err as WalletError).code, 'BAD_CERTIFICATE');
        assert.match((err as Error).message, /INSUFFICIENT_STAKE/);
        refused++;
      }
    }
  }
  assert.ok(accepted > 10 && refused > 10, `${accepted} / ${refused}`);
});

test('property: a table is accepted only if its proof header has > 2/3 of the older table', async () => {
  let accepted = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 31 }),
      fc.boolean(),
      async (k, mask, withForger) => {
        const h = snapshotRoundOf(k, P)!;
        const by = epochOfRound(h, P);
        const ms = membersOf(by);
        const signers = subset(ms, mask % (1 << ms.length) || 1);
        const agent = fakeAgent(chain);
        // A forger's signature next to real ones: an unknown signer, refused whatever the stake.
        const cert = withForger
          ? certify(chain.blocks[h]!.header, [...signers, forgers[0]!])
          : certificateBy(
              chain.blocks[h]!,
              signers.map((s) => hex(s.validatorId)),
            );
        agent.intercept = editing(
          'pos_getValidators',
          (a) => {
            a.proof.certificate = certificateToJSON(cert);
          },
          k,
        );
        const signed = stakeOf(by, signers);
        const ok = !withForger && 3n * signed > 2n * sum(specOf(by));
        try {
          const t = await client(agent).validators(k);
          assert.ok(ok, `epoch ${k} accepted with ${signed}`);
          assert.equal(ids(t), ids(chain.tables[k]!));
          accepted++;
        } catch (err) {
          assert.ok(!ok, (err as Error).message);
          assert.is((err as WalletError).code, 'BAD_CERTIFICATE');
          assert.match(
            (err as Error).message,
            withForger ? /UNKNOWN_SIGNER/ : /INSUFFICIENT_STAKE/,
          );
          refused++;
        }
      },
    ),
    { numRuns: 80 },
  );
  assert.ok(accepted > 5 && refused > 5, `${accepted} / ${refused}`);
});

test('the header answer is parsed strictly before anything is fetched', async () => {
  const agent = fakeAgent(chain);
  agent.intercept = async (m, _params, next) => {
    if (m !== 'pos_getCertificate') return next();
    const a = (await next()) as Json;
    const h = blockHeaderFromJSON(a.header);
    return { ...a, header: { ...blockHeaderToJSON(h), extra: 1 } };
  };
  await rejects(client(agent).certifiedHeader(), 'BAD_ANSWER');
  assert.is(agent.validatorCalls().size, 0);
});

// --- freshness (docs/PROTOCOL.md 11) ------------------------------------------------

const tipTime = () => chain.blocks[TIP]!.header.timestamp;

test('freshness: the latest certified state is refused once older than maxStateAgeMs', async () => {
  const cases: Array<[ageMs: number, limitMs: number | undefined, ok: boolean]> = [
    [0, undefined, true],
    [DEFAULT_MAX_STATE_AGE_MS, undefined, true],
    [DEFAULT_MAX_STATE_AGE_MS + 1, undefined, false],
    [10_000, 10_000, true],
    [10_001, 10_000, false],
    [3_600_000, 24 * 3_600_000, true],
  ];
  for (const [ageMs, limitMs, ok] of cases) {
    const c = client(fakeAgent(chain), {
      nowMs: () => tipTime() + ageMs,
      ...(limitMs === undefined ? {} : { maxStateAgeMs: limitMs }),
    });
    if (ok) {
      assert.is((await c.certifiedHeader()).timestamp, tipTime());
      assert.is((await c.balance(chain.owner.publicKey)).timestamp, tipTime());
    } else {
      await rejects(c.certifiedHeader(), 'STALE_STATE', /\(height 21\) is \d+ s old/);
      await rejects(c.balance(chain.owner.publicKey), 'STALE_STATE');
      // A send starts from a verified balance: nothing is signed or submitted.
      await rejects(
        c.send({ secretKey: chain.owner.secretKey, to: chain.other, amount: 1n }),
        'STALE_STATE',
      );
    }
  }
});

test('freshness: an agent that stops at an old certified height is caught, a named height is not bounded', async () => {
  const hiding = fakeAgent(chain, 9); // serves the chain as of height 9 only
  const now = () => chain.blocks[9]!.header.timestamp + 6 * 60_000;
  await rejects(client(hiding, { nowMs: now }).balance(chain.owner.publicKey), 'STALE_STATE');
  // A receipt proven under a header the caller chose stays proven: no age limit.
  let clock = tipTime();
  const c = client(fakeAgent(chain), { nowMs: () => clock });
  const head = await c.certifiedHeader();
  clock += 3_600_000;
  assert.is((await c.receipt(chain.tx1, head)).receipt.status, 'committed');
  await rejects(c.receipt(chain.tx1), 'STALE_STATE');
});

test('freshness: a forged header is refused for what it is, not for its age', async () => {
  const agent = fakeAgent(chain);
  // The header's time moved back an hour: its hash, and so its certificate, no longer match.
  agent.intercept = editing('pos_getCertificate', (a) => {
    (a as { header: { timestamp: number } }).header.timestamp -= 3_600_000;
  });
  const c = client(agent, { nowMs: () => tipTime() });
  await rejects(c.certifiedHeader(), 'BAD_CERTIFICATE');
});

test('freshness: maxStateAgeMs must be a number >= 0', () => {
  for (const bad of [-1, Number.NaN, '60' as unknown as number]) {
    try {
      client(fakeAgent(chain), { maxStateAgeMs: bad });
      assert.unreachable(`accepted ${bad}`);
    } catch (e) {
      assert.is((e as WalletError).code, 'BAD_ARGUMENT');
    }
  }
});

test('checkAgentsCurrent: the agent furthest behind the newest head, beyond the lag', () => {
  const head = (height: number, timestamp: number) =>
    ({ height, timestamp }) as unknown as CertifiedHeader;
  const cases: Array<
    [heads: Array<[string, number]>, lagMs: number | undefined, behind: string | null]
  > = [
    [[['a', 1000]], undefined, null],
    [
      [
        ['a', 1000],
        ['b', 1000],
      ],
      undefined,
      null,
    ],
    [
      [
        ['a', 0],
        ['b', DEFAULT_MAX_AGENT_LAG_MS],
      ],
      undefined,
      null,
    ],
    [
      [
        ['a', 0],
        ['b', DEFAULT_MAX_AGENT_LAG_MS + 1],
      ],
      undefined,
      'a',
    ],
    [
      [
        ['a', 50_000],
        ['b', 90_000],
        ['c', 10_000],
      ],
      undefined,
      'c',
    ],
    [
      [
        ['a', 50_000],
        ['b', 90_000],
        ['c', 10_000],
      ],
      100_000,
      null,
    ],
    [
      [
        ['a', 5],
        ['b', 6],
      ],
      0,
      'a',
    ],
  ];
  for (const [hs, lagMs, behind] of cases) {
    const heads = hs.map(([name, t], i) => ({ name, head: head(i, t) }));
    try {
      checkAgentsCurrent(heads, lagMs);
      assert.is(behind, null, JSON.stringify(hs));
    } catch (e) {
      assert.is((e as WalletError).code, 'AGENT_BEHIND');
      assert.ok(behind !== null, JSON.stringify(hs));
      assert.match((e as Error).message, new RegExp(`^${behind}'s certified head`));
    }
  }
});

// --- outpoints (docs/PROTOCOL.md 6.3, 11) -------------------------------------------

test('outpoint: unspent with its output, spent with the height, unknown: each proven', async () => {
  const c = client(fakeAgent(chain));
  const g0 = genesisOutpoint(chain.chainId, 0);
  const spent = await c.outpoint(g0);
  assert.is(spent.status, 'spent');
  assert.is(spent.spentHeight, 3);
  assert.is(spent.output, undefined);
  assert.is(spent.height, TIP);
  // Before the spend (an agent whose latest certified block is 2), it was unspent.
  const before = await client(fakeAgent(chain, 2)).outpoint(g0);
  assert.is(before.status, 'unspent');
  assert.is(before.output!.amount, 100n);
  assert.is(hex(before.output!.owner), hex(chain.owner.publicKey));
  const paid = await c.outpoint({ txHash: chain.tx1, index: 0 });
  assert.is(paid.status, 'unspent');
  assert.is(paid.output!.amount, 30n);
  assert.is(hex(paid.output!.owner), hex(chain.other));
  for (const op of [
    { txHash: chain.tx1, index: 2 },
    { txHash: new Uint8Array(32).fill(9), index: 0 },
  ]) {
    assert.is((await c.outpoint(op)).status, 'unknown');
  }
  // At a header the caller holds.
  const head = await client(fakeAgent(chain, 2)).certifiedHeader();
  await rejects(c.outpoint(g0, head), 'BAD_ARGUMENT');
  for (const bad of [
    { txHash: new Uint8Array(31), index: 0 },
    { txHash: chain.tx1, index: 65536 },
    { txHash: chain.tx1, index: -1 },
    null,
  ]) {
    await rejects(c.outpoint(bad as never), 'BAD_ARGUMENT');
  }
});

test('outpoint: a lying agent is refused, whatever it claims', async () => {
  const g0 = genesisOutpoint(chain.chainId, 0);
  const paid = { txHash: chain.tx1, index: 0 };
  const unknownOp = { txHash: chain.tx1, index: 2 };
  const honestAt = async (op: typeof g0, h: number) =>
    (await fakeAgent(chain, h).honest('pos_getOutpoint', [hex(op.txHash), op.index, h])) as Json;
  const lies: Array<
    [name: string, op: typeof g0, edit: (a: Json) => unknown, code: WalletErrorCode]
  > = [
    [
      'a spent outpoint called unspent, with its old output',
      g0,
      async (a) => ({ ...(await honestAt(g0, 2)), height: a.height, stateRoot: a.stateRoot }),
      'BAD_PROOF',
    ],
    ['a spend moved to another height', g0, (a) => ({ ...a, spentHeight: 4 }), 'BAD_PROOF'],
    [
      'a spend after the certified block',
      g0,
      (a) => ({ ...a, spentHeight: TIP + 1 }),
      'BAD_ANSWER',
    ],
    ['a spent outpoint called unknown', g0, (a) => ({ ...a, status: 'unknown' }), 'BAD_PROOF'],
    [
      'an existing output denied',
      paid,
      (a) => ({ ...a, status: 'unknown', output: null }),
      'BAD_PROOF',
    ],
    [
      'an unknown outpoint called spent',
      unknownOp,
      (a) => ({ ...a, status: 'spent', spentHeight: 3 }),
      'BAD_PROOF',
    ],
    [
      'an output with a larger amount',
      paid,
      (a) => ({ ...a, output: { ...(a.output as Json), amount: '31' } }),
      'BAD_PROOF',
    ],
    [
      'an output of another owner',
      paid,
      (a) => ({ ...a, output: { ...(a.output as Json), owner: hex(chain.owner.publicKey) } }),
      'BAD_PROOF',
    ],
    ['no output proof', paid, (a) => ({ ...a, outputProof: null }), 'BAD_PROOF'],
    ['a malformed record proof', g0, (a) => ({ ...a, recordProof: { levels: 'x' } }), 'BAD_PROOF'],
    ['an unknown status', g0, (a) => ({ ...a, status: 'burned' }), 'BAD_ANSWER'],
    [
      'a malformed amount',
      paid,
      (a) => ({ ...a, output: { ...(a.output as Json), amount: '-1' } }),
      'BAD_ANSWER',
    ],
  ];
  for (const [name, op, edit, code] of lies) {
    const agent = fakeAgent(chain);
    agent.intercept = editing('pos_getOutpoint', edit);
    const e = await rejects(client(agent).outpoint(op), code);
    assert.ok(e, name);
  }
});

test.run();
