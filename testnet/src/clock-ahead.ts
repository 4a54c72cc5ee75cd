/**
 * A preload (`node --import <this file> ...`) that runs a process with its
 * wall clock shifted (issue 7, the clock-ahead Byzantine validator):
 * `Date.now()` and `new Date()` read `POS_CLOCK_OFFSET_MS` (default one hour)
 * ahead. `performance.now()` and timers are left alone, so the process runs
 * at normal speed; only what it stamps and compares with the wall clock
 * (sync request timestamps, event timestamps, the ±5 minute request window)
 * is off. Worker threads inherit `--import`, so they see the same clock.
 */
const raw = process.env.POS_CLOCK_OFFSET_MS ?? '3600000';
const offsetMs = Number(raw);
if (!Number.isSafeInteger(offsetMs)) {
  throw new Error(`POS_CLOCK_OFFSET_MS must be an integer of milliseconds, got ${raw}`);
}

const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
const shiftedNow = () => realNow() + offsetMs;

// A proxy rather than a subclass: `Date()` called as a function (a string of
// now) keeps working, `instanceof Date` and every other static still hold;
// only the no-argument forms and `now` move.
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) =>
    Reflect.construct(target, args.length === 0 ? [shiftedNow()] : args, newTarget),
  apply: () => new RealDate(shiftedNow()).toString(),
  get: (target, prop, receiver) =>
    prop === 'now' ? shiftedNow : Reflect.get(target, prop, receiver),
});
