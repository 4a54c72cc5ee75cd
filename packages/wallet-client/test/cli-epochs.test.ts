// `pos-wallet` (cli/cli.ts) as real processes against an agent that serves
// the real chain of test/fake-chain.ts (set changes over epochs 0..6) over
// HTTP on 127.0.0.1: `validators [EPOCH]` prints the verified table and how
// it was proven, every stake line names its epoch, and a lying agent's
// answer is refused (exit 1, REFUSED (CODE)) with nothing of it shown. The
// CLI must be built (tsc -b).
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blockHeaderToJSON,
  certificateToJSON,
  genesisOutpoint,
  genesisToJSON,
  toHex,
  validatorSetHash,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildScenarioChain,
  type Chain,
  certify,
  type FakeAgent,
  fakeAgent,
  member,
} from './fake-chain.js';

const CLI = join(import.meta.dirname, '../dist/cli/cli.js');
const work = mkdtempSync(join(tmpdir(), 'pos-wallet-epochs-'));
const genesisFile = join(work, 'genesis.json');

const baseEnv: Record<string, string | undefined> = { ...process.env };
delete baseEnv.FORCE_COLOR;
for (const k of Object.keys(baseEnv)) if (k.startsWith('POS_')) delete baseEnv[k];

const forgers = [member('x1', 0x41), member('x2', 0x42)];

let chain: Chain;
let agent: FakeAgent;
let server: Server;
let url = '';

test.before(
  loud(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    chain = await buildScenarioChain();
    agent = fakeAgent(chain);
    writeFileSync(genesisFile, `${JSON.stringify(genesisToJSON(chain.genesis), null, 2)}\n`);
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (s: string) => (body += s));
      req.on('end', async () => {
        try {
          const r = await agent.fetch(`http://x${req.url}`, {
            method: 'POST',
            headers: {},
            body,
          });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(await r.json()));
        } catch (e) {
          res.writeHead(500);
          res.end(String(e));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }),
);

