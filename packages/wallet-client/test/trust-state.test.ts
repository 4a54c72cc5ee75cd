// A wallet that remembers what it verified (src/trust-state.ts, docs/PROTOCOL.md
// 11.2): a client's trustState() is the highest table it verified; sealed
// and opened again it is the same anchor; a new client resumes from it with
// no table request and verifies the same balance; and a sealed state that was
// changed in any way, sealed under another key, or is of another chain is
// refused with its code.
import { toHex } from '@pos/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createWalletClient,
  openTrustState,
  sealTrustState,
  trustFromGenesis,
  type WalletClientOpts,
  WalletError,
  type WalletErrorCode,
  type WalletTrust,
} from '../src/index.js';
import { buildScenarioChain, type Chain, type FakeAgent, fakeAgent } from './fake-chain.js';

let chain: Chain;
let genesis: WalletTrust;
const key = new Uint8Array(32).fill(0x5a);

test.before(async () => {
  chain = await buildScenarioChain();
  genesis = trustFromGenesis(chain.genesis);
});

const client = (agent: FakeAgent, trust: WalletTrust, o: Partial<WalletClientOpts> = {}) =>
  createWalletClient({ url: 'http://agent.test/', trust, fetch: agent.fetch, ...o });

function code(f: () => unknown): WalletErrorCode | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof WalletError)) throw e;
    return e.code;
  }
}

const tablesFetched = (agent: FakeAgent) =>
  [...agent.validatorCalls().values()].reduce((a, b) => a + b, 0);

test('trustState: the highest verified table; a resumed client asks for no table and agrees', async () => {
  const cold = fakeAgent(chain);
  const c = client(cold, genesis);
  assert.is(c.trustState().epoch, 0);
  const b1 = await c.balance(chain.owner.publicKey);
  const state = c.trustState();
  // The table that certified the tip (height 21, epoch 5); epoch 6's, which
  // the tip's header names, was verified too but would not verify the tip.
  assert.is(state.epoch, 5);
  assert.is(toHex(state.chainId), toHex(genesis.chainId));
  assert.is(tablesFetched(cold), 6);

  const opened = openTrustState(sealTrustState(state, key), key, genesis);
  assert.equal(opened, state);

  const warm = fakeAgent(chain);
  const b2 = await client(warm, opened).balance(chain.owner.publicKey);
  assert.equal([...warm.validatorCalls()], [[6, 1]]); // only the next epoch's, which the tip names
  assert.is(b2.balance, b1.balance);
  assert.is(b2.height, b1.height);
  assert.is(toHex(b2.stateRoot), toHex(b1.stateRoot));
});

test('a sealed state that was changed, or sealed under another key, is BAD_TRUST_STATE', async () => {
  const c = client(fakeAgent(chain), genesis);
  await c.certifiedHeader();
  const sealed = sealTrustState(c.trustState(), key);
  const o = JSON.parse(sealed);
  const edits: Array<[string, (x: typeof o) => unknown]> = [
    [
      'a stake raised',
      (x) => (x.state.validators[0].stake = `${BigInt(x.state.validators[0].stake) + 1n}`),
    ],
    ['a key swapped', (x) => (x.state.validators[0].publicKey = `0x${'11'.repeat(32)}`)],
    ['a validator dropped', (x) => x.state.validators.pop()],
    ['the epoch moved on', (x) => (x.state.epoch += 1)],
    ['a field added', (x) => (x.state.note = 'hi')],
    [
      'the seal changed',
      (x) => (x.seal = `${x.seal.slice(0, -1)}${x.seal.endsWith('0') ? '1' : '0'}`),
    ],
    ['the seal removed', (x) => delete x.seal],
    ['another version', (x) => (x.state.version = 2)],
    ['a negative epoch', (x) => (x.state.epoch = -1)],
    ['no validators', (x) => (x.state.validators = [])],
  ];
  for (const [name, edit] of edits) {
    const x = JSON.parse(sealed);
    edit(x);
    assert.is(
      code(() => openTrustState(JSON.stringify(x), key, genesis)),
      'BAD_TRUST_STATE',
      name,
    );
  }
  for (const text of ['', 'not json', sealed.slice(0, sealed.length / 2), '[]', 'null']) {
    assert.is(
      code(() => openTrustState(text, key, genesis)),
      'BAD_TRUST_STATE',
      text.slice(0, 20),
    );
  }
  const other = new Uint8Array(32).fill(0x5b);
  assert.is(
    code(() => openTrustState(sealed, other, genesis)),
    'BAD_TRUST_STATE',
  );
  assert.is(
    code(() => openTrustState(sealed, key, genesis)),
    undefined,
  );
});

test('a state of another chain, or before the anchor, is WRONG_CHAIN; a short key BAD_ARGUMENT', async () => {
  const c = client(fakeAgent(chain), genesis);
  await c.certifiedHeader();
  const state = c.trustState();
  const elsewhere = { ...state, chainId: new Uint8Array(32).fill(1) };
  assert.is(
    code(() => openTrustState(sealTrustState(elsewhere, key), key, genesis)),
    'WRONG_CHAIN',
  );
  const otherEpochLength = { ...state, epochLength: 5 };
  assert.is(
    code(() => openTrustState(sealTrustState(otherEpochLength, key), key, genesis)),
    'WRONG_CHAIN',
  );
  const pinned = { ...genesis, epoch: 7 };
  assert.is(
    code(() => openTrustState(sealTrustState(state, key), key, pinned)),
    'WRONG_CHAIN',
  );
  assert.is(
    code(() => sealTrustState(state, new Uint8Array(16))),
    'BAD_ARGUMENT',
  );
  assert.is(
    code(() => openTrustState('{}', new Uint8Array(31), genesis)),
    'BAD_ARGUMENT',
  );
});

test.run();
