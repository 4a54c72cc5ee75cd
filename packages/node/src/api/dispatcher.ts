/**
 * JSON-RPC 2.0 over HTTP `POST /rpc` (docs/PROTOCOL.md 10), exactly as the
 * JSON-RPC 2.0 specification (https://www.jsonrpc.org/specification): single
 * requests and batches, notifications (no `id` member, never answered, even on
 * error), ids echoed, the standard errors -32700/-32600/-32601/-32602/-32603
 * and the node's server errors in -32000..-32099 (their codes are named in
 * `@pos/api`, the contract; re-exported here). `rpc.discover` answers the
 * OpenRPC document when one is given ({@link RpcDispatcherOpts.discover}).
 *
 * Two layers:
 * - {@link createRpcDispatcher}: transport-free; takes a parsed JSON body (or
 *   the raw text) and returns the response value, or `undefined` when the
 *   specification says nothing is returned (notifications). It never throws.
 * - {@link registerRpcRoute}: the fastify route, with its own body parser so
 *   that hostile input always gets a JSON-RPC body, never a fastify default
 *   error page or a 500.
 *
 * HTTP status choices (the specification does not cover HTTP; these follow
 * common practice):
 * - 200 for every JSON-RPC response, errors included (parse error -32700 too);
 * - 204 (empty body) when nothing is to be returned: a notification or a batch
 *   of notifications only;
 * - 413 with a -32005 (limit exceeded) body when the body is over `bodyLimit`;
 * - 415 with a -32600 (invalid request) body for a content type other than
 *   `application/json` (or none at all);
 * - 405 (with `Allow: POST`) and a -32600 body for GET/PUT/PATCH/DELETE;
 * - 400 with a -32700 body when the body cannot be read at all (bad
 *   Content-Length and similar transport faults).
 * All of these error bodies carry `id: null`.
 *
 * @module
 */
import {
  ApiError,
  DISCOVER_METHOD,
  decodeParams,
  RPC_ERROR_MESSAGES,
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  RPC_METHOD_NOT_FOUND,
  RPC_NOT_FOUND,
  RPC_PARSE_ERROR,
  RPC_TX_REJECTED,
} from '@pos/api';
import type { FastifyInstance, FastifyReply } from 'fastify';

export {
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  RPC_METHOD_NOT_FOUND,
  RPC_NOT_FOUND,
  RPC_PARSE_ERROR,
  RPC_TX_REJECTED,
};

const STANDARD_MESSAGES = RPC_ERROR_MESSAGES;

/**
 * An error to be answered as a JSON-RPC Error object (JSON-RPC 2.0
 * specification, section 5.1). Throw it from a params validator or a
 * handler; its `code`, `message` and `data` are sent to the client as they
 * are, so put nothing secret there.
 * `data` must be JSON (no bigint, no bytes); unsafe `data` is dropped.
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message?: string, data?: unknown) {
    super(message ?? STANDARD_MESSAGES[code] ?? 'Server error');
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }
}

/** JSON-RPC ids (JSON-RPC 2.0 specification, section 4): a string, a number or null. */
export type RpcId = string | number | null;

/** The Error object of a response (JSON-RPC 2.0 specification, section 5.1). */
export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** A Response object (JSON-RPC 2.0 specification, section 5). */
export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly result: unknown; readonly id: RpcId }
  | { readonly jsonrpc: '2.0'; readonly error: RpcErrorObject; readonly id: RpcId };

/**
 * One method. `params` validates and converts the raw `params` member
 * (`undefined` when absent): it throws an {@link RpcError} (normally -32602)
 * on bad params; anything else it throws is answered as -32602 "Invalid
 * params". Without `params`, the handler gets the raw value. The handler's
 * result must already be JSON (docs/PROTOCOL.md 1: bytes as hex, amounts
 * as decimal strings): a bigint, a byte array, a function, a non-finite number,
 * a cycle or a non-plain object in it is answered as -32603.
 */
export interface RpcMethod<P = unknown> {
  readonly params?: (raw: unknown) => P;
  readonly handler: (p: P) => Promise<unknown> | unknown;
}

/**
 * A method of any params type, as {@link RpcDispatcherOpts.methods} holds them.
 */
// biome-ignore lint/suspicious/noExplicitAny: each method has its own params type.
export type AnyRpcMethod = RpcMethod<any>;

/**
 * Types one method: infers `P` from `params` and checks the handler against
 * it, then erases it for the methods table.
 */
export function defineRpcMethod<P>(m: RpcMethod<P>): AnyRpcMethod {
  return m;
}

/** Where unexpected handler errors go; fastify's (pino) logger fits. */
export interface RpcLogger {
  error(obj: unknown, msg?: string): void;
}

