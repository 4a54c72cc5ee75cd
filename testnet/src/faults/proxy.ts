/**
 * The fault proxies: one HTTP proxy per validator on its P2P front port,
 * forwarding to the port posd binds, and on the way applying its link's
 * rule and blocks (src/faults/links.ts). The puller is learned from the sync
 * request's `from` (docs/PROTOCOL.md 8), decoded by @pos/gossip's own
 * decoder; the signature is the server's business.
 */
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { TestnetNode } from '../network.js';
import { TestnetError } from '../stakes.js';
import type { Dice, Links } from './links.js';
import type { LinkRule, LinkStats } from './types.js';

/** Largest request body the proxy buffers (posd refuses above 256 KiB anyway). */
const MAX_BODY = 1 << 20;
/** Largest answer it buffers (a sync page is at most 4 MiB plus framing). */
const MAX_ANSWER = 64 << 20;

type Decode = (body: Uint8Array) => { req: { from: Uint8Array } };

/** A server's answer, buffered. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The proxies of one testnet. */
export interface Proxies {
  /** Resolves once every proxy listens (and the decoder is loaded). */
  readonly ready: Promise<void>;
  /** Stops them, drops held connections, and resolves once closed. */
  close(): Promise<void>;
}

/** What a request's way through the proxy needs. */
interface Ctx {
  readonly links: Links;
  readonly closed: () => boolean;
  readonly callerOf: (body: Buffer | null) => string;
  readonly forward: (to: TestnetNode, req: IncomingMessage, body: Buffer) => Promise<Answer>;
}

/** One request on its way: its link, rule and dice. */
interface Exchange {
  readonly to: TestnetNode;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: Buffer;
  readonly link: string;
  readonly s: LinkStats;
  readonly rule: LinkRule;
  readonly dice: Dice;
}

/**
 * The sync request decoder of @pos/gossip, the package posd itself uses. The
 * testnet does not depend on @pos/gossip directly, so it is resolved through
 * @pos/node's dependencies (as network.ts finds posd): the proxy reads the
 * wire format with the same code as the server, not a copy of it.
 */
async function loadDecoder(): Promise<Decode> {
  const nodePkg = createRequire(import.meta.url).resolve('@pos/node/package.json');
  const entry = createRequire(nodePkg).resolve('@pos/gossip');
  const mod = (await import(pathToFileURL(entry).href)) as { decodeSyncRequest: Decode };
  return mod.decodeSyncRequest;
}

function hostPort(addr: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (m === null) throw new TestnetError(`${what}: not host:port (${addr})`);
  return { host: m[1]!, port: Number(m[2]) };
}

function readBody(req: IncomingMessage, cap: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= cap) parts.push(c);
    });
    req.on('end', () => resolve(n <= cap ? Buffer.concat(parts) : null));
    req.on('error', reject);
  });
}

const sleep = (ms: number) =>
  ms <= 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, ms));

/** Ends the puller's exchange with no answer: its connection is closed. */
function hangUp(req: IncomingMessage, res: ServerResponse): void {
  res.socket?.destroy();
  req.socket.destroy();
}

/**
 * A forwarder to each node's `p2pBind`. Upstream connections are kept alive
 * like posd's own (a new TCP connection per request would add a cost that
 * is not a fault of the rules).
 */
function createForward(agent: Agent): Ctx['forward'] {
  return (to, req, body) => {
    const { host, port } = hostPort(to.p2pBind!, `${to.name} p2pBind`);
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    if (req.headers['content-type'] !== undefined) {
      headers['content-type'] = req.headers['content-type'];
    }
    return new Promise((resolve, reject) => {
      const up = request(
        { host, port, method: req.method, path: req.url, headers, agent },
        (res) => {
          const parts: Buffer[] = [];
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n > MAX_ANSWER) res.destroy(new Error('answer too large'));
            else parts.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(parts),
            }),
          );
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  };
}

/** Who pulls: a validator's name by its key, `?` for anything else. */
function createCaller(nodes: readonly TestnetNode[], decode: () => Decode | null) {
  // Layout keys are 0x-prefixed hex (toHex of @pos/merkle).
  const byKey = new Map(nodes.map((n) => [n.publicKey.toLowerCase().replace(/^0x/, ''), n.name]));
  return (body: Buffer | null): string => {
    const d = decode();
    if (body === null || d === null) return '?';
    try {
      return byKey.get(Buffer.from(d(body).req.from).toString('hex')) ?? '?';
    } catch {
      return '?';
    }
  };
}

/** A blocked link fails as the block mode says; true when it did. */
function refuseIfBlocked(ctx: Ctx, x: Exchange): boolean {
  if (!ctx.links.isBlocked(x.link)) return false;
  x.s.blocked++;
  // A black hole keeps the connection until the puller gives up (or close()).
  if (ctx.links.blockMode() === 'reset') hangUp(x.req, x.res);
  else x.s.hung++;
  return true;
}

/**
 * The copy of a duplicated request: it travels on its own delay from now,
 * so about half of the time it reaches the server first, and then it is the
 * puller's own request that is refused as a replay. Exactly one of the two
 * may be served.
 */
function sendCopy(ctx: Ctx, x: Exchange): Promise<Answer | null> {
  x.s.duplicated++;
  const wait = (x.rule.delayMs ?? 0) + x.dice.duplicateJitter * (x.rule.jitterMs ?? 0);
  return sleep(wait).then(() =>
    ctx.closed() || ctx.links.isBlocked(x.link)
      ? null
      : ctx.forward(x.to, x.req, x.body).catch(() => null),
  );
}

