// The wallet client against a real 4-validator testnet, directly and
// through a lying agent: a proxy that tampers with one kind of answer.
// Every lie must be caught with a typed error; the truth must verify.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '@pos/merkle';
import { readKeyFile } from '@pos/node';
import { genesisFromJSON } from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import {
  type CertifiedHeader,
  createWalletClient,
  type FetchLike,
  trustFromGenesis,
  WalletError,
  type WalletTrust,
} from '@pos/wallet-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestnet, type Testnet } from '../src/network.js';
import { lyingAgent, type Tamper } from './lying-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-wallet-'));
let net: Testnet;
let trust: WalletTrust;

test.before(
  loud(async () => {
    net = await startTestnet({ dir, basePort: 0, reset: true });
    trust = trustFromGenesis(genesisFromJSON(JSON.parse(readFileSync(net.layout.genesis, 'utf8'))));
    // Wait for a first certified block on every node.
    const certified = async (url: string) => {
      const r = await fetch(`${url}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'pos_status' }),
      });
      const s = (await r.json()) as { result: { lastCertifiedHeight: number | null } };
      return s.result.lastCertifiedHeight !== null;
    };
    for (let t = 0; t < 300; t++) {
      const all = await Promise.all(net.layout.nodes.map((n) => certified(n.rpcUrl)));
      if (all.every(Boolean)) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error('no certified block');
  }),
);

test.after(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const demo = () => fromHex(net.layout.wallets[0]!.publicKey, 32);
/** The transfer the send test made (the receipt cases of the lying agent use it). */
let sentTx: Uint8Array | undefined;
let headerBeforeSend: CertifiedHeader | undefined;

/** The agent's latest certified header once its history is longer than `size` (nodes certify at their own pace). */
async function headerPast(url: string, size: number): Promise<CertifiedHeader> {
  const c = createWalletClient({ url, trust });
  for (let t = 0; t < 200; t++) {
    const h = await c.certifiedHeader();
    if (h.historySize > size) return h;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} certified nothing past history size ${size}`);
}

test('the truth verifies: a demo wallet holds 5,000,000 under a certified root', async () => {
  const w = createWalletClient({ url: net.layout.nodes[0]!.rpcUrl, trust });
  const b = await w.balance(demo());
  assert.is(b.balance, 5_000_000n);
  assert.is(b.outputs.length, 1004);
  assert.ok(3n * b.signedStake > 2n * b.totalStake);
  // Another node, same answer.
  const b2 = await createWalletClient({ url: net.layout.nodes[2]!.rpcUrl, trust }).balance(demo());
  assert.is(b2.balance, b.balance);
});

test('send: a transfer between demo wallets, its receipt proved under a certified history root', async () => {
  const w = createWalletClient({ url: net.layout.nodes[1]!.rpcUrl, trust });
  const from = await readKeyFile(net.layout.wallets[0]!.keyFile);
  const to = fromHex(net.layout.wallets[1]!.publicKey, 32);
  const before = (await w.balance(to)).balance;
  const r = await w.send({ secretKey: from.secretKey, to, amount: 1_234_567n });
  sentTx = r.txHash;
  assert.is(r.receipt.status, 'committed');
  assert.ok(r.certifiedHeight >= r.height);
  assert.ok(3n * r.signedStake > 2n * r.totalStake);
  // The receipt is provable again later (idempotent by hash), and the money arrived.
  assert.is((await w.receipt(r.txHash)).receipt.status, 'committed');
  assert.is((await w.balance(to)).balance, before + 1_234_567n);
  // A header between two sends, for the consistency checks below.
  headerBeforeSend = await w.certifiedHeader();
  assert.ok(headerBeforeSend.historySize >= 1);
  const r2 = await w.send({ secretKey: from.secretKey, to, amount: 1n });
  assert.is(r2.receipt.status, 'committed');
  try {
    await w.send({ secretKey: from.secretKey, to, amount: 10n ** 12n });
    assert.unreachable();
  } catch (e) {
    assert.is((e as WalletError).code, 'BAD_ARGUMENT', 'more than the verified balance');
  }
});

test('consistency: two agents certified histories extend one another', async () => {
  const a = createWalletClient({ url: net.layout.nodes[0]!.rpcUrl, trust });
  const b = createWalletClient({ url: net.layout.nodes[3]!.rpcUrl, trust });
  await a.consistentWith(b);
  // A header from before the send against one after it: a real proof.
  const after = await headerPast(net.layout.nodes[3]!.rpcUrl, headerBeforeSend!.historySize);
  await a.verifyConsistency(headerBeforeSend!, after);
  await b.verifyConsistency(after, headerBeforeSend!);
  // Two headers of one size with different roots cannot both be true.
  try {
    await a.verifyConsistency(after, { ...after, historyRoot: new Uint8Array(32).fill(6) });
    assert.unreachable();
  } catch (e) {
    assert.is((e as WalletError).code, 'BAD_PROOF');
  }
});

type Outs = { amount: string; outpoint: { txHash: string; index: number } }[];
const table: [string, Tamper, string, ('balance' | 'receipt' | 'consistency')?][] = [
  [
    'an amount changed',
    (m, r) => m === 'pos_getOutputs' && ((r.outputs as Outs)[0]!.amount = '999999999'),
    'BAD_PROOF',
  ],
  ['an output dropped', (m, r) => m === 'pos_getOutputs' && (r.outputs as Outs).pop(), 'BAD_PROOF'],
  [
    'an output added',
    (m, r) => {
      if (m !== 'pos_getOutputs') return;
      const o = r.outputs as Outs;
      o.push({ ...o[0]!, outpoint: { ...o[0]!.outpoint, index: 7 } });
    },
    'BAD_PROOF',
  ],
  [
    'a truncated proof',
    (m, r) => m === 'pos_getOutputs' && (r.proof as { levels: unknown[] }).levels.pop(),
    'BAD_PROOF',
  ],
  [
    'signatures short of 2/3 of the stake',
    (m, r) => {
      if (m !== 'pos_getCertificate') return;
      const c = r.certificate as { signatures: unknown[] };
      c.signatures = c.signatures.slice(0, 1);
    },
    'BAD_CERTIFICATE',
  ],
  [
    'a header that is not the certified one',
    (m, r) => {
      if (m !== 'pos_getCertificate') return;
      const h = r.header as { stateRoot: string };
      h.stateRoot = `0x${'11'.repeat(32)}`;
    },
    'BAD_CERTIFICATE',
  ],
  [
    'a receipt turned from rejected to committed (or back)',
    (m, r) => {
      if (m !== 'pos_getTransaction' || r.receipt === undefined) return;
      const rc = r.receipt as { status: string; reason?: string };
      if (rc.status === 'committed') {
        rc.status = 'rejected';
        rc.reason = 'INPUT_SPENT';
      } else {
        rc.status = 'committed';
        delete rc.reason;
      }
    },
    'BAD_PROOF',
    'receipt',
  ],
  [
    'a receipt of another transaction',
    (m, r) => {
      if (m === 'pos_getTransaction' && r.receipt !== undefined) {
        (r.receipt as { txHash: string }).txHash = `0x${'33'.repeat(32)}`;
      }
    },
    'BAD_PROOF',
    'receipt',
  ],
  [
    'an inclusion proof with a sibling changed',
    (m, r) => {
      if (m !== 'pos_getTransaction' || r.inclusionProof === undefined) return;
      const p = r.inclusionProof as { path: string[] };
      if (p.path.length > 0) p.path[0] = `0x${'44'.repeat(32)}`;
      else p.path.push(`0x${'44'.repeat(32)}`);
    },
    'BAD_PROOF',
    'receipt',
  ],
  [
    'a consistency proof with a node changed',
    (m, r) => {
      if (m !== 'pos_getConsistencyProof') return;
      const p = r as unknown as { path: string[] };
      if (p.path.length > 0) p.path[0] = `0x${'55'.repeat(32)}`;
    },
    'BAD_PROOF',
    'consistency',
  ],
  [
    'an old root under the new certificate (outputs of another height)',
    (m, r) => {
      if (m === 'pos_getOutputs') r.stateRoot = `0x${'22'.repeat(32)}`;
      if (m === 'pos_getOutputs') r.height = (r.height as number) - 1;
    },
    'BAD_ANSWER',
  ],
];

for (const [name, tamper, code, action = 'balance'] of table) {
  test(`a lying agent is caught: ${name} -> ${code}`, async () => {
    const agent = await lyingAgent(net.layout.nodes[0]!.rpcUrl, tamper);
    try {
      const w = createWalletClient({ url: agent.url, trust });
      try {
        if (action === 'receipt') await w.receipt(sentTx!);
        else if (action === 'consistency') {
          const now = await headerPast(net.layout.nodes[2]!.rpcUrl, headerBeforeSend!.historySize);
          await w.verifyConsistency(headerBeforeSend!, now);
        } else await w.balance(demo());
        assert.unreachable('the lie was accepted');
      } catch (e) {
        if (!(e instanceof WalletError)) throw e;
        assert.is(e.code, code, e.message);
      }
    } finally {
      await agent.close();
    }
  });
}

test('another chain: the same agent under a wallet that trusts another chainId is WRONG_CHAIN', async () => {
  const w = createWalletClient({
    url: net.layout.nodes[0]!.rpcUrl,
    trust: { ...trust, chainId: new Uint8Array(32).fill(5) },
  });
  try {
    await w.balance(demo());
    assert.unreachable();
  } catch (e) {
    assert.is((e as WalletError).code, 'WRONG_CHAIN');
  }
});

test('a forged validator set: certificates signed by keys the wallet does not trust are refused', async () => {
  const w = createWalletClient({
    url: net.layout.nodes[0]!.rpcUrl,
    trust: {
      ...trust,
      validators: trust.validators.map((v, i) => ({
        ...v,
        publicKey: i === 0 ? new Uint8Array(32).fill(3) : v.publicKey,
      })),
    },
  });
  try {
    await w.balance(demo());
    assert.unreachable();
  } catch (e) {
    assert.ok(
      ['BAD_CERTIFICATE', 'UNKNOWN_SET'].includes((e as WalletError).code),
      (e as Error).message,
    );
  }
});

test('send retries safely: a lost submission is sent again, same bytes, paid once', async () => {
  const from = await readKeyFile(net.layout.wallets[2]!.keyFile);
  const to = fromHex(net.layout.wallets[1]!.publicKey, 32);
  const url = net.layout.nodes[0]!.rpcUrl;
  // 'before': the connection fails before the agent has it; 'after': the
  // agent has it and the answer is lost. Either way one payment.
  for (const when of ['before', 'after'] as const) {
    let lost = 0;
    const flaky: FetchLike = async (u, init) => {
      if (
        lost === 0 &&
        (JSON.parse(init.body) as { method: string }).method === 'pos_sendTransaction'
      ) {
        lost++;
        if (when === 'after') await fetch(u, init);
        throw new Error('socket hang up');
      }
      return fetch(u, init);
    };
    const w = createWalletClient({ url, trust, fetch: flaky });
    const before = (await w.balance(to)).balance;
    const r = await w.send({ secretKey: from.secretKey, to, amount: 777n });
    assert.is(lost, 1, when);
    assert.is(r.receipt.status, 'committed', when);
    const after = await headerPast(url, r.historySize - 1);
    assert.ok(after.height >= r.height);
    assert.is((await w.balance(to)).balance, before + 777n, `${when}: paid once`);
  }
});

test.run();
