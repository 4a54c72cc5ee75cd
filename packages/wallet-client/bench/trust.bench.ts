/**
 * What a verified balance costs a wallet, cold (trusting only the genesis:
 * one table request and proof per epoch since) and warm (resuming from the
 * trust state it saved, docs/PROTOCOL.md 11.2), on chains 1, 10 and 100
 * epochs long: requests, bytes on the wire (request bodies and answers as
 * JSON text) and time. The chains are test/fake-chain.ts's: real headers,
 * certificates, tries and proofs served in process (no network latency), 4
 * validators whose stakes shift every epoch (so every table differs).
 *
 *   tsx bench/trust.bench.ts [--epochs 1,10,100]
 */
import { performance } from 'node:perf_hooks';
import {
  createWalletClient,
  type FetchLike,
  openTrustState,
  sealTrustState,
  trustFromGenesis,
  type WalletTrust,
} from '../src/index.js';
import { buildChain, crew, fakeAgent, type TableSpec } from '../test/fake-chain.js';

const LAG = 2;
const EPOCH = 4;

function parseEpochs(argv: string[]): number[] {
  const i = argv.indexOf('--epochs');
  if (i < 0) return [1, 10, 100];
  const v = (argv[i + 1] ?? '').split(',').map(Number);
  if (v.length === 0 || v.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    process.stderr.write('usage: tsx bench/trust.bench.ts [--epochs 1,10,100]\n');
    process.exit(2);
  }
  return v;
}

/** The agent's fetch, counting requests and bytes both ways. */
function counting(f: FetchLike) {
  const c = { requests: 0, bytes: 0 };
  const fetch: FetchLike = async (url, init) => {
    c.requests++;
    c.bytes += init.body.length;
    const r = await f(url, init);
    const json = await r.json();
    c.bytes += JSON.stringify(json).length;
    return { status: r.status, json: async () => json };
  };
  return { c, fetch };
}

async function measure(epochs: number) {
  const { A, B, C, D } = crew;
  // Epoch k's table: the same four, stakes shifted by k (every table differs).
  const tables: TableSpec[] = Array.from({ length: epochs + 2 }, (_, k) => [
    [A, 100n + BigInt(k % 7)],
    [B, 100n],
    [C, 100n + BigInt(k % 3)],
    [D, 100n],
  ]);
  // The tip: the first height of `epochs`' epoch, so that the chain spans that many.
  const tip = epochs * EPOCH;
  const chain = await buildChain({
    lag: LAG,
    epochLength: EPOCH,
    genesisTable: [
      [A, 100n],
      [B, 100n],
      [C, 100n],
      [D, 100n],
    ],
    tables,
    tip,
  });
  const genesis = trustFromGenesis(chain.genesis);
  const run = async (trust: WalletTrust) => {
    const { c, fetch } = counting(fakeAgent(chain).fetch);
    const client = createWalletClient({ url: 'http://agent.test/', trust, fetch });
    const t0 = performance.now();
    const b = await client.balance(chain.owner.publicKey);
    return { ...c, ms: performance.now() - t0, height: b.height, state: client.trustState() };
  };
  const cold = await run(genesis);
  const key = new Uint8Array(32).fill(7);
  const saved = sealTrustState(cold.state, key);
  const warm = await run(openTrustState(saved, key, genesis));
  if (warm.height !== cold.height) throw new Error('cold and warm disagree');
  return { epochs, tip, cold, warm, stateBytes: saved.length };
}

const rows: string[] = [];
for (const n of parseEpochs(process.argv.slice(2))) {
  process.stderr.write(`building a chain of ${n} epochs...\n`);
  const m = await measure(n);
  for (const [label, r] of [
    ['cold (from the genesis)', m.cold],
    ['warm (saved state)', m.warm],
  ] as const) {
    rows.push(
      `| ${m.epochs} | ${label} | ${r.requests} | ${r.bytes.toLocaleString('en-US')} | ${r.ms.toFixed(1)} |`,
    );
  }
  rows.push(
    `| ${m.epochs} | the saved state itself | – | ${m.stateBytes.toLocaleString('en-US')} | – |`,
  );
}
process.stdout.write(
  `| epochs | wallet | requests | bytes (JSON, both ways) | ms (in process) |\n|---:|---|---:|---:|---:|\n${rows.join('\n')}\n`,
);
