/**
 * The explorer on the RPC port (docs/PROTOCOL.md 10, "Explorer"): the built
 * static assets of `@pos/explorer` read from `explorerDir` (the node does not
 * import the explorer's code), at `GET /explorer/`, and the genesis the node
 * runs at `GET /explorer/genesis.json`, the page's default trust anchor.
 * Read-only (GET and HEAD), every answer with a Content-Security-Policy that
 * allows only this origin's own scripts, styles and connections: an
 * on-chain string shown by the page can never run as script.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import { type Genesis, genesisToJSON } from '@pos/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The explorer's Content-Security-Policy: nothing inline, nothing from another origin. */
export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every explorer answer. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': EXPLORER_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/** Options of {@link registerExplorerRoutes}. */
export interface ExplorerRoutesOpts {
  /** The built explorer (its `index.html` and `assets/`); null: not served. */
  readonly dir: string | null;
  readonly genesis: Genesis;
}

const NOT_SERVED =
  'This node does not serve the explorer: start posd with --explorer-dir DIR ' +
  '(POS_EXPLORER_DIR), DIR being packages/explorer/dist/app once built (pnpm build).\n';

function secure(reply: FastifyReply): FastifyReply {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
  return reply;
}

/** Registers `/explorer`, `/explorer/` and its assets, `/explorer/genesis.json`. */
export function registerExplorerRoutes(app: FastifyInstance, opts: ExplorerRoutesOpts): void {
  const dir = opts.dir === null ? null : resolve(opts.dir);
  app.get('/explorer', async (_req, reply) => secure(reply).redirect('/explorer/', 302));
  app.get('/explorer/genesis.json', async (_req, reply) => {
    secure(reply).header('cache-control', 'no-cache');
    return genesisToJSON(opts.genesis);
  });
  if (dir === null || !existsSync(join(dir, 'index.html'))) {
    app.get('/explorer/*', async (_req, reply) => {
      secure(reply).code(404).type('text/plain; charset=utf-8');
      return dir === null ? NOT_SERVED : `No index.html in ${dir}: build the explorer first.\n`;
    });
    return;
  }
  // The page itself, from memory (a few hundred bytes; the static plugin's
  // index lookup does not combine with its pre-compressed files).
  const page = readFileSync(join(dir, 'index.html'));
  const gzPath = join(dir, 'index.html.gz');
  const pageGz = existsSync(gzPath) ? readFileSync(gzPath) : null;
  app.get('/explorer/', async (req, reply) => {
    secure(reply)
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding')
      .type('text/html; charset=utf-8');
    const gzip = pageGz !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (!gzip) return reply.send(page);
    return reply.header('content-encoding', 'gzip').send(pageGz);
  });
  app.register(fastifyStatic, {
    root: dir,
    prefix: '/explorer/',
    index: false,
    // The bundler writes index.html.gz and assets/*.js.gz beside each file.
    preCompressed: true,
    decorateReply: false,
    serveDotFiles: false,
    redirect: false,
    setHeaders(reply, path) {
      // Asset names carry their content hash; index.html does not.
      const immutable = /[\\/]assets[\\/]/.test(path);
      secure(reply).header(
        'cache-control',
        immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
