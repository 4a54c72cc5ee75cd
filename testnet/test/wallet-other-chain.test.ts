// Issue 5, wallet point 5: a lying agent that replays ANOTHER, REAL chain's
// data. Two networks run side by side: A (4 validators, the chain the wallet
// trusts) and B (1 validator, a genuine chain of its own with its own
// genesis, demo wallets and transfers). A proxy forwards the wallet's
// JSON-RPC to A's node 0 but answers some methods with B's (genuine,
// correctly signed) data, as is or re-labelled. Each replay must be caught
// with the exact typed error of the first check it breaks in client.ts; the
// same proxy telling the truth must verify.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@pos/merkle';
import { readKeyFile } from '@pos/node';
import {
  blockHashOf,
  blockHeaderFromJSON,
  blockHeaderToJSON,
  genesisFromJSON,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { listenLoopback } from '@pos/test-utils/ports';
import {
  type CertifiedHeader,
  createWalletClient,
  trustFromGenesis,
  type WalletClient,
  WalletError,
  type WalletErrorCode,
  type WalletTrust,
} from '@pos/wallet-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestnet, type Testnet } from '../src/network.js';

type Json = Record<string, unknown>;

const dirA = mkdtempSync(join(tmpdir(), 'pos-other-chain-a-'));
const dirB = mkdtempSync(join(tmpdir(), 'pos-other-chain-b-'));
let netA: Testnet | undefined;
let netB: Testnet | undefined;
let trustA: WalletTrust;
let trustB: WalletTrust;
/** A's node 0 (the proxy's upstream) and B's only node. */
let urlA: string;
let urlB: string;
/** A height certified on both chains (each has a block and a certificate there). */
let common: number;
/** Certified headers of A and of B after their first and second transfer. */
let hA1: CertifiedHeader;
let hA2: CertifiedHeader;
let hB1: CertifiedHeader;
let hB2: CertifiedHeader;
/** B's second transfer (the receipt replayed on A). */
let txB: Uint8Array;
/** A's second transfer (the positive control proves its receipt). */
let txA: Uint8Array;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One JSON-RPC call; throws on a JSON-RPC error. */
async function rpc(url: string, method: string, params: unknown[] = []): Promise<Json> {
  const r = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const a = (await r.json()) as { result?: Json; error?: { code: number; message: string } };
  if (a.error !== undefined) throw new Error(`${method} at ${url}: ${a.error.message}`);
  return a.result!;
}

const lastCertified = async (url: string) =>
  (await rpc(url, 'pos_status')).lastCertifiedHeight as number | null;

function trustOf(net: Testnet): WalletTrust {
  return trustFromGenesis(genesisFromJSON(JSON.parse(readFileSync(net.layout.genesis, 'utf8'))));
}

/** Waits (generously: a loaded 2-core machine) until every node of `net` certified a block. */
async function allCertified(net: Testnet): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const hs = await Promise.all(net.layout.nodes.map((n) => lastCertified(n.rpcUrl)));
    if (hs.every((h) => h !== null)) return;
    await sleep(200);
  }
  throw new Error(`${net.layout.chainId}: no certified block on every node`);
}

/** Two transfers between the demo wallets of `net` through its node 0, with the certified header after each. */
async function twoTransfers(net: Testnet, trust: WalletTrust) {
  const w = createWalletClient({ url: net.layout.nodes[0]!.rpcUrl, trust });
  const from = await readKeyFile(net.layout.wallets[0]!.keyFile);
  const to = fromHex(net.layout.wallets[1]!.publicKey, 32);
  const send = (amount: bigint) =>
    w.send({ secretKey: from.secretKey, to, amount, timeoutMs: 180_000 });
  assert.is((await send(1_000n)).receipt.status, 'committed');
  const h1 = await w.certifiedHeader();
  const r2 = await send(2_000n);
  assert.is(r2.receipt.status, 'committed');
  const h2 = await w.certifiedHeader();
  return { h1, h2, tx: r2.txHash };
}

