// The OpenRPC document: valid against the OpenRPC meta-schema (ajv, see
// scripts/testing/openrpc.ts), one entry per definition, every result
// schema compiles with the document's components, and the same JSON on
// every call. Real answers are checked against it in
// packages/node/test/openrpc.test.ts.

import { openRpcErrors, resultValidators } from '@pos/test-utils/openrpc';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DISCOVER_METHOD, METHODS, openRpcDocument, SUBSCRIPTION_METHODS } from '../src/index.js';

test('the document is valid OpenRPC', () => {
  assert.equal(openRpcErrors(openRpcDocument()), []);
});

test('a broken document is refused (the validator is awake)', () => {
  const doc = openRpcDocument() as unknown as { methods: { params: unknown }[] };
  doc.methods[0]!.params = 'none';
  assert.ok(openRpcErrors(doc).length > 0);
});

test('one method per definition, and rpc.discover', () => {
  const names = openRpcDocument().methods.map((m) => m.name);
  assert.equal(names, [
    ...Object.keys(METHODS),
    ...Object.keys(SUBSCRIPTION_METHODS),
    DISCOVER_METHOD,
  ]);
});

test('every result schema compiles with the components', () => {
  const v = resultValidators(openRpcDocument() as never);
  assert.is(v.size, openRpcDocument().methods.length);
});

test('every method lists -32602 and -32603; errors from the definitions', () => {
  for (const m of openRpcDocument().methods) {
    if (m.name === DISCOVER_METHOD) continue;
    const codes = (m.errors as { code: number }[]).map((e) => e.code);
    assert.ok(codes.includes(-32602) && codes.includes(-32603), String(m.name));
  }
  const get = (n: string) => openRpcDocument().methods.find((m) => m.name === n)!;
  const codes = (n: string) => (get(n).errors as { code: number }[]).map((e) => e.code);
  assert.equal(codes('pos_sendTransaction'), [-32003, -32005, -32602, -32603]);
  assert.equal(codes('pos_getOutputs'), [-32001, -32005, -32602, -32603]);
  assert.equal(codes('pos_getBlock'), [-32001, -32602, -32603]);
});

test('the same JSON each call, and a fresh object', () => {
  const a = openRpcDocument();
  const b = openRpcDocument();
  assert.is(JSON.stringify(a), JSON.stringify(b));
  assert.is.not(a, b);
  (a.methods[0] as { name: string }).name = 'edited';
  assert.is.not(openRpcDocument().methods[0]!.name, 'edited');
});

test.run();
