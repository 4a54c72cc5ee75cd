/**
 * Restart (docs/PROTOCOL.md 9.3): the event store is replayed into a fresh
 * engine in its insertion order (a topological order), which decides the
 * same blocks again; those at or below the chain's last recorded height are
 * skipped by the apply queue, the rest applied. Stored events were verified
 * before they were stored, so the replay does not verify signatures again.
 */
import type { Consensus, DecidedBlock } from '@pos/consensus';
import type { LevelEventStore } from '../db/event-store.js';
import type { NodeEvent } from './dag.js';
import type { DagWriter } from './dag-writer.js';
import type { NodeEngine } from './engine.js';

/** What {@link replayStore} needs. */
export interface ReplayDeps {
  readonly store: Pick<LevelEventStore, 'since'>;
  readonly node: Pick<NodeEngine, 'toEvent' | 'insert'>;
  readonly engine: Pick<Consensus<NodeEvent>, 'lastDecidedRound'>;
  readonly writer: DagWriter;
  /** Queues decided blocks; resolves once they are applied. */
  handleBlocks(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void>;
  /** The error that stopped the apply queue, if any. */
  applyError(): unknown;
  /** Progress, every `progressMs`. */
  onProgress(events: number, decidedRound: number): void;
}

/** Options of {@link replayStore}. */
export interface ReplayOpts {
  /** Progress is reported this often while the replay runs. */
  progressMs: number;
}

export const defaultReplayOpts: Readonly<ReplayOpts> = Object.freeze({ progressMs: 2000 });

/** Replays every stored event; returns how many. Throws what stopped the apply queue. */
export async function replayStore(
  deps: ReplayDeps,
  opts: Partial<ReplayOpts> = {},
): Promise<number> {
  const o: ReplayOpts = { ...defaultReplayOpts, ...opts };
  let n = 0;
  let lastLog = Date.now();
  for await (const wire of deps.store.since([])) {
    const ne = deps.node.toEvent(wire);
    const r = deps.node.insert(ne);
    deps.writer.record(ne, null);
    await deps.handleBlocks(r.blocks);
    if (deps.applyError() !== null) throw deps.applyError();
    n++;
    if (Date.now() - lastLog > o.progressMs) {
      lastLog = Date.now();
      deps.onProgress(n, deps.engine.lastDecidedRound);
    }
  }
  return n;
}
