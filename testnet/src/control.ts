/**
 * Operating one validator of a running local testnet from another terminal
 * (`pnpm testnet stop v3`, `start v3`, `wipe v3`): the running `pnpm testnet`
 * serves a small control API on 127.0.0.1 and writes where, with a random
 * token, to `<dir>/control.json` (mode 0600); the commands read that file.
 *
 * - `stop NAME`: SIGTERM (SIGKILL after 10 s); the network goes on without
 *   it, and the status line shows it down.
 * - `start NAME`: starts it again on its data dir; resolves once it answers.
 * - `wipe NAME`: stops it, deletes its database (`<data dir>/db`; the key,
 *   genesis and configuration stay), and starts it: it joins again from
 *   its peers, from genesis (docs/PROTOCOL.md 9.3).
 *
 * `GET /v1/nodes` lists each validator's state and process id.
 *
 * Requests are hostile until proven otherwise: a request must carry the
 * token (compared in constant time), name a validator of the layout, and
 * name an action; anything else is refused with a JSON error and a 4xx.
 * Actions run one at a time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Testnet } from './network.js';
import { TestnetError } from './stakes.js';

/** What the control API can do to one validator. */
export const CONTROL_ACTIONS = ['stop', 'start', 'wipe'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** The state of one validator as the running testnet sees it. */
export type NodeState =
  | { readonly state: 'running' }
  | { readonly state: 'stopped' }
  | { readonly state: 'exited'; readonly code: number | string }
  | { readonly state: 'starting' };

/** Where the control API of a running testnet listens (`<dir>/control.json`). */
interface ControlFile {
  readonly url: string;
  readonly token: string;
  readonly pid: number;
}

/** The file the running testnet writes its control endpoint to. */
export const controlFileOf = (dir: string): string => join(dir, 'control.json');

/** A running control API. */
export interface ControlServer {
  /** Each validator's state, by name. */
  readonly states: ReadonlyMap<string, NodeState>;
  /** Stops the server and deletes the control file. */
  close(): Promise<void>;
}

/** What the control API runs its actions on. */
export interface ControlDeps {
  readonly net: Testnet;
  readonly dir: string;
  /** A validator exited without being asked to (its name and exit code or signal). */
  onUnexpectedExit(name: string, code: number | string): void;
  /** A line for the operator (what was done). */
  say(line: string): void;
}

const STOP_GRACE_MS = 10_000;

/** Stops `name` (SIGTERM, SIGKILL after the grace); resolves once it exited. */
async function stopNode(net: Testnet, name: string): Promise<void> {
  const timer = setTimeout(() => void net.kill(name, 'SIGKILL').catch(() => {}), STOP_GRACE_MS);
  try {
    await net.kill(name, 'SIGTERM');
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the control API and writes the control file; watches every validator's process. */
export async function startControl(deps: ControlDeps): Promise<ControlServer> {
  const { net, dir } = deps;
  const states = new Map<string, NodeState>();
  const token = randomBytes(32).toString('hex');
  let queue: Promise<unknown> = Promise.resolve();

  const watch = (name: string) => {
    const p = net.process(name);
    if (p === undefined) return;
    states.set(name, { state: 'running' });
    p.once('exit', (code, signal) => {
      if (net.process(name) !== p || states.get(name)?.state !== 'running') return;
      const why = code ?? signal ?? 'unknown';
      states.set(name, { state: 'exited', code: why });
      deps.onUnexpectedExit(name, why);
    });
  };
  for (const n of net.layout.nodes) watch(n.name);

  const act = async (action: ControlAction, name: string): Promise<string> => {
    const st = states.get(name)?.state;
    const running = st === 'running';
    if (action === 'start' && running) return `${name} is already running`;
    if (action === 'stop' && !running) return `${name} is not running`;
    if (running) {
      states.set(name, { state: 'stopped' });
      await stopNode(net, name);
    }
    if (action === 'stop') return `${name} stopped`;
    if (action === 'wipe') {
      const db = join(net.layout.nodes.find((n) => n.name === name)!.dataDir, 'db');
      rmSync(db, { recursive: true, force: true });
    }
    states.set(name, { state: 'starting' });
    try {
      await net.restart(name, undefined, 120_000);
    } catch (e) {
      states.set(name, { state: 'exited', code: 'start failed' });
      throw e;
    }
    watch(name);
    return action === 'wipe'
      ? `${name} wiped (its database deleted) and started: it joins again from its peers`
      : `${name} started`;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      reply(res, 500, { error: 'INTERNAL', message: String((e as Error)?.message ?? e) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // no body is read: none is needed
    const auth = Buffer.from(String(req.headers.authorization ?? ''));
    const want = Buffer.from(`Bearer ${token}`);
    if (auth.length !== want.length || !timingSafeEqual(auth, want)) {
      return reply(res, 401, { error: 'UNAUTHORIZED', message: 'a wrong or missing token' });
    }
    const m = /^\/v1\/(stop|start|wipe)\/([a-z0-9-]{1,32})$/.exec(req.url ?? '');
    if (req.method === 'GET' && req.url === '/v1/nodes') {
      const nodes = Object.fromEntries(
        [...states].map(([name, st]) => [name, { ...st, pid: net.process(name)?.pid ?? null }]),
      );
      return reply(res, 200, { nodes });
    }
    if (req.method !== 'POST' || m === null) {
      return reply(res, 404, { error: 'NOT_FOUND', message: 'POST /v1/{stop|start|wipe}/NAME' });
    }
    const [, action, name] = m as unknown as [string, ControlAction, string];
    if (!net.layout.nodes.some((n) => n.name === name)) {
      return reply(res, 400, { error: 'UNKNOWN_NODE', message: `no validator named ${name}` });
    }
    const run = queue.then(() => act(action, name));
    queue = run.catch(() => {});
    try {
      const message = await run;
      deps.say(message);
      reply(res, 200, { message });
    } catch (e) {
      const message = e instanceof TestnetError ? e.message : String(e);
      reply(res, 409, { error: 'FAILED', message });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const file: ControlFile = { url: `http://127.0.0.1:${port}`, token, pid: process.pid };
  writeFileSync(controlFileOf(dir), `${JSON.stringify(file)}\n`, { mode: 0o600 });
  return {
    states,
    async close() {
      rmSync(controlFileOf(dir), { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** Whether process `pid` exists (a control file left by a testnet that was killed does not count). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Asks the testnet running in `dir` to apply `action` to validator `name`;
 * resolves with its answer. Throws {@link TestnetError} when no testnet runs
 * there or the action failed.
 */
export async function controlRequest(
  dir: string,
  action: ControlAction,
  name: string,
): Promise<string> {
  const file = controlFileOf(dir);
  if (!existsSync(file)) {
    throw new TestnetError(`no running testnet in ${dir} (start one with pnpm testnet)`);
  }
  let c: ControlFile;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as ControlFile;
  } catch {
    throw new TestnetError(`${file} is not a control file`);
  }
  if (typeof c.pid !== 'number' || !processAlive(c.pid)) {
    throw new TestnetError(`the testnet that wrote ${file} is no longer running`);
  }
  const res = await fetch(`${c.url}/v1/${action}/${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}` },
  });
  const body = (await res.json()) as { message?: string };
  if (!res.ok) throw new TestnetError(body.message ?? `control answered ${res.status}`);
  return body.message ?? 'done';
}
