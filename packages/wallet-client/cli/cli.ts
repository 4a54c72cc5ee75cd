#!/usr/bin/env node
/**
 * `pos-wallet` (`pnpm wallet ...`): the thin wallet on the command line
 * (issue 5, wallet point 6). Every figure it prints was verified by
 * `createWalletClient` against the trust anchor the user pinned (a genesis
 * file, or the local testnet's `testnet.json` that names one), and the output
 * says what: the certified height and root, the stake that signed the
 * certificate, the proof that was checked. An answer that fails verification
 * is refused, never shown.
 *
 * Exit codes: 0 done, 1 an agent's answer was refused or an agent failed,
 * 2 a usage or local-file error.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ed25519PublicKey,
  formatAmount,
  fromHex,
  nameProblem,
  ProtocolError,
  parseAmount,
  parseNameAddress,
  randomEd25519SecretKey,
  toHex,
  validatorIdOfKey,
} from '@pos/protocol';
import {
  type CertifiedHeader,
  checkAgentsCurrent,
  createWalletClient,
  DEFAULT_MAX_AGENT_LAG_MS,
  DEFAULT_MAX_STATE_AGE_MS,
  encryptKeystore,
  keystoreToText,
  type ResolvedAddress,
  type VerifiedHistory,
  type VerifiedName,
  type VerifiedReceipt,
  type VerifiedValidatorSet,
  type WalletClient,
  WalletError,
} from '@pos/wallet-client';
import {
  type Agent,
  CliError,
  journalFile,
  journalSigned,
  loadKey,
  loadNetwork,
  type Network,
  parseAddress,
  passwordSource,
  pickAgent,
  readJournal,
  writeNewFile,
} from './io.js';
import { openTrustFile, type TrustFile } from './trust-file.js';

const USAGE = `usage: pnpm wallet <command> [options]

  keygen --out FILE            a new key in an encrypted keystore (scrypt, AES-256-GCM)
  address --key KEY            the wallet's address (its Ed25519 public key)
  balance [ADDRESS] [--key KEY]
                               verified balance: outputs complete under a certified state root
  send --key KEY --to ADDRESS|NAME@AGENT --amount N [--fee N] [--host VALIDATOR_ID] [--timeout S]
                               sign, submit, wait for the certificate, prove the receipt; a
                               NAME@AGENT is resolved with proofs first (the output is hosted
                               by the agent)
  history [ADDRESS] [--key KEY] [--from H] [--to H] [--limit N]
                               every transaction of the key (spent from, paid, registered,
                               name moves), proven complete by a state range proof
  resolve NAME|NAME@AGENT      who owns a name (or that it is free), proven
  name register|transfer|release NAME --key KEY [--to ADDRESS]
                               register a free name to the key (fee 101 x minFee), give the
                               key's name to ADDRESS, or release it
  verify [TX_HASH]             every agent's certified head and that their histories agree;
                               with TX_HASH, that transaction's receipt proved
  verify-output OUTPOINT       whether TXHASH:INDEX is unspent (its output), spent (in which
                               block) or was never created, proven under a certified state root
  validators [EPOCH]           the validator table of EPOCH (default: the one signing the next
                               block), followed from the trust anchor by proofs, and how

  KEY      a keystore or key file, or a demo wallet's name (demo0) on the local testnet
  ADDRESS  0x + 64 hex digits, or a demo wallet's name
  NAME     2-32 of a-z 0-9 - _ (lower case only), starting with a letter or digit

options:
  --testnet DIR     the local testnet to use (default .testnet): its testnet.json names the
                    genesis (the trust anchor) and the agents
  --genesis FILE    pin this genesis instead (with --rpc)
  --rpc URL         an agent (repeatable; verify checks all of them)
  --node NAME|I     which of the agents to ask (default the first)
  --json            machine-readable output
  --password-file F the keystore password's file (else POS_WALLET_PASSWORD, else asked)
  --fresh           start from the genesis, not from the trust state saved in ~/.pos-wallet
                    (POS_WALLET_HOME), and replace that state
  --max-age S       refuse an agent whose latest certified block is older than S seconds
                    by this machine's clock (default 300): STALE_STATE
  --max-lag S       verify: refuse an agent whose certified head is more than S seconds behind
                    the newest of the others (default 60): AGENT_BEHIND
`;

interface Args {
  cmd: string;
  pos: string[];
  flags: Map<string, string[]>;
  json: boolean;
  /** `--fresh`: start from the genesis, not from the saved trust state, and replace it. */
  fresh: boolean;
}

const VALUE_FLAGS = [
  'out',
  'key',
  'to',
  'amount',
  'fee',
  'host',
  'timeout',
  'testnet',
  'genesis',
  'rpc',
  'node',
  'password-file',
  'max-age',
  'max-lag',
  'from',
  'limit',
];

