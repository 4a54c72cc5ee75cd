/**
 * Runs the engine over a validated fixture and reports its consensus by
 * event name (docs/PROTOCOL.md 5.8).
 */
import type { HashFn } from '@pos/merkle';
import { createConsensus } from '../engine.js';
import { ConsensusError } from '../errors.js';
import type { Consensus, DecidedBlock } from '../types.js';
import { setKey, u32be, utf8Bytes } from './json.js';
import {
  REPLAY_EXPIRE_ROUNDS,
  type ReplayBlock,
  type ReplayConsensusEvent,
  type ReplayDag,
  ReplayError,
  type ReplayInput,
  type ReplayOpts,
  type ReplayOutput,
} from './types.js';

/**
 * The engine's view of a replay input, per the replay rules of
 * docs/PROTOCOL.md 5.8: hash and signature `sha256(utf8(name))`, validatorId
 * `u32be(index)`, initial seed 32 zero bytes, transactions the UTF-8 bytes of
 * their strings.
 */
export function buildReplayDag(input: ReplayInput, hash: HashFn): ReplayDag {
  const hashOf = new Map<string, Uint8Array>();
  const events = input.events.map((e): ReplayConsensusEvent => {
    const h = hash(utf8Bytes(e.name));
    hashOf.set(e.name, h);
    return {
      name: e.name,
      hash: h,
      signature: h,
      creator: e.creator,
      seq: e.seq,
      selfParent: e.selfParent === null ? null : hashOf.get(e.selfParent)!,
      otherParent: e.otherParent === null ? null : hashOf.get(e.otherParent)!,
      timestamp: e.timestamp,
      transactions: e.transactions.map(utf8Bytes),
    };
  });
  return {
    events,
    validators: input.stakes.map((_, i) => u32be(i)),
    stakes: input.stakes,
    initialSeed: new Uint8Array(32),
  };
}

/**
 * Runs the engine over a validated fixture, inserting the events in the
 * fixture's order, and reports the output of docs/PROTOCOL.md 5.8: rounds, witnesses and fame
 * read back through `info`, one `leaders` entry per decided round (`null` for
 * a decided round without a block) and the blocks. An event the engine
 * rejects (say an other-parent by its own creator) is a {@link ReplayError}
 * at that event's path.
 */
export function replay(input: ReplayInput, opts: ReplayOpts): ReplayOutput {
  const coin = opts.coinFrequency ?? input.coinRoundFrequency;
  if (!Number.isSafeInteger(coin) || coin < 1) {
    throw new ReplayError('coinFrequency', `expected an integer >= 1, got ${String(coin)}`);
  }
  const dag = buildReplayDag(input, opts.hash);
  const output: ReplayOutput = {
    rounds: {},
    witnesses: [],
    fame: {},
    leaders: {},
    blocks: [],
  };
  if (dag.events.length === 0) return output;
  const engine = replayEngine(dag, opts.hash, coin);
  const blocks = insertAll(engine, dag);
  reportEvents(engine, dag, output);
  reportBlocks(engine, blocks, output);
  return output;
}

/** The engine of a replay: nothing expires; options it refuses are the input's fault. */
function replayEngine(dag: ReplayDag, hash: HashFn, coin: number): Consensus<ReplayConsensusEvent> {
  try {
    return createConsensus<ReplayConsensusEvent>({
      validators: dag.validators,
      stakeTable: () => dag.stakes,
      initialSeed: dag.initialSeed,
      hash,
      coinFrequency: coin,
      expireRounds: REPLAY_EXPIRE_ROUNDS,
    });
  } catch (e) {
    if (!(e instanceof ConsensusError)) throw e;
    throw new ReplayError('input', `engine refused the options: ${e.code}: ${e.message}`);
  }
}

/** Inserts the events in input order; returns the blocks decided. */
function insertAll(
  engine: Consensus<ReplayConsensusEvent>,
  dag: ReplayDag,
): DecidedBlock<ReplayConsensusEvent>[] {
  const blocks: DecidedBlock<ReplayConsensusEvent>[] = [];
  dag.events.forEach((ev, i) => {
    try {
      blocks.push(...engine.insert(ev).blocks);
    } catch (e) {
      // A ConsensusError is the engine refusing the event (the input's
      // fault); anything else is a bug and must not look like bad input.
      if (!(e instanceof ConsensusError)) throw e;
      throw new ReplayError(
        `events[${i}]`,
        `engine rejected ${JSON.stringify(ev.name)}: ${e.code}: ${e.message}`,
      );
    }
  });
  return blocks;
}

/** Rounds, witnesses and fame of every event, in input order. */
function reportEvents(
  engine: Consensus<ReplayConsensusEvent>,
  dag: ReplayDag,
  output: ReplayOutput,
): void {
  const witnesses: string[] = [];
  for (const ev of dag.events) {
    const info = engine.info(ev.hash);
    if (!info) throw new Error(`replay: engine lost event ${JSON.stringify(ev.name)}`);
    setKey(output.rounds, ev.name, info.round);
    if (info.witness) {
      witnesses.push(ev.name);
      setKey(output.fame, ev.name, info.famous ?? null);
    }
  }
  (output.witnesses as string[]).push(...witnesses);
}

/** One `leaders` entry per decided round, and the blocks by name. */
function reportBlocks(
  engine: Consensus<ReplayConsensusEvent>,
  blocks: readonly DecidedBlock<ReplayConsensusEvent>[],
  output: ReplayOutput,
): void {
  const byRound = new Map(blocks.map((b) => [b.round, b]));
  for (let r = 0; r <= engine.lastDecidedRound; r++) {
    setKey(output.leaders, String(r), byRound.get(r)?.leader.name ?? null);
  }
  (output.blocks as ReplayBlock[]).push(
    ...blocks.map((b) => ({
      round: b.round,
      leader: b.leader.name,
      events: b.events.map((e) => e.name),
      timestamp: b.timestamp,
    })),
  );
}
