// Free TCP ports for tests and benches that start real servers on loopback.
import type { Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';

/**
 * `n` distinct ports the OS calls free now: all `n` listen on port 0 at once
 * (so they differ), are noted, then closed. Another process could take one
 * before the caller binds it; on loopback in a test run that is rare.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once('error', rej);
          s.listen(0, '127.0.0.1', () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A test server listening on loopback: its base URL and how to stop it. */
export interface LoopbackServer {
  readonly url: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/** Starts `server` on a free loopback port (a stand-in node, a proxy). */
export async function listenLoopback(server: HttpServer): Promise<LoopbackServer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
