/**
 * How long the wallet takes to verify a balance answer in Node (issue 5,
 * wallet point 7): a real 4-validator testnet answers once; the answers
 * are recorded and replayed to `createWalletClient(...).balance()` through
 * an injected fetch, so the rows time verification alone (certificate:
 * signatures under @noble/curves, the wallet's verifier; proof: rebuilding
 * the owner's entries and the completeness proof), not the network.
 *
 *   pnpm --filter @pos/testnet bench:wallet [--runs 30]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '@pos/merkle';
import { genesisFromJSON } from '@pos/protocol';
import { createWalletClient, type FetchLike, trustFromGenesis } from '@pos/wallet-client';
import { startTestnet } from '../src/network.js';
import { nodeApi } from '../src/rpc.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;
const dir = mkdtempSync(join(tmpdir(), 'pos-wallet-bench-'));
const net = await startTestnet({ dir, basePort: 0, reset: true });
try {
  const trust = trustFromGenesis(
    genesisFromJSON(JSON.parse(readFileSync(net.layout.genesis, 'utf8'))),
  );
  const url = net.layout.nodes[0]!.rpcUrl;
  const node = nodeApi(url);
  while ((await node.status()).lastCertifiedHeight === null) {
    await new Promise((res) => setTimeout(res, 200));
  }
  const rows: string[][] = [];
  const owners: [string, Uint8Array][] = [
    ['a validator (1 output)', fromHex(net.layout.nodes[0]!.publicKey, 32)],
    ['a demo wallet (1,004 outputs)', fromHex(net.layout.wallets[0]!.publicKey, 32)],
  ];
  for (const [label, owner] of owners) {
    // Record one live round of answers.
    const recorded = new Map<string, string>();
    const recording: FetchLike = async (u, init) => {
      const res = await fetch(u, init as RequestInit);
      const text = await res.text();
      recorded.set(JSON.parse(init.body).method, text);
      return { status: res.status, json: async () => JSON.parse(text) };
    };
    const live = await createWalletClient({ url, trust, fetch: recording }).balance(owner);
    const bytes =
      recorded.get('pos_getOutputs')!.length + recorded.get('pos_getCertificate')!.length;
    const replay: FetchLike = async (_u, init) => {
      const text = recorded.get(JSON.parse(init.body).method)!;
      return { status: 200, json: async () => JSON.parse(text) };
    };
    const w = createWalletClient({ url, trust, fetch: replay });
    await w.balance(owner); // warm-up
    const times: number[] = [];
    const certTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await w.certifiedHeader();
      certTimes.push(performance.now() - t);
      t = performance.now();
      await w.balance(owner);
      times.push(performance.now() - t);
    }
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    rows.push([
      label,
      String(live.outputs.length),
      `${(bytes / 1024).toFixed(1)}`,
      med(certTimes).toFixed(1),
      med(times).toFixed(1),
    ]);
  }
  process.stdout.write(
    `| owner | outputs | answers (KiB JSON) | certificate only, ms (median of ${runs}) | whole balance: certificate + completeness proof, ms |\n|---|---|---|---|---|\n`,
  );
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
