/** The modes this program plays, by name, and the seeded choices they start from. */
import type { Adversary } from './adversary.js';
import { createEquivocate } from './equivocate.js';
import { createGarbage } from './garbage.js';
import { createStall } from './stall.js';
import { GARBAGE_KINDS, type GarbageKind, type ModeBehaviour, type OwnMode } from './types.js';
import { shuffle } from './util.js';
import { createWithhold } from './withhold.js';

/** The choices drawn at the start, after the peers' order. */
export interface StartChoices {
  /** equivocate: own events before the first fork (3..6). */
  warmup: number;
  /** garbage: the order of the kinds once a peer's plan is done. */
  garbageCycle: GarbageKind[];
}

/**
 * Draws the start's choices, both in every mode and in this order, so that
 * a seed gives each mode the same stream of choices after them.
 */
export function drawChoices(rand: () => number): StartChoices {
  const warmup = 3 + Math.floor(rand() * 4);
  const garbageCycle = shuffle(GARBAGE_KINDS, rand);
  return { warmup, garbageCycle };
}

/** The behaviour of `mode` over `adv`. */
export function createMode(adv: Adversary, mode: OwnMode, c: StartChoices): ModeBehaviour {
  switch (mode) {
    case 'equivocate':
      return createEquivocate(adv, c.warmup);
    case 'withhold':
      return createWithhold(adv);
    case 'garbage':
      return createGarbage(adv, c.garbageCycle);
    case 'stall':
      return createStall(adv);
  }
}
