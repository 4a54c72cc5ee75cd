/**
 * The explorer's entry: connects to the node that served the page, loads
 * (or, on a first visit, pins) the trust anchor, and renders.
 *
 * @module
 */
import { render } from 'preact';
import { Explorer } from './app.js';
import { createConnection, defaultConnectionOpts } from './lib/connection.js';
import { createStateStore } from './lib/state-store.js';
import { createTrustStore } from './lib/trust-store.js';
import { createWalletStore } from './lib/wallet-store.js';

/** How often what the page verified is saved (and when it is hidden). */
const SAVE_TRUST_MS = 30_000;

async function start(): Promise<void> {
  const states = createStateStore(localStorage);
  const conn = createConnection({
    ...defaultConnectionOpts,
    origin: location.origin,
    WebSocket,
    // Resume from what this browser verified before (docs/PROTOCOL.md 11.2);
    // a state that does not open is dropped and said in the console.
    trustOf: (a) => {
      const r = states.resume(a);
      if (r.refused !== null) console.warn(`saved trust state dropped: ${r.refused}`);
      return r.trust;
    },
  });
  const trustStore = createTrustStore(localStorage);
  let anchor = trustStore.load();
  if (anchor === null) {
    try {
      // Trust on first use, said on screen: genesis.json beside this page.
      anchor = trustStore.pin(await (await fetch('genesis.json')).json(), 'node', Date.now());
    } catch {
      anchor = null;
    }
  }
  if (anchor !== null) {
    const pinned = anchor;
    const save = () => states.save(pinned, conn.trustStates(pinned));
    setInterval(save, SAVE_TRUST_MS);
    addEventListener('pagehide', save);
  }
  render(
    <Explorer
      conn={conn}
      trustStore={trustStore}
      walletStore={createWalletStore(localStorage)}
      anchor={anchor}
    />,
    document.getElementById('app')!,
  );
}

void start();
