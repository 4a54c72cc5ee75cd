/**
 * The node's contracts: what starts it ({@link NodeOpts}) and what a running
 * node offers ({@link PosNode}). What the JSON-RPC methods read (`NodeView`)
 * and the status (`NodeStatus`, docs/PROTOCOL.md 10.3) are the API layer's
 * contract: `api/interface.ts`.
 */
import type { Genesis } from '@pos/protocol';
import type { Logger } from 'pino';
import type { NodeStatus } from './api/interface.js';
import type { NodeConfig } from './config.js';
import type { ValidatorKey } from './keyfile.js';
import type { RuntimeOpts } from './options.js';

/** Options of {@link startNode}. */
export interface NodeOpts {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly key: ValidatorKey;
  /** Default: a pino logger at `config.logLevel` writing JSON lines to stdout. */
  readonly logger?: Logger;
  readonly runtime?: Partial<RuntimeOpts>;
}

/** A running validator. */
export interface PosNode {
  readonly rpcUrl: string;
  readonly p2pUrl: string;
  readonly chainId: Uint8Array;
  readonly validatorId: Uint8Array;
  status(): NodeStatus;
  /** Stops the loop and the servers, flushes and closes the database. Idempotent. */
  close(): Promise<void>;
}
