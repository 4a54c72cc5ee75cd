/**
 * Network faults injected by the testnet itself (issue 7): the machine has no
 * netem, so each validator gets an HTTP proxy on its P2P front port (the
 * address in the genesis, which every peer dials, {@link TestnetOpts.p2pFront})
 * that forwards to the port posd really binds (`p2pBind`), and on the way
 * delays, loses, duplicates, reorders or blocks requests by rule.
 *
 * Sync is pull-based (docs/PROTOCOL.md 8, packages/gossip/src/sync.ts):
 * the puller POSTs `/sync/v1` to the server and the events flow back in the
 * answer. A link is therefore directed *puller → server*: blocking `a → b`
 * means `a` cannot pull from `b` (so `b`'s events reach `a` only through a
 * third node). The proxy sits on the server's side and learns the puller from
 * the request: the body is a msgpack map whose `from` is the puller's Ed25519
 * public key, matched against the layout. The signature is not checked here
 * (the server does that); a body that does not decode, or a key that is no
 * validator's, is an unknown caller (`?`) and gets the default rule.
 *
 * Randomness is a seeded generator per link (mulberry32 seeded from the run's
 * seed and the link's name), and every request draws the same number of
 * values whatever its rule, so the n-th request of a link meets the same fate
 * in every run with that seed. The nodes' own timing is not replayed (posd
 * picks peers with Math.random, and the machine's load varies), so a replay
 * gives the same fault pattern per link, not the same interleaving.
 *
 * @example
 * ```ts
 * const faults = createFaultNet(layout, { seed: 42 });
 * faults.setAll({ delayMs: 20, jitterMs: 80, loss: 0.05, duplicate: 0.05 });
 * faults.partition([['v0', 'v3'], ['v1', 'v2']]);
 * faults.heal();
 * await faults.close();
 * ```
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
import type { TestnetLayout, TestnetNode } from './network.js';
import { TestnetError } from './stakes.js';

/**
 * What happens on one directed link (puller → server). Every field is
 * optional; an empty rule forwards untouched. Probabilities are in 0..1 and
 * drawn per request.
 */
export interface LinkRule {
  /** Fixed one-way delay, added both to the request and to the answer. */
  delayMs?: number;
  /**
   * Up to this much more on each direction, uniform. Different requests of
   * one link, and requests of different links to one server, then overtake
   * each other: the answers come back in another order than sent.
   */
  jitterMs?: number;
  /**
   * A request is lost: half of the time before the server sees it, half of
   * the time after (the server did the work, the answer is lost). The
   * puller's connection is closed, as a network that drops it would end in.
   */
  loss?: number;
  /**
   * A request is sent to the server twice (the copy after its own delay); the
   * puller gets the answer to the first, the copy's answer is counted (a
   * node must refuse the replay, 401 REPLAYED, docs/PROTOCOL.md 8).
   */
  duplicate?: number;
  /** An answer is held up to `reorderMs` more, so that later requests overtake it. */
  reorder?: number;
  reorderMs?: number;
  /**
   * The connection is held with no answer at all until the puller gives up
   * (its timeout, 10 s for posd): a black hole, far costlier than a loss.
   */
  hang?: number;
}

/** How a blocked link (a partition) fails. */
export type BlockMode =
  /** The connection is closed at once, like a refused or reset connection. */
  | 'reset'
  /** Nothing comes back until the puller times out, like a cable pulled out. */
  | 'blackhole';

/** Counters of one directed link. */
export interface LinkStats {
  /** Requests that reached the proxy. */
  requests: number;
  /** Answers delivered to the puller. */
  forwarded: number;
  /** Requests refused by a partition (a blocked link). */
  blocked: number;
  /** Requests or answers lost (`loss`). */
  lost: number;
  /** Requests held without an answer (`hang`, or a `blackhole` block). */
  hung: number;
  /** Requests sent twice (`duplicate`). */
  duplicated: number;
  /** Duplicates the server refused as replays (401 REPLAYED). */
  replayRefused: number;
  /** Duplicates the server answered otherwise (200 would mean a replay was served). */
  replayServed: number;
  /** Requests or answers held by a delay (`delayMs`/`jitterMs`). */
  delayed: number;
  /** Answers held longer (`reorder`). */
  reordered: number;
  /** The server could not be reached (posd down): the puller's connection is closed. */
  upstreamErrors: number;
}

