import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createRateLimiter,
  defaultRateLimiterOpts,
  GossipError,
  type RateLimiterOpts,
} from '../src/index.js';

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, GossipError);
    assert.is((e as GossipError).code, code);
    return;
  }
  assert.unreachable(`expected GossipError ${code}`);
}

/** Runs takes in order and returns the grants, to compare with a table. */
function run(opts: RateLimiterOpts, steps: [peer: string, nowMs: number, cost: number][]) {
  const rl = createRateLimiter(opts);
  return steps.map(([peer, now, cost]) => rl.take(peer, now, cost));
}

const ten = { ratePerSec: 10, burst: 5, maxPeers: 8 }; // one token per 100 ms

for (const [name, opts, steps, want] of [
  [
    'a rested peer spends its burst, then is refused',
    ten,
    [
      ['a', 0, 1],
      ['a', 0, 1],
      ['a', 0, 1],
      ['a', 0, 1],
      ['a', 0, 1],
      ['a', 0, 1],
    ],
    [true, true, true, true, true, false],
  ],
  [
    'one token comes back per 100 ms, not before',
    ten,
    [
      ['a', 0, 5],
      ['a', 99, 1],
      ['a', 100, 1],
      ['a', 100, 1],
      ['a', 250, 1],
      ['a', 300, 1],
    ],
    [true, false, true, false, true, true],
  ],
  [
    'refill stops at the burst',
    ten,
    [
      ['a', 0, 5],
      ['a', 60_000, 5],
      ['a', 60_000, 1],
    ],
    [true, true, false],
  ],
  [
    'costs are spent whole; a refused take spends nothing',
    ten,
    [
      ['a', 0, 3],
      ['a', 0, 3],
      ['a', 0, 2],
      ['a', 0, 1],
    ],
    [true, false, true, false],
  ],
  [
    'a cost above the burst is always refused and spends nothing',
    ten,
    [
      ['a', 0, 6],
      ['a', 1_000_000, 6],
      ['a', 1_000_000, 5],
    ],
    [false, false, true],
  ],
  [
    'peers have separate buckets',
    ten,
    [
      ['a', 0, 5],
      ['b', 0, 5],
      ['a', 0, 1],
      ['b', 0, 1],
      ['c', 0, 1],
    ],
    [true, true, false, false, true],
  ],
  [
    'a clock that goes backwards adds nothing',
    ten,
    [
      ['a', 1000, 5],
      ['a', 0, 1],
      ['a', 1099, 1],
      ['a', 1100, 1],
      ['a', 1100, 1],
    ],
    [true, false, false, true, false],
  ],
  [
    'a rate that does not divide 1000 refills exactly (3/s: 1000 ms per 3 tokens)',
    { ratePerSec: 3, burst: 3, maxPeers: 1 },
    [
      ['a', 0, 3],
      ['a', 333, 1],
      ['a', 334, 1],
      ['a', 1000, 2],
      ['a', 1000, 1],
    ],
    [true, false, true, true, false],
  ],
] as [string, RateLimiterOpts, [string, number, number][], boolean[]][]) {
  test(name, () => {
    assert.equal(run(opts, steps), want);
  });
}

test('cost defaults to one token', () => {
  const rl = createRateLimiter({ ratePerSec: 1, burst: 2, maxPeers: 1 });
  assert.equal([rl.take('a', 0), rl.take('a', 0), rl.take('a', 0)], [true, true, false]);
});

test('eviction keeps at most maxPeers buckets and drops the least recently used', () => {
  const rl = createRateLimiter({ ratePerSec: 1, burst: 1, maxPeers: 3 });
  for (const p of ['a', 'b', 'c']) assert.ok(rl.take(p, 0));
  assert.is(rl.size, 3);
  assert.not.ok(rl.take('a', 0)); // a is drained, and now the most recently used
  assert.ok(rl.take('d', 0)); // evicts b, the least recently used
  assert.is(rl.size, 3);
  assert.ok(rl.take('b', 0)); // b was forgotten: a fresh bucket (evicting c)
  assert.not.ok(rl.take('a', 0)); // a was kept: still drained
  assert.not.ok(rl.take('d', 0));
  assert.is(rl.size, 3);
});

test('forget drops one bucket', () => {
  const rl = createRateLimiter({ ratePerSec: 1, burst: 1, maxPeers: 3 });
  assert.ok(rl.take('a', 0));
  assert.not.ok(rl.take('a', 0));
  assert.ok(rl.forget('a'));
  assert.not.ok(rl.forget('a'));
  assert.is(rl.size, 0);
  assert.ok(rl.take('a', 0));
});

