// Fuzzing of what the wallet itself reads from outside (docs/PROTOCOL.md
// 11): keystore files, and the client's checks of an agent's answers
// (epoch-table proofs, certificates, output completeness, receipt inclusion,
// key history range proofs, name inclusion and exclusion proofs)
// against a real in-memory chain. The protocol's decoders are fuzzed in
// @pos/protocol (test/fuzz.test.ts).
//
// An agent's answer changed in any way is refused with a WalletError or
// changes nothing verified.
// Bounded in time: see packages/test-utils/src/fuzz.ts (FUZZ_MS, FUZZ_SEED).

import { fromHex, toHex } from '@pos/protocol';
import {
  expectTyped,
  fuzzTest,
  mutatedJson,
  nastyJson,
  type Outcome,
  outcome,
  outcomeAsync,
} from '@pos/test-utils/fuzz';
import { loud } from '@pos/test-utils/hooks';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createWalletClient,
  decryptKeystore,
  encryptKeystore,
  type KeystoreJSON,
  keystoreFromText,
  trustFromGenesis,
  WalletError,
} from '../src/index.js';
import { buildScenarioChain, type Chain, type FakeAgent, fakeAgent } from './fake-chain.js';

const WALLET = [WalletError];
const sk = (b: number) => new Uint8Array(32).fill(b);

// --- keystore files -------------------------------------------------------------------------

let keystore: KeystoreJSON;
const PASSWORD = 'correct horse';

test.before(
  loud(async () => {
    // The cheapest cost the format allows, so that mutations that keep the
    // shape (and so run scrypt) stay fast.
    keystore = await encryptKeystore(sk(9), PASSWORD, { N: 2 ** 14, r: 1, p: 1 });
    await buildWorld();
  }),
);

fuzzTest('keystoreFromText: any text is JSON or BAD_KEYSTORE', () =>
  fc.property(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json(),
      mutatedJson(keystore ?? {}).map((j) => JSON.stringify(j)),
    ),
    (text) => {
      expectTyped(
        outcome(() => keystoreFromText(text)),
        WALLET,
        ['BAD_KEYSTORE'],
      );
    },
  ),
);

fuzzTest(
  'decryptKeystore: a changed file is BAD_KEYSTORE or BAD_PASSWORD, never another error',
  () =>
    fc.asyncProperty(fc.oneof(nastyJson, mutatedJson(keystore, 2)), async (j) => {
      const o = expectTyped(await outcomeAsync(() => decryptKeystore(j, PASSWORD)), WALLET, [
        'BAD_KEYSTORE',
        'BAD_PASSWORD',
      ]);
      // Only a spelling the strict parser accepts and GCM authenticates opens it.
      if (o.ok) assert.equal(j, keystore);
    }),
);

test('decryptKeystore regression: scrypt costs over 1 GiB are BAD_KEYSTORE before any work', async () => {
  // Found by the property above: N = 2^20, r = 32, p = 16 (4 GiB) made
  // @noble/hashes throw a plain Error ("maxmem" limit was hit), not a
  // WalletError; N = 2^20, r = 9 would have tried to allocate 1.1 GiB.
  for (const [N, r, p] of [
    [2 ** 20, 32, 16],
    [2 ** 20, 9, 1],
    [2 ** 19, 32, 1],
  ] as const) {
    const o = await outcomeAsync(() =>
      decryptKeystore({ ...keystore, kdf: { ...keystore.kdf, N, r, p } }, PASSWORD),
    );
    expectTyped(o, WALLET, ['BAD_KEYSTORE']);
    assert.not.ok(o.ok, `N=${N} r=${r} p=${p}`);
  }
  const e = await outcomeAsync(() =>
    encryptKeystore(sk(9), PASSWORD, { N: 2 ** 20, r: 32, p: 16 }),
  );
  expectTyped(e, WALLET, ['BAD_ARGUMENT']);
  assert.not.ok(e.ok);
});

// --- the client against a lying agent ---------------------------------------------------

let chain: Chain;
const honest = new Map<string, unknown>();
/** What a client verifies from each honest answer. */
const truths = new Map<string, unknown>();
const TIP = 11;