/** Options of {@link createFaultNet}. */
export interface FaultNetOpts {
  /** Seed of every link's generator (a u32); print it so that a run can be replayed. */
  seed: number;
  /** How blocked links fail (default `reset`). */
  blockMode?: BlockMode;
}

/** The proxies of one testnet and the controls of their faults. */
export interface FaultNet {
  /** The seed in use. */
  readonly seed: number;
  /** Resolves once every proxy listens on its front port. */
  readonly ready: Promise<void>;
  /** The rule of every link without one of its own (and of unknown callers); clears per-link rules. */
  setAll(rule: LinkRule): void;
  /** The rule of the link `from → to` (`from` pulls from `to`); null: back to the default. */
  setLink(from: string, to: string, rule: LinkRule | null): void;
  /** Blocks the link `from → to`: `from` can no longer pull from `to`. */
  block(from: string, to: string): void;
  /**
   * Cuts every link between nodes of different groups, both ways; links
   * inside a group keep their rules. Every validator in exactly one group.
   */
  partition(groups: readonly (readonly string[])[]): void;
  /** `partition([[name], everyone else])`. */
  isolate(name: string): void;
  /** Asymmetric: nobody can pull from `name`, and `name` still pulls from everyone. */
  cutPullsFrom(name: string): void;
  /** Asymmetric: `name` can pull from nobody, and everyone still pulls from it. */
  cutPullsBy(name: string): void;
  /** How blocked links fail from now on. */
  setBlockMode(mode: BlockMode): void;
  /** Removes every block (rules stay). */
  heal(): void;
  /** Removes every block and every rule. */
  clear(): void;
  /** Counters per link (`v0->v1`, `?->v2` for unknown callers); `reset` zeroes them after. */
  stats(opts?: { reset?: boolean }): Record<string, LinkStats>;
  /** The counters of every link summed. */
  totals(opts?: { reset?: boolean }): LinkStats;
  /** Stops the proxies, drops held connections, and resolves once closed. */
  close(): Promise<void>;
}

/** Largest request body the proxy buffers (posd refuses above 256 KiB anyway). */
const MAX_BODY = 1 << 20;
/** Largest answer it buffers (a sync page is at most 4 MiB plus framing). */
const MAX_ANSWER = 64 << 20;
/** Values drawn per request, whatever the rule: keeps each link's stream aligned. */
const DRAWS = 9;

type Decode = (body: Uint8Array) => { req: { from: Uint8Array } };

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

