/** Ports for the local testnet's validators: fixed from a base port, or free ones picked at random. */
import { createServer } from 'node:net';
import { TestnetError } from '../stakes.js';
import type { TestnetOpts } from './types.js';

/** Ports this process handed out already. */
const handedOut = new Set<number>();

/**
 * A port free now, below Linux's ephemeral range (32768..60999): a port the
 * OS hands out for "listen on 0" is also one it hands out as the local port
 * of outgoing connections, and with many nodes syncing on loopback one was
 * taken between this check and posd binding it (EADDRINUSE in CI). Random in
 * 20000..32767, checked free, a few tries.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 64; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    // Never the same port twice in this process (two nodes, or RPC and P2P).
    if (handedOut.has(port) || !(await portFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new TestnetError('no free port found in 20000..32767');
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Where one validator listens, and the address its peers dial. */
export interface Endpoint {
  host: string;
  rpcHost: string;
  rpcPort: number;
  p2pHost: string;
  p2pPort: number;
  /** The front port peers dial, when it is not `p2pPort`. */
  frontPort?: number;
}

/** Loopback endpoints: basePort + 2i / + 2i + 1, or any free ports. */
export async function localEndpoints(o: TestnetOpts): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const loop = { host: '127.0.0.1', rpcHost: '127.0.0.1', p2pHost: '127.0.0.1' };
    const front = o.p2pFront ? { frontPort: await freePort() } : {};
    if (o.basePort === 0) {
      out.push({ ...loop, rpcPort: await freePort(), p2pPort: await freePort(), ...front });
      continue;
    }
    const p = { rpcPort: o.basePort + 2 * i, p2pPort: o.basePort + 2 * i + 1, ...front };
    for (const port of [p.rpcPort, p.p2pPort]) {
      if (!(await portFree(port))) {
        throw new TestnetError(`port ${port} is in use: stop what holds it or pass --base-port`);
      }
    }
    out.push({ ...loop, ...p });
  }
  return out;
}
