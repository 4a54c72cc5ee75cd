/**
 * The pages and their addresses (`#/page/param`): parsed from the location
 * hash, which is input like the search box, so each parameter is validated
 * (./search.ts) before a page sees it.
 *
 * @module
 */
import { hashParam, heightParam } from './search.js';

/** A page and its validated parameter. */
export type Route =
  | { readonly page: 'dag' }
  | { readonly page: 'blocks' }
  | { readonly page: 'block'; readonly height: number }
  | { readonly page: 'tx'; readonly hash: string }
  | { readonly page: 'address'; readonly hash: string }
  | { readonly page: 'event'; readonly hash: string }
  | { readonly page: 'search'; readonly query: string }
  | { readonly page: 'validators' }
  | { readonly page: 'node' }
  | { readonly page: 'wallet' }
  | { readonly page: 'trust' }
  | { readonly page: 'invalid'; readonly reason: string };

const SIMPLE = new Set(['dag', 'blocks', 'validators', 'node', 'wallet', 'trust']);

/** The route of a location hash (`#/tx/0x…`); `#` or empty is the DAG. */
export function parseRoute(hash: string): Route {
  const [page = '', param, ...rest] = hash.replace(/^#\/?/, '').split('/');
  if (page === '') return { page: 'dag' };
  if (rest.length > 0) return { page: 'invalid', reason: 'no such page' };
  let p: string | undefined;
  try {
    p = param === undefined ? undefined : decodeURIComponent(param);
  } catch {
    return { page: 'invalid', reason: 'a malformed address' };
  }
  if (SIMPLE.has(page) && p === undefined) return { page } as Route;
  if (page === 'block') {
    const height = heightParam(p);
    return height === null ? { page: 'invalid', reason: 'not a block height' } : { page, height };
  }
  if (page === 'tx' || page === 'address' || page === 'event') {
    const h = hashParam(p);
    return h === null ? { page: 'invalid', reason: 'not a 32-byte hex hash' } : { page, hash: h };
  }
  if (page === 'search' && p !== undefined) return { page, query: p };
  return { page: 'invalid', reason: 'no such page' };
}

/** The location hash of a route. */
export function hrefOf(r: Route): string {
  switch (r.page) {
    case 'block':
      return `#/block/${r.height}`;
    case 'tx':
    case 'address':
    case 'event':
      return `#/${r.page}/${r.hash}`;
    case 'search':
      return `#/search/${encodeURIComponent(r.query)}`;
    case 'invalid':
      return '#/dag';
    default:
      return `#/${r.page}`;
  }
}