/** mulberry32: a tiny, well-known 32-bit generator; enough for fault dice. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a stream's name mixed with the seed: one independent stream per link. */
function linkSeed(seed: number, link: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < link.length; i++) h = Math.imul(h ^ link.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A deterministic stream of numbers in [0, 1) for `seed` and a stream name
 * (the generator of the links' dice), for a test's own seeded choices, e.g.
 * which partition comes next, so that the seed replays those too.
 */
export function seededRandom(seed: number, stream: string): () => number {
  return mulberry32(linkSeed(seed >>> 0, stream));
}

const emptyStats = (): LinkStats => ({
  requests: 0,
  forwarded: 0,
  blocked: 0,
  lost: 0,
  hung: 0,
  duplicated: 0,
  replayRefused: 0,
  replayServed: 0,
  delayed: 0,
  reordered: 0,
  upstreamErrors: 0,
});

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

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const sleep = (ms: number) =>
  ms <= 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts one proxy per validator of `layout` (which must have been made with
 * `p2pFront: true`): on `node.p2p`, forwarding to `node.p2pBind`. Listening
 * starts at once; await {@link FaultNet.ready} before the nodes need it
 * (startTestnet's `onLayout` hook is the place, since posd is only reported
 * ready once it has synced with peers through the proxies).
 */
export function createFaultNet(layout: TestnetLayout, opts: FaultNetOpts): FaultNet {
  const seed = opts.seed >>> 0;
  let blockMode: BlockMode = opts.blockMode ?? 'reset';
  const nodes = layout.nodes;
  const names = new Set(nodes.map((n) => n.name));
  // Layout keys are 0x-prefixed hex (toHex of @pos/merkle).
  const byKey = new Map(nodes.map((n) => [n.publicKey.toLowerCase().replace(/^0x/, ''), n.name]));
  for (const n of nodes) {
    if (n.p2pBind === undefined) {
      throw new TestnetError(`${n.name} has no p2pBind: start the testnet with p2pFront: true`);
    }
  }
  const known = (name: string) => {
    if (!names.has(name)) throw new TestnetError(`no validator named ${name}`);
    return name;
  };
  const linkOf = (from: string, to: string) => `${from}->${to}`;

  let defaultRule: LinkRule = {};
  const rules = new Map<string, LinkRule>();
  const blocked = new Set<string>();
  const stats = new Map<string, LinkStats>();
  const dice = new Map<string, () => number>();
  let closed = false;

  const statsOf = (link: string) => {
    let s = stats.get(link);
    if (s === undefined) stats.set(link, (s = emptyStats()));
    return s;
  };
  const draw = (link: string): number[] => {
    let g = dice.get(link);
    if (g === undefined) dice.set(link, (g = mulberry32(linkSeed(seed, link))));
    return Array.from({ length: DRAWS }, g);
  };

  // Who pulls: the `from` of the request body, decoded by @pos/gossip's own
  // decoder (loaded once; until then, and for anything it refuses: unknown).
  let decode: Decode | null = null;
  const decoderReady = loadDecoder().then((d) => {
    decode = d;
  });
  const callerOf = (body: Buffer | null): string => {
    if (body === null || decode === null) return '?';
    try {
      const from = Buffer.from(decode(body).req.from).toString('hex');
      return byKey.get(from) ?? '?';
    } catch {
      return '?';
    }
  };

  // Upstream connections are kept alive like posd's own (a new TCP connection
  // per request would add a cost that is not a fault of the rules).
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const forward = (to: TestnetNode, req: IncomingMessage, body: Buffer): Promise<Answer> => {
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

  /** Ends the puller's exchange with no answer: its connection is closed. */
  const hangUp = (req: IncomingMessage, res: ServerResponse) => {
    res.socket?.destroy();
    req.socket.destroy();
  };
  const isBlocked = (link: string) => blocked.has(link);
  /** A blocked link fails as the block mode says; true when it did. */
  const refuseIfBlocked = (link: string, req: IncomingMessage, res: ServerResponse) => {
    if (!isBlocked(link)) return false;
    const s = statsOf(link);
    s.blocked++;
    // A black hole keeps the connection until the puller gives up (or close()).
    if (blockMode === 'reset') hangUp(req, res);
    else s.hung++;
    return true;
  };

  async function handle(to: TestnetNode, req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req, MAX_BODY);
    const from = callerOf(body);
    const link = linkOf(from, to.name);
    const s = statsOf(link);
    s.requests++;
    const rule = (from === '?' ? undefined : rules.get(link)) ?? defaultRule;
    const [dHang, dLoss, dLossSide, dDup, dReqJ, dDupJ, dResJ, dReorder, dReorderMs] = draw(link);
    if (body === null) return hangUp(req, res);
    if (refuseIfBlocked(link, req, res)) return;
    if (dHang! < (rule.hang ?? 0)) {
      s.hung++;
      return; // no answer: the puller's timeout ends it (or close())
    }
    const delay = rule.delayMs ?? 0;
    const jitter = rule.jitterMs ?? 0;
    // The copy travels on its own delay from now: about half of the time it
    // reaches the server first, and then it is the puller's own request that
    // is refused as a replay. Exactly one of the two may be served.
    let copy: Promise<Answer | null> | null = null;
    if (dDup! < (rule.duplicate ?? 0)) {
      s.duplicated++;
      copy = sleep(delay + dDupJ! * jitter).then(() =>
        closed || isBlocked(link) ? null : forward(to, req, body).catch(() => null),
      );
    }
    const reqDelay = delay + dReqJ! * jitter;
    if (reqDelay > 0) s.delayed++;
    await sleep(reqDelay);
    // Checked again after every wait: a partition made meanwhile cuts at once.
    if (closed || refuseIfBlocked(link, req, res)) return;
    const lost = dLoss! < (rule.loss ?? 0);
    if (lost && dLossSide! < 0.5) {
      s.lost++;
      return hangUp(req, res);
    }
    let answer: Answer | null = null;
    try {
      answer = await forward(to, req, body);
    } catch {
      s.upstreamErrors++;
    }
    if (copy !== null) {
      const mine = answer;
      void copy.then((theirs) => {
        if (theirs === null || mine === null) return; // one never reached the server
        if (theirs.status === 200 && mine.status === 200) s.replayServed++;
        else if ([theirs, mine].some((x) => x.status === 401 && x.body.includes('REPLAYED'))) {
          s.replayRefused++;
        }
      });
    }
    if (answer === null) return hangUp(req, res);
    if (lost) {
      s.lost++;
      return hangUp(req, res);
    }
    let resDelay = delay + dResJ! * jitter;
    if (dReorder! < (rule.reorder ?? 0)) {
      s.reordered++;
      resDelay += dReorderMs! * (rule.reorderMs ?? 0);
    }
    if (resDelay > 0) s.delayed++;
    await sleep(resDelay);
    if (closed || refuseIfBlocked(link, req, res)) return;
    const headers: Record<string, string> = { 'content-length': String(answer.body.length) };
    const ct = answer.headers['content-type'];
    if (typeof ct === 'string') headers['content-type'] = ct;
    res.writeHead(answer.status, headers);
    res.end(answer.body);
    s.forwarded++;
  }

  const servers: Server[] = [];
  const listening: Promise<void>[] = [];
  for (const n of nodes) {
    const server = createServer((req, res) => {
      handle(n, req, res).catch(() => hangUp(req, res));
    });
    // Longer than posd's client keeps idle connections (30 s), so that the
    // proxy never closes a connection the puller is about to reuse: that
    // would be a loss the rules did not ask for.
    server.keepAliveTimeout = 35_000;
    servers.push(server);
    const { host, port } = hostPort(n.p2p, `${n.name} p2p`);
    listening.push(
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      }),
    );
  }
  const ready = Promise.all([decoderReady, ...listening]).then(() => {});
  // The caller awaits `ready`; this only keeps an early failure from being unhandled.
  ready.catch(() => {});

  const setBlocks = (pairs: [string, string][]) => {
    for (const [a, b] of pairs) blocked.add(linkOf(known(a), known(b)));
  };
  const partition = (groups: readonly (readonly string[])[]) => {
    const seen = groups.flat().map(known);
    if (new Set(seen).size !== seen.length || seen.length !== names.size) {
      throw new TestnetError(`a partition names every validator exactly once: ${seen}`);
    }
    const pairs: [string, string][] = [];
    for (const [i, g] of groups.entries()) {
      for (const [j, h] of groups.entries()) {
        if (i !== j) for (const a of g) for (const b of h) pairs.push([a, b]);
      }
    }
    setBlocks(pairs);
  };
  // Zeroed in place: exchanges still in flight hold their link's object.
  const zero = () => {
    for (const s of stats.values()) Object.assign(s, emptyStats());
  };
  const sum = (all: Iterable<LinkStats>) => {
    const t = emptyStats();
    for (const s of all) for (const k of Object.keys(t) as (keyof LinkStats)[]) t[k] += s[k];
    return t;
  };

  return {
    seed,
    ready,
    setAll(rule) {
      defaultRule = { ...rule };
      rules.clear();
    },
    setLink(from, to, rule) {
      const link = linkOf(known(from), known(to));
      if (rule === null) rules.delete(link);
      else rules.set(link, { ...rule });
    },
    block(from, to) {
      setBlocks([[from, to]]);
    },
    partition,
    isolate(name) {
      partition([[name], [...names].filter((x) => x !== known(name))]);
    },
    cutPullsFrom(name) {
      setBlocks([...names].filter((x) => x !== known(name)).map((x) => [x, name]));
    },
    cutPullsBy(name) {
      setBlocks([...names].filter((x) => x !== known(name)).map((x) => [name, x]));
    },
    setBlockMode(mode) {
      blockMode = mode;
    },
    heal() {
      blocked.clear();
    },
    clear() {
      blocked.clear();
      rules.clear();
      defaultRule = {};
    },
    stats(o) {
      const out = Object.fromEntries([...stats].map(([k, v]) => [k, { ...v }]));
      if (o?.reset === true) zero();
      return out;
    },
    totals(o) {
      const t = sum(stats.values());
      if (o?.reset === true) zero();
      return t;
    },
    async close() {
      closed = true;
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (!s.listening) return resolve();
              s.close(() => resolve());
              // Held (hung, delayed) exchanges would keep close() waiting.
              s.closeAllConnections();
            }),
        ),
      );
      agent.destroy();
    },
  };
}
