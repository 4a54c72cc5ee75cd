/**
 * The local testnet's `posd` processes: started on their data dirs with
 * their logs appended to `posd.log`, watched until they answer, and stopped
 * (SIGTERM, then SIGKILL after a grace).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TestnetError } from '../stakes.js';
import type { TestnetNode, TestnetOpts } from './types.js';

/** The processes of one network. */
export interface Supervisor {
  /** Every process started, in start order (a restart appends the new one). */
  readonly procs: readonly ChildProcess[];
  /** The current process of a validator by name. */
  current(name: string): ChildProcess | undefined;
  /** Starts posd for `n` (extra `env` for this run only). */
  spawn(n: TestnetNode, extra?: Readonly<Record<string, string>>): ChildProcess;
  /** Resolves once `n` answers `path` with 200; throws with its log's tail if `p` exits first. */
  awaitUp(n: TestnetNode, p: ChildProcess, path: string, deadline: number): Promise<void>;
  /** SIGTERM to every process, SIGKILL after `graceMs`; resolves once all exited. Once only: later calls wait. */
  stop(graceMs?: number): Promise<void>;
}

/** The posd entry of the workspace's @pos/node build. */
export function posdPath(): string {
  const pkg = createRequire(import.meta.url).resolve('@pos/node/package.json');
  const cli = join(dirname(pkg), 'dist', 'cli.js');
  if (!existsSync(cli)) throw new TestnetError(`posd is not built (${cli}): run pnpm build`);
  return cli;
}

/** Resolves with `p`'s exit code once it exited (at once if it has). */
export function exitOf(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve(p.exitCode);
    else p.once('exit', (code) => resolve(code));
  });
}

/** Whether `p` is still running. */
export const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

/** Polls `n`'s RPC for `path` until 200, `p` exits, or `deadline`. */
async function awaitUp(n: TestnetNode, p: ChildProcess, path: string, deadline: number) {
  for (;;) {
    if (!alive(p)) {
      const tail = readFileSync(n.log, 'utf8').split('\n').slice(-8).join('\n');
      throw new TestnetError(`${n.name} exited (${p.exitCode ?? p.signalCode}):\n${tail}`);
    }
    try {
      if ((await fetch(`${n.rpcUrl}${path}`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new TestnetError(`${n.name} not answering in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The processes of posd `cli` with `o`'s node flags and environments. */
export function createSupervisor(
  cli: string,
  o: Pick<TestnetOpts, 'nodeArgs' | 'nodeEnv' | 'explorerDir'>,
): Supervisor {
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  if (o.explorerDir !== undefined) env.POS_EXPLORER_DIR = o.explorerDir;
  const procs: ChildProcess[] = [];
  const current = new Map<string, ChildProcess>();
  const exits: Promise<number | null>[] = [];
  let stopping = false;
  const stop = async (graceMs = 10_000) => {
    stopping = true;
    for (const p of procs) if (alive(p)) p.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const p of procs) if (alive(p)) p.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  };
  return {
    procs,
    current: (name) => current.get(name),
    spawn(n, extra) {
      const out = openSync(n.log, 'a');
      const p = spawn(process.execPath, [...o.nodeArgs, cli, 'start', '--data-dir', n.dataDir], {
        env: { ...env, ...o.nodeEnv?.[n.name], ...extra },
        stdio: ['ignore', out, out],
      });
      procs.push(p);
      current.set(n.name, p);
      exits.push(exitOf(p));
      return p;
    },
    awaitUp,
    stop: (graceMs) => (stopping ? Promise.all(exits).then(() => {}) : stop(graceMs)),
  };
}