function parseArgs(argv: string[]): Args {
  const a: Args = { cmd: '', pos: [], flags: new Map(), json: false, fresh: false };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--json') a.json = true;
    else if (t === '--fresh') a.fresh = true;
    else if (t === '-h' || t === '--help') a.cmd = 'help';
    else if (t.startsWith('--')) {
      const eq = t.indexOf('=');
      const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
      if (!VALUE_FLAGS.includes(name)) throw new CliError('USAGE', `unknown option --${name}`);
      const v = eq < 0 ? argv[++i] : t.slice(eq + 1);
      // `--out --json` would otherwise write a file named --json.
      if (v === undefined || v === '' || (eq < 0 && v.startsWith('--'))) {
        throw new CliError('USAGE', `--${name} needs a value`);
      }
      a.flags.set(name, [...(a.flags.get(name) ?? []), v]);
    } else if (a.cmd === '') a.cmd = t;
    else a.pos.push(t);
  }
  return a;
}

const one = (a: Args, name: string): string | undefined => {
  const v = a.flags.get(name);
  if (v !== undefined && v.length > 1) throw new CliError('USAGE', `--${name} given twice`);
  return v?.[0];
};
const need = (a: Args, name: string): string => {
  const v = one(a, name);
  if (v === undefined) throw new CliError('USAGE', `${a.cmd} needs --${name}`);
  return v;
};

// --- output ------------------------------------------------------------------------

/** `p%` of `part` in `total`, integer arithmetic to one decimal. */
function percent(part: bigint, total: bigint): string {
  const permille = total === 0n ? 0n : (part * 1000n) / total;
  return `${permille / 10n}.${permille % 10n}%`;
}

/** `signed of total (p%) of epoch E's validator set`. */
function stakeLine(signed: bigint, total: bigint, epoch: number): string {
  return `${signed} of ${total} stake (${percent(signed, total)}, more than 2/3) of epoch ${epoch}'s validator set`;
}

const short = (b: Uint8Array) => `${toHex(b).slice(0, 18)}…`;

function headerJSON(h: CertifiedHeader) {
  return {
    height: h.height,
    blockHash: toHex(h.blockHash),
    stateRoot: toHex(h.stateRoot),
    historyRoot: toHex(h.historyRoot),
    historySize: h.historySize,
    epoch: h.epoch,
    signedStake: h.signedStake.toString(),
    totalStake: h.totalStake.toString(),
    timestamp: h.timestamp,
  };
}

function receiptJSON(r: VerifiedReceipt) {
  return {
    txHash: toHex(r.txHash),
    status: r.receipt.status,
    ...(r.receipt.reason === undefined ? {} : { reason: r.receipt.reason }),
    height: r.height,
    index: r.receipt.index,
    certifiedHeight: r.certifiedHeight,
    historyRoot: toHex(r.historyRoot),
    historySize: r.historySize,
    epoch: r.epoch,
    signedStake: r.signedStake.toString(),
    totalStake: r.totalStake.toString(),
  };
}

function receiptLines(r: VerifiedReceipt): string[] {
  const what =
    r.receipt.status === 'committed'
      ? 'committed'
      : `rejected (${r.receipt.reason ?? 'no reason given'})`;
  return [
    `${what} at height ${r.height}, index ${r.receipt.index}`,
    `verified  receipt included in the history log (size ${r.historySize}, root ${short(r.historyRoot)})`,
    `          of certified block ${r.certifiedHeight}, signed by ${stakeLine(r.signedStake, r.totalStake, r.epoch)}`,
  ];
}

// --- commands ----------------------------------------------------------------------

interface Ctx {
  a: Args;
  out: (human: string[], json: unknown) => void;
}

function network(a: Args): Network {
  const g = one(a, 'genesis');
  return loadNetwork({
    ...(g === undefined ? {} : { genesis: g }),
    rpc: a.flags.get('rpc') ?? [],
    testnet: one(a, 'testnet') ?? '.testnet',
  });
}

/** The run's saved trust state (opened once) and the clients that may advance it. */
const run = { trustFile: undefined as TrustFile | undefined, clients: [] as WalletClient[] };

/**
 * A client of `agent`. It starts from the saved trust state (docs/PROTOCOL.md
 * 11.2) unless `fromGenesis` (or `--fresh`); what it verifies is saved when
 * the command succeeds.
 */
function clientOf(net: Network, agent: Agent, a: Args, fromGenesis = false): WalletClient {
  run.trustFile ??= openTrustFile(net.trust, a.fresh);
  const c = createWalletClient({
    url: agent.url,
    trust: fromGenesis ? net.trust : run.trustFile.trust,
    maxStateAgeMs: secondsFlag(a, 'max-age', DEFAULT_MAX_STATE_AGE_MS),
  });
  run.clients.push(c);
  return c;
}