test.before(
  loud(async () => {
    netA = await startTestnet({ dir: dirA, basePort: 0, reset: true });
    // B as cheap as it gets: one validator certifies its own blocks.
    netB = await startTestnet({
      dir: dirB,
      basePort: 0,
      reset: true,
      nodes: 1,
      stakes: '1',
      wallets: 2,
      loadOutputs: 0,
    });
    trustA = trustOf(netA);
    trustB = trustOf(netB);
    urlA = netA.layout.nodes[0]!.rpcUrl;
    urlB = netB.layout.nodes[0]!.rpcUrl;
    assert.is.not(netA.layout.chainId, netB.layout.chainId);
    await Promise.all([allCertified(netA), allCertified(netB)]);
    // Each chain's history log gets two receipts (the consistency cases need
    // non-empty logs, and B's at least as long as A's).
    const [a, b] = await Promise.all([twoTransfers(netA, trustA), twoTransfers(netB, trustB)]);
    ({ h1: hA1, h2: hA2, tx: txA } = a);
    ({ h1: hB1, h2: hB2, tx: txB } = b);
    assert.ok(0 < hA1.historySize && hA1.historySize < hA2.historySize, 'A: two history sizes');
    assert.ok(0 < hB1.historySize && hB1.historySize < hB2.historySize, 'B: two history sizes');
    // Nothing else is submitted: both logs end at one size (2), the relations
    // the consistency cases below rely on.
    assert.is(hA2.historySize, hB2.historySize);
    assert.is(hA1.historySize, hB1.historySize);
    // A height that both chains certified (searched down from the lower of the two latest).
    const top = Math.min((await lastCertified(urlA))!, (await lastCertified(urlB))!);
    for (let h = top; h >= 0; h--) {
      const both = await Promise.all([
        rpc(urlA, 'pos_getCertificate', [h]).catch(() => null),
        rpc(urlB, 'pos_getCertificate', [h]).catch(() => null),
      ]);
      if (both.every((c) => c !== null && c.header !== null)) {
        common = h;
        return;
      }
    }
    throw new Error('no height certified on both chains');
  }),
);

test.after(async () => {
  await Promise.all([netA?.stop(), netB?.stop()]);
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

const demoA = (i: number) => fromHex(netA!.layout.wallets[i]!.publicKey, 32);
const demoB = (i: number) => fromHex(netB!.layout.wallets[i]!.publicKey, 32);

/** How the proxy answers one method: from the call's params, the result it returns. */
type Answer = (params: unknown[]) => Promise<unknown>;

/**
 * A JSON-RPC proxy to A's node 0 that answers the methods of `answers`
 * itself (from B's data). An answer that throws becomes a JSON-RPC error,
 * which the wallet reports as AGENT_ERROR (a wrong setup shows up as a
 * wrong code, with the reason in the message).
 */
async function lyingAgent(answers: Record<string, Answer>) {
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const call = JSON.parse(body) as { id: unknown; method: string; params?: unknown[] };
    let out: string;
    try {
      const own = answers[call.method];
      out =
        own === undefined
          ? await (
              await fetch(`${urlA}/rpc`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body,
              })
            ).text()
          : JSON.stringify({ jsonrpc: '2.0', id: call.id, result: await own(call.params ?? []) });
    } catch (e) {
      out = JSON.stringify({
        jsonrpc: '2.0',
        id: call.id,
        error: { code: -32000, message: `proxy: ${(e as Error).message}` },
      });
    }
    res.setHeader('content-type', 'application/json');
    res.end(out);
  });
  return listenLoopback(server);
}

// --- answers built from B ---------------------------------------------------------

/** B's answer to the same call. */
const fromB =
  (method: string): Answer =>
  (params) =>
    rpc(urlB, method, params);
/** A's status, naming the height both chains certified as the latest certified one. */
const statusAtCommon: Answer = async () => ({
  ...(await rpc(urlA, 'pos_status')),
  lastCertifiedHeight: common,
});
/** B's latest certified header re-labelled with A's chainId (and, if `repoint`, its certificate re-pointed at the new hash). */
const relabelled =
  (repoint: boolean): Answer =>
  async (params) => {
    const r = await rpc(urlB, 'pos_getCertificate', params);
    const header = { ...blockHeaderFromJSON(r.header), chainId: trustA.chainId };
    const cert = r.certificate as Json;
    return {
      ...r,
      header: blockHeaderToJSON(header),
      certificate: repoint ? { ...cert, blockHash: toHex(blockHashOf(header)) } : cert,
    };
  };
