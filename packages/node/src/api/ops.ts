/**
 * The operator endpoints of docs/PROTOCOL.md 10: `GET /health` (alive),
 * `GET /ready` (200 when caught up with a quorum of peers, 503 otherwise,
 * 10.2), `GET /status` (JSON, 10.3) and `GET /metrics` (Prometheus text).
 * The node supplies what they report; this module only serves it, with no
 * cache.
 */
import type { FastifyInstance } from 'fastify';
import type { NodeMetrics } from '../metrics.js';

/** Readiness as the node judges it (e.g. caught up with a quorum of peers). */
export interface Readiness {
  readonly ready: boolean;
  /** Why not, for operators (shown in the 503 body). */
  readonly reason?: string;
}

/** Options of {@link registerOpsRoutes}. */
export interface OpsRoutesOpts {
  readonly metrics: NodeMetrics;
  readonly ready: () => Readiness;
  /** A JSON-safe object (hex strings, numbers), e.g. what `pos_status` returns. */
  readonly status: () => unknown;
}

/** Registers `/health`, `/ready`, `/status` and `/metrics` (GET only). */
export function registerOpsRoutes(app: FastifyInstance, opts: OpsRoutesOpts): void {
  app.get('/health', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
  app.get('/ready', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    const r = opts.ready();
    if (r.ready) return { ready: true };
    reply.code(503);
    return { ready: false, reason: r.reason ?? 'not ready' };
  });
  app.get('/status', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return opts.status();
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('cache-control', 'no-store').type(opts.metrics.contentType);
    return opts.metrics.text();
  });
}
