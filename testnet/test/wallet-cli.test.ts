// `pos-wallet` (pnpm wallet) as a user runs it: a real process against a
// real 4-validator testnet, from the directory that holds `.testnet` (the
// README's quick start), then against a lying agent.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestnet, type Testnet } from '../src/network.js';

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
  assert.match(out, /^committed at height \d+, index \d+$/m);
  assert.match(out, /receipt included in the history log \(size \d+, root 0x/);
  const b = await eventually(
    ['balance', '--key', keystore, '--node', '3'],
    (j) => j.balance !== '0',
  );
  assert.is(b.balance, '7000');
});

test('send from the keystore (password from the environment), journaled, then history', async () => {
  const r = await json(['send', '--key', keystore, '--to', 'demo1', '--amount', '1000'], PASSWORD);
  assert.is(r.status, 'committed');
  const journal = readFileSync(`${keystore}.history.jsonl`, 'utf8').trim().split('\n');
  assert.is(journal.length, 1);
  assert.is(JSON.parse(journal[0]!).txHash, r.txHash);
  const h = await json(['history', '--key', keystore]);
  assert.is(h.balance, '5999');
  const txs = h.transactions as { txHash: string; delta: string; status: string; what: string }[];
  assert.equal(
    txs.map((t) => [t.delta, t.status, t.what.split(' ')[0]]),
    [
      ['7000', 'committed', 'received'],
      ['-1001', 'committed', 'sent'],
    ],
  );
  assert.is(txs[1]!.txHash, r.txHash);
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

test.run();