/** A's header and certificate of the asked height, with B's certificate of that height grafted in. */
const graftB =
  (repoint: boolean): Answer =>
  async (params) => {
    const [a, b] = await Promise.all([
      rpc(urlA, 'pos_getCertificate', params),
      rpc(urlB, 'pos_getCertificate', params),
    ]);
    const cb = b.certificate as Json;
    const ca = a.certificate as Json;
    return { ...a, certificate: repoint ? { ...cb, blockHash: ca.blockHash } : cb };
  };
/** B's outputs of the owner (at B's latest height), labelled with the height the wallet asked for. */
const outputsOfB: Answer = async ([owner, height]) => ({
  ...(await rpc(urlB, 'pos_getOutputs', [owner])),
  height,
});
/** B's outputs of the owner at a certified height of B that is not the one asked for. */
const outputsOfBAtItsHeight: Answer = async ([owner, height]) => {
  const last = (await lastCertified(urlB))!;
  return rpc(urlB, 'pos_getOutputs', [owner, last === height ? last - 1 : last]);
};

interface Lie {
  name: string;
  /** The methods the proxy answers from B; everything else is A's node 0 verbatim. */
  answers: Record<string, Answer>;
  /** What the wallet (trusting A, talking to the proxy) does. */
  call: (w: WalletClient) => Promise<unknown>;
  code: WalletErrorCode;
  /** For BAD_CERTIFICATE: the verifyCertificate failure the message must name. */
  why?: 'HASH_MISMATCH' | 'UNKNOWN_SIGNER';
}