/** A duration flag in whole seconds, as ms; `fallbackMs` when absent. */
function secondsFlag(a: Args, name: string, fallbackMs: number): number {
  const v = one(a, name);
  if (v === undefined) return fallbackMs;
  if (!/^[0-9]{1,9}$/.test(v)) throw new CliError('USAGE', `--${name} must be whole seconds`);
  return Number(v) * 1000;
}

/** `12 s ago`: how old a certified block is by the local clock. */
function ageOf(timestampMs: number): string {
  const s = Math.round((Date.now() - timestampMs) / 1000);
  return s < 0 ? `${-s} s in the future by this clock` : `${s} s ago`;
}

/** Local testnet data without an agent, when there is one (for key and address names). */
function maybeNetwork(a: Args): Network | undefined {
  try {
    return network(a);
  } catch {
    return undefined;
  }
}

async function keygen({ a, out }: Ctx): Promise<void> {
  const file = resolve(need(a, 'out'));
  // Before the password and scrypt: writeNewFile refuses it again atomically.
  if (existsSync(file)) throw new CliError('EXISTS', `${file} exists; a key is never overwritten`);
  if (!existsSync(dirname(file))) throw new CliError('NO_FILE', `no directory ${dirname(file)}`);
  const password = await passwordSource(one(a, 'password-file'), true)();
  if (password.length < 8) throw new CliError('USAGE', 'the password must be 8 characters or more');
  const secretKey = randomEd25519SecretKey();
  const ks = await encryptKeystore(secretKey, password);
  await writeNewFile(file, keystoreToText(ks));
  const publicKey = ed25519PublicKey(secretKey);
  out(
    [
      `address   ${toHex(publicKey)}`,
      `keystore  ${file} (scrypt N=2^17 r=8 p=1, AES-256-GCM; mode 0600)`,
    ],
    { address: toHex(publicKey), keystore: file },
  );
}

async function address({ a, out }: Ctx): Promise<void> {
  const k = loadKey(need(a, 'key'), maybeNetwork(a), async () => '');
  out([toHex(k.publicKey)], { address: toHex(k.publicKey), keyFile: k.file, kind: k.kind });
}

async function balance({ a, out }: Ctx): Promise<void> {
  if (a.pos[0] === undefined && one(a, 'key') === undefined) {
    throw new CliError('USAGE', 'balance needs an ADDRESS or --key');
  }
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  const owner =
    a.pos[0] !== undefined
      ? parseAddress(a.pos[0], net, 'ADDRESS')
      : loadKey(need(a, 'key'), net, async () => '').publicKey;
  const b = await clientOf(net, agent, a).balance(owner);
  out(
    [
      `balance   ${formatAmount(b.balance)} in ${b.outputs.length} output${b.outputs.length === 1 ? '' : 's'} of ${toHex(owner)}`,
      `verified  at height ${b.height}, block ${short(b.blockHash)}, state root ${short(b.stateRoot)}, certified ${ageOf(b.timestamp)}:`,
      `          every output of the owner, complete (a completeness proof under that state root),`,
      `          the block's finality certificate signed by ${stakeLine(b.signedStake, b.totalStake, b.epoch)}`,
      `          of chain ${short(net.trust.chainId)}, followed from the trust anchor ${net.genesisFile}`,
      `agent     ${agent.name} ${agent.url} (trusted for nothing)`,
    ],
    {
      address: toHex(owner),
      balance: b.balance.toString(),
      outputs: b.outputs.map((o) => ({
        txHash: toHex(o.outpoint.txHash),
        index: o.outpoint.index,
        amount: o.output.amount.toString(),
        host: toHex(o.output.host),
      })),
      height: b.height,
      blockHash: toHex(b.blockHash),
      stateRoot: toHex(b.stateRoot),
      epoch: b.epoch,
      signedStake: b.signedStake.toString(),
      totalStake: b.totalStake.toString(),
      timestamp: b.timestamp,
      chainId: toHex(net.trust.chainId),
      agent: agent.url,
    },
  );
}

