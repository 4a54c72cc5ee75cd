/**
 * The CLI's local files: what the user pins (the genesis, or a testnet's
 * `testnet.json` that names it), the keys (an encrypted keystore or a plain
 * testnet key file), the password, and the wallet's own journal of what it
 * sent. Nothing here comes from an agent, so nothing here is verified against
 * one; everything an agent says goes through `createWalletClient`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import {
  chainIdOf,
  ed25519PublicKey,
  fromHex,
  type Genesis,
  genesisFromJSON,
  toHex,
} from '@pos/protocol';
import {
  decryptKeystore,
  type SignedTransfer,
  trustFromGenesis,
  type WalletTrust,
} from '@pos/wallet-client';

/** A failure of the user's input or files (exit code 2), not of an agent. */
export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}

const fail = (code: string, msg: string): never => {
  throw new CliError(code, msg);
};

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail('NO_FILE', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    return fail('BAD_FILE', `${what} ${file} is not JSON`);
  }
}

// --- the network: trust anchor and agents ---------------------------------------

/** A named agent (a validator's RPC endpoint). */
export interface Agent {
  name: string;
  url: string;
}

/** What the wallet trusts and whom it asks. */
export interface Network {
  trust: WalletTrust;
  genesis: Genesis;
  /** Where the trust came from, for the output. */
  genesisFile: string;
  agents: Agent[];
  /** Demo wallets of a local testnet, by name (publicKey hex, key file). */
  wallets: Map<string, { publicKey: string; keyFile: string }>;
}

interface TestnetJSON {
  chainId?: unknown;
  genesis?: unknown;
  nodes?: { name?: unknown; rpcUrl?: unknown }[];
  wallets?: { name?: unknown; publicKey?: unknown; keyFile?: unknown }[];
}

/** A path written relative to where the testnet was started, looked up from `dir` too. */
function locate(p: string, dir: string): string {
  if (isAbsolute(p) || existsSync(p)) return p;
  const near = join(dir, basename(p));
  return existsSync(near) ? near : p;
}

/**
 * The trust anchor and agents: `--genesis FILE` pins a genesis document and
 * `--rpc URL` (repeatable) names agents; otherwise both come from a local
 * testnet's `DIR/testnet.json` (default `.testnet`), whose chainId must be
 * the genesis's own.
 */
export function loadNetwork(o: { genesis?: string; rpc: string[]; testnet: string }): Network {
  let genesisFile = o.genesis;
  let agents: Agent[] = o.rpc.map((url, i) => ({ name: `rpc${i}`, url }));
  const wallets = new Map<string, { publicKey: string; keyFile: string }>();
  const layoutFile = join(o.testnet, 'testnet.json');
  const haveLayout = existsSync(layoutFile);
  if (haveLayout) {
    const l = readJson(layoutFile, 'testnet layout') as TestnetJSON;
    for (const w of Array.isArray(l.wallets) ? l.wallets : []) {
      if (typeof w?.name === 'string' && typeof w.publicKey === 'string') {
        const keyFile =
          typeof w.keyFile === 'string' ? locate(w.keyFile, join(o.testnet, 'wallets')) : '';
        wallets.set(w.name, { publicKey: w.publicKey, keyFile });
      }
    }
    if (genesisFile === undefined) {
      if (typeof l.genesis !== 'string') fail('BAD_FILE', `${layoutFile} names no genesis`);
      genesisFile = locate(l.genesis as string, o.testnet);
    }
    if (agents.length === 0) {
      agents = (Array.isArray(l.nodes) ? l.nodes : []).flatMap((n, i) =>
        typeof n?.rpcUrl === 'string'
          ? [{ name: typeof n.name === 'string' ? n.name : `node${i}`, url: n.rpcUrl }]
          : [],
      );
    }
  }
  if (genesisFile === undefined) {
    fail(
      'NO_NETWORK',
      `no ${layoutFile}: start a testnet (npm run testnet) or pin a genesis with --genesis FILE --rpc URL`,
    );
  }
  let genesis: Genesis;
  try {
    genesis = genesisFromJSON(readJson(genesisFile!, 'genesis'));
  } catch (e) {
    if (e instanceof CliError) throw e;
    return fail('BAD_FILE', `genesis ${genesisFile}: ${(e as Error).message}`);
  }
  if (agents.length === 0) fail('NO_NETWORK', 'no agent: give --rpc URL');
  const trust = trustFromGenesis(genesis);
  if (haveLayout && o.genesis === undefined) {
    const l = readJson(layoutFile, 'testnet layout') as TestnetJSON;
    if (l.chainId !== toHex(chainIdOf(genesis))) {
      fail('BAD_FILE', `${layoutFile}: its chainId is not the chainId of ${genesisFile}`);
    }
  }
  return { trust, genesis, genesisFile: genesisFile!, agents, wallets };
}

