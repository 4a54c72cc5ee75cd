// One decode per transaction per node (issue 17): the node's decoder keeps
// each bytes object's decode and id, and every reader on a transfer's way
// (the mempool's check, the signature batch, the engine's id, the block's
// application) shares it.
import { malformedTxHash, readTx, txHashOf } from '@pos/protocol';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLedger } from '../src/chain/ledger.js';
import { createTxDecoder } from '../src/chain/tx-decoder.js';
import { signatureItems } from '../src/crypto/tx-signatures.js';
import { Book, makeGenesis, O, V, verify } from './epoch-fixture.js';

const genesis = makeGenesis('tx-decoder');

test('a decode is kept per bytes object; a copy is decoded anew; malformed bytes get their id', () => {
  const book = new Book(genesis);
  const t = book.build(['g0'], [[999n, O[1], V[0].id]]);
  const decode = createTxDecoder(sha256);
  const a = decode(t.bytes);
  assert.ok(a.ok);
  assert.is(hex(a.txHash), hex(t.hash));
  assert.is(hex(a.txHash), hex(txHashOf(readTx(t.bytes).body)));
  assert.is(decode(t.bytes), a, 'the same object, not a second decode');
  assert.is(decode.decodes, 1);
  const copy = t.bytes.slice();
  assert.is(hex(decode(copy).txHash), hex(t.hash));
  assert.is(decode.decodes, 2, 'the cache is by identity: a copy is decoded again');
  const junk = Uint8Array.of(1, 2, 3);
  const bad = decode(junk);
  assert.not.ok(bad.ok);
  assert.is(hex(bad.txHash), hex(malformedTxHash(junk, sha256)));
  decode(junk);
  assert.is(decode.decodes, 3);
});

test("a transfer's way through a node decodes its bytes once", async () => {
  const book = new Book(genesis);
  const t = book.build(['g0'], [[999n, O[1], V[0].id]]);
  const decode = createTxDecoder(sha256);
  const ledger = await createLedger({ genesis, verify, hash: sha256, decode });
  // Submission: the mempool's check, and the signature batch before it.
  assert.ok((await ledger.checkTx(t.bytes)).ok);
  assert.is(signatureItems([t.bytes], decode).length, 1);
  // Ordering: the engine deduplicates by the ledger's id.
  assert.is(hex(decode(t.bytes).txHash), hex(t.hash));
  // The block: its signature batch, then the ledger.
  signatureItems([t.bytes], decode);
  const r = await ledger.applyBlock(0, [t.bytes]);
  assert.is(r.receipts[0]?.status, 'committed');
  assert.is(decode.decodes, 1);
});

test.run();
