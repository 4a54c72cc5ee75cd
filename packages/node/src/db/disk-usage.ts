/**
 * The disk a node's database takes (`storage.diskBytes` in `pos_status`,
 * `pos_disk_bytes`; docs/PROTOCOL.md 10.3): the sizes of the files under
 * `<data dir>/db`, summed by a walk that runs at most every `intervalMs`
 * in the background, never in a request. LevelDB keeps its files in one
 * flat directory, so a walk is one `readdir` and one `stat` a file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Options of {@link createDiskUsage}; defaults in {@link defaultDiskUsageOpts}. */
export interface DiskUsageOpts {
  /** How often the directory is walked again. */
  intervalMs: number;
}

export const defaultDiskUsageOpts: Readonly<DiskUsageOpts> = Object.freeze({ intervalMs: 10_000 });

/** The latest measure of a directory's size. */
export interface DiskUsage {
  /** Bytes of the files under the directory at the last walk; null before the first. */
  readonly bytes: number | null;
  /** Walks now (also what the timer does); resolves with the new figure. */
  refresh(): Promise<number>;
  /** Stops the timer. */
  close(): void;
}

/** Sums the sizes of the regular files under `dir`, subdirectories included; a file removed meanwhile counts 0. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile())
      total += await stat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/**
 * Measures `dir` at once and then every `intervalMs` (an unref'd timer: it
 * never keeps the process alive); `onMeasure` gets every figure (the gauge).
 */
export function createDiskUsage(
  dir: string,
  onMeasure: (bytes: number) => void,
  opts: Partial<DiskUsageOpts> = {},
): DiskUsage {
  const o: DiskUsageOpts = { ...defaultDiskUsageOpts, ...opts };
  let bytes: number | null = null;
  let running: Promise<number> | null = null;
  const refresh = () => {
    running ??= directoryBytes(dir)
      .then((b) => {
        bytes = b;
        onMeasure(b);
        return b;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void refresh().catch(() => {}), o.intervalMs);
  timer.unref();
  void refresh().catch(() => {});
  return {
    get bytes() {
      return bytes;
    },
    refresh,
    close: () => clearInterval(timer),
  };
}