async function send({ a, out }: Ctx): Promise<void> {
  for (const f of ['key', 'to', 'amount']) need(a, f);
  const timeout = one(a, 'timeout');
  if (timeout !== undefined && !/^[1-9][0-9]{0,4}$/.test(timeout)) {
    throw new CliError('USAGE', '--timeout must be whole seconds, 1..99999');
  }
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  const key = loadKey(need(a, 'key'), net, passwordSource(one(a, 'password-file')));
  const toArg = need(a, 'to');
  let amount: bigint;
  let fee = net.genesis.params.minFee;
  try {
    amount = parseAmount(need(a, 'amount'));
    const f = one(a, 'fee');
    if (f !== undefined) fee = parseAmount(f);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('USAGE', '--amount and --fee must be whole numbers (base units)');
  }
  const hostArg = one(a, 'host');
  const named = toArg.includes('@');
  if (named && hostArg !== undefined) {
    throw new CliError('USAGE', '--host goes with an ADDRESS, not NAME@AGENT (the agent hosts)');
  }
  if (named) checkNameAddress(toArg, '--to');
  // Everything local is checked before the first request.
  const client = clientOf(net, agent, a);
  const resolved = named ? await client.resolveAddress(toArg) : undefined;
  const to = resolved?.owner ?? parseAddress(toArg, net, '--to');
  let host: Uint8Array | undefined = resolved?.host;
  if (hostArg !== undefined) {
    const v = net.genesis.validators.find((x) => x.name === hostArg);
    host = v ? validatorIdOfKey(v.pubkey) : parseAddress(hostArg, undefined, '--host');
  }
  const secretKey = await key.unlock();
  const journal = journalFile(key.file);
  let txHash: Uint8Array | undefined;
  const r = await client.send({
    secretKey,
    to,
    amount,
    fee,
    ...(host === undefined ? {} : { host }),
    ...(timeout === undefined ? {} : { timeoutMs: Number(timeout) * 1000 }),
    onSigned: async (s) => {
      txHash = s.txHash;
      await journalSigned(journal, s);
      if (!a.json)
        process.stderr.write(`signed    ${toHex(s.txHash)}, submitting to ${agent.url}\n`);
    },
  });
  out(
    [
      ...(resolved === undefined ? [] : resolvedLines(resolved)),
      `sent      ${formatAmount(amount)} to ${toHex(to)} (fee ${formatAmount(fee)})`,
      `tx        ${toHex(txHash ?? r.txHash)}`,
      ...receiptLines(r),
      `journal   ${journal}`,
    ],
    {
      ...receiptJSON(r),
      amount: amount.toString(),
      fee: fee.toString(),
      to: toHex(to),
      ...(resolved === undefined ? {} : { resolved: resolvedJSON(resolved) }),
    },
  );
}

/** What resolving `wallet@agent` proved, for the human output. */
function resolvedLines(r: ResolvedAddress): string[] {
  return [
    `resolved  ${r.address}: ${r.wallet.name} is owned by ${toHex(r.owner)} (since height ${r.wallet.sinceHeight}),`,
    `          ${r.agent.name} by validator ${toHex(r.host)}: inclusion proofs under state root ${short(r.wallet.stateRoot)}`,
    `          of certified block ${r.wallet.height}, the agent in the verified validator table`,
  ];
}

function resolvedJSON(r: ResolvedAddress) {
  return {
    address: r.address,
    owner: toHex(r.owner),
    host: toHex(r.host),
    sinceHeight: r.wallet.sinceHeight ?? null,
    height: r.wallet.height,
    stateRoot: toHex(r.wallet.stateRoot),
  };
}

/** How each history role reads in the listing. */
const ROLE_WORDS = {
  input: 'spent from',
  output: 'paid',
  registered: 'registered',
  name: 'name',
} as const;

/** `--from`, `--to`, `--limit` of history, checked. */
function historyOpts(a: Args): { fromHeight?: number; toHeight?: number; limit?: number } {
  const nat = (name: string, max: number): number | undefined => {
    const v = one(a, name);
    if (v === undefined) return undefined;
    if (!/^[0-9]{1,15}$/.test(v) || Number(v) > max) {
      throw new CliError('USAGE', `--${name} must be a whole number up to ${max}`);
    }
    return Number(v);
  };
  const fromHeight = nat('from', Number.MAX_SAFE_INTEGER);
  const toHeight = nat('to', Number.MAX_SAFE_INTEGER);
  const limit = nat('limit', 1000);
  if (limit === 0) throw new CliError('USAGE', '--limit must be 1..1000');
  return {
    ...(fromHeight === undefined ? {} : { fromHeight }),
    ...(toHeight === undefined ? {} : { toHeight }),
    ...(limit === undefined ? {} : { limit }),
  };
}

/** The journal's description of a transaction this wallet sent, if it is there. */
function sentLine(e: ReturnType<typeof readJournal>[number], me: string): string {
  const others = e.outputs.filter((o) => o.owner !== me);
  return others.length === 0
    ? `to itself (fee ${e.fee})`
    : `sent ${others.map((o) => `${o.amount} to ${o.owner.slice(0, 18)}…`).join(', ')} (fee ${e.fee})`;
}