/** Options of {@link createRpcDispatcher}. */
export interface RpcDispatcherOpts {
  readonly methods: Readonly<Record<string, AnyRpcMethod>>;
  /**
   * The service's OpenRPC document, answered to `rpc.discover` (no params).
   * Without it `rpc.discover` is -32601, as every other `rpc.*` name.
   */
  readonly discover?: () => unknown;
  /** Most requests in one batch; a longer batch gets one -32005 error. Default 100. */
  readonly maxBatch?: number;
  readonly logger?: RpcLogger;
  /**
   * Maps typed domain errors thrown by handlers (MempoolError, LedgerError, ...)
   * to an {@link RpcError}; `undefined` falls back to -32603 "Internal error".
   */
  readonly mapError?: (e: unknown) => RpcError | undefined;
  /**
   * Told of every call of a known method, with `ok` or the error code (for
   * `pos_rpc_requests_total{method,outcome}`; unknown names are not passed,
   * which keeps the label set bounded).
   */
  readonly onCall?: (method: string, outcome: string) => void;
}

export interface RpcDispatcher {
  /**
   * Answers one parsed JSON body: a Response object, an array of them (a
   * batch), or `undefined` when nothing is returned (notifications only).
   * Never throws.
   */
  dispatch(body: unknown): Promise<RpcResponse | RpcResponse[] | undefined>;
  /** As {@link RpcDispatcher.dispatch}, from the raw body text; invalid JSON is -32700. */
  dispatchText(text: string): Promise<RpcResponse | RpcResponse[] | undefined>;
}

/** Default {@link RpcDispatcherOpts.maxBatch}. */
export const DEFAULT_MAX_BATCH = 100;
/** Default request body limit of {@link registerRpcRoute}: 1 MiB. */
export const DEFAULT_RPC_BODY_LIMIT = 1024 * 1024;

