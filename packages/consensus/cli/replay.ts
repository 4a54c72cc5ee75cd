/**
 * `consensus:replay FILE [--fixture KEY] [--coin C]`: prints the consensus of
 * a DAG fixture (docs/PROTOCOL.md 5.8) as JSON on stdout.
 *
 * FILE is either one replay fixture (`{stakes?, coinRoundFrequency?,
 * events}`) or a conformance bundle (`format:
 * "hashgraph-conformance-fixtures/v1"`, as in `test/fixtures/hashgraph/`).
 * For a bundle it prints every replay keyed like `cross_check.results`, or
 * only the one named by `--fixture`. `--coin` overrides the coin round
 * frequency (a bundle's explicit `/c=N` keys keep theirs).
 *
 * Exit codes: 0 with the JSON on stdout; 2 for a usage error or a malformed
 * input (unreadable file, bad JSON, bad fixture, unknown key), with exactly
 * one line `consensus:replay: <message>` on stderr; 1 for anything else (a
 * bug), also on one line.
 */
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  bundleEntries,
  isBundle,
  parseReplayInput,
  ReplayError,
  replay,
  replayBundle,
} from '../src/replay.js';

const USAGE = 'usage: consensus:replay FILE [--fixture KEY] [--coin C]';

/** An error that is the user's: printed as is, exit 2. */
class UsageError extends Error {}

// SHA-256 from node:crypto as a plain Uint8Array view (docs/PROTOCOL.md 2: the
// same bytes as noble's).
const sha256 = (d: Uint8Array) => {
  const b = hash('sha256', d, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

function run(argv: string[]): unknown {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { fixture: { type: 'string' }; coin: { type: 'string' } };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: { fixture: { type: 'string' }, coin: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; ${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(USAGE);
  let coin: number | undefined;
  if (values.coin !== undefined) {
    if (!/^[1-9][0-9]*$/.test(values.coin) || !Number.isSafeInteger(Number(values.coin))) {
      throw new UsageError(`--coin: expected an integer >= 1, got ${JSON.stringify(values.coin)}`);
    }
    coin = Number(values.coin);
  }

  const file = positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`cannot read ${file}: ${code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not JSON: ${(e as Error).message}`);
  }

  const opts = coin === undefined ? { hash: sha256 } : { hash: sha256, coinFrequency: coin };
  if (!isBundle(json)) {
    if (values.fixture !== undefined) {
      throw new UsageError(`--fixture applies to a bundle; ${file} is a single fixture`);
    }
    return replay(parseReplayInput(json), opts);
  }
  if (values.fixture === undefined) return replayBundle(json, opts);
  const entry = bundleEntries(json, coin).find((e) => e.key === values.fixture);
  if (!entry) {
    const keys = bundleEntries(json, coin).map((e) => e.key);
    throw new UsageError(
      `--fixture: no key ${JSON.stringify(values.fixture)} (have: ${keys.join(', ')})`,
    );
  }
  return replay(entry.input, { hash: sha256, coinFrequency: entry.coinFrequency });
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

try {
  const out = run(process.argv.slice(2));
  // exitCode, not exit(): a large output to a pipe must be flushed first.
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.exitCode = 0;
} catch (e) {
  const known = e instanceof UsageError || e instanceof ReplayError;
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`consensus:replay: ${oneLine(known ? msg : `internal error: ${msg}`)}\n`);
  process.exitCode = known ? 2 : 1;
}