test.after(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; each run gets a wallet home of its own (no saved trust) unless `home` is given. */
function wallet(args: string[], home = mkdtempSync(join(work, 'home-'))): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, ...args, '--genesis', genesisFile, '--rpc', url, '--testnet', join(work, 'none')],
      { cwd: work, env: { ...baseEnv, POS_WALLET_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const show = (args: string[], r: Run) =>
  `pos-wallet ${args.join(' ')} -> ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function ok(args: string[]): Promise<Run> {
  const r = await wallet(args);
  assert.is(r.code, 0, show(args, r));
  return r;
}

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output
async function okJSON(args: string[]): Promise<any> {
  const r = await ok([...args, '--json']);
  const j = JSON.parse(r.stdout);
  assert.is(j.ok, true, show(args, r));
  return j;
}

const idsOf = (k: number) =>
  chain.tables[k]!.validators.map((v) => [toHex(v.validatorId), v.stake.toString()]);

test('validators 3 --json: the chain table, proven at block 8 by epoch 2, the path from genesis', async () => {
  agent.intercept = undefined;
  const j = await okJSON(['validators', '3']);
  assert.is(j.epoch, 3);
  assert.is(j.firstRound, 10);
  assert.is(j.lastRound, 13);
  assert.is(j.snapshotRound, 8);
  assert.is(j.totalStake, '410');
  assert.is(j.validatorSetHash, toHex(validatorSetHash(chain.tables[3]!)));
  assert.equal(
    j.validators.map((v: { validatorId: string; stake: string }) => [v.validatorId, v.stake]),
    idsOf(3),
  );
  assert.is(j.namesVerified, false);
  assert.is(j.provenance.kind, 'proof');
  assert.is(j.provenance.height, 8);
  assert.is(j.provenance.certifiedBy, 2);
  assert.is(j.provenance.stateRoot, toHex(chain.roots[8]!));
  assert.equal(
    j.path.map((p: { epoch: number; kind: string; height?: number; certifiedBy?: number }) => [
      p.epoch,
      p.kind,
      p.height,
      p.certifiedBy,
    ]),
    [
      [0, 'anchor', undefined, undefined],
      [1, 'proof', 0, 0],
      [2, 'proof', 4, 1],
      [3, 'proof', 8, 2],
    ],
  );
});

test('validators 3: what was verified, in words', async () => {
  agent.intercept = undefined;
  const r = await ok(['validators', '3']);
  for (const re of [
    /^epoch {5}3: rounds 10\.\.13, taken after round 8$/m,
    /^table {5}4 validators, total stake 410, set hash 0x/m,
    /^ {2}validatorId +stake +share +name +endpoint$/m,
    /^ {2}0x[0-9a-f]{16}… +150 +36\.5% {2}alpha +127\.0\.0\.1:9001$/m,
    /in the state of block 8 \(state root 0x/,
    /block 8 certified by\n {10}460 of 460 stake \(100\.0%, more than 2\/3\) of epoch 2's validator set/,
    /epoch 0: the trust anchor \(.*genesis\.json\)/,
    /epoch 1: in the state of block 0, certified by epoch 0's set \(100\.0% of its stake\)/,
    /epoch 3: in the state of block 8, certified by epoch 2's set/,
    /^names {5}as the agent lists them: not in the committed table, not verified$/m,
  ]) {
    assert.match(r.stdout, re, r.stdout);
  }
  assert.is(r.stderr, '');
});

test('validators: the default is the table signing the next block (epoch 6); 0 is the anchor', async () => {
  agent.intercept = undefined;
  const j = await okJSON(['validators']);
  assert.is(j.epoch, 6);
  assert.equal(
    j.validators.map((v: { validatorId: string; stake: string }) => [v.validatorId, v.stake]),
    idsOf(6),
  );
  assert.is(j.path.length, 7);
  const z = await okJSON(['validators', '0']);
  assert.equal(z.provenance, { epoch: 0, kind: 'anchor' });
  assert.is(z.namesVerified, true);
  assert.equal(
    z.validators.map((v: { name: string; endpoint: string }) => [v.name, v.endpoint]),
    chain.tables[0]!.validators.map((v) => {
      const m = chain.members.get(toHex(v.validatorId))!;
      return [m.name, m.endpoint];
    }),
  );
  const h = await ok(['validators', '0']);
  assert.match(h.stdout, /^verified {2}the trust anchor's own table \(/m);
  assert.match(h.stdout, /^names {5}as the trust anchor names them$/m);
});

test('balance and verify name the epoch whose table signed', async () => {
  agent.intercept = undefined;
  const owner = toHex(chain.owner.publicKey);
  const b = await ok(['balance', owner]);
  assert.match(b.stdout, /^balance {3}369 in 4 outputs/m);
  assert.match(b.stdout, /signed by 640 of 640 stake \(100\.0%, more than 2\/3\) of epoch 5's/);
  assert.match(b.stdout, /followed from the trust anchor /);
  const bj = await okJSON(['balance', owner]);
  assert.is(bj.epoch, 5);
  assert.is(bj.height, 21);
  const v = await ok(['verify']);
  assert.match(v.stdout, /height 21 \(certified \d+ s ago\), .* of epoch 5's validator set/);
  assert.is(typeof bj.timestamp, 'number');
  const vj = await okJSON(['verify']);
  assert.is(vj.agents[0].epoch, 5);
  const t = await okJSON(['verify', toHex(chain.tx1)]);
  assert.is(t.epoch, 5);
  assert.is(t.height, 3);
});

test('freshness: an old latest state is refused (STALE_STATE); --max-age must be whole seconds', async () => {
  agent.intercept = undefined;
  const owner = toHex(chain.owner.publicKey);
  // The tip is a second old: a zero bound refuses it, the default accepts it.
  const stale = await wallet(['balance', owner, '--max-age', '0']);
  assert.is(stale.code, 1, stale.stderr);
  assert.match(stale.stderr, /^REFUSED \(STALE_STATE\): verified, but not current: .*height 21/m);
  assert.not.match(stale.stdout, /369/);
  assert.is((await wallet(['balance', owner, '--max-age', '3600'])).code, 0);
  for (const bad of ['-1', '1.5', 'ten', '']) {
    const r = await wallet(['balance', owner, '--max-age', bad]);
    assert.is(r.code, 2, `--max-age ${bad}: ${r.stderr}`);
  }
});

test('freshness: verify catches an agent that hides its newer blocks (AGENT_BEHIND)', async () => {
  agent.intercept = undefined;
  // A second agent with the same, genuine chain, but which names height 9
  // (12 s before the tip) as its latest certified block.
  const hiding = fakeAgent(chain, 9);
  const second = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (x: string) => (body += x));
    req.on('end', async () => {
      const r = await hiding.fetch(`http://x${req.url}`, { method: 'POST', headers: {}, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(await r.json()));
    });
  });
  await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
  const url2 = `http://127.0.0.1:${(second.address() as AddressInfo).port}`;
  try {
    // Within the default 60 s the two are consistent and current.
    const okRun = await wallet(['verify', '--rpc', url2]);
    assert.is(okRun.code, 0, okRun.stderr);
    assert.match(
      okRun.stdout,
      /^current {3}every agent's certified head within 60 s of the newest/m,
    );
    const caught = await wallet(['verify', '--rpc', url2, '--max-lag', '5']);
    assert.is(caught.code, 1, caught.stdout);
    assert.match(
      caught.stderr,
      /^REFUSED \(AGENT_BEHIND\): .*\(height 9\) is 12 s behind .*\(height 21\)/m,
    );
  } finally {
    await new Promise((r) => second.close(r));
  }
});