/** `--node NAME|INDEX` picks one agent; the first by default. */
export function pickAgent(net: Network, node: string | undefined): Agent {
  if (node === undefined) return net.agents[0]!;
  const byName = net.agents.find((a) => a.name === node);
  if (byName) return byName;
  if (/^[0-9]+$/.test(node) && net.agents[Number(node)]) return net.agents[Number(node)]!;
  return fail('USAGE', `no agent ${node} (have ${net.agents.map((a) => a.name).join(', ')})`);
}

/** An address: 0x + 64 hex, or a demo wallet's name on a local testnet. */
export function parseAddress(s: string, net: Network | undefined, what: string): Uint8Array {
  const w = net?.wallets.get(s);
  if (w) return fromHex(w.publicKey, 32);
  try {
    return fromHex(s, 32);
  } catch {
    return fail('USAGE', `${what} must be a 0x-prefixed 32-byte public key or a demo wallet name`);
  }
}

// --- keys ------------------------------------------------------------------------

/** A key file as the CLI found it: the public key always, the secret only once unlocked. */
export interface KeySource {
  file: string;
  publicKey: Uint8Array;
  kind: 'keystore' | 'plain';
  unlock(): Promise<Uint8Array>;
}

/**
 * `--key FILE` (a keystore, or a plain key file as `posd keygen` and the
 * testnet's demo wallets write), or the name of a local testnet's demo wallet.
 */
export function loadKey(
  spec: string,
  net: Network | undefined,
  password: () => Promise<string>,
): KeySource {
  const file = net?.wallets.get(spec)?.keyFile || spec;
  const j = readJson(file, 'key file') as Record<string, unknown>;
  if (typeof j !== 'object' || j === null) fail('BAD_FILE', `${file} is not a key file`);
  if ('ciphertext' in j) {
    let publicKey: Uint8Array;
    try {
      publicKey = fromHex(j.publicKey, 32);
    } catch {
      return fail('BAD_FILE', `${file}: keystore without a valid publicKey`);
    }
    return {
      file,
      publicKey,
      kind: 'keystore',
      unlock: async () => {
        const k = await decryptKeystore(j, await password());
        if (toHex(k.publicKey) !== toHex(publicKey)) fail('BAD_FILE', `${file}: wrong publicKey`);
        return k.secretKey;
      },
    };
  }
  if ('secretKey' in j) {
    let secretKey: Uint8Array;
    let publicKey: Uint8Array;
    try {
      secretKey = fromHex(j.secretKey, 32);
      publicKey = fromHex(j.publicKey, 32);
    } catch {
      return fail('BAD_FILE', `${file}: secretKey and publicKey must be 32-byte hex`);
    }
    if (toHex(ed25519PublicKey(secretKey)) !== toHex(publicKey)) {
      fail('BAD_FILE', `${file}: the publicKey is not the secret key's`);
    }
    return { file, publicKey, kind: 'plain', unlock: async () => secretKey };
  }
  return fail('BAD_FILE', `${file} is neither a keystore nor a key file`);
}

