/**
 * The explorer's shell: navigation, the search box (validated before
 * anything is asked), the trust anchor line, and the page of the current
 * address (./lib/route.ts).
 *
 * @module
 */
import { toHex, validatorIdOf } from '@pos/protocol';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Connection, FeedState } from './lib/connection.js';
import { shortHex } from './lib/format.js';
import { hrefOf, parseRoute, type Route } from './lib/route.js';
import { parseSearch } from './lib/search.js';
import type { Anchor, TrustStore } from './lib/trust-store.js';
import type { WalletStore } from './lib/wallet-store.js';
import { BlockPage, BlocksPage } from './pages/blocks.js';
import { DagPage } from './pages/dag.js';
import { AddressPage, EventPage, SearchPage, TxPage } from './pages/lookup.js';
import { NodePage } from './pages/node.js';
import { TrustPage } from './pages/trust.js';
import { ValidatorsPage } from './pages/validators.js';
import { WalletPage } from './pages/wallet.js';
import { App, type AppCtx } from './ui/common.js';
import { useLocationHash } from './ui/hooks.js';

function Page(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case 'dag':
      return <DagPage />;
    case 'blocks':
      return <BlocksPage />;
    case 'block':
      return <BlockPage key={r.height} height={r.height} />;
    case 'tx':
      return <TxPage key={r.hash} hash={r.hash} />;
    case 'address':
      return <AddressPage key={r.hash} hash={r.hash} />;
    case 'event':
      return <EventPage key={r.hash} hash={r.hash} />;
    case 'search':
      return <SearchPage key={r.query} query={r.query} />;
    case 'validators':
      return <ValidatorsPage />;
    case 'node':
      return <NodePage />;
    case 'wallet':
      return <WalletPage />;
    case 'trust':
      return <TrustPage />;
    default:
      return <p class="failed">{r.reason}</p>;
  }
}

function Search() {
  const [q, setQ] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const t = parseSearch(q);
    if (t.kind === 'invalid') {
      setError(t.reason);
      return;
    }
    setError(null);
    location.hash =
      t.kind === 'height'
        ? hrefOf({ page: 'block', height: t.height })
        : hrefOf({ page: 'search', query: t.hash });
  };
  return (
    <form class="search" onSubmit={submit}>
      <input
        name="q"
        placeholder="transaction, event, address or height"
        maxLength={100}
        value={q}
        onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
      />
      <button type="submit">search</button>
      {error === null ? null : (
        <span class="failed" data-search-error>
          {error}
        </span>
      )}
    </form>
  );
}

/** Names by public key and validatorId: the genesis's, then the node's current listing (labels, not verified). */
function useNames(conn: Connection, anchor: Anchor | null): Map<string, string> {
  const [names, setNames] = useState(() => new Map<string, string>());
  useEffect(() => {
    const m = new Map<string, string>();
    for (const v of anchor?.genesis.validators ?? []) {
      m.set(toHex(v.pubkey), v.name);
      m.set(toHex(validatorIdOf(v.pubkey)), v.name);
    }
    setNames(new Map(m));
    conn.api
      .getValidators()
      .then((t) => {
        for (const v of t.validators) {
          if (!m.has(v.publicKey)) m.set(v.publicKey, v.name);
          if (!m.has(v.validatorId)) m.set(v.validatorId, v.name);
        }
        setNames(new Map(m));
      })
      .catch(() => {});
  }, [anchor?.chainId]);
  return names;
}

/** The whole page. */
export function Explorer(props: {
  conn: Connection;
  trustStore: TrustStore;
  walletStore: WalletStore;
  anchor: Anchor | null;
}) {
  const [anchor, setAnchor] = useState(props.anchor);
  const [feed, setFeed] = useState<FeedState>('connecting');
  const names = useNames(props.conn, anchor);
  const route = parseRoute(useLocationHash());
  useEffect(() => props.conn.onFeed(setFeed), []);
  useEffect(() => props.conn.onBlock(() => {}), []);
  const ctx: AppCtx = useMemo(
    () => ({
      conn: props.conn,
      anchor,
      setAnchor,
      trustStore: props.trustStore,
      walletStore: props.walletStore,
      names,
    }),
    [anchor, names],
  );
  const nav = ['dag', 'blocks', 'validators', 'node', 'wallet'] as const;
  return (
    <App.Provider value={ctx}>
      <header>
        <h1>
          <a href="#/dag">proof-of-share explorer</a>
        </h1>
        <nav>
          {nav.map((p) => (
            <a key={p} href={`#/${p}`} class={route.page === p ? 'active' : ''}>
              {p === 'dag' ? 'DAG' : p[0]!.toUpperCase() + p.slice(1)}
            </a>
          ))}
        </nav>
        <Search />
        <a class="trust small" href="#/trust" data-anchor={anchor?.chainId ?? ''}>
          {anchor === null
            ? 'no trust anchor'
            : `anchor: ${anchor.chainName} ${shortHex(anchor.chainId, 10, 0)}${anchor.source === 'node' ? ' (first use)' : ''}`}
        </a>
        <span class={`feed small ${feed}`} data-feed={feed}>
          {feed === 'live' ? '● live' : feed}
        </span>
      </header>
      <main>
        <Page route={route} />
      </main>
    </App.Provider>
  );
}