const lies: Lie[] = [
  {
    name: "B's certificate for a height A names",
    answers: { pos_status: statusAtCommon, pos_getCertificate: fromB('pos_getCertificate') },
    call: (w) => w.balance(demoA(2)),
    code: 'WRONG_CHAIN',
  },
  {
    name: "B's status and certificate (B's latest certified block)",
    answers: { pos_status: fromB('pos_status'), pos_getCertificate: fromB('pos_getCertificate') },
    call: (w) => w.balance(demoA(2)),
    code: 'WRONG_CHAIN',
  },
  {
    name: "all of B: B's demo wallet under B's status, certificate and outputs",
    answers: {
      pos_status: fromB('pos_status'),
      pos_getCertificate: fromB('pos_getCertificate'),
      pos_getOutputs: fromB('pos_getOutputs'),
    },
    call: (w) => w.balance(demoB(1)),
    code: 'WRONG_CHAIN',
  },
  {
    name: "B's header re-labelled with A's chainId (its hash no longer the certified one)",
    answers: { pos_status: fromB('pos_status'), pos_getCertificate: relabelled(false) },
    call: (w) => w.balance(demoB(1)),
    code: 'BAD_CERTIFICATE',
    why: 'HASH_MISMATCH',
  },
  {
    name: "B's header re-labelled with A's chainId, B's certificate re-pointed at its new hash",
    answers: { pos_status: fromB('pos_status'), pos_getCertificate: relabelled(true) },
    call: (w) => w.balance(demoB(1)),
    code: 'BAD_CERTIFICATE',
    why: 'UNKNOWN_SIGNER',
  },
  {
    name: "A's header with B's certificate of the same height",
    answers: { pos_status: statusAtCommon, pos_getCertificate: graftB(false) },
    call: (w) => w.balance(demoA(2)),
    code: 'BAD_CERTIFICATE',
    why: 'HASH_MISMATCH',
  },
  {
    name: "A's header with B's signatures re-pointed at A's block hash",
    answers: { pos_status: statusAtCommon, pos_getCertificate: graftB(true) },
    call: (w) => w.balance(demoA(2)),
    code: 'BAD_CERTIFICATE',
    why: 'UNKNOWN_SIGNER',
  },
  {
    name: "B's outputs of B's demo wallet under A's certified header",
    answers: { pos_getOutputs: outputsOfB },
    call: (w) => w.balance(demoB(1)),
    code: 'BAD_PROOF',
  },
  {
    name: "B's proof that A's demo wallet owns nothing, under A's certified header",
    answers: { pos_getOutputs: outputsOfB },
    call: (w) => w.balance(demoA(2)),
    code: 'BAD_PROOF',
  },
  {
    name: "B's outputs at a height of B's (not the one asked)",
    answers: { pos_getOutputs: outputsOfBAtItsHeight },
    call: (w) => w.balance(demoB(1)),
    code: 'BAD_ANSWER',
  },
  {
    name: "B's receipt of B's transfer, with its inclusion proof, under A's certified header",
    answers: { pos_getTransaction: ([txHash]) => rpc(urlB, 'pos_getTransaction', [txHash]) },
    call: (w) => w.receipt(txB),
    code: 'BAD_PROOF',
  },
  {
    name: "B's consistency proof between two of A's certified history sizes",
    answers: { pos_getConsistencyProof: fromB('pos_getConsistencyProof') },
    call: (w) => w.verifyConsistency(hA1, hA2),
    code: 'BAD_PROOF',
  },
  {
    name: "consistentWith B's agent, B's header checked against A's trust",
    answers: {},
    call: (w) => w.consistentWith(createWalletClient({ url: urlB, trust: trustA })),
    code: 'WRONG_CHAIN',
  },
  {
    name: "consistentWith B's agent verified under B's own trust",
    answers: {},
    call: (w) => w.consistentWith(createWalletClient({ url: urlB, trust: trustB })),
    code: 'WRONG_CHAIN',
  },
  {
    name: "B's certified header of a smaller history against A's latest, A's proof",
    answers: {},
    call: (w) => w.verifyConsistency(hA2, hB1),
    code: 'WRONG_CHAIN',
  },
  {
    name: "B's certified header of a larger history against an older one of A, A's proof",
    answers: {},
    call: (w) => w.verifyConsistency(hA1, hB2),
    code: 'WRONG_CHAIN',
  },
  {
    // An empty log is consistent with every log, so without the chain check
    // this one passed.
    name: "B's header of an empty history against A's latest",
    answers: {},
    call: (w) => w.verifyConsistency(hA2, { ...hB1, historySize: 0 }),
    code: 'WRONG_CHAIN',
  },
];

test('the truth verifies: through the proxy untampered, and B on its own trust', async () => {
  const agent = await lyingAgent({});
  try {
    const w = createWalletClient({ url: agent.url, trust: trustA });
    const b = await w.balance(demoA(2));
    assert.is(b.balance, 5_000_000n);
    assert.is(b.outputs.length, 1004);
    assert.ok(3n * b.signedStake > 2n * b.totalStake);
    // The checks the receipt and consistency replays break hold for A's own data.
    assert.is((await w.receipt(txA)).receipt.status, 'committed');
    await w.verifyConsistency(hA1, hA2);
    await w.consistentWith(createWalletClient({ url: urlA, trust: trustA }));
  } finally {
    await agent.close();
  }
  // What is replayed below is genuine: B's data verifies under B's trust.
  const wb = createWalletClient({ url: urlB, trust: trustB });
  assert.is((await wb.balance(demoB(1))).balance, 4_003_000n);
  assert.is((await wb.receipt(txB)).receipt.status, 'committed');
  await wb.verifyConsistency(hB1, hB2);
});

for (const lie of lies) {
  test(`another chain's data is caught: ${lie.name} -> ${lie.code}`, async () => {
    const agent = await lyingAgent(lie.answers);
    try {
      const w = createWalletClient({ url: agent.url, trust: trustA });
      try {
        await lie.call(w);
        assert.unreachable('the replay was accepted');
      } catch (e) {
        if (!(e instanceof WalletError)) throw e;
        assert.is(e.code, lie.code, e.message);
        if (lie.why !== undefined) assert.ok(e.message.endsWith(lie.why), e.message);
      }
    } finally {
      await agent.close();
    }
  });
}

test.run();