async function history({ a, out }: Ctx): Promise<void> {
  if (a.pos[0] === undefined && one(a, 'key') === undefined) {
    throw new CliError('USAGE', 'history needs an ADDRESS or --key');
  }
  const opts = historyOpts(a);
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  const keyFile = a.pos[0] === undefined ? loadKey(need(a, 'key'), net, async () => '') : null;
  const key = keyFile?.publicKey ?? parseAddress(a.pos[0]!, net, 'ADDRESS');
  const me = toHex(key);
  const journal =
    keyFile === null ? [] : readJournal(journalFile(keyFile.file), toHex(net.trust.chainId));
  const sentBy = new Map(journal.map((e) => [e.txHash, e]));
  const h = await clientOf(net, agent, a).history(key, opts);
  const rows = h.history.map((e) => {
    const tx = toHex(e.txHash);
    const sent = sentBy.get(tx);
    return {
      height: e.height,
      index: e.index,
      txHash: tx,
      roles: e.roles.map((r) => ROLE_WORDS[r]),
      status: e.status === 'committed' ? 'committed' : `rejected (${e.reason})`,
      ...(sent === undefined ? {} : { journal: sentLine(sent, me) }),
    };
  });
  out(
    [
      `history of ${me}`,
      ...rows.map(
        (r) =>
          `  ${String(r.height).padStart(7)}:${String(r.index).padEnd(4)} ${r.txHash.slice(0, 18)}…  ${r.roles.join(', ').padEnd(20)} ${r.status}${r.journal === undefined ? '' : `  ${r.journal}`}`,
      ),
      ...historyProvenLines(h),
    ],
    {
      address: me,
      transactions: rows,
      provenFrom: h.provenFrom,
      provenTo: h.provenTo,
      complete: h.complete,
      certified: {
        height: h.height,
        blockHash: toHex(h.blockHash),
        stateRoot: toHex(h.stateRoot),
        epoch: h.epoch,
        signedStake: h.signedStake.toString(),
        totalStake: h.totalStake.toString(),
        timestamp: h.timestamp,
      },
    },
  );
}

/** What the history listing proved, and what it left out. */
function historyProvenLines(h: VerifiedHistory): string[] {
  const from = `height ${h.provenFrom.height}${h.provenFrom.index > 0 ? ` (transaction ${h.provenFrom.index})` : ''}`;
  return [
    `proven    ${h.history.length} transaction${h.history.length === 1 ? '' : 's'}: every one that touched the key from ${from} to the end of`,
    `          height ${h.provenTo}, none left out or added (a state range proof under state root ${short(h.stateRoot)}`,
    `          of certified block ${h.height}, certified ${ageOf(h.timestamp)}, signed by ${stakeLine(h.signedStake, h.totalStake, h.epoch)})`,
    ...(h.complete
      ? []
      : [
          `older     not listed: more than --limit; ask again with --to ${h.provenFrom.height} for the ones before`,
        ]),
  ];
}

function nameJSON(n: VerifiedName) {
  return {
    name: n.name,
    owner: n.owner === null ? null : toHex(n.owner),
    sinceHeight: n.sinceHeight ?? null,
    height: n.height,
    blockHash: toHex(n.blockHash),
    stateRoot: toHex(n.stateRoot),
  };
}

/** A `NAME@AGENT` by the name rule, or a usage error (exit 2) before any request. */
function checkNameAddress(s: string, what: string): void {
  try {
    parseNameAddress(s);
  } catch (e) {
    throw new CliError('USAGE', `${what}: ${(e as Error).message}`);
  }
}

async function resolveCmd({ a, out }: Ctx): Promise<void> {
  const what = a.pos[0];
  if (what === undefined || a.pos.length > 1) throw new CliError('USAGE', 'resolve takes one NAME');
  if (what.includes('@')) checkNameAddress(what, 'NAME@AGENT');
  else {
    const problem = nameProblem(what);
    if (problem !== null)
      throw new CliError('USAGE', `${JSON.stringify(what)} is not a name (${problem})`);
  }
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  const client = clientOf(net, agent, a);
  if (what.includes('@')) {
    const r = await client.resolveAddress(what);
    out([...resolvedLines(r), `agent     ${agent.name} ${agent.url} (trusted for nothing)`], {
      ...resolvedJSON(r),
      agent: agent.url,
    });
    return;
  }
  const n = await client.resolveName(what);
  out(
    [
      n.owner === null
        ? `free      ${n.name} is not registered: an exclusion proof of its key`
        : `owned     ${n.name} by ${toHex(n.owner)} since height ${n.sinceHeight}: an inclusion proof of its record`,
      `verified  under state root ${short(n.stateRoot)} of certified block ${n.height} (certified ${ageOf(n.timestamp)}),`,
      `          signed by ${stakeLine(n.signedStake, n.totalStake, n.epoch)}`,
      `agent     ${agent.name} ${agent.url} (trusted for nothing)`,
    ],
    { ...nameJSON(n), agent: agent.url },
  );
}

const NAME_VERBS = ['register', 'transfer', 'release'] as const;

