/**
 * The explorer's entry: connects to the node that served the page, loads
 * (or, on a first visit, pins) the trust anchor, and renders.
 *
 * @module
 */
import { render } from 'preact';
import { Explorer } from './app.js';
import { createConnection, defaultConnectionOpts } from './lib/connection.js';
import { createTrustStore } from './lib/trust-store.js';
import { createWalletStore } from './lib/wallet-store.js';

async function start(): Promise<void> {
  const conn = createConnection({ ...defaultConnectionOpts, origin: location.origin, WebSocket });
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
