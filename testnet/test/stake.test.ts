// Proof of share on a real 4-validator testnet (docs/PROTOCOL.md
// 6.5): `--demo-stake`'s walk-through run as a test. A new
// validator is registered, v0 re-hosts half of its stake to it, and the set
// changes exactly at the first round of the epoch whose snapshot holds both:
// not a round earlier (tables, certificates, events) and not later. Then a
// wallet that trusts only the genesis follows the change, and an agent that
// serves a forged set is refused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@pos/merkle';
import { generateValidatorKey } from '@pos/node';
import {
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  certificateToJSON,
  decodeValidatorSet,
  encodeValidatorSet,
  epochOfRound,
  type Genesis,
  genesisFromJSON,
  makeValidatorSet,
  signEd25519,
  type ValidatorSet,
  validatorSetHash,
  validatorSetToJSON,
  verifyCertificate,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { createWalletClient, trustFromGenesis, WalletError } from '@pos/wallet-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type DemoStakeReport, demoStake } from '../src/demo-stake.js';
import { startTestnet, type Testnet } from '../src/network.js';
import { rpcCall } from '../src/rpc.js';
import { lyingAgent, type Tamper } from './lying-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-stake-'));
let net: Testnet;
let genesis: Genesis;
let report: DemoStakeReport;
const lines: string[] = [];

async function result<T>(method: string, params: unknown[] = []): Promise<T> {
  const r = await rpcCall(net.layout.nodes[0]!.rpcUrl, method, params);
  if (r.error !== undefined) throw new Error(`${method}: ${r.error.message}`);
  return r.result as T;
}
const tableOf = async (k: number): Promise<ValidatorSet> =>
  decodeValidatorSet(
    fromHex((await result<{ encoded: string }>('pos_getValidators', [k])).encoded),
  );

test.before(
  loud(async () => {
    net = await startTestnet({ dir, basePort: 0, reset: true, loadOutputs: 300 });
    genesis = genesisFromJSON(JSON.parse(readFileSync(net.layout.genesis, 'utf8')));
    report = await demoStake(net, { say: (l) => lines.push(l), timeoutMs: 240_000 });
  }),
);

test.after(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the new validator is in the table of the expected epoch, and in no earlier one', async () => {
  const p = genesis.params;
  // The first snapshot round at or after the re-hosting block feeds that epoch.
  assert.is(report.epoch, Math.ceil(report.rehostedAt / p.epoch) + 1);
  assert.is(report.firstRound, (report.epoch - 1) * p.epoch + p.lag);
  const v4 = report.node.validatorId;
  for (let k = 0; k < report.epoch; k++) {
    const t = await tableOf(k);
    assert.not.ok(
      t.validators.some((v) => toHex(v.validatorId) === v4),
      `epoch ${k}`,
    );
  }
  const t = await tableOf(report.epoch);
  const mine = t.validators.find((v) => toHex(v.validatorId) === v4);
  assert.is(mine?.stake, BigInt(net.layout.nodes[0]!.stake) / 2n);
  assert.ok(lines.some((l) => l.includes(`epoch ${report.epoch} —`)));
});

test('headers and certificates switch sets exactly at the epoch boundary', async () => {
  const sets = new Map<number, ValidatorSet>();
  const setOf = async (round: number) => {
    const k = epochOfRound(round, genesis.params);
    if (!sets.has(k)) sets.set(k, await tableOf(k));
    return sets.get(k)!;
  };
  const v4 = report.node.validatorId;
  let before = 0;
  let after = 0;
  for (let h = report.rehostedAt; h <= report.firstRound + 12; h++) {
    const r = await rpcCall(net.layout.nodes[0]!.rpcUrl, 'pos_getCertificate', [h]);
    if (r.error !== undefined) continue;
    const c = r.result as { header: unknown; certificate: unknown };
    const header = blockHeaderFromJSON(c.header);
    const cert = certificateFromJSON(c.certificate);
    // Header h commits to the set of h + 1; its certificate is by the set of h.
    assert.is(toHex(header.validatorSetHash), toHex(validatorSetHash(await setOf(h + 1))), `${h}`);
    assert.ok(verifyCertificate(header, cert, await setOf(h)).ok, `certificate ${h}`);
    const byV4 = cert.signatures.some((s) => toHex(s.validatorId) === v4);
    if (h < report.firstRound) {
      assert.not.ok(byV4, `v4 signed block ${h}, before its epoch`);
      before++;
    } else {
      after++;
    }
  }
  assert.ok(before > 0 && after > 0, `blocks checked: ${before} before, ${after} after`);
  assert.ok(report.signedHeight >= report.firstRound);
});

