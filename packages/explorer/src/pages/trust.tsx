/**
 * The trust anchor (docs/PROTOCOL.md 11): which genesis the page verifies
 * against, where it came from, whether this node follows that chain, and
 * how to pin another (a genesis file, or this node's genesis again).
 *
 * @module
 */
import { useState } from 'preact/hooks';
import { clock } from '../lib/format.js';
import { errorInfo, Fields, useApp } from '../ui/common.js';
import { useAsync } from '../ui/hooks.js';

/** The trust page. */
export function TrustPage() {
  const { conn, anchor, setAnchor, trustStore } = useApp();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const status = useAsync(() => conn.api.status(), []);
  const pin = (json: unknown, source: 'node' | 'file') => {
    try {
      setAnchor(trustStore.pin(json, source, Date.now()));
      setError(null);
    } catch (e) {
      setError(errorInfo(e).message);
    }
  };
  const fromText = () => {
    try {
      pin(JSON.parse(text), 'file');
    } catch (e) {
      setError(errorInfo(e).message);
    }
  };
  const fromFile = async (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (f !== undefined) setText(await f.text());
  };
  const fromNode = async () => {
    try {
      pin(await (await fetch('genesis.json')).json(), 'node');
    } catch (e) {
      setError(errorInfo(e).message);
    }
  };
  const nodeChain = status.value?.chainId;
  return (
    <section class="page">
      <h2>Trust anchor</h2>
      {anchor === null ? (
        <p>None pinned.</p>
      ) : (
        <Fields
          rows={[
            ['chain', anchor.chainName],
            ['chainId (genesis hash, computed here)', <span class="mono">{anchor.chainId}</span>],
            ['validators at genesis', String(anchor.genesis.validators.length)],
            [
              'pinned',
              `${clock(anchor.pinnedAtMs)} from ${anchor.source === 'node' ? "this node's genesis, on first use" : 'a genesis you gave'}`,
            ],
            [
              'this node',
              nodeChain === undefined
                ? '…'
                : nodeChain === anchor.chainId
                  ? 'follows this chain'
                  : `follows ANOTHER chain (${nodeChain}): its answers will be refused (WRONG_CHAIN)`,
            ],
          ]}
        />
      )}
      <p class="small">
        Compare the chainId with one you know from elsewhere (`.testnet/testnet.json`, your
        operator). Everything shown as verified is checked against this anchor; nothing else the
        node says is trusted.
      </p>
      <h3>Pin another genesis</h3>
      <input type="file" accept=".json,application/json" onChange={fromFile} />
      <textarea
        name="genesis"
        rows={5}
        value={text}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <button type="button" disabled={text === ''} onClick={fromText}>
        pin this genesis
      </button>{' '}
      <button type="button" onClick={fromNode}>
        pin this node's genesis
      </button>
      {error === null ? null : <p class="failed">{error}</p>}
    </section>
  );
}
