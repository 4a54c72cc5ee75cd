/**
 * `pos_status` (docs/PROTOCOL.md 10.3).
 *
 * @module
 */
import { POS_STATUS } from '@pos/api';
import type { AnyRpcMethod } from '../dispatcher.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';

/** The node's own methods. */
export function nodeMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return { pos_status: implement(POS_STATUS, () => view.status()) };
}
