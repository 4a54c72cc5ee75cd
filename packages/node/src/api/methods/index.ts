/**
 * The `pos_*` JSON-RPC methods over the node's state (docs/PROTOCOL.md
 * 10.1), one file per domain, each handler bound to its definition in
 * `@pos/api` (params decoded by it, result of its type). Domain errors
 * become JSON-RPC errors in one place, `mapNodeError` (../errors.ts).
 *
 * @module
 */
import type { AnyRpcMethod } from '../dispatcher.js';
import type { NodeView } from '../interface.js';
import { blockMethods } from './blocks.js';
import { dagMethods } from './dag.js';
import { indexMethods } from './indexes.js';
import { nodeMethods } from './node.js';
import { stateMethods } from './state.js';
import { txMethods } from './tx.js';
import { validatorMethods } from './validators.js';

/** Every `pos_*` method over the node's state. Results are JSON only. */
export function createNodeRpcMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return {
    ...nodeMethods(view),
    ...txMethods(view),
    ...blockMethods(view),
    ...stateMethods(view),
    ...indexMethods(view),
    ...validatorMethods(view),
    ...dagMethods(view),
  };
}
