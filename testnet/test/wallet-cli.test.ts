// `pos-wallet` (pnpm wallet) as a user runs it: a real process against a
// real 4-validator testnet, from the directory that holds `.testnet` (the
// README's quick start), then against a lying agent. Includes the ledger's
// indexes (docs/PROTOCOL.md 6.6, 6.7): `history` lists a key's transactions
// proven complete by a state range proof, `name` registers a name, `resolve`
// proves who owns one, and `send --to alice@v0` pays a name's owner with the
// output hosted by the agent v0.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestnet, type Testnet } from '../src/network.js';
import { lyingAgent } from './lying-agent.js';

const CLI = join(import.meta.dirname, '../../packages/wallet-client/dist/cli/cli.js');
const work = mkdtempSync(join(tmpdir(), 'pos-wallet-cli-'));
const dir = join(work, '.testnet');
let net: Testnet;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `work` (so `.testnet` is found as in the quick start). */
function wallet(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: work,
        env: {
          ...process.env,
          POS_WALLET_PASSWORD: '',
          POS_WALLET_HOME: join(work, 'wallet-home'),
          ...env,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await wallet(args, env);
  assert.is(r.code, 0, `pos-wallet ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const json = async (args: string[], env: Record<string, string> = {}) =>
  JSON.parse(await ok([...args, '--json'], env)) as Record<string, unknown>;

/**
 * `args --json` until `done` holds: agents certify at their own pace, so
 * another agent may not have certified the block that a send just proved.
 */
async function eventually(
  args: string[],
  done: (j: Record<string, unknown>) => boolean,
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  for (let t = 0; ; t++) {
    const r = await wallet([...args, '--json'], env);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    if (done(j)) return j;
    if (t > 100) assert.unreachable(`pos-wallet ${args.join(' ')}: ${r.stdout}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

test.before(
  loud(async () => {
    mkdirSync(work, { recursive: true });
    net = await startTestnet({ dir, basePort: 0, reset: true });
    // Until every node has a certified block (a young network on a busy machine).
    for (let t = 0; ; t++) {
      const r = await wallet(['verify', '--json']);
      if (r.code === 0) return;
      if (t > 300) throw new Error(`no certified block: ${r.stdout} ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }),
);

test.after(async () => {
  await net?.stop();
  rmSync(work, { recursive: true, force: true });
});

const PASSWORD = { POS_WALLET_PASSWORD: 'quick-start-pw' };
let mine = '';
let keystore = '';
/** The transfer demo0 -> the keystore (7000). */
let firstTx = '';

/** Lines of a key file's journal (0 when it has none). */
const journalLines = (keyFile: string) => {
  const f = `${keyFile}.history.jsonl`;
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).length : 0;
};

interface HistoryRow {
  height: number;
  index: number;
  txHash: string;
  roles: string[];
  status: string;
  journal?: string;
}

test('balance: a demo wallet, verified, and the output says against what', async () => {
  const out = await ok(['balance', '--key', 'demo0']);
  assert.match(out, /^balance {3}5000000 in 1004 outputs of 0x[0-9a-f]{64}$/m);
  assert.match(out, /verified {2}at height \d+, block 0x[0-9a-f]+…, state root 0x[0-9a-f]+…/);
  assert.match(out, /completeness proof/);
  assert.match(out, /certificate signed by \d+ of 1015000000 stake \(\d+\.\d%, more than 2\/3\)/);
  assert.match(out, /trust anchor .*genesis\.json/);
  const j = await json(['balance', net.layout.wallets[1]!.publicKey, '--node', 'v2']);
  assert.is(j.ok, true);
  assert.is(j.balance, '5000000');
  assert.is(j.chainId, net.layout.chainId);
  assert.is(j.agent, net.layout.nodes[2]!.rpcUrl);
});

test('keygen, then send to it from a demo wallet: a receipt proved under a certified root', async () => {
  keystore = join(work, 'me.keystore');
  const k = await json(['keygen', '--out', keystore], PASSWORD);
  mine = k.address as string;
  assert.match(mine, /^0x[0-9a-f]{64}$/);
  const out = await ok(['send', '--key', 'demo0', '--to', mine, '--amount', '7000']);
  assert.match(out, /^sent {6}7000 to 0x[0-9a-f]{64} \(fee 1\)$/m);
  firstTx = /^tx {8}(0x[0-9a-f]{64})$/m.exec(out)![1]!;
  assert.match(out, /^committed at height \d+, index \d+$/m);
  assert.match(out, /receipt included in the history log \(size \d+, root 0x/);
  const b = await eventually(
    ['balance', '--key', keystore, '--node', '3'],
    (j) => j.ok === true && j.balance !== '0',
  );
  assert.is(b.balance, '7000');
});

test('send from the keystore (password from the environment), journaled, then history', async () => {
  const r = await json(['send', '--key', keystore, '--to', 'demo1', '--amount', '1000'], PASSWORD);
  assert.is(r.status, 'committed');
  const journal = readFileSync(`${keystore}.history.jsonl`, 'utf8').trim().split('\n');
  assert.is(journal.length, 1);
  assert.is(JSON.parse(journal[0]!).txHash, r.txHash);
  // Every transaction that touched the key, from the chain's index: what it
  // received (no journal line: another wallet sent it) and what it sent.
  const h = await json(['history', '--key', keystore]);
  const txs = h.transactions as HistoryRow[];
  assert.equal(
    txs.map((t) => [t.txHash, t.roles, t.status]),
    [
      [firstTx, ['paid'], 'committed'],
      [r.txHash, ['spent from', 'paid'], 'committed'],
    ],
  );
  assert.is(txs[0]!.journal, undefined);
  assert.match(txs[1]!.journal!, /^sent 1000 to 0x[0-9a-f]{16}… \(fee 1\)$/);
  assert.is(txs[1]!.height, r.height);
  assert.is(txs[1]!.index, r.index);
  assert.ok(txs[0]!.height < txs[1]!.height);
  // Proven: the whole range from height 0 to the certified block, under its root.
  assert.is(h.complete, true);
  assert.equal(h.provenFrom, { height: 0, index: 0 });
  const certified = h.certified as { height: number; stateRoot: string; signedStake: string };
  assert.is(h.provenTo, certified.height);
  assert.ok(certified.height >= (r.height as number));
  assert.match(certified.stateRoot, /^0x[0-9a-f]{64}$/);
  const human = await ok(['history', '--key', keystore]);
  assert.match(
    human,
    new RegExp(
      `^ +${r.height}:${r.index} +${(r.txHash as string).slice(0, 18)}… +spent from, paid +committed +sent 1000 to`,
      'm',
    ),
  );
  assert.match(
    human,
    /^proven {4}2 transactions: every one that touched the key from height 0 to the end of$/m,
  );
  assert.match(
    human,
    /none left out or added \(a state range proof under state root 0x[0-9a-f]+…$/m,
  );
  // And the receipt on its own, proved again by any agent.
  const v = await eventually(
    ['verify', r.txHash as string, '--node', 'v1'],
    (j) => (j.error as { code?: string } | undefined)?.code !== 'NOT_YET',
  );
  assert.is(v.status, 'committed');
});

test('a wrong password fails cleanly: nothing signed, nothing journaled', async () => {
  const r = await wallet(['send', '--key', keystore, '--to', 'demo1', '--amount', '1'], {
    POS_WALLET_PASSWORD: 'not-it',
  });
  assert.is(r.code, 2);
  assert.match(r.stderr, /BAD_PASSWORD/);
  assert.is(readFileSync(`${keystore}.history.jsonl`, 'utf8').trim().split('\n').length, 1);
});

test('verify: every agent certified, and their histories consistent', async () => {
  const out = await ok(['verify']);
  for (const n of net.layout.nodes) assert.match(out, new RegExp(`^${n.name} +height \\d+`, 'm'));
  assert.match(out, /^consistent every agent's certified history/m);
});

const demo = (i: number) => net.layout.wallets[i]!;
const node = (i: number) => net.layout.nodes[i]!;
/** The registration of `alice` (to demo2). */
let aliceAt = -1;

test('name register alice (fee 101), then resolve it, a genesis validator name, a free name', async () => {
  const before = journalLines(demo(2).keyFile);
  const r = await json(['name', 'register', 'alice', '--key', 'demo2']);
  assert.is(r.status, 'committed', JSON.stringify(r));
  assert.is(r.op, 'register');
  assert.is(r.name, 'alice');
  assert.is(r.owner, demo(2).publicKey);
  assert.is(r.fee, '101');
  aliceAt = r.height as number;
  // Journaled as any transaction the wallet signs.
  assert.is(journalLines(demo(2).keyFile), before + 1);
  const alice = await json(['resolve', 'alice']);
  assert.is(alice.owner, demo(2).publicKey);
  assert.is(alice.sinceHeight, aliceAt);
  assert.ok((alice.height as number) >= aliceAt);
  const human = await ok(['resolve', 'alice']);
  assert.match(
    human,
    new RegExp(
      `^owned {5}alice by ${demo(2).publicKey} since height ${aliceAt}: an inclusion proof of its record$`,
      'm',
    ),
  );
  assert.match(human, /^verified {2}under state root 0x[0-9a-f]+… of certified block \d+/m);
  // The genesis validators own their display names from height 0.
  for (const i of [0, 3]) {
    const v = await json(['resolve', `v${i}`, '--node', `v${i}`]);
    assert.is(v.owner, node(i).publicKey);
    assert.is(v.sinceHeight, 0);
  }
  // A free name: exit 0, proven free.
  const free = await wallet(['resolve', 'nobody']);
  assert.is(free.code, 0, free.stderr);
  assert.match(free.stdout, /^free {6}nobody is not registered: an exclusion proof of its key$/m);
  const freeJ = await json(['resolve', 'nobody']);
  assert.is(freeJ.owner, null);
  assert.is(freeJ.sinceHeight, null);
  // An address: both names, the agent's owner a validator.
  const addr = await json(['resolve', 'alice@v0']);
  assert.is(addr.owner, demo(2).publicKey);
  assert.is(addr.host, node(0).validatorId);
});

/** The send of 5 to alice@v0 (demo0 -> demo2, hosted by v0). */
let toAlice: Record<string, unknown> = {};
let toAliceV2: Record<string, unknown> = {};

test('send --to alice@v0: resolved with proofs first, the output hosted by the agent', async () => {
  toAlice = await json(['send', '--key', 'demo0', '--to', 'alice@v0', '--amount', '5']);
  assert.is(toAlice.status, 'committed');
  assert.is(toAlice.to, demo(2).publicKey);
  const resolved = toAlice.resolved as Record<string, unknown>;
  assert.is(resolved.address, 'alice@v0');
  assert.is(resolved.owner, demo(2).publicKey);
  assert.is(resolved.host, node(0).validatorId);
  assert.is(resolved.sinceHeight, aliceAt);
  // The demo wallets' outputs are hosted by v0 anyway: the agent's name must
  // choose the host, so another agent hosts the next one.
  const human = await ok(['send', '--key', 'demo0', '--to', 'alice@v2', '--amount', '3']);
  assert.match(
    human,
    new RegExp(`^resolved  alice@v2: alice is owned by ${demo(2).publicKey}`, 'm'),
  );
  toAliceV2 = { txHash: /^tx {8}(0x[0-9a-f]{64})$/m.exec(human)![1]! };
  const hostOf = (b: Record<string, unknown>, tx: unknown) =>
    (b.outputs as { txHash: string; index: number; amount: string; host: string }[]).filter(
      (o) => o.txHash === tx,
    );
  const b = await eventually(
    ['balance', demo(2).publicKey],
    (j) => j.ok === true && hostOf(j, toAliceV2.txHash).length > 0,
  );
  assert.equal(
    hostOf(b, toAlice.txHash).map((o) => [o.amount, o.host]),
    [['5', node(0).validatorId]],
  );
  assert.equal(
    hostOf(b, toAliceV2.txHash).map((o) => [o.amount, o.host]),
    [['3', node(2).validatorId]],
  );
});

test('history of the receiver: the transfers it received, though no journal of this copy has them', async () => {
  // Another copy of demo2's key, with no journal beside it.
  const copy = join(work, 'demo2-copy.key');
  copyFileSync(demo(2).keyFile, copy);
  assert.is(journalLines(copy), 0);
  const h = await eventually(
    ['history', '--key', copy],
    (j) =>
      j.ok === true && (j.transactions as HistoryRow[]).some((t) => t.txHash === toAliceV2.txHash),
  );
  const txs = h.transactions as HistoryRow[];
  const of = (tx: unknown) => txs.filter((t) => t.txHash === tx).map((t) => [t.roles, t.status]);
  assert.equal(of(toAlice.txHash), [[['paid'], 'committed']]);
  assert.equal(of(toAliceV2.txHash), [[['paid'], 'committed']]);
  // Its own name registration, signed by the other copy, is there too.
  const reg = txs.filter((t) => t.height === aliceAt && t.roles.includes('name'));
  assert.equal(
    reg.map((t) => t.roles),
    [['spent from', 'paid', 'name']],
  );
  for (const t of txs) assert.is(t.journal, undefined, 'this copy journaled nothing');
  assert.is(h.complete, true);
  assert.equal(h.provenFrom, { height: 0, index: 0 });
  // By address, with no key at all: the same transactions, proven.
  const byAddress = await json(['history', demo(2).publicKey]);
  assert.equal(
    (byAddress.transactions as HistoryRow[]).filter((t) => t.height <= (h.provenTo as number)),
    txs,
  );
});

test('a name is registered once: a second wallet is refused NAME_TAKEN, exit 1', async () => {
  const r = await wallet(['name', 'register', 'alice', '--key', 'demo1', '--json']);
  assert.is(r.code, 1, `${r.stdout} ${r.stderr}`);
  assert.match(r.stdout, /NAME_TAKEN/);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  // The agent's ledger checks it on submission (its receipt would say the
  // same had the first registration still been pending).
  if (j.ok === true) assert.equal([j.status, j.reason], ['rejected', 'NAME_TAKEN']);
  else assert.match((j.error as { message: string }).message, /NAME_TAKEN/);
  assert.is((await json(['resolve', 'alice'])).owner, demo(2).publicKey);
});

test('two wallets register the same name at once: one owns it, the other exits 1 NAME_TAKEN', async () => {
  const [a, b] = await Promise.all(
    [0, 1].map((i) => wallet(['name', 'register', 'bobby', '--key', `demo${i}`, '--json'])),
  );
  const runs = [a!, b!];
  const won = runs.map((r) => r.code === 0);
  assert.equal(won.filter(Boolean).length, 1, runs.map((r) => r.stdout).join('\n'));
  const loser = runs[won.indexOf(false)]!;
  assert.is(loser.code, 1, `${loser.stdout} ${loser.stderr}`);
  const j = JSON.parse(loser.stdout) as Record<string, unknown>;
  // Ordered in a block after the winner (a rejected receipt), or refused on
  // submission once the winner's block was in the agent's state.
  if (j.ok === true) assert.equal([j.status, j.reason], ['rejected', 'NAME_TAKEN']);
  else assert.match((j.error as { message: string }).message, /NAME_TAKEN/);
  const winner = demo(won.indexOf(true));
  assert.is(
    (await eventually(['resolve', 'bobby'], (x) => x.ok === true && x.owner !== null)).owner,
    winner.publicKey,
  );
});

test('names that break the rule: usage errors, exit 2, nothing signed', async () => {
  const before = journalLines(demo(1).keyFile);
  for (const args of [
    ['name', 'register', 'Alice', '--key', 'demo1'],
    ['name', 'register', 'admin', '--key', 'demo1'],
    ['name', 'register', 'x', '--key', 'demo1'],
  ]) {
    const r = await wallet(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error \(USAGE\): ".*" is not a name/);
  }
  // An address is never folded to lower case: refused, not paid to alice.
  const send = await wallet(['send', '--key', 'demo1', '--to', 'Alice@v0', '--amount', '1']);
  assert.is(send.code, 2, send.stderr);
  assert.match(send.stderr, /^error \(USAGE\): --to: wallet name "Alice": not a name/);
  assert.is(journalLines(demo(1).keyFile), before);
});

/** A lying agent: forwards to `target`, then lets `lie` rewrite the answer of one method. */
function liar(target: string, method: string, lie: (result: Record<string, unknown>) => void) {
  return new Promise<{ url: string; server: Server }>((resolve) => {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      const r = await fetch(`${target}${req.url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const answer = (await r.json()) as { result?: Record<string, unknown> };
      if ((JSON.parse(body) as { method: string }).method === method && answer.result) {
        lie(answer.result);
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    );
  });
}

test('a lying agent is refused: exit 1, REFUSED with the code, no balance shown', async () => {
  const genesis = join(dir, 'genesis.json');
  assert.ok(existsSync(genesis));
  const cases: {
    name: string;
    method: string;
    lie: (r: Record<string, unknown>) => void;
    code: string;
  }[] = [
    {
      name: 'an amount raised',
      method: 'pos_getOutputs',
      lie: (r) => {
        const o = (r.outputs as { amount: string }[])[0]!;
        o.amount = String(BigInt(o.amount) + 1n);
      },
      code: 'BAD_PROOF',
    },
    {
      name: 'an output dropped',
      method: 'pos_getOutputs',
      lie: (r) => {
        (r.outputs as unknown[]).pop();
      },
      code: 'BAD_PROOF',
    },
    {
      name: 'a certificate cut to one signature',
      method: 'pos_getCertificate',
      lie: (r) => {
        const c = r.certificate as { signatures: unknown[] };
        c.signatures = c.signatures.slice(0, 1);
      },
      code: 'BAD_CERTIFICATE',
    },
  ];
  for (const c of cases) {
    const { url, server } = await liar(net.layout.nodes[0]!.rpcUrl, c.method, c.lie);
    try {
      const r = await wallet(['balance', '--key', 'demo0', '--genesis', genesis, '--rpc', url]);
      assert.is(r.code, 1, `${c.name}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^REFUSED \\(${c.code}\\)`), c.name);
      assert.is(r.stdout, '', `${c.name}: nothing unverified is shown`);
      const j = await wallet([
        'balance',
        '--key',
        'demo0',
        '--genesis',
        genesis,
        '--rpc',
        url,
        '--json',
      ]);
      assert.equal(JSON.parse(j.stdout).error.code, c.code, c.name);
    } finally {
      server.close();
    }
  }
});

test('lying agents about the indexes are refused: exit 1, BAD_PROOF, nothing signed', async () => {
  const genesis = join(dir, 'genesis.json');
  const via = (url: string) => ['--genesis', genesis, '--rpc', url];
  // A history with an entry dropped (demo0 sent at least three transfers).
  const dropped = await lyingAgent(node(0).rpcUrl, (m, r) => {
    if (m === 'pos_getHistory') (r.entries as unknown[]).splice(1, 1);
  });
  try {
    const honest = await json(['history', '--key', 'demo0']);
    assert.ok((honest.transactions as unknown[]).length >= 3);
    const r = await wallet(['history', '--key', 'demo0', ...via(dropped.url)]);
    assert.is(r.code, 1, `${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /^REFUSED \(BAD_PROOF\)/);
    assert.is(r.stdout, '', 'nothing unverified is shown');
  } finally {
    await dropped.close();
  }
  // A name resolved to another key (demo1's) with the honest proof.
  const stolen = await lyingAgent(node(0).rpcUrl, (m, r) => {
    if (m === 'pos_resolveName' && r.name === 'alice') r.owner = demo(1).publicKey;
  });
  try {
    const r = await wallet(['resolve', 'alice', ...via(stolen.url)]);
    assert.is(r.code, 1, `${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /^REFUSED \(BAD_PROOF\)/);
    assert.is(r.stdout, '');
    const j = await wallet(['resolve', 'alice', ...via(stolen.url), '--json']);
    assert.is(JSON.parse(j.stdout).error.code, 'BAD_PROOF');
    // Paying alice@v0 through it: refused before anything is signed.
    const before = journalLines(demo(0).keyFile);
    const balance = (await json(['balance', '--key', 'demo1'])).balance;
    const s = await wallet([
      'send',
      '--key',
      'demo0',
      '--to',
      'alice@v0',
      '--amount',
      '5',
      ...via(stolen.url),
    ]);
    assert.is(s.code, 1, `${s.stdout} ${s.stderr}`);
    assert.match(s.stderr, /^REFUSED \(BAD_PROOF\)/);
    assert.not.match(s.stderr, /signed/);
    assert.is(s.stdout, '');
    assert.is(journalLines(demo(0).keyFile), before, 'no journal line: nothing was signed');
    assert.is((await json(['balance', '--key', 'demo1'])).balance, balance);
  } finally {
    await stolen.close();
  }
});

test.run();
