import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createLevelStore, createStateTrie } from '@pos/merkle';
import { ClassicLevel } from 'classic-level';
import { sha256Node } from './dist/crypto.js';

rmSync('/tmp/commitbench', { recursive: true, force: true });
const db = new ClassicLevel('/tmp/commitbench', { keyEncoding: 'view', valueEncoding: 'view' });
await db.open();
const store = createLevelStore(db);
const t = await createStateTrie({
  keyBytes: 32,
  store,
  hash: sha256Node,
  keepVersions: +process.argv[2],
});
const keys = [];
for (let i = 0; i < 20000; i++) {
  const k = randomBytes(32);
  keys.push(k);
}
await t.apply(keys.map((k) => ({ type: 'put', key: k, value: randomBytes(60) })));
await t.commit();
const pre = [];
for (let b = 0; b < 60; b++) {
  const o = [];
  for (let i = 0; i < 600; i++) {
    const k = keys[Math.floor(Math.random() * keys.length)];
    o.push({ type: 'put', key: k, value: randomBytes(60) });
  }
  pre.push(o);
}
let tot = 0;
let cpu = 0;
let ap = 0;
for (let b = 0; b < 60; b++) {
  const a0 = performance.now();
  await t.apply(pre[b]);
  ap += performance.now() - a0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await t.commit();
  const c = process.cpuUsage(c0);
  cpu += (c.user + c.system) / 1000;
  tot += performance.now() - t0;
}
console.log(
  'keep',
  process.argv[2],
  'apply',
  (ap / 60).toFixed(1),
  'avg commit',
  (tot / 60).toFixed(1),
  'ms wall',
  (cpu / 60).toFixed(1),
  'ms cpu',
);
await db.close();
