/** The Byzantine validator's command line (src/byzantine.ts has the usage). */
import { parseArgs } from 'node:util';
import { type ByzantineArgs, MODES, type Mode } from './types.js';

/** Parses the flags; throws an `Error` naming the flag on a bad value. */
export function parseByzantineArgs(argv: string[]): ByzantineArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      mode: { type: 'string' },
      seed: { type: 'string' },
      'offset-ms': { type: 'string', default: '3600000' },
      'fork-every': { type: 'string', default: '6' },
      'event-ms': { type: 'string', default: '250' },
      'withhold-ms': { type: 'string', default: '15000' },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: an integer >= ${min}`);
    return n;
  };
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new Error(`--mode: one of ${MODES.join(', ')}`);
  if (values['data-dir'] === undefined) throw new Error('--data-dir is required');
  return {
    dataDir: values['data-dir'],
    mode,
    seed:
      values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed, 0),
    offsetMs: int('offset-ms', values['offset-ms'], -(2 ** 40)),
    forkEvery: int('fork-every', values['fork-every'], 2),
    eventMs: int('event-ms', values['event-ms'], 10),
    withholdMs: int('withhold-ms', values['withhold-ms'], 0),
  };
}
