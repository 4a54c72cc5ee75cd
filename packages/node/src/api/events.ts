/**
 * The in-process bus the node emits `newBlock` and `txStatus` into, which
 * the WebSocket subscriptions (./subscriptions.ts) forward; its payloads
 * are the contract's (`NewBlockEvent`, `TxStatusEvent` of `@pos/api`).
 *
 * @module
 */
import type { NewBlockEvent, TxStatusEvent } from '@pos/api';

export type { NewBlockEvent, TxStatusEvent };

/** The bus topics and their payloads. */
export interface NodeEventMap {
  readonly newBlock: NewBlockEvent;
  readonly txStatus: TxStatusEvent;
}

export type NodeEventTopic = keyof NodeEventMap;

/** Where listener failures go; fastify's (pino) logger fits. */
export interface NodeEventsLogger {
  error(obj: unknown, msg?: string): void;
}

/** A tiny typed synchronous event bus. */
export interface NodeEvents {
  /**
   * Calls every listener of `topic` synchronously, in subscription order, on a
   * snapshot (listeners added or removed meanwhile do not change this round).
   * A throwing listener is logged and skipped; `emit` itself never throws.
   */
  emit<T extends NodeEventTopic>(topic: T, payload: NodeEventMap[T]): void;
  /** Adds a listener; returns its idempotent unsubscribe function. */
  on<T extends NodeEventTopic>(topic: T, fn: (payload: NodeEventMap[T]) => void): () => void;
  /** Listeners of `topic`, or of all topics when omitted (leak checks, metrics). */
  listenerCount(topic?: NodeEventTopic): number;
}

/** Builds the in-process bus the node emits `newBlock` and `txStatus` into. */
export function createNodeEvents(opts: { readonly logger?: NodeEventsLogger } = {}): NodeEvents {
  const listeners: { [T in NodeEventTopic]: Set<(p: NodeEventMap[T]) => void> } = {
    newBlock: new Set(),
    txStatus: new Set(),
  };
  return {
    emit(topic, payload) {
      for (const fn of [...listeners[topic]]) {
        try {
          fn(payload);
        } catch (e) {
          try {
            opts.logger?.error(e, `node event listener for ${topic} threw`);
          } catch {
            // a broken logger must not break the emitter
          }
        }
      }
    },
    on(topic, fn) {
      // A wrapper per call, so the same function can be added twice and
      // removed once per unsubscribe.
      const set = listeners[topic] as Set<(p: unknown) => void>;
      const wrapped = (p: unknown): void => fn(p as never);
      set.add(wrapped);
      return () => {
        set.delete(wrapped);
      };
    },
    listenerCount(topic) {
      if (topic !== undefined) return listeners[topic].size;
      return listeners.newBlock.size + listeners.txStatus.size;
    },
  };
}
