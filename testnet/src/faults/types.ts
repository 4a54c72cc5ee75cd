/** The contracts of the fault proxies (src/faults.ts): rules, block modes, counters, controls. */

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

/** The controls of the faults and their counters, per directed link (src/faults/links.ts). */
export interface FaultControls {
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
}

/** The proxies of one testnet and the controls of their faults. */
export interface FaultNet extends FaultControls {
  /** The seed in use. */
  readonly seed: number;
  /** Resolves once every proxy listens on its front port. */
  readonly ready: Promise<void>;
  /** Stops the proxies, drops held connections, and resolves once closed. */
  close(): Promise<void>;
}
