/**
 * What every subsystem of a running node shares: its identity, options,
 * logger, metrics and events, and the little mutable state the wiring
 * reads across subsystems. Built once by `startNode`.
 */
import type { HashFn } from '@pos/merkle';
import type { Genesis, GenesisParams } from '@pos/protocol';
import type { Logger } from 'pino';
import type { NodeEvents } from './api/events.js';
import type { NodeConfig } from './config.js';
import type { ValidatorKey } from './keyfile.js';
import type { NodeMetrics } from './metrics.js';
import type { RuntimeOpts } from './options.js';

/** State that changes while the node runs, read across subsystems. */
export interface NodeState {
  /** This node's engine index once it is a registered validator. */
  selfIndex: number | undefined;
  /** True while the event store is replayed at start. */
  replaying: boolean;
  /** True once `close()` began: failures after it are the shutdown's, not faults. */
  closing: boolean;
}

/** The node's shared context. */
export interface NodeContext {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly params: GenesisParams;
  readonly key: ValidatorKey;
  readonly chainId: Uint8Array;
  readonly rt: RuntimeOpts;
  readonly log: Logger;
  readonly hash: HashFn;
  readonly metrics: NodeMetrics;
  readonly events: NodeEvents;
  readonly state: NodeState;
  /** Ed25519 signature by the node's key. */
  sign(message: Uint8Array): Uint8Array;
  /** Stops the node after an error it cannot continue from (a restart recovers). */
  fatal(): void;
}