async function buildWorld(): Promise<void> {
  chain = await buildScenarioChain({ tip: TIP, zeroStakeH: true });
  const agent = fakeAgent(chain);
  for (const [method, params] of calls()) {
    const id = `${method}${JSON.stringify(params)}`;
    honest.set(id, JSON.parse(JSON.stringify(await agent.honest(method, params))));
    agent.calls.length = 0;
    const truth = await ask(agent, method, params);
    if (!truth.ok) throw new Error(`the honest answer of ${id} does not verify`);
    // The client makes exactly this call, so that the property's lie is heard.
    if (
      !agent.calls.some(
        (c) => c.method === method && JSON.stringify(c.params) === JSON.stringify(params),
      )
    ) {
      throw new Error(`the client never calls ${id}: ${JSON.stringify(agent.calls)}`);
    }
    truths.set(id, truth.value);
  }
}

/** The calls whose answers are mutated, with the client call that makes them. */
function calls(): [string, unknown[]][] {
  return [
    ['pos_getValidators', [1]],
    ['pos_getValidators', [3]],
    ['pos_getCertificate', [TIP]],
    ['pos_getOutputs', [toHex(chain.owner.publicKey), TIP]],
    ['pos_getTransaction', [toHex(chain.tx1), TIP]],
    ['pos_getTransaction', [toHex(chain.tx2), TIP]],
    // The indexes (docs/PROTOCOL.md 6.6, 6.7): a whole history, one cut to
    // the newest `limit`, an owned name and a free one.
    ['pos_getHistory', [toHex(chain.owner.publicKey), 0, TIP, 100, TIP]],
    ['pos_getHistory', [toHex(chain.keys.busy.publicKey), 0, TIP, 4, TIP]],
    ['pos_resolveName', ['alice', TIP]],
    ['pos_resolveName', ['nobody', TIP]],
  ];
}

/** What a client call returned, as comparable JSON (bytes as hex, bigints as strings). */
const plain = (v: unknown) =>
  JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? toHex(x) : x,
    ),
  );

async function ask(agent: FakeAgent, method: string, params: unknown[]): Promise<Outcome<unknown>> {
  const c = createWalletClient({
    url: 'http://agent.test/',
    trust: trustFromGenesis(chain.genesis),
    fetch: agent.fetch,
  });
  return outcomeAsync(async () => {
    switch (method) {
      case 'pos_getValidators': {
        // Labels (name, endpoint) are the agent's word, not verified.
        const t = await c.validators(params[0] as number);
        return plain(
          t.validators.map((v) => ({ id: v.validatorId, key: v.publicKey, stake: v.stake })),
        );
      }
      case 'pos_getCertificate':
        return plain(await c.certifiedHeader());
      case 'pos_getOutputs':
        return plain(await c.balance(chain.owner.publicKey));
      case 'pos_getHistory':
        return plain(await c.history(fromHex(params[0], 32), { limit: params[3] as number }));
      case 'pos_resolveName':
        return plain(await c.resolveName(params[0] as string));
      default:
        return plain(await c.receipt(fromHex(params[0], 32)));
    }
  });
}

fuzzTest(
  'client: every changed answer is a WalletError or changes nothing verified',
  () =>
    fc.asyncProperty(
      fc.nat().chain((i) => {
        const all = calls();
        const [method, params] = all[i % all.length]!;
        const base = honest.get(`${method}${JSON.stringify(params)}`);
        return fc.tuple(fc.constant(method), fc.constant(params), mutatedJson(base));
      }),
      async ([method, params, lie]) => {
        const agent = fakeAgent(chain);
        const truth = truths.get(`${method}${JSON.stringify(params)}`);
        agent.intercept = (m, p, next) =>
          m === method && JSON.stringify(p) === JSON.stringify(params)
            ? Promise.resolve(lie)
            : next();
        const o = await ask(agent, method, params);
        expectTyped(o, WALLET);
        if (o.ok) assert.equal(o.value, truth, `${method}: a changed answer changed the result`);
      },
    ),
  // A run is a fresh client walking every epoch: slow, so fewer runs are guaranteed.
  { minRuns: 3 },
);

test.run();
