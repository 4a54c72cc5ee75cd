/**
 * The `withhold` mode: creates events but serves none of them (nor anything
 * that descends from them) for `--withhold-ms` (0: until SIGUSR2; SIGUSR2
 * releases at once), while it keeps pulling; then releases its whole hidden
 * chain to one peer only (the first in the seeded order), which has to
 * absorb a burst of old events and relay them.
 */
import { toHex } from '@pos/merkle';
import { type Adversary, anyTip, createOwn, mainHead, noteRequest } from './adversary.js';
import { pageFor, View } from './dag.js';
import { packResponse } from './pack.js';
import type { ModeBehaviour } from './types.js';
import { log, sinceStart } from './util.js';

/** Hands the hidden chain to `to`: from now on it gets every event and the head. */
function releaseTo(adv: Adversary, to: string): void {
  const head = mainHead(adv);
  const released = {
    atMs: sinceStart(),
    to,
    head: head === null ? null : { seq: head.ev.seq, hash: toHex(head.ev.hash) },
  };
  adv.report.released = released;
  adv.report.peers[to]!.view = 'all';
  log('releasing the hidden chain', { to: adv.peerByHex.get(to)!.name, head: released.head });
}

/** The mode; the deadline runs from now. */
export function createWithhold(adv: Adversary): ModeBehaviour {
  // Nothing of ours is served until the release, then to one peer. Own
  // events of an earlier run (pulled back at the start) are public already.
  const publicOwn = new Set<string>();
  const hidden = new View(adv.dag, publicOwn);
  const until = adv.args.withholdMs === 0 ? Infinity : performance.now() + adv.args.withholdMs;
  const to = adv.peers[0]!.hex;
  let releaseNow = false;
  for (const p of adv.peers) adv.report.peers[p.hex]!.view = 'hidden';
  return {
    branches: ['main'],
    resumed(own) {
      for (const h of own) publicOwn.add(toHex(h.ev.hash));
      hidden.bump();
    },
    tick() {
      createOwn(adv, 'main', anyTip(adv));
    },
    respond(req) {
      const peerHex = toHex(req.from);
      noteRequest(adv, peerHex);
      const released = adv.report.released !== null && peerHex === adv.report.released.to;
      const p = pageFor(adv.dag, req, (h) => released || hidden.ok(h));
      const head = mainHead(adv);
      const tip = released && head !== null ? { hash: head.ev.hash, seq: head.ev.seq } : null;
      return packResponse(
        p.events.map((h) => h.ev.bytes),
        p.more,
        tip,
      );
    },
    afterPull(now) {
      if (adv.report.released === null && (releaseNow || now >= until)) releaseTo(adv, to);
    },
    release() {
      releaseNow = true;
    },
  };
}