test('verify-output: spent (in which block), unspent (its output), unknown; a lie refused', async () => {
  agent.intercept = undefined;
  const g0 = genesisOutpoint(chain.chainId, 0);
  const spent = await ok(['verify-output', `${toHex(g0.txHash)}:0`]);
  assert.match(spent.stdout, /^state {5}spent in block 3$/m);
  assert.match(
    spent.stdout,
    /its record \(spent, and when\), an inclusion proof under that state root/,
  );
  const paid = await okJSON(['verify-output', `${toHex(chain.tx1)}:0`]);
  assert.is(paid.status, 'unspent');
  assert.is(paid.output.amount, '30');
  assert.is(paid.output.owner, toHex(chain.other));
  assert.is(paid.height, 21);
  const none = await okJSON(['verify-output', `${toHex(chain.tx1)}:7`]);
  assert.is(none.status, 'unknown');
  assert.is(none.output, null);
  // An agent that calls the spent output unknown: refused, nothing shown.
  agent.intercept = async (m, _params, next) => {
    const a = (await next()) as Record<string, unknown>;
    return m === 'pos_getOutpoint' ? { ...a, status: 'unknown' } : a;
  };
  const lie = await wallet(['verify-output', `${toHex(g0.txHash)}:0`]);
  agent.intercept = undefined;
  assert.is(lie.code, 1);
  assert.match(lie.stderr, /^REFUSED \(BAD_PROOF\)/m);
  assert.not.match(lie.stdout, /state/);
  for (const bad of [
    [],
    ['0x12:0'],
    [`${toHex(chain.tx1)}:65536`],
    [`${toHex(chain.tx1)}:01`],
    [`${toHex(chain.tx1)}`],
  ]) {
    const r = await wallet(['verify-output', ...bad]);
    assert.is(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
  }
});

test('the wallet remembers what it verified: resumes with one table request, refuses an edited state', async () => {
  agent.intercept = undefined;
  const home = mkdtempSync(join(work, 'home-'));
  const owner = toHex(chain.owner.publicKey);
  const tablesAsked = () => agent.calls.filter((c) => c.method === 'pos_getValidators').length;
  let before = tablesAsked();
  const cold = await wallet(['balance', owner, '--json'], home);
  assert.is(cold.code, 0, cold.stderr);
  assert.is(tablesAsked() - before, 6); // epochs 1..6, from the genesis
  const files = readdirSync(home).sort();
  assert.equal(files.length, 2, files.join());
  const stateFile = join(home, files.find((f) => f.startsWith('trust-'))!);
  assert.is(statSync(stateFile).mode & 0o777, 0o600);
  assert.is(statSync(join(home, 'state.key')).mode & 0o777, 0o600);
  assert.is(JSON.parse(readFileSync(stateFile, 'utf8')).state.epoch, 5);

  before = tablesAsked();
  const warm = await wallet(['balance', owner, '--json'], home);
  assert.is(warm.code, 0, warm.stderr);
  assert.is(tablesAsked() - before, 1); // only epoch 6's, which the tip names
  assert.is(JSON.parse(warm.stdout).balance, JSON.parse(cold.stdout).balance);

  // Edited on disk: refused, with the way out; --fresh starts again and reseals.
  const sealed = readFileSync(stateFile, 'utf8');
  const o = JSON.parse(sealed);
  o.state.validators[0].stake = '999';
  writeFileSync(stateFile, JSON.stringify(o));
  const edited = await wallet(['balance', owner], home);
  assert.is(edited.code, 1);
  assert.match(
    edited.stderr,
    /^error \(BAD_TRUST_STATE\): the seal does not verify.*delete it, or pass --fresh/m,
  );
  assert.not.match(edited.stdout, /369/);
  const fresh = await wallet(['balance', owner, '--fresh'], home);
  assert.is(fresh.code, 0, fresh.stderr);
  assert.is(readFileSync(stateFile, 'utf8'), sealed); // the same state, sealed again
  // The validators command shows the path from the genesis whatever is saved.
  const v = await ok(['validators', '3']);
  assert.match(v.stdout, /epoch 0: the trust anchor/);
});

test('a lying agent is refused: exit 1, REFUSED (CODE), nothing of the answer shown', async () => {
  const table: [string, FakeAgent['intercept'], string[], string][] = [
    [
      'a forged epoch 3 table under the honest proof',
      async (m, params, next) => {
        // biome-ignore lint/suspicious/noExplicitAny: editing an answer
        const a = (await next()) as any;
        if (m === 'pos_getValidators' && params[0] === 3) a.validators[0].stake = '9999';
        return a;
      },
      ['validators', '3'],
      'BAD_PROOF',
    ],
    [
      'no proof for epoch 2',
      async (m, params, next) => {
        // biome-ignore lint/suspicious/noExplicitAny: editing an answer
        const a = (await next()) as any;
        if (m === 'pos_getValidators' && params[0] === 2) a.proof = null;
        return a;
      },
      ['balance', toHex(chain.owner.publicKey)],
      'UNKNOWN_SET',
    ],
    [
      'the tip signed by keys nobody verified',
      async (m, _params, next) => {
        if (m !== 'pos_getCertificate') return next();
        const header = chain.blocks[21]!.header;
        return {
          height: 21,
          header: blockHeaderToJSON(header),
          certificate: certificateToJSON(certify(header, forgers)),
        };
      },
      ['verify'],
      'BAD_CERTIFICATE',
    ],
    ['an epoch the agent does not know', undefined, ['validators', '99'], 'UNKNOWN_SET'],
  ];
  for (const [why, intercept, args, code] of table) {
    agent.intercept = intercept;
    const r = await wallet(args);
    assert.is(r.code, 1, `${why}\n${show(args, r)}`);
    assert.match(r.stderr, `REFUSED (${code}): the agent's answer did not verify`, why);
    assert.is(r.stdout, '', why);
    const j = await wallet([...args, '--json']);
    assert.is(j.code, 1, why);
    assert.is(JSON.parse(j.stdout).error.code, code, why);
  }
  agent.intercept = undefined;
});

test('validators usage errors: exit 2 before any request', async () => {
  const before = agent.calls.length;
  for (const [args, msg] of [
    [['validators', 'three'], /EPOCH must be a whole number/],
    [['validators', '-1'], /EPOCH must be a whole number/],
    [['validators', '03'], /EPOCH must be a whole number/],
    [['validators', '99999999999999999'], /EPOCH must be a whole number/],
    [['validators', '1', '2'], /at most one EPOCH/],
  ] as const) {
    const r = await wallet([...args]);
    assert.is(r.code, 2, show([...args], r));
    assert.match(r.stderr, msg);
    assert.match(r.stderr, /^error \(USAGE\)/);
  }
  assert.is(agent.calls.length, before);
});

test.run();
