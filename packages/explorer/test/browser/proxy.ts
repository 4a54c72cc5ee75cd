// A tampering proxy between the page and a node: every GET (the page, its
// assets, the genesis) and the WebSocket pass through untouched; each
// JSON-RPC answer's result can be edited by `tamper` before the page sees
// it (testnet/test/lying-agent.ts, for a browser).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { listenLoopback } from '@pos/test-utils/ports';

/** Edits one call's result in place. */
export type Tamper = (method: string, result: Record<string, unknown>) => void;

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

/** Edits the results of one answer (a single response or a batch). */
function edit(call: unknown, answer: unknown, tamper: Tamper): void {
  const calls = Array.isArray(call) ? call : [call];
  const answers = Array.isArray(answer) ? answer : [answer];
  const methodOf = new Map(calls.map((c: { id?: unknown; method?: string }) => [c.id, c.method]));
  for (const a of answers as { id?: unknown; result?: unknown }[]) {
    const m = methodOf.get(a.id);
    if (m !== undefined && typeof a.result === 'object' && a.result !== null) {
      tamper(m, a.result as Record<string, unknown>);
    }
  }
}

/** Starts the proxy to `origin` on a free loopback port. */
export async function tamperingProxy(origin: string, tamper: Tamper) {
  const up = new URL(origin);
  const server: Server = createServer(async (req, res) => {
    const url = `${origin}${req.url}`;
    if (req.method === 'POST' && req.url === '/rpc') {
      const text = await body(req);
      const answer = await (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: text,
        })
      ).json();
      edit(JSON.parse(text), answer, tamper);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
      return;
    }
    const r = await fetch(url, { method: req.method ?? 'GET', redirect: 'manual' });
    res.statusCode = r.status;
    for (const [k, v] of r.headers) {
      if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) {
        res.setHeader(k, v);
      }
    }
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  // The WebSocket: the upgrade request and both directions, byte for byte.
  server.on('upgrade', (req, socket, head) => {
    const to = connect(Number(up.port), up.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      to.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) to.write(head);
      socket.pipe(to).pipe(socket);
    });
    to.on('error', () => socket.destroy());
    socket.on('error', () => to.destroy());
  });
  return listenLoopback(server);
}