/** An error Response object; `id` is null unless known. */
export function rpcErrorResponse(
  code: number,
  id: RpcId = null,
  message?: string,
  data?: unknown,
): RpcResponse {
  const error: RpcErrorObject =
    data === undefined
      ? { code, message: message ?? STANDARD_MESSAGES[code] ?? 'Server error' }
      : { code, message: message ?? STANDARD_MESSAGES[code] ?? 'Server error', data };
  return { jsonrpc: '2.0', error, id };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isValidId(v: unknown): v is RpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * True when `v` serializes to JSON without loss: null, booleans, finite
 * numbers, strings, arrays and plain objects of those (an `undefined` object
 * member is allowed: it is omitted). No bigint, no typed arrays, no cycles.
 */
export function isJsonSafe(v: unknown): boolean {
  const stack = new Set<object>();
  const walk = (x: unknown, depth: number): boolean => {
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
    if (typeof x === 'number') return Number.isFinite(x);
    if (typeof x !== 'object' || depth > 512 || stack.has(x)) return false;
    stack.add(x);
    let ok: boolean;
    if (Array.isArray(x)) {
      ok = x.every((e) => e !== undefined && walk(e, depth + 1));
    } else if (isPlainObject(x)) {
      ok = Object.values(x).every((e) => e === undefined || walk(e, depth + 1));
    } else {
      ok = false;
    }
    stack.delete(x);
    return ok;
  };
  return walk(v, 0);
}

/**
 * The Error object of what a handler (or a params decoder) threw: an
 * {@link RpcError} or a contract `ApiError` as it is, a domain error through
 * `mapError`, anything else -32603 (logged, never leaked).
 */
function errorObjectOf(
  e: unknown,
  mapError: RpcDispatcherOpts['mapError'],
  logError: (e: unknown, msg: string) => void,
): RpcErrorObject {
  let err: RpcError | undefined;
  if (e instanceof RpcError) err = e;
  else if (e instanceof ApiError && e.rpcCode !== undefined) {
    // A contract error (a params decoder of @pos/api): its code and text as they are.
    err = new RpcError(e.rpcCode, e.message, e.data);
  } else {
    try {
      err = mapError?.(e);
    } catch (mapErr) {
      logError(mapErr, 'rpc mapError threw');
    }
  }
  if (err === undefined) {
    logError(e, 'rpc handler failed');
    return { code: RPC_INTERNAL_ERROR, message: 'Internal error' };
  }
  const code = Number.isSafeInteger(err.code) ? err.code : RPC_INTERNAL_ERROR;
  const message = typeof err.message === 'string' ? err.message : 'Server error';
  if (err.data === undefined) return { code, message };
  if (!isJsonSafe(err.data)) {
    logError(err, 'rpc error data is not JSON; dropped');
    return { code, message };
  }
  return { code, message, data: err.data };
}

/**
 * Builds the transport-free dispatcher. Batches run concurrently and the
 * responses keep the request order (the specification allows any order).
 * Methods named `rpc.*` are reserved by the JSON-RPC 2.0 specification (its
 * section 4) and answer -32601, but `rpc.discover` with
 * {@link RpcDispatcherOpts.discover}; a method is looked up as an own
 * property only (no `toString`, `__proto__`, ...).
 */
export function createRpcDispatcher(opts: RpcDispatcherOpts): RpcDispatcher {
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  const { methods, logger, mapError } = opts;
  const answerDiscover = opts.discover;
  // `rpc.discover` takes no params (OpenRPC's service discovery method).
  const discover =
    answerDiscover === undefined
      ? undefined
      : defineRpcMethod({ params: (raw) => decodeParams(raw, []), handler: answerDiscover });

  const logError = (e: unknown, msg: string): void => {
    try {
      logger?.error(e, msg);
    } catch {
      // a broken logger must not break the response
    }
  };

  const fromThrown = (e: unknown): RpcErrorObject => errorObjectOf(e, mapError, logError);

  /** One Request object; `undefined` for a notification. */
  const one = async (req: unknown): Promise<RpcResponse | undefined> => {
    if (!isPlainObject(req)) return rpcErrorResponse(RPC_INVALID_REQUEST);
    const hasId = Object.hasOwn(req, 'id');
    const rawId = req.id;
    const method = req.method;
    const params = req.params;
    if (
      req.jsonrpc !== '2.0' ||
      typeof method !== 'string' ||
      (hasId && !isValidId(rawId)) ||
      (params !== undefined && (typeof params !== 'object' || params === null))
    ) {
      // Not a valid Request, hence not a notification either: always answered
      // (the specification's batch example answers `{"foo": "boo"}`). The id
      // is echoed when it could be read as a valid id, else null (JSON-RPC
      // 2.0 specification, section 5).
      return rpcErrorResponse(RPC_INVALID_REQUEST, hasId && isValidId(rawId) ? rawId : null);
    }
    const id: RpcId | undefined = hasId ? (rawId as RpcId) : undefined;
    const answer = (r: RpcResponse): RpcResponse | undefined => (id === undefined ? undefined : r);
    const m = method.startsWith('rpc.')
      ? method === DISCOVER_METHOD
        ? discover
        : undefined
      : Object.hasOwn(methods, method)
        ? methods[method]
        : undefined;
    if (m === undefined) return answer(rpcErrorResponse(RPC_METHOD_NOT_FOUND, id ?? null));

    const r = await invoke(m, method, params, id ?? null);
    try {
      opts.onCall?.(method, 'error' in r ? String(r.error.code) : 'ok');
    } catch {
      // metrics must not break the response
    }
    return answer(r);
  };

  /** Runs a known method; always a full Response (the caller drops it for a notification). */
  const invoke = async (
    m: AnyRpcMethod,
    method: string,
    params: unknown,
    id: RpcId,
  ): Promise<RpcResponse> => {
    let p: unknown = params;
    if (m.params !== undefined) {
      try {
        p = m.params(params);
      } catch (e) {
        const error =
          e instanceof RpcError || e instanceof ApiError
            ? fromThrown(e)
            : { code: RPC_INVALID_PARAMS, message: 'Invalid params' };
        return { jsonrpc: '2.0', error, id };
      }
    }
    let result: unknown;
    try {
      result = await m.handler(p);
    } catch (e) {
      return { jsonrpc: '2.0', error: fromThrown(e), id };
    }
    if (result === undefined) result = null;
    if (!isJsonSafe(result)) {
      logError(new Error(`rpc result of ${method} is not JSON`), 'rpc handler returned non-JSON');
      return rpcErrorResponse(RPC_INTERNAL_ERROR, id);
    }
    return { jsonrpc: '2.0', result, id };
  };

  const dispatch = async (body: unknown): Promise<RpcResponse | RpcResponse[] | undefined> => {
    try {
      if (!Array.isArray(body)) return await one(body);
      if (body.length === 0) return rpcErrorResponse(RPC_INVALID_REQUEST);
      if (body.length > maxBatch) {
        return rpcErrorResponse(
          RPC_LIMIT_EXCEEDED,
          null,
          `Limit exceeded: batch of ${body.length} > ${maxBatch}`,
        );
      }
      const all = await Promise.all(body.map(one));
      const out = all.filter((r): r is RpcResponse => r !== undefined);
      return out.length === 0 ? undefined : out;
    } catch (e) {
      logError(e, 'rpc dispatch failed');
      return rpcErrorResponse(RPC_INTERNAL_ERROR);
    }
  };

  const dispatchText = async (text: string): Promise<RpcResponse | RpcResponse[] | undefined> => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return rpcErrorResponse(RPC_PARSE_ERROR);
    }
    return dispatch(body);
  };

  return { dispatch, dispatchText };
}

export interface RpcRouteOpts {
  /** Default `/rpc`. */
  readonly path?: string;
  /** Request body cap in bytes; default {@link DEFAULT_RPC_BODY_LIMIT} (1 MiB). */
  readonly bodyLimit?: number;
}

