/**
 * Small helpers of the Byzantine validator: its clock since start, its JSON
 * log lines on stdout, and the seeded shuffle behind its choices.
 */

const t0 = performance.now();

/** Milliseconds since the process started (the module is loaded at start). */
export const sinceStart = (): number => Math.round(performance.now() - t0);

/** The `performance.now()` of the start, for the loop's start-up grace. */
export const startedAt = (): number => t0;

/** One JSON log line on stdout: `{t, msg, ...fields}`. */
export function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ t: sinceStart(), msg, ...fields })}\n`);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** Fisher–Yates with `rand`: the seed decides every order the adversary picks. */
export function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
