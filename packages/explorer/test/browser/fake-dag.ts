// A stand-in node for the DAG view's frame-rate measurement: it serves the
// built explorer and answers pos_status and pos_getDag from a generated DAG
// of a given size (creators, rounds, witnesses, fame, leaders, blocks), so
// the view can be measured with exactly N events on screen, which a young
// 4-node testnet does not hold (it indexes ~26 rounds behind the decided
// one). Everything else the page asks gets an empty or not-found answer.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { EventResult } from '@pos/api';
import { listenLoopback } from '@pos/test-utils/ports';

const hex = () => `0x${randomBytes(32).toString('hex')}`;

/** A DAG of `total` events by `creators` creators, `perRound` events each a round. */
export function generateDag(total: number, creators = 4, perRound = 4): EventResult[] {
  const keys = Array.from({ length: creators }, hex);
  const last: (EventResult | null)[] = keys.map(() => null);
  const out: EventResult[] = [];
  const rounds = Math.ceil(total / (creators * perRound));
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let r = 0; r < rounds; r++) {
    const decided = r < rounds - 2;
    const leaderCol = Math.floor(rand() * creators);
    for (let k = 0; k < perRound; k++) {
      for (let c = 0; c < creators && out.length < total; c++) {
        const prev = last[c];
        const o = out[out.length - 1 - Math.floor(rand() * creators * 2)] ?? null;
        const witness = k === 0;
        const e: EventResult = {
          hash: hex(),
          creator: keys[c]!,
          seq: (prev?.seq ?? -1) + 1,
          selfParent: prev?.hash ?? null,
          otherParent:
            o === null || o.creator === keys[c]
              ? null
              : { hash: o.hash, creator: o.creator, seq: o.seq },
          timestamp: 1_700_000_000_000 + out.length * 10,
          txHashes: [],
          payloads: [],
          signature: `0x${'00'.repeat(64)}`,
          round: r,
          generation: out.length,
          witness,
          famous: witness && decided ? rand() > 0.15 : null,
          orderedIn: decided ? r + 1 : null,
          leader: witness && decided && c === leaderCol,
        };
        if (e.leader) e.orderedIn = r;
        out.push(e);
        last[c] = e;
      }
    }
  }
  return out;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

/** Serves the explorer in `dir` and the DAG `events` on a free loopback port. */
export async function fakeDagNode(dir: string, events: readonly EventResult[]) {
  const maxRound = Math.max(...events.map((e) => e.round ?? 0));
  const status = {
    chainId: hex(),
    nodeId: hex(),
    publicKey: hex(),
    height: maxRound - 3,
    blockHash: hex(),
    round: maxRound,
    decidedRound: maxRound - 2,
    lastCertifiedHeight: maxRound - 3,
    peers: 3,
    peersKnown: 3,
    syncing: false,
    lastBlockTime: Date.now(),
    mempool: { transactions: 0, bytes: 0 },
    events: { live: events.length, stored: events.length },
    supply: { unspent: '1', burned: '0' },
    validatorSet: { epoch: 0, member: true, stake: '1', totalStake: '4', size: 4 },
    storage: { diskBytes: 1 << 20, stateFlushedHeight: null, stateFromHeight: 0 },
  };
  const answer = (method: string, params: unknown[]): unknown => {
    if (method === 'pos_status') return { result: status };
    if (method === 'pos_getDag') {
      const [from, to = from] = params as [number, number?];
      return {
        result: {
          fromRound: from,
          toRound: to,
          events: events.filter((e) => e.round! >= from && e.round! <= to),
          truncated: false,
        },
      };
    }
    if (method === 'pos_getEquivocations') return { result: { events: [], blockSignatures: [] } };
    return { error: { code: -32001, message: 'Not found' } };
  };
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/rpc') {
      let text = '';
      for await (const c of req) text += c;
      const call = JSON.parse(text) as
        | { id: number; method: string; params: unknown[] }
        | { id: number; method: string; params: unknown[] }[];
      const one = (c: { id: number; method: string; params: unknown[] }) => ({
        jsonrpc: '2.0',
        id: c.id,
        ...(answer(c.method, c.params) as object),
      });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(Array.isArray(call) ? call.map(one) : one(call)));
      return;
    }
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(
      /^\/explorer\/?/,
      '',
    );
    try {
      const file = join(dir, path === '' ? 'index.html' : path);
      if (!file.startsWith(dir)) throw new Error('outside');
      const data = readFileSync(file);
      res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      res.end(data);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  return listenLoopback(server);
}