/** Counts how the server took a duplicate (401 REPLAYED, or served twice). */
function noteReplay(s: LinkStats, copy: Promise<Answer | null>, mine: Answer | null): void {
  void copy.then((theirs) => {
    if (theirs === null || mine === null) return; // one never reached the server
    if (theirs.status === 200 && mine.status === 200) s.replayServed++;
    else if ([theirs, mine].some((x) => x.status === 401 && x.body.includes('REPLAYED'))) {
      s.replayRefused++;
    }
  });
}

/** The answer's way back: lost, delayed, reordered, blocked meanwhile, or delivered. */
async function answerLeg(ctx: Ctx, x: Exchange, answer: Answer, lost: boolean): Promise<void> {
  if (lost) {
    x.s.lost++;
    return hangUp(x.req, x.res);
  }
  let resDelay = (x.rule.delayMs ?? 0) + x.dice.answerJitter * (x.rule.jitterMs ?? 0);
  if (x.dice.reorder < (x.rule.reorder ?? 0)) {
    x.s.reordered++;
    resDelay += x.dice.reorderMs * (x.rule.reorderMs ?? 0);
  }
  if (resDelay > 0) x.s.delayed++;
  await sleep(resDelay);
  if (ctx.closed() || refuseIfBlocked(ctx, x)) return;
  const headers: Record<string, string> = { 'content-length': String(answer.body.length) };
  const ct = answer.headers['content-type'];
  if (typeof ct === 'string') headers['content-type'] = ct;
  x.res.writeHead(answer.status, headers);
  x.res.end(answer.body);
  x.s.forwarded++;
}

/** The request's way: hung, duplicated, delayed, lost, forwarded; then the answer's. */
async function travel(ctx: Ctx, x: Exchange): Promise<void> {
  if (x.dice.hang < (x.rule.hang ?? 0)) {
    x.s.hung++;
    return; // no answer: the puller's timeout ends it (or close())
  }
  const copy = x.dice.duplicate < (x.rule.duplicate ?? 0) ? sendCopy(ctx, x) : null;
  const reqDelay = (x.rule.delayMs ?? 0) + x.dice.requestJitter * (x.rule.jitterMs ?? 0);
  if (reqDelay > 0) x.s.delayed++;
  await sleep(reqDelay);
  // Checked again after every wait: a partition made meanwhile cuts at once.
  if (ctx.closed() || refuseIfBlocked(ctx, x)) return;
  const lost = x.dice.loss < (x.rule.loss ?? 0);
  if (lost && x.dice.lossSide < 0.5) {
    x.s.lost++;
    return hangUp(x.req, x.res);
  }
  let answer: Answer | null = null;
  try {
    answer = await ctx.forward(x.to, x.req, x.body);
  } catch {
    x.s.upstreamErrors++;
  }
  if (copy !== null) noteReplay(x.s, copy, answer);
  if (answer === null) return hangUp(x.req, x.res);
  return answerLeg(ctx, x, answer, lost);
}

/** One request to the proxy of `to`. */
async function handle(
  ctx: Ctx,
  to: TestnetNode,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req, MAX_BODY);
  const from = ctx.callerOf(body);
  const link = ctx.links.linkOf(from, to.name);
  const s = ctx.links.statsOf(link);
  s.requests++;
  const rule = ctx.links.ruleOf(from, link);
  // Drawn before anything can end the exchange: every request draws.
  const dice = ctx.links.draw(link);
  if (body === null) return hangUp(req, res);
  const x: Exchange = { to, req, res, body, link, s, rule, dice };
  if (refuseIfBlocked(ctx, x)) return;
  return travel(ctx, x);
}

/** One proxy server on `n.p2p`; resolves once it listens. */
function listen(ctx: Ctx, n: TestnetNode, servers: Server[]): Promise<void> {
  const server = createServer((req, res) => {
    handle(ctx, n, req, res).catch(() => hangUp(req, res));
  });
  // Longer than posd's client keeps idle connections (30 s), so that the
  // proxy never closes a connection the puller is about to reuse: that
  // would be a loss the rules did not ask for.
  server.keepAliveTimeout = 35_000;
  servers.push(server);
  const { host, port } = hostPort(n.p2p, `${n.name} p2p`);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

/** Closes every server, dropping held (hung, delayed) exchanges that would keep it waiting. */
function closeAll(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (!s.listening) return resolve();
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  ).then(() => {});
}

/** Starts one proxy per node of `nodes` (each with a `p2pBind`), under `links`. */
export function startProxies(nodes: readonly TestnetNode[], links: Links): Proxies {
  // Loaded once; until then, and for anything it refuses: an unknown caller.
  let decode: Decode | null = null;
  const decoderReady = loadDecoder().then((d) => {
    decode = d;
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let closed = false;
  const ctx: Ctx = {
    links,
    closed: () => closed,
    callerOf: createCaller(nodes, () => decode),
    forward: createForward(agent),
  };
  const servers: Server[] = [];
  const listening = nodes.map((n) => listen(ctx, n, servers));
  const ready = Promise.all([decoderReady, ...listening]).then(() => {});
  // The caller awaits `ready`; this only keeps an early failure from being unhandled.
  ready.catch(() => {});
  return {
    ready,
    async close() {
      closed = true;
      await closeAll(servers);
      agent.destroy();
    },
  };
}