/** `name register|transfer|release NAME --key KEY [--to ADDRESS]`: one name transaction. */
async function name({ a, out }: Ctx): Promise<void> {
  const [verb, nm] = a.pos;
  if (
    !NAME_VERBS.includes(verb as (typeof NAME_VERBS)[number]) ||
    nm === undefined ||
    a.pos.length > 2
  ) {
    throw new CliError('USAGE', 'name needs register|transfer|release and a NAME');
  }
  const op = verb as (typeof NAME_VERBS)[number];
  const problem = nameProblem(nm);
  if (problem !== null)
    throw new CliError('USAGE', `${JSON.stringify(nm)} is not a name (${problem})`);
  if ((op === 'transfer') !== (one(a, 'to') !== undefined)) {
    throw new CliError(
      'USAGE',
      op === 'transfer' ? 'name transfer needs --to' : `name ${op} takes no --to`,
    );
  }
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  const key = loadKey(need(a, 'key'), net, passwordSource(one(a, 'password-file')));
  const client = clientOf(net, agent, a);
  const toArg = one(a, 'to');
  const newOwner =
    toArg === undefined
      ? key.publicKey
      : toArg.includes('@')
        ? (await client.resolveAddress(toArg)).owner
        : parseAddress(toArg, net, '--to');
  const minFee = net.genesis.params.minFee;
  const fee = op === 'register' ? minFee * 101n : minFee;
  const secretKey = await key.unlock();
  const journal = journalFile(key.file);
  const r = await client.send({
    secretKey,
    to: key.publicKey,
    amount: 0n,
    fee,
    name: op === 'release' ? { op, name: nm } : { op, name: nm, owner: newOwner },
    onSigned: (s) => journalSigned(journal, s),
  });
  const done = r.receipt.status === 'committed';
  out(
    [
      `name      ${op} ${nm}${op === 'release' ? '' : ` to ${toHex(newOwner)}`}: ${done ? 'done' : `REJECTED (${r.receipt.reason})`} (fee ${fee})`,
      ...receiptLines(r),
    ],
    {
      ...receiptJSON(r),
      op,
      name: nm,
      owner: op === 'release' ? null : toHex(newOwner),
      fee: fee.toString(),
    },
  );
  if (!done) process.exitCode = 1;
}

async function verify({ a, out }: Ctx): Promise<void> {
  const net = network(a);
  const agents = a.flags.has('node') ? [pickAgent(net, one(a, 'node'))] : net.agents;
  if (a.pos[0] !== undefined) {
    let tx: Uint8Array;
    try {
      tx = fromHex(a.pos[0], 32);
    } catch {
      throw new CliError('USAGE', 'TX_HASH must be 0x + 64 hex digits');
    }
    const agent = agents[0]!;
    const r = await clientOf(net, agent, a).receipt(tx);
    out([`tx        ${toHex(tx)}`, ...receiptLines(r), `agent     ${agent.name} ${agent.url}`], {
      ...receiptJSON(r),
      agent: agent.url,
    });
    return;
  }
  const clients = agents.map((ag) => clientOf(net, ag, a));
  const heads = await Promise.all(clients.map((c) => c.certifiedHeader()));
  const lines = [`trust     chain ${toHex(net.trust.chainId)} (${net.genesisFile})`];
  heads.forEach((h, i) => {
    lines.push(
      `${agents[i]!.name.padEnd(9)} height ${h.height} (certified ${ageOf(h.timestamp)}), block ${short(h.blockHash)}, history size ${h.historySize}: certificate signed by ${stakeLine(h.signedStake, h.totalStake, h.epoch)}`,
    );
  });
  // Each pair with the first agent, the proof asked of each side in turn.
  for (let i = 1; i < heads.length; i++) {
    await clients[0]!.verifyConsistency(heads[0]!, heads[i]!);
    await clients[i]!.verifyConsistency(heads[i]!, heads[0]!);
  }
  // An agent can hide newer blocks and still show a certified, consistent
  // past: its head must keep up with the newest of the others.
  const maxLagMs = secondsFlag(a, 'max-lag', DEFAULT_MAX_AGENT_LAG_MS);
  checkAgentsCurrent(
    heads.map((head, i) => ({ name: agents[i]!.name, head })),
    maxLagMs,
  );
  if (heads.length > 1) {
    lines.push(
      `consistent every agent's certified history extends or equals ${agents[0]!.name}'s (RFC 9162 consistency proofs, asked of both sides)`,
      `current   every agent's certified head within ${maxLagMs / 1000} s of the newest`,
    );
  }
  out(lines, {
    chainId: toHex(net.trust.chainId),
    agents: heads.map((h, i) => ({ name: agents[i]!.name, url: agents[i]!.url, ...headerJSON(h) })),
    consistent: true,
  });
}

