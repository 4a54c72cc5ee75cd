/**
 * The conformance bundle (`format: "hashgraph-conformance-fixtures/v1"`,
 * docs/PROTOCOL.md 5.8): its fixtures, their variants and the extra coin
 * frequencies its `cross_check.results` ask for, each replayed on its own.
 */
import { describe, isRecord, safeInt, setKey } from './json.js';
import { parseAt } from './parse.js';
import { replay } from './run.js';
import {
  BUNDLE_DEFAULT_COIN,
  BUNDLE_FORMAT,
  ReplayError,
  type ReplayInput,
  type ReplayOpts,
  type ReplayOutput,
} from './types.js';

/** One replay of a bundle: the key of `cross_check.results` it answers. */
export interface BundleEntry {
  /** `name`, `name/variant`, or `name/variant/c=N`. */
  readonly key: string;
  readonly input: ReplayInput;
  /** Coin round frequency of this entry (the fixture's, 4 by default, or N of `/c=N`). */
  readonly coinFrequency: number;
}

/** Whether a parsed JSON value is a conformance bundle rather than a single fixture. */
export function isBundle(json: unknown): boolean {
  return isRecord(json) && Object.hasOwn(json, 'format');
}

const VARIANT = /^all events(?: except (\S+(?:,\s*\S+)*))?$/;
const COIN_SUFFIX = /^(.*)\/c=([1-9][0-9]*)$/;

/** The entries found so far, in order and by key. */
interface Entries {
  readonly list: BundleEntry[];
  readonly byKey: Map<string, BundleEntry>;
}

function add(entries: Entries, e: BundleEntry): void {
  entries.list.push(e);
  entries.byKey.set(e.key, e);
}

/**
 * The replays a conformance bundle (`format: "hashgraph-conformance-fixtures/v1"`,
 * see the bundle's README) asks for, keyed like its `cross_check.results`:
 * `name` for a fixture without variants, `name/variant` for each variant
 * (a variant is described as "all events" or "all events except a,b"), and
 * `<one of those>/c=N` for each such key in `cross_check.results`, replayed
 * with coin frequency N. Fixtures have equal stake 1 for each of their `n`
 * creators and coin frequency `coinRoundFrequency`, 4 when absent.
 * `coinFrequency` overrides every fixture's, but not an explicit `/c=N`.
 */
export function bundleEntries(json: unknown, coinFrequency?: number): BundleEntry[] {
  if (!isRecord(json)) throw new ReplayError('bundle', `expected an object, got ${describe(json)}`);
  if (json.format !== BUNDLE_FORMAT) {
    throw new ReplayError(
      'format',
      `expected ${JSON.stringify(BUNDLE_FORMAT)}, got ${describe(json.format)}`,
    );
  }
  if (!isRecord(json.fixtures)) {
    throw new ReplayError('fixtures', `expected an object, got ${describe(json.fixtures)}`);
  }
  const entries: Entries = { list: [], byKey: new Map() };
  for (const [name, fx] of Object.entries(json.fixtures)) {
    fixtureEntries(entries, name, fx, coinFrequency);
  }
  const results = isRecord(json.cross_check) ? json.cross_check.results : undefined;
  if (isRecord(results)) coinEntries(entries, results);
  return entries.list;
}

/** The entries of fixture `name`: itself, or each of its variants. */
function fixtureEntries(
  entries: Entries,
  name: string,
  fx: unknown,
  coinFrequency: number | undefined,
): void {
  const p = `fixtures.${name}`;
  if (!isRecord(fx)) throw new ReplayError(p, `expected an object, got ${describe(fx)}`);
  let stakes: number[] | undefined;
  if (fx.n !== undefined) stakes = new Array<number>(safeInt(fx.n, `${p}.n`, 1)).fill(1);
  const coin =
    fx.coinRoundFrequency === undefined
      ? BUNDLE_DEFAULT_COIN
      : safeInt(fx.coinRoundFrequency, `${p}.coinRoundFrequency`, 1);
  const base = parseAt(
    { ...(stakes ? { stakes } : {}), coinRoundFrequency: coin, events: fx.events },
    p,
    p,
  );
  const c = coinFrequency ?? coin;
  if (fx.variants === undefined) {
    add(entries, { key: name, input: base, coinFrequency: c });
    return;
  }
  if (!isRecord(fx.variants)) {
    throw new ReplayError(`${p}.variants`, `expected an object, got ${describe(fx.variants)}`);
  }
  for (const [variant, desc] of Object.entries(fx.variants)) {
    const input = variantInput(`${p}.variants.${variant}`, desc, base, coin, fx.events);
    add(entries, { key: `${name}/${variant}`, input, coinFrequency: c });
  }
}

/** A variant ("all events" or "all events except a,b") of a fixture, parsed at `vp`. */
function variantInput(
  vp: string,
  desc: unknown,
  base: ReplayInput,
  coin: number,
  events: unknown,
): ReplayInput {
  const m = typeof desc === 'string' ? VARIANT.exec(desc) : null;
  if (!m) {
    throw new ReplayError(
      vp,
      `expected "all events" or "all events except a,b", got ${describe(desc)}`,
    );
  }
  const except = new Set(m[1] ? m[1].split(/,\s*/) : []);
  for (const x of except) {
    if (!base.events.some((e) => e.name === x)) {
      throw new ReplayError(vp, `unknown event ${JSON.stringify(x)}`);
    }
  }
  // Re-parse the subset: leaving events out must not orphan a kept one.
  return parseAt(
    {
      stakes: base.stakes.map(String),
      coinRoundFrequency: coin,
      events: (events as unknown[]).filter(
        (e) => !(isRecord(e) && typeof e.name === 'string' && except.has(e.name)),
      ),
    },
    vp,
    vp,
  );
}

/** The `<key>/c=N` entries of `cross_check.results` that name no fixture or variant themselves. */
function coinEntries(entries: Entries, results: Record<string, unknown>): void {
  for (const key of Object.keys(results)) {
    if (entries.byKey.has(key)) continue;
    const m = COIN_SUFFIX.exec(key);
    const of = m ? entries.byKey.get(m[1]!) : undefined;
    if (!m || !of) {
      throw new ReplayError(
        `cross_check.results.${key}`,
        'names no fixture or variant of this bundle',
      );
    }
    add(entries, { key, input: of.input, coinFrequency: Number(m[2]) });
  }
}

/**
 * Replays every entry of a conformance bundle (see {@link bundleEntries}):
 * the result has the keys of `cross_check.results` (and one per fixture or
 * variant that has no result there).
 */
export function replayBundle(json: unknown, opts: ReplayOpts): Record<string, ReplayOutput> {
  const out: Record<string, ReplayOutput> = {};
  for (const e of bundleEntries(json, opts.coinFrequency)) {
    try {
      setKey(out, e.key, replay(e.input, { hash: opts.hash, coinFrequency: e.coinFrequency }));
    } catch (err) {
      if (!(err instanceof ReplayError)) throw err;
      throw new ReplayError(`${e.key}: ${err.path}`, err.message.slice(err.path.length + 2));
    }
  }
  return out;
}
