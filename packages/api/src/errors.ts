/**
 * The JSON-RPC error codes of the node (docs/PROTOCOL.md 10 and 10.1) as
 * named constants, and {@link ApiError}, the one error a caller of the API
 * gets: a JSON-RPC error answer, or a transport failure, each with a code
 * from a closed union, so that callers branch on codes, never on message
 * text.
 *
 * @module
 */
import { CodedError } from '@pos/protocol';

/** Invalid JSON was received (JSON-RPC 2.0 section 5.1). */
export const RPC_PARSE_ERROR = -32700;
/** The JSON sent is not a valid Request object (JSON-RPC 2.0 section 5.1). */
export const RPC_INVALID_REQUEST = -32600;
/** The method does not exist or is not available (JSON-RPC 2.0 section 5.1). */
export const RPC_METHOD_NOT_FOUND = -32601;
/** Invalid method parameters (JSON-RPC 2.0 section 5.1). */
export const RPC_INVALID_PARAMS = -32602;
/** Internal JSON-RPC error (JSON-RPC 2.0 section 5.1). */
export const RPC_INTERNAL_ERROR = -32603;
/** Server error: the requested object is not known (docs/PROTOCOL.md 10). */
export const RPC_NOT_FOUND = -32001;
/** Server error: the transaction was rejected (docs/PROTOCOL.md 10). */
export const RPC_TX_REJECTED = -32003;
/** Server error: a limit (batch size, body size, ...) was exceeded (docs/PROTOCOL.md 10). */
export const RPC_LIMIT_EXCEEDED = -32005;

/** Every JSON-RPC error code the node answers, by name. */
export const RPC_ERROR_CODES = {
  PARSE_ERROR: RPC_PARSE_ERROR,
  INVALID_REQUEST: RPC_INVALID_REQUEST,
  METHOD_NOT_FOUND: RPC_METHOD_NOT_FOUND,
  INVALID_PARAMS: RPC_INVALID_PARAMS,
  INTERNAL_ERROR: RPC_INTERNAL_ERROR,
  NOT_FOUND: RPC_NOT_FOUND,
  TX_REJECTED: RPC_TX_REJECTED,
  LIMIT_EXCEEDED: RPC_LIMIT_EXCEEDED,
} as const;

/** The name of a JSON-RPC error code the node answers. */
export type RpcErrorName = keyof typeof RPC_ERROR_CODES;

/** The default message of each code (what the node answers when it has no better one). */
export const RPC_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  [RPC_PARSE_ERROR]: 'Parse error',
  [RPC_INVALID_REQUEST]: 'Invalid Request',
  [RPC_METHOD_NOT_FOUND]: 'Method not found',
  [RPC_INVALID_PARAMS]: 'Invalid params',
  [RPC_INTERNAL_ERROR]: 'Internal error',
  [RPC_NOT_FOUND]: 'Not found',
  [RPC_TX_REJECTED]: 'Transaction rejected',
  [RPC_LIMIT_EXCEEDED]: 'Limit exceeded',
};

/**
 * Codes of {@link ApiError}: the name of a JSON-RPC error the server
 * answered (`SERVER_ERROR` for a code not in {@link RPC_ERROR_CODES}), or
 * what went wrong before an answer could be read.
 */
export type ApiErrorCode =
  | RpcErrorName
  | 'SERVER_ERROR'
  // Nothing answered, or the answer could not be read as JSON.
  | 'UNREACHABLE'
  // No answer within the transport's timeout.
  | 'TIMEOUT'
  // An answer that is not a JSON-RPC response.
  | 'BAD_RESPONSE'
  // The WebSocket closed before the answer came.
  | 'CLOSED';

/** Options of {@link ApiError}. */
export interface ApiErrorOpts {
  /** The JSON-RPC error code, when the server answered one. */
  readonly rpcCode?: number;
  /** The JSON-RPC error's `data`, as answered. */
  readonly data?: unknown;
  readonly cause?: unknown;
}

/**
 * The API's error. `code` names what happened; `rpcCode` and `data` are the
 * JSON-RPC error's own members when the server answered one (e.g. -32003
 * with `data: {code: 'REJECTED', reason}`), `undefined` otherwise.
 */
export class ApiError extends CodedError<ApiErrorCode> {
  readonly rpcCode: number | undefined;
  readonly data: unknown;
  constructor(code: ApiErrorCode, message: string, opts: ApiErrorOpts = {}) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.rpcCode = opts.rpcCode ?? rpcCodeOf(code);
    this.data = opts.data;
  }
}

function rpcCodeOf(code: ApiErrorCode): number | undefined {
  return Object.hasOwn(RPC_ERROR_CODES, code) ? RPC_ERROR_CODES[code as RpcErrorName] : undefined;
}

/** The {@link ApiErrorCode} of a JSON-RPC error code. */
export function apiErrorCodeOf(rpcCode: number): ApiErrorCode {
  for (const [name, c] of Object.entries(RPC_ERROR_CODES)) {
    if (c === rpcCode) return name as RpcErrorName;
  }
  return 'SERVER_ERROR';
}

/** The {@link ApiError} of a JSON-RPC Error object a server answered. */
export function apiErrorFromRpc(error: {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly data?: unknown;
}): ApiError {
  const rpcCode = typeof error.code === 'number' ? error.code : undefined;
  return new ApiError(
    rpcCode === undefined ? 'SERVER_ERROR' : apiErrorCodeOf(rpcCode),
    String(error.message),
    {
      ...(rpcCode === undefined ? {} : { rpcCode }),
      ...(error.data === undefined ? {} : { data: error.data }),
    },
  );
}

/** A -32602 error with the node's `Invalid params: …` message (docs/PROTOCOL.md 10.1). */
export function invalidParams(message: string): ApiError {
  return new ApiError('INVALID_PARAMS', `Invalid params: ${message}`);
}
