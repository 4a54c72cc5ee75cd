/**
 * The Byzantine validator's HTTP side, on its p2p port: `POST /sync/v1`
 * checked as an honest server checks it (docs/PROTOCOL.md 8) before
 * the mode answers, and `GET /byz/status` (the report, JSON).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  decodeSyncRequest,
  MAX_CLOCK_SKEW_MS,
  MAX_SYNC_REQUEST_BYTES,
  SYNC_CONTENT_TYPE,
  SYNC_PATH,
  type SyncRequest,
  syncRequestHash,
} from '@pos/gossip';
import { toHex } from '@pos/merkle';
import { verifyEd25519Sync } from '@pos/node';
import type { Adversary } from './adversary.js';
import { packResponse } from './pack.js';
import type { ByzantineStatus, ModeBehaviour } from './types.js';
import { log } from './util.js';

type Send = (status: number, body: Uint8Array | string, type: string) => void;
type Refuse = (status: number, error: string) => void;

/** The report with the heads and forks of now. */
function statusNow(adv: Adversary, mode: ModeBehaviour): ByzantineStatus {
  adv.report.heads = [...adv.heads.entries()]
    .filter(([, h]) => h !== null)
    .map(([branch, h]) => ({ branch, seq: h!.ev.seq, hash: toHex(h!.ev.hash) }));
  adv.report.forks = mode.forks?.() ?? [];
  return adv.report;
}

/** The request body, or null (refused) when over the cap. */
async function readBody(req: IncomingMessage, refuse: Refuse): Promise<Uint8Array | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_SYNC_REQUEST_BYTES) {
      refuse(413, 'TOO_LARGE');
      return null;
    }
    chunks.push(c);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Why an honest server would refuse a decoded request (status and code), or null. */
function refusalOf(adv: Adversary, sr: SyncRequest, sig: Uint8Array): [number, string] | null {
  if (toHex(sr.chainId) !== toHex(adv.chainId)) return [400, 'WRONG_CHAIN'];
  if (!adv.peerByHex.has(toHex(sr.from))) return [403, 'NOT_A_PEER'];
  if (!verifyEd25519Sync(sr.from, syncRequestHash(sr, adv.hash), sig)) {
    return [401, 'BAD_SIGNATURE'];
  }
  if (Math.abs(Date.now() - sr.timestampMs) > MAX_CLOCK_SKEW_MS) return [401, 'STALE_REQUEST'];
  return null;
}

/** The signed request of a known peer on this chain, fresh; null once refused. */
function checkedRequest(adv: Adversary, body: Uint8Array, refuse: Refuse): SyncRequest | null {
  let decoded: ReturnType<typeof decodeSyncRequest>;
  try {
    decoded = decodeSyncRequest(body);
  } catch {
    refuse(400, 'BAD_REQUEST');
    return null;
  }
  const why = refusalOf(adv, decoded.req, decoded.sig);
  if (why !== null) {
    refuse(...why);
    return null;
  }
  return decoded.req;
}

async function handle(
  adv: Adversary,
  mode: ModeBehaviour,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const send: Send = (status, body, type) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const refuse: Refuse = (status, error) =>
    send(status, JSON.stringify({ error }), 'application/json');
  if (req.method === 'GET' && req.url === '/byz/status') {
    return send(200, JSON.stringify(statusNow(adv, mode)), 'application/json');
  }
  if (req.method !== 'POST' || req.url !== SYNC_PATH) return refuse(404, 'NOT_FOUND');
  if (req.headers['content-type'] !== SYNC_CONTENT_TYPE) {
    return refuse(415, 'UNSUPPORTED_MEDIA_TYPE');
  }
  const body = await readBody(req, refuse);
  if (body === null) return;
  const sr = checkedRequest(adv, body, refuse);
  if (sr === null) return;
  // Until the own chain is known, an empty page: an equivocator would take
  // the peers' tips of an earlier run for the other branch, and garbage is
  // built around the own chain. A valid answer rather than a refusal, so
  // that the peers do not back off from this process before it starts.
  if (!adv.resumed || mode.answers?.() === false) {
    return send(200, packResponse([], false, null), SYNC_CONTENT_TYPE);
  }
  const out = mode.respond(sr);
  if (out !== null) send(200, out, SYNC_CONTENT_TYPE);
}

/** Listens on the validator's p2p address; resolves once it does. */
export async function startResponder(adv: Adversary, mode: ModeBehaviour): Promise<Server> {
  const server = createServer((req, res) => {
    handle(adv, mode, req, res).catch((e) => {
      log('responder failed', { err: String((e as Error)?.stack ?? e) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(adv.config.p2pPort, adv.config.p2pHost, resolve);
  });
  log('listening', { p2p: `${adv.config.p2pHost}:${adv.config.p2pPort}` });
  return server;
}