/** How a table was verified, one line. */
function provenanceLine(t: VerifiedValidatorSet, anchor: string): string {
  const p = t.provenance;
  return p.kind === 'anchor'
    ? `epoch ${t.epoch}: the trust anchor (${anchor})`
    : `epoch ${t.epoch}: in the state of block ${p.height}, certified by epoch ${p.certifiedBy}'s set (${percent(p.signedStake, p.certifierTotalStake)} of its stake)`;
}

function provenanceJSON(t: VerifiedValidatorSet) {
  const p = t.provenance;
  return p.kind === 'anchor'
    ? { epoch: t.epoch, kind: 'anchor' }
    : {
        epoch: t.epoch,
        kind: 'proof',
        height: p.height,
        blockHash: toHex(p.blockHash),
        stateRoot: toHex(p.stateRoot),
        certifiedBy: p.certifiedBy,
        signedStake: p.signedStake.toString(),
        certifierTotalStake: p.certifierTotalStake.toString(),
      };
}

/** Lines of the chain of proofs shown in full up to this many; longer ones keep both ends. */
const PATH_LINES = 12;

/** `verify-output TXHASH:INDEX`: an outpoint's state, proven. */
async function verifyOutput({ a, out }: Ctx): Promise<void> {
  const m = /^(0x[0-9a-f]{64}):(0|[1-9][0-9]{0,4})$/.exec(a.pos[0] ?? '');
  if (a.pos.length !== 1 || m === null || Number(m[2]) > 0xffff) {
    throw new CliError(
      'USAGE',
      'verify-output takes one OUTPOINT: 0x + 64 hex digits, :, an index 0..65535',
    );
  }
  const outpoint = { txHash: fromHex(m[1]!, 32), index: Number(m[2]) };
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  const v = await clientOf(net, agent, a).outpoint(outpoint);
  const state =
    v.status === 'unspent'
      ? `unspent: ${formatAmount(v.output!.amount)} owned by ${toHex(v.output!.owner)}, hosted by ${short(v.output!.host)}`
      : v.status === 'spent'
        ? `spent in block ${v.spentHeight}`
        : 'unknown: no such output was ever created';
  const proof =
    v.status === 'unspent'
      ? 'its record and its output, inclusion proofs'
      : v.status === 'spent'
        ? 'its record (spent, and when), an inclusion proof'
        : 'an exclusion proof of its record';
  out(
    [
      `outpoint  ${toHex(outpoint.txHash)}:${outpoint.index}`,
      `state     ${state}`,
      `verified  as of height ${v.height}, block ${short(v.blockHash)}, state root ${short(v.stateRoot)}, certified ${ageOf(v.timestamp)}:`,
      `          ${proof} under that state root,`,
      `          the block's finality certificate signed by ${stakeLine(v.signedStake, v.totalStake, v.epoch)}`,
      `agent     ${agent.name} ${agent.url} (trusted for nothing)`,
    ],
    {
      outpoint: { txHash: toHex(outpoint.txHash), index: outpoint.index },
      status: v.status,
      spentHeight: v.spentHeight ?? null,
      output:
        v.output === undefined
          ? null
          : {
              amount: v.output.amount.toString(),
              owner: toHex(v.output.owner),
              host: toHex(v.output.host),
            },
      height: v.height,
      blockHash: toHex(v.blockHash),
      stateRoot: toHex(v.stateRoot),
      epoch: v.epoch,
      timestamp: v.timestamp,
      agent: agent.url,
    },
  );
}

