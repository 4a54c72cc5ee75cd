/**
 * One run of a mode this program plays itself: the shared state, the mode,
 * the puller and the responder, and the loop that drives them until SIGTERM
 * or SIGINT.
 */
import type { Server } from 'node:http';
import {
  type Adversary,
  createAdversary,
  readValidatorFiles,
  resumeOwnChain,
} from './adversary.js';
import { createMode, drawChoices } from './modes.js';
import { createPuller, type Puller } from './puller.js';
import { startResponder } from './server.js';
import type { ByzantineArgs, ModeBehaviour, OwnMode } from './types.js';
import { log, sleep, startedAt } from './util.js';

/** How long the start waits for every peer before it resumes with what answered. */
const RESUME_GRACE_MS = 15_000;
/** The loop's pace. */
const TURN_MS = 25;

/** Pulls, releases, resumes and creates events until `stopped()`. */
async function loop(
  adv: Adversary,
  mode: ModeBehaviour,
  puller: Puller,
  stopped: () => boolean,
): Promise<void> {
  let lastEvent = 0;
  while (!stopped()) {
    await puller.pullOnce();
    const now = performance.now();
    mode.afterPull?.(now);
    // Own events need something to stand on: the honest DAG, and the own
    // chain of earlier runs, pulled from every peer (or as much as answered).
    const everyone = puller.synced.size === adv.peers.length;
    if (
      !adv.resumed &&
      adv.dag.byCreator.size > 0 &&
      (everyone || now - startedAt() > RESUME_GRACE_MS)
    ) {
      resumeOwnChain(adv, mode.branches, (own) => mode.resumed(own));
    }
    if (adv.resumed && now - lastEvent >= adv.args.eventMs) {
      mode.tick();
      lastEvent = now;
    }
    await sleep(TURN_MS);
  }
}

async function shutdown(adv: Adversary, puller: Puller, server: Server): Promise<void> {
  log('stopping', { created: adv.report.created, pulls: adv.report.pulls });
  await puller.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** Runs `mode` on the validator of `a.dataDir`; exits the process (0) once stopped. */
export async function runOwnMode(a: ByzantineArgs, mode: OwnMode): Promise<void> {
  const adv = createAdversary(a, await readValidatorFiles(a.dataDir));
  const behaviour = createMode(adv, mode, drawChoices(adv.rand));
  // Taken in every mode (a no-op but in withhold), so that it never kills one.
  process.on('SIGUSR2', () => behaviour.release?.());
  const puller = createPuller(adv);
  const server = await startResponder(adv, behaviour);
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await loop(adv, behaviour, puller, () => stopping);
  await shutdown(adv, puller, server);
  process.exit(0);
}