test('defaults are valid and frozen', () => {
  const rl = createRateLimiter();
  let granted = 0;
  while (rl.take('a', 0)) granted++;
  assert.is(granted, defaultRateLimiterOpts.burst);
  assert.ok(Object.isFrozen(defaultRateLimiterOpts));
});

for (const [name, opts] of [
  ['zero rate', { ratePerSec: 0, burst: 1, maxPeers: 1 }],
  ['fractional rate', { ratePerSec: 0.5, burst: 1, maxPeers: 1 }],
  ['zero burst', { ratePerSec: 1, burst: 0, maxPeers: 1 }],
  ['huge burst', { ratePerSec: 1, burst: 1e10, maxPeers: 1 }],
  ['huge rate', { ratePerSec: 2e9, burst: 1, maxPeers: 1 }],
  ['zero maxPeers', { ratePerSec: 1, burst: 1, maxPeers: 0 }],
  ['NaN maxPeers', { ratePerSec: 1, burst: 1, maxPeers: Number.NaN }],
] as const) {
  test(`createRateLimiter rejects ${name}`, () => {
    throwsCode(() => createRateLimiter(opts), 'BAD_ARGUMENT');
  });
}

test('take rejects a non-integer clock or cost', () => {
  const rl = createRateLimiter(ten);
  throwsCode(() => rl.take('a', 1.5), 'BAD_ARGUMENT');
  throwsCode(() => rl.take('a', Number.NaN), 'BAD_ARGUMENT');
  for (const cost of [0, -1, 1.5, Number.POSITIVE_INFINITY]) {
    throwsCode(() => rl.take('a', 0, cost), 'BAD_ARGUMENT');
  }
});

// --- properties ------------------------------------------------------------

const optsArb = fc.record({
  ratePerSec: fc.integer({ min: 1, max: 50 }),
  burst: fc.integer({ min: 1, max: 20 }),
  maxPeers: fc.constant(4),
});

test('property: in every window, granted cost <= burst + rate * elapsed', () => {
  fc.assert(
    fc.property(
      optsArb,
      fc.array(
        fc.record({
          peer: fc.constantFrom('a', 'b', 'c'),
          dt: fc.integer({ min: 0, max: 400 }),
          cost: fc.integer({ min: 1, max: 25 }),
        }),
        { maxLength: 80 },
      ),
      (opts, schedule) => {
        const rl = createRateLimiter(opts);
        let now = 0;
        const log = schedule.map(({ peer, dt, cost }) => {
          now += dt;
          return { peer, now, granted: rl.take(peer, now, cost) ? cost : 0 };
        });
        for (const peer of ['a', 'b', 'c']) {
          const mine = log.filter((e) => e.peer === peer);
          for (let i = 0; i < mine.length; i++) {
            let granted = 0;
            for (let j = i; j < mine.length; j++) {
              granted += mine[j]!.granted;
              const elapsed = mine[j]!.now - mine[i]!.now;
              // In milli-tokens, so the bound itself is exact.
              assert.ok(granted * 1000 <= opts.burst * 1000 + opts.ratePerSec * elapsed);
            }
          }
        }
      },
    ),
  );
});

test('property: a refused take succeeds once the refill time for its cost has passed', () => {
  fc.assert(
    fc.property(
      optsArb,
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 30 }),
      fc.integer({ min: 1, max: 20 }),
      (opts, gaps, cost) => {
        fc.pre(cost <= opts.burst);
        const rl = createRateLimiter(opts);
        let now = 0;
        for (const dt of gaps) {
          now += dt;
          if (!rl.take('a', now, cost)) {
            // The bucket held >= 0 before; cost * 1000 more milli-tokens arrive in this time.
            const wait = Math.ceil((cost * 1000) / opts.ratePerSec);
            assert.ok(rl.take('a', now + wait, cost));
            now += wait;
          }
        }
      },
    ),
  );
});

test('property: the number of buckets never exceeds maxPeers', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 100 }),
      (maxPeers, peers) => {
        const rl = createRateLimiter({ ratePerSec: 1, burst: 1, maxPeers });
        for (const [t, p] of peers.entries()) {
          rl.take(`peer-${p}`, t);
          assert.ok(rl.size <= maxPeers);
        }
        assert.is(rl.size, Math.min(maxPeers, new Set(peers).size));
      },
    ),
  );
});

test.run();
