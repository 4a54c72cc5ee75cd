/**
 * Small shared pieces of the gossip loop and the sync server: the logger
 * they need (pino's shape, nothing more) and a limiter that lets a warning
 * about one key through at most once per interval.
 */

/** The logger the gossip layer writes to (a pino logger fits). */
export interface GossipLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of {@link createWarnLimiter}. */
export interface WarnLimiterOpts {
  /** A key warns at most once per this interval. */
  intervalMs: number;
  /** Keys remembered; past it, new keys wait until old entries expire. */
  maxKeys: number;
}

/** Whether a warning about a key is due. */
export interface WarnLimiter {
  /** True (and remembered) if `key` did not warn within the interval. */
  due(key: string, nowMs: number): boolean;
}

/**
 * A bounded limiter: a flood of new keys (peers' keys cost them nothing)
 * cannot grow it past `maxKeys`, and then costs only the warnings.
 */
export function createWarnLimiter(opts: WarnLimiterOpts): WarnLimiter {
  const warnedMs = new Map<string, number>();
  return {
    due(key, nowMs) {
      const last = warnedMs.get(key);
      if (last !== undefined && nowMs - last < opts.intervalMs) return false;
      if (last === undefined && warnedMs.size >= opts.maxKeys) {
        for (const [k, t] of warnedMs) if (nowMs - t >= opts.intervalMs) warnedMs.delete(k);
        if (warnedMs.size >= opts.maxKeys) return false;
      }
      warnedMs.set(key, nowMs);
      return true;
    },
  };
}