function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(value));
}

/** Marks bodies that came in through our parser: anything else is refused with 415. */
const TEXT = Symbol('rpc-text');
interface RpcText {
  readonly [TEXT]: string;
}

/** A body error with the HTTP status the route's error handler answers. */
const bodyError = (statusCode: number, message: string, close = false) =>
  Object.assign(new Error(message), { statusCode, close });

/** How much of an oversized body is read and discarded before the connection is dropped. */
const drainLimitOf = (bodyLimit: number) => 8 * bodyLimit;

/**
 * Reads a request body as UTF-8 text, at most `limit` bytes. Past the limit
 * it keeps reading, and discards, up to 8 × `limit` before answering 413: a
 * server that answers and closes while the client is still uploading makes
 * the client's write fail (EPIPE) before it can read the answer, so an
 * honest client with a too-large request saw a network error instead of the
 * -32005 it should (the cluster test hit this on a quiet machine). A body
 * larger still is cut off: the connection is dropped, as before. Memory
 * stays bounded by `limit` either way.
 */
function readBody(
  payload: NodeJS.ReadableStream,
  contentLength: string | undefined,
  limit: number,
  done: (err: Error | null, text: string) => void,
): void {
  const drainLimit = drainLimitOf(limit);
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (err: Error | null, text = '') => {
    if (finished) return;
    finished = true;
    done(err, text);
  };
  if (declared !== undefined && declared > drainLimit) {
    // Far over the limit: not worth reading; the connection closes after the answer.
    finish(bodyError(413, 'body too large', true));
    return;
  }
  payload.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= limit) chunks.push(chunk);
    else if (received > drainLimit) {
      (payload as NodeJS.ReadableStream & { destroy(): void }).destroy();
      finish(bodyError(413, 'body too large', true));
    }
  });
  payload.on('error', () => finish(bodyError(400, 'the body could not be read')));
  payload.on('end', () => {
    if (received > limit) return finish(bodyError(413, 'body too large'));
    if (declared !== undefined && declared !== received) {
      return finish(bodyError(400, 'the body does not match its Content-Length'));
    }
    finish(null, Buffer.concat(chunks).toString('utf8'));
  });
}

/**
 * Registers `POST <path>` in its own encapsulated scope (its body parser and
 * error handler do not touch the caller's other routes). Only
 * `application/json` bodies are read (as UTF-8 text, parsed by the dispatcher
 * so that invalid JSON is a -32700 response); see the module comment for the
 * HTTP status of each case. Call it before `listen`/`ready`.
 */
export function registerRpcRoute(
  app: FastifyInstance,
  dispatcher: RpcDispatcher,
  opts: RpcRouteOpts = {},
): void {
  const path = opts.path ?? '/rpc';
  const bodyLimit = opts.bodyLimit ?? DEFAULT_RPC_BODY_LIMIT;

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', (req, payload, done) =>
      readBody(payload, req.headers['content-length'], bodyLimit, (err, text) =>
        err === null ? done(null, { [TEXT]: text } satisfies RpcText) : done(err, undefined),
      ),
    );
    scope.setErrorHandler((err: { statusCode?: number; close?: boolean }, req, reply) => {
      const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
      // The rest of a body far over the limit is not read: close after answering.
      if (err.close === true) reply.header('connection', 'close');
      if (status === 413) {
        return sendJson(
          reply,
          413,
          rpcErrorResponse(
            RPC_LIMIT_EXCEEDED,
            null,
            `Limit exceeded: body over ${bodyLimit} bytes`,
          ),
        );
      }
      if (status === 415) return sendJson(reply, 415, rpcErrorResponse(RPC_INVALID_REQUEST));
      if (status >= 400 && status < 500) {
        return sendJson(reply, 400, rpcErrorResponse(RPC_PARSE_ERROR));
      }
      req.log.error(err);
      return sendJson(reply, 500, rpcErrorResponse(RPC_INTERNAL_ERROR));
    });

    scope.post(path, { bodyLimit: drainLimitOf(bodyLimit) }, async (request, reply) => {
      const body = request.body as Partial<RpcText> | undefined;
      const text = body?.[TEXT];
      if (typeof text !== 'string') {
        // No body, or a content type fastify accepted without our parser.
        return sendJson(reply, 415, rpcErrorResponse(RPC_INVALID_REQUEST));
      }
      const response = await dispatcher.dispatchText(text);
      if (response === undefined) return reply.code(204).send();
      return sendJson(reply, 200, response);
    });

    scope.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'],
      url: path,
      handler: async (_request, reply) =>
        sendJson(reply.header('allow', 'POST'), 405, rpcErrorResponse(RPC_INVALID_REQUEST)),
    });
  });
}