test('the new validator creates events from its epoch on, and leads with its stake', async () => {
  const st = await rpcCall(report.node.rpcUrl, 'pos_status', []);
  const s = st.result as { validatorSet: { member: boolean; stake: string } };
  assert.is(s.validatorSet.member, true);
  assert.is(
    s.validatorSet.stake,
    report.set.validators.find((v) => v.name === report.node.name)?.stake,
  );
  const dag = await result<{ events: { creator: string }[] }>('pos_getDag', [
    report.firstRound,
    report.firstRound + 8,
  ]);
  assert.ok(
    dag.events.some((e) => e.creator === report.node.publicKey),
    'no v4 event',
  );
});

test('a wallet that trusts the genesis follows the set change', async () => {
  const client = createWalletClient({ url: report.node.rpcUrl, trust: trustFromGenesis(genesis) });
  const owner = fromHex(net.layout.wallets[1]!.publicKey, 32);
  const b = await client.balance(owner);
  assert.ok(b.height >= report.firstRound, `verified at ${b.height}`);
  assert.is(b.totalStake, BigInt(report.set.totalStake));
  const t = await client.validators(report.epoch);
  assert.is(toHex(validatorSetHash(t)), toHex(validatorSetHash(await tableOf(report.epoch))));
});

// --- an agent that serves a forged set ---------------------------------------------------

/** Four keys of the agent's own: the forged set it claims for the new epoch. */
const forgers = Array.from({ length: 4 }, () => generateValidatorKey());
const forgedSet = () =>
  makeValidatorSet(forgers.map((k) => ({ publicKey: k.publicKey, stake: 1_000_000_000n })));

/** Replaces a pos_getValidators answer for the new epoch by `set` (proof kept or altered). */
function serveSet(r: Record<string, unknown>, set: ValidatorSet): void {
  r.encoded = toHex(encodeValidatorSet(set));
  r.validatorSetHash = toHex(validatorSetHash(set));
  r.validators = validatorSetToJSON(set).validators.map((v) => ({ ...v, name: '', endpoint: '' }));
}

/** Re-signs certificates from the new epoch on with the forged keys. */
function forgeCertificate(r: Record<string, unknown>): void {
  const header = blockHeaderFromJSON(r.header);
  if (header.height < report.firstRound) return;
  const blockHash = blockHashOf(header);
  const set = forgedSet();
  r.certificate = certificateToJSON({
    height: header.height,
    blockHash,
    signatures: set.validators.map((v) => ({
      validatorId: v.validatorId,
      signature: signEd25519(
        forgers.find((k) => toHex(k.publicKey) === toHex(v.publicKey))!.secretKey,
        blockHash,
      ),
    })),
  });
}

const lies: [string, Tamper][] = [
  [
    'a stake raised in the new table',
    (m, r) => {
      if (m !== 'pos_getValidators' || r.epoch !== report.epoch) return;
      const t = decodeValidatorSet(fromHex(r.encoded as string));
      serveSet(r, {
        validators: t.validators.map((v, i) => (i === 0 ? { ...v, stake: v.stake * 10n } : v)),
      });
    },
  ],
  [
    'a forged set, and certificates it signed',
    (m, r) => {
      if (m === 'pos_getValidators' && r.epoch === report.epoch) serveSet(r, forgedSet());
      if (m === 'pos_getCertificate') forgeCertificate(r);
    },
  ],
  [
    'certificates signed by a set the wallet never verified',
    (m, r) => m === 'pos_getCertificate' && forgeCertificate(r),
  ],
  [
    'the new table without its proof',
    (m, r) => m === 'pos_getValidators' && r.epoch === report.epoch && (r.proof = null),
  ],
  [
    'the table proven under a header of its own epoch (circular)',
    (m, r) => {
      if (m !== 'pos_getValidators' || r.epoch !== report.epoch) return;
      const p = r.proof as { height: number } | null;
      if (p !== null) p.height = report.firstRound;
    },
  ],
];

for (const [name, tamper] of lies) {
  test(`a lying agent: ${name} — refused`, async () => {
    const agent = await lyingAgent(net.layout.nodes[0]!.rpcUrl, tamper);
    try {
      const client = createWalletClient({ url: agent.url, trust: trustFromGenesis(genesis) });
      await client.balance(fromHex(net.layout.wallets[1]!.publicKey, 32));
      assert.unreachable('the wallet accepted a forged set');
    } catch (e) {
      if (!(e instanceof WalletError)) throw e;
      assert.ok(
        ['UNKNOWN_SET', 'BAD_PROOF', 'BAD_CERTIFICATE', 'BAD_ANSWER'].includes(e.code),
        `${e.code}: ${e.message}`,
      );
    } finally {
      await agent.close();
    }
  });
}

test.run();