/** Creates `file` with `text`, mode 0600, failing if it exists (no key is ever overwritten). */
export async function writeNewFile(file: string, text: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'EEXIST' ? 'EXISTS' : 'IO', `cannot create ${file}: ${code}`);
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// --- password --------------------------------------------------------------------

/**
 * The keystore password: the first line of `--password-file` (given on this
 * command line, so it wins), else `POS_WALLET_PASSWORD`, else asked on the
 * terminal without echo (twice when `confirm`, for a new keystore).
 */
export function passwordSource(passwordFile: string | undefined, confirm = false) {
  let cached: string | undefined;
  return async (): Promise<string> => {
    if (cached !== undefined) return cached;
    if (passwordFile !== undefined) {
      let t: string;
      try {
        t = readFileSync(passwordFile, 'utf8');
      } catch (e) {
        return fail('NO_FILE', `cannot read ${passwordFile}: ${(e as NodeJS.ErrnoException).code}`);
      }
      return (cached = t.split(/\r?\n/)[0] ?? '');
    }
    const env = process.env.POS_WALLET_PASSWORD;
    if (env !== undefined && env !== '') return (cached = env);
    if (!process.stdin.isTTY) {
      fail(
        'NO_PASSWORD',
        'no password: set POS_WALLET_PASSWORD, give --password-file, or use a terminal',
      );
    }
    const p = await askHidden('password: ');
    if (confirm && (await askHidden('again:    ')) !== p)
      fail('NO_PASSWORD', 'the passwords differ');
    return (cached = p);
  };
}

function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  let s = '';
  return new Promise((resolve, reject) => {
    const done = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') {
          done();
          return resolve(s);
        }
        if (c === '\u0003' || c === '\u0004') {
          done();
          return reject(new CliError('NO_PASSWORD', 'interrupted'));
        }
        if (c === '\u007f' || c === '\b') s = s.slice(0, -1);
        else s += c;
      }
    };
    stdin.on('data', onData);
  });
}

// --- journal -----------------------------------------------------------------------

/** One transfer this wallet signed, as recorded before it was submitted. */
export interface JournalEntry {
  type: 'sent';
  /** The chain it was signed for: one key may be used on several networks. */
  chainId: string;
  txHash: string;
  tx: string;
  /** The verified outputs spent, with their amounts (the chain does not repeat them). */
  spent: { txHash: string; index: number; amount: string }[];
  outputs: { owner: string; host: string; amount: string }[];
  fee: string;
  signedAt: string;
}

/** The journal of the wallet whose key is `keyFile`: `KEYFILE.history.jsonl`, next to it. */
export function journalFile(keyFile: string): string {
  return join(dirname(keyFile), `${basename(keyFile)}.history.jsonl`);
}

/** Appends the transfer before it is submitted (see `SendOpts.onSigned`). */
export async function journalSigned(file: string, s: SignedTransfer): Promise<void> {
  const e: JournalEntry = {
    type: 'sent',
    chainId: toHex(s.body.chainId),
    txHash: toHex(s.txHash),
    tx: toHex(s.tx),
    spent: s.spent.map((c) => ({
      txHash: toHex(c.outpoint.txHash),
      index: c.outpoint.index,
      amount: c.output.amount.toString(),
    })),
    outputs: s.body.outputs.map((o) => ({
      owner: toHex(o.owner),
      host: toHex(o.host),
      amount: o.amount.toString(),
    })),
    fee: s.body.fee.toString(),
    signedAt: new Date().toISOString(),
  };
  await appendFile(file, `${JSON.stringify(e)}\n`, { mode: 0o600 });
}

/** The journal's entries for `chainId`; a torn last line (a crash mid-append) is skipped. */
export function readJournal(file: string, chainId: string): JournalEntry[] {
  if (!existsSync(file)) return [];
  const out: JournalEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (e.type === 'sent' && e.chainId === chainId && typeof e.txHash === 'string') out.push(e);
    } catch {
      // An append cut short by a crash leaves at most the last line torn.
    }
  }
  return out;
}
