/**
 * The `stall` mode: pulls and creates events, and takes every sync request
 * without ever answering it: the puller waits out its timeout, 10 s in which
 * an honest node's gossip loop does nothing else, unscored (a known
 * weakness, measured in docs/PROTOCOL.md 8; not in the test).
 */
import { toHex } from '@pos/merkle';
import { type Adversary, anyTip, createOwn } from './adversary.js';
import type { ModeBehaviour } from './types.js';

/** The mode. */
export function createStall(adv: Adversary): ModeBehaviour {
  return {
    branches: ['main'],
    resumed() {},
    tick() {
      createOwn(adv, 'main', anyTip(adv));
    },
    respond(req) {
      // Accept the request and never answer: the puller waits for its
      // timeout (a slowloris peer; the socket closes when the puller gives up).
      adv.report.peers[toHex(req.from)]!.requests++;
      return null;
    },
  };
}
