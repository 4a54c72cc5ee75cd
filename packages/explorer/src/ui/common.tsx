/**
 * Shared pieces of the pages: the app context, hash links, key-value
 * tables, and the two boxes every verified value comes in: what it was
 * verified against, or the refusal. Text only: Preact puts strings in text
 * nodes, and nothing here sets HTML (issue 20, hostile input).
 *
 * @module
 */
import { ApiError } from '@pos/api';
import { CodedError } from '@pos/protocol';
import { WalletError } from '@pos/wallet-client';
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Connection } from '../lib/connection.js';
import { shortHex } from '../lib/format.js';
import { hrefOf, type Route } from '../lib/route.js';
import type { Anchor, TrustStore } from '../lib/trust-store.js';
import type { WalletStore } from '../lib/wallet-store.js';

/** What every page gets. */
export interface AppCtx {
  readonly conn: Connection;
  /** The pinned trust anchor; null until pinned. */
  readonly anchor: Anchor | null;
  setAnchor(a: Anchor | null): void;
  readonly trustStore: TrustStore;
  readonly walletStore: WalletStore;
  /** Display names of creators and validators by public key and by validatorId (unverified labels). */
  readonly names: ReadonlyMap<string, string>;
}

/** The app context. */
export const App = createContext<AppCtx | null>(null);

/** The app context (inside the app). */
export function useApp(): AppCtx {
  const c = useContext(App);
  if (c === null) throw new Error('outside the app');
  return c;
}

/** A link to a hash's page, shortened, with the full value as its title. */
export function HashLink(props: {
  value: string;
  to?: 'tx' | 'address' | 'event' | 'search';
  full?: boolean;
}) {
  const to = props.to ?? 'search';
  const route: Route =
    to === 'search' ? { page: 'search', query: props.value } : { page: to, hash: props.value };
  return (
    <a class="mono" href={hrefOf(route)} title={props.value}>
      {props.full ? props.value : shortHex(props.value)}
    </a>
  );
}

/** A link to a block. */
export function BlockLink(props: { height: number }) {
  return <a href={hrefOf({ page: 'block', height: props.height })}>{props.height}</a>;
}

/** Rows of label and value. */
export function Fields(props: { rows: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <table class="fields">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The code and message of an error, as shown. */
export function errorInfo(e: unknown): { code: string; message: string } {
  if (e instanceof WalletError || e instanceof ApiError || e instanceof CodedError) {
    return { code: String((e as { code: string }).code), message: e.message };
  }
  if (e instanceof Error) return { code: 'ERROR', message: e.message };
  const o = e as { code?: unknown; message?: unknown } | null;
  if (typeof o?.code === 'string' && typeof o.message === 'string') {
    return { code: o.code, message: o.message };
  }
  return { code: 'ERROR', message: String(e) };
}

/** A value verified in the page, and against what. */
export function Verified(props: { title: string; lines: readonly ComponentChildren[] }) {
  return (
    <div class="verified" data-verified="yes">
      <strong>✓ {props.title}</strong>
      <ul>
        {props.lines.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
    </div>
  );
}

/** An answer that did not verify: its code, and that nothing of it is shown as verified. */
export function Refused(props: { error: unknown; what?: string }) {
  const { code, message } = errorInfo(props.error);
  return (
    <div class="refused" data-refused={code}>
      <strong>✗ REFUSED ({code})</strong>
      {props.what === undefined ? null : <span> {props.what}</span>}
      <div class="mono small">{message}</div>
      <div class="small">Nothing of this answer is shown as verified.</div>
    </div>
  );
}

/** A plain error line (a read the page does not verify). */
export function Failed(props: { error: unknown }) {
  const { code, message } = errorInfo(props.error);
  return (
    <p class="failed">
      {code}: {message}
    </p>
  );
}