async function validators({ a, out }: Ctx): Promise<void> {
  if (a.pos.length > 1) throw new CliError('USAGE', 'validators takes at most one EPOCH');
  let epoch: number | undefined;
  if (a.pos[0] !== undefined) {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(a.pos[0]) || !Number.isSafeInteger(Number(a.pos[0]))) {
      throw new CliError('USAGE', 'EPOCH must be a whole number');
    }
    epoch = Number(a.pos[0]);
  }
  const net = network(a);
  const agent = pickAgent(net, one(a, 'node'));
  // From the genesis: the output shows every table's path from the anchor.
  const client = clientOf(net, agent, a, true);
  const t = await client.validators(epoch);
  // Every table from the anchor to this one: verified on the way, so cached.
  const path: VerifiedValidatorSet[] = [];
  for (let k = net.trust.epoch ?? 0; k <= t.epoch; k++) path.push(await client.validators(k));
  const fromAnchor = t.provenance.kind === 'anchor';
  const rows = t.validators.map((v) => {
    const l = t.labels.get(toHex(v.validatorId));
    return {
      validatorId: toHex(v.validatorId),
      publicKey: toHex(v.publicKey),
      stake: v.stake.toString(),
      share: percent(v.stake, t.totalStake),
      name: l?.name ?? '',
      endpoint: l?.endpoint ?? '',
    };
  });
  const p = t.provenance;
  const lines = [
    `epoch     ${t.epoch}: rounds ${t.firstRound}..${t.lastRound}, ${t.snapshotRound === null ? 'the genesis table' : `taken after round ${t.snapshotRound}`}`,
    `table     ${t.validators.length} validator${t.validators.length === 1 ? '' : 's'}, total stake ${t.totalStake}, set hash ${short(t.validatorSetHash)}`,
    `  ${'validatorId'.padEnd(19)}  ${'stake'.padStart(12)}  ${'share'.padStart(6)}  ${'name'.padEnd(16)}  endpoint`,
    ...rows.map(
      (r) =>
        `  ${r.validatorId.slice(0, 18)}…  ${r.stake.padStart(12)}  ${r.share.padStart(6)}  ${r.name.padEnd(16)}  ${r.endpoint}`,
    ),
    ...(p.kind === 'anchor'
      ? [`verified  the trust anchor's own table (${net.genesisFile})`]
      : [
          `verified  committed at epoch ${t.epoch}'s key in the state of block ${p.height} (state root ${short(p.stateRoot)}),`,
          `          an inclusion proof under that root; block ${p.height} certified by`,
          `          ${stakeLine(p.signedStake, p.certifierTotalStake, p.certifiedBy)},`,
          `          each table followed from the trust anchor by such a proof:`,
          ...(path.length <= PATH_LINES
            ? path
            : [...path.slice(0, 2), undefined, ...path.slice(-(PATH_LINES - 3))]
          ).map((x) =>
            x === undefined
              ? `            … ${path.length - PATH_LINES + 1} more`
              : `            ${provenanceLine(x, net.genesisFile)}`,
          ),
        ]),
    fromAnchor
      ? `names     as the trust anchor names them`
      : `names     as the agent lists them: not in the committed table, not verified`,
    `agent     ${agent.name} ${agent.url} (trusted for nothing)`,
  ];
  out(lines, {
    epoch: t.epoch,
    firstRound: t.firstRound,
    lastRound: t.lastRound,
    snapshotRound: t.snapshotRound,
    totalStake: t.totalStake.toString(),
    validatorSetHash: toHex(t.validatorSetHash),
    validators: rows,
    namesVerified: fromAnchor,
    provenance: provenanceJSON(t),
    path: path.map(provenanceJSON),
    chainId: toHex(net.trust.chainId),
    agent: agent.url,
  });
}

const COMMANDS: Record<string, (c: Ctx) => Promise<void>> = {
  keygen,
  address,
  balance,
  send,
  history,
  resolve: resolveCmd,
  name,
  verify,
  'verify-output': verifyOutput,
  validators,
};

function usageError(msg: string, json: boolean): number {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { code: 'USAGE', message: msg } })}\n`,
    );
  } else process.stderr.write(`${msg}\n\n${USAGE}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    return usageError((e as Error).message, argv.includes('--json'));
  }
  if (a.cmd === 'help' || a.cmd === '') {
    process.stdout.write(USAGE);
    return a.cmd === 'help' ? 0 : 2;
  }
  const command = COMMANDS[a.cmd];
  if (command === undefined) return usageError(`unknown command ${a.cmd}`, a.json);
  const out = (human: string[], json: unknown) =>
    process.stdout.write(
      a.json ? `${JSON.stringify({ ok: true, ...(json as object) })}\n` : `${human.join('\n')}\n`,
    );
  try {
    await command({ a, out });
    run.trustFile?.save(run.clients.map((c) => c.trustState()));
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'ERROR';
    const msg = (e as Error).message;
    // A protocol object that does not decode came from the agent (or a file
    // it wrote): refused, as the wallet's own checks.
    const refused =
      (e instanceof WalletError || e instanceof ProtocolError) &&
      !['BAD_ARGUMENT', 'BAD_PASSWORD', 'BAD_KEYSTORE'].includes(code);
    const agentSide = ['AGENT_UNREACHABLE', 'AGENT_ERROR', 'NOT_YET'].includes(code);
    if (a.json)
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message: msg } })}\n`);
    else if (code === 'BAD_TRUST_STATE') process.stderr.write(`error (${code}): ${msg}\n`);
    else if (code === 'STALE_STATE' || code === 'AGENT_BEHIND')
      process.stderr.write(`REFUSED (${code}): verified, but not current: ${msg}\n`);
    else if (refused && !agentSide)
      process.stderr.write(`REFUSED (${code}): the agent's answer did not verify: ${msg}\n`);
    else process.stderr.write(`error (${code}): ${msg}\n`);
    return e instanceof CliError || !refused ? 2 : 1;
  }
}

// Output piped into a reader that stops early (| head) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
