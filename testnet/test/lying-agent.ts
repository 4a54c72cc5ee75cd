// A lying agent for the wallet tests: a JSON-RPC proxy in front of a real
// node that lets `tamper` edit each answer's result before the wallet sees
// it. Shared by the suites that check each lie is refused with its code.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Edits one answer: `method` is the call's, `result` its (mutable) result object. */
export type Tamper = (method: string, result: Record<string, unknown>) => void;

/** Starts a proxy to `origin` (a node's RPC origin) on a free loopback port. */
export async function lyingAgent(
  origin: string,
  tamper: Tamper,
): Promise<{ url: string; close(): Promise<void> }> {
  const target = `${origin}/rpc`;
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const call = JSON.parse(body) as { method: string };
    const up = (await (
      await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).json()) as { result?: Record<string, unknown> };
    if (up.result !== undefined && up.result !== null && typeof up.result === 'object') {
      tamper(call.method, up.result);
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(up));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
