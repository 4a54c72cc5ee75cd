// The explorer in a real browser (issue 20): Debian's Chromium, headless,
// driven by playwright-core, on a running 4-node testnet whose nodes serve
// the built explorer. The DAG page shows new rounds and each decided
// round's leader; a transfer sent with pos-wallet is found by hash with its
// proof verified in the page; the wallet page sends a transfer that the CLI
// then sees; a tampering proxy makes the page refuse, never show a wrong
// value as verified; a memo of markup stays text. Screenshots of each page
// and the page-load measurements go to test/output/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explorerAssetsDir } from '@pos/explorer/assets';
import {
  ed25519PublicKey,
  encodeTx,
  fromHex,
  randomEd25519SecretKey,
  signEd25519,
  signTx,
  toHex,
  utf8Encoder,
} from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { startTestnet, type Testnet } from '@pos/testnet';
import type { BrowserContext } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium } from './browser/chromium.js';
import { apiOf, OUTPUT, shoot, until, wallet, watchedPage } from './browser/harness.js';
import { tamperingProxy } from './browser/proxy.js';

const work = mkdtempSync(join(tmpdir(), 'pos-explorer-browser-'));
let net: Testnet;
let browser: { context: BrowserContext; close(): Promise<void> };
const measured: Record<string, unknown> = {};
const node = (i: number) => net.layout.nodes[i]!.rpcUrl;
const demo = (i: number) => net.layout.wallets[i]!.publicKey;

test.before(
  loud(async () => {
    net = await startTestnet({
      dir: join(work, '.testnet'),
      basePort: 0,
      reset: true,
      explorerDir: explorerAssetsDir(),
    });
    browser = await launchChromium();
    await until(
      'a certified block on every node',
      async () => {
        const s = await Promise.all(net.layout.nodes.map((n) => apiOf(n.rpcUrl).status()));
        return s.every((x) => x.lastCertifiedHeight !== null);
      },
      90_000,
    );
  }),
);

test.after(async () => {
  writeFileSync(join(OUTPUT, 'measurements.json'), `${JSON.stringify(measured, null, 2)}\n`);
  await browser?.close();
  await net?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface RoundRow {
  round: number;
  decided: boolean;
  leader: string;
}

test('the DAG page: new rounds arrive, each decided round shows its block leader', async () => {
  const w = await watchedPage(browser.context);
  const { page } = w;
  await page.goto(`${node(0)}/explorer/#/dag`);
  await page.waitForSelector('tr[data-round]', { timeout: 30_000 });
  const rows = () =>
    page.$$eval('tr[data-round]', (trs) =>
      trs.map((t) => ({
        round: Number(t.getAttribute('data-round')),
        decided: t.getAttribute('data-decided') === 'true',
        leader: t.getAttribute('data-leader') ?? '',
      })),
    );
  const first = Math.max(...(await rows()).map((r) => r.round));
  await until(
    'new rounds on the page',
    async () => Math.max(...(await rows()).map((r) => r.round)) >= first + 2,
    30_000,
  );
  // Each round the node decided well before: the page's leader is the
  // creator of the leader event of the block at that height (or none).
  const api = apiOf(node(0));
  let checked = 0;
  await until(
    "every decided round's leader as the node's blocks say",
    async () => {
      const st = await api.status();
      const done = (await rows()).filter((r: RoundRow) => r.round <= st.decidedRound - 2);
      for (const r of done) {
        const b = await api.getBlock(r.round).catch(() => null);
        const leader = b === null ? '' : (await api.getEvent(b.header.leader)).creator;
        if (r.leader !== leader || (leader !== '' && !r.decided)) return false;
      }
      checked = done.filter((r) => r.leader !== '').length;
      return checked >= 3;
    },
    30_000,
  );
  // Page load and the first drawn DAG, from the Performance API.
  measured.dagPage = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const draws = performance.getEntriesByName('pos-dag-draw') as PerformanceMeasure[];
    const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const assets = res
      .filter((r) => /\/explorer\/assets\//.test(r.name))
      .map((r) => ({
        name: r.name.replace(/.*\/assets\//, ''),
        gzipBytes: r.encodedBodySize,
        bytes: r.decodedBodySize,
      }));
    return {
      domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
      loadMs: Math.round(nav.loadEventEnd),
      firstDagWithEventsMs: Math.round(draws.find((d) => Number(d.detail) > 0)?.startTime ?? -1),
      pageGzipBytes: nav.encodedBodySize,
      assets,
    };
  });
  assert.ok(checked >= 3);
  await shoot(page, 'dag-young');
  assert.equal(w.dialogs, []);
  assert.equal(w.errors, []);
  await page.close();
});

let cliTx = '';

test('a transfer sent with pos-wallet is found by hash, its proof verified in the page', async () => {
  const sent = await wallet(work, ['send', '--key', 'demo0', '--to', demo(1), '--amount', '4321']);
  assert.is(sent.status, 'committed', JSON.stringify(sent));
  cliTx = sent.txHash as string;
  const w = await watchedPage(browser.context);
  const { page } = w;
  await page.goto(`${node(1)}/explorer/#/blocks`);
  await page.fill('input[name=q]', cliTx.toUpperCase().replace('0X', '0x'));
  await page.press('input[name=q]', 'Enter');
  await page.waitForURL(/#\/tx\/0x[0-9a-f]{64}$/, { timeout: 20_000 });
  const box = page.locator('.verified[data-verified]');
  await box.waitFor({ timeout: 60_000 });
  const text = (await box.textContent()) ?? '';
  assert.match(text, /receipt verified in this page/);
  assert.match(text, /receipt: committed at height \d+/);
  assert.match(text, /history log of size \d+, root 0x[0-9a-f]+/);
  assert.match(
    text,
    /certified height \d+, whose finality certificate was signed by .* stake \(\d+\.\d%, more than 2\/3\)/,
  );
  await page.locator('table.list td.num', { hasText: '4321' }).first().waitFor({ timeout: 30_000 });
  await shoot(page, 'tx');
  assert.equal(w.errors, []);
  await page.close();
});

const MEMO = '<script>window.__xss = 1</script>"><img src=x onerror="window.__xss = 2">';

test('hostile input stays inert: a memo of markup is shown as text; bad search input asks nothing', async () => {
  const key = JSON.parse(readFileSync(net.layout.wallets[2]!.keyFile, 'utf8')) as {
    secretKey: string;
  };
  const secret = fromHex(key.secretKey, 32);
  const api = apiOf(node(2));
  const outs = await api.getOutputs(demo(2));
  const o = outs.outputs.find((x) => BigInt(x.amount) > 1000n)!;
  const body = {
    chainId: fromHex(net.layout.chainId, 32),
    inputs: [{ txHash: fromHex(o.outpoint.txHash, 32), index: o.outpoint.index }],
    outputs: [
      { amount: 500n, owner: fromHex(demo(0), 32), host: fromHex(o.host, 32) },
      { amount: BigInt(o.amount) - 501n, owner: fromHex(demo(2), 32), host: fromHex(o.host, 32) },
    ],
    fee: 1n,
    memo: utf8Encoder.encode(MEMO),
  };
  const tx = signTx(body, [secret], { sign: signEd25519, publicKey: ed25519PublicKey });
  const { txHash } = await api.sendTransaction(toHex(encodeTx(tx)));
  await until(
    'the memo transfer committed',
    async () => (await api.getTransaction(txHash)).status === 'committed',
  );
  const w = await watchedPage(browser.context);
  const { page } = w;
  await page.goto(`${node(2)}/explorer/#/tx/${txHash}`);
  const memo = page.locator('.memo[data-memo-kind=utf8]');
  await memo.waitFor({ timeout: 60_000 });
  assert.is(await memo.textContent(), MEMO);
  assert.is(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  assert.is(await page.locator('img').count(), 0);
  assert.is(await page.locator('main script').count(), 0);
  await shoot(page, 'memo');
  // The search box and the address bar: validated, nothing asked.
  const before = w.rpc.length;
  await page.fill('input[name=q]', '<script>alert(1)</script>');
  await page.press('input[name=q]', 'Enter');
  await page.locator('[data-search-error]').waitFor();
  await page.goto(`${node(2)}/explorer/#/tx/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E`);
  await page.getByText('not a 32-byte hex hash').waitFor();
  await page.waitForTimeout(300);
  assert.ok(
    w.rpc.slice(before).every((b) => !b.includes('<')),
    'no request carries the input',
  );
  assert.equal(w.dialogs, []);
  assert.equal(w.errors, []);
  await page.close();
});

test('the wallet page: a key kept encrypted, a verified balance, a transfer the CLI then sees', async () => {
  const w = await watchedPage(browser.context);
  const { page } = w;
  await page.goto(`${node(2)}/explorer/#/wallet`);
  await page.fill('input[name=password]', 'browser-wallet-pw');
  await page.fill('input[name=password-again]', 'browser-wallet-pw');
  await page.click('[data-action=create-key]');
  await page
    .locator('select[name=address] option')
    .first()
    .waitFor({ state: 'attached', timeout: 30_000 });
  // Only the keystore is stored: no secret in the clear.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  assert.match(stored, /ciphertext/);
  assert.not.match(stored, /secretKey/);
  await page.fill('input[name=unlock-password]', 'browser-wallet-pw');
  await page.click('[data-action=unlock]');
  const address = (await page.locator('[data-wallet-address]').textContent({ timeout: 30_000 }))!;
  assert.match(address, /^0x[0-9a-f]{64}$/);
  const funded = await wallet(work, [
    'send',
    '--key',
    'demo0',
    '--to',
    address,
    '--amount',
    '50000',
  ]);
  assert.is(funded.status, 'committed', JSON.stringify(funded));
  await until(
    'the page verifies the funded balance',
    async () => {
      await page.click('[data-action=balance]');
      await page.locator('[data-action=balance]:not([disabled])').waitFor({ timeout: 30_000 });
      return (
        (await page
          .locator('[data-wallet-balance]')
          .textContent()
          .catch(() => null)) === '50000'
      );
    },
    60_000,
  );
  const receiver = toHex(ed25519PublicKey(randomEd25519SecretKey()));
  await page.fill('input[name=to]', receiver);
  await page.fill('input[name=amount]', '12345');
  await page.click('[data-action=send]');
  const sent = page.locator('[data-sent] .verified');
  await sent.waitFor({ timeout: 90_000 });
  assert.match(
    (await sent.textContent()) ?? '',
    /transfer committed and its receipt verified in this page/,
  );
  const seen = await (async () => {
    for (let i = 0; i < 100; i++) {
      const j = await wallet(work, ['balance', receiver, '--node', 'v3']);
      if (j.balance === '12345') return j;
      await new Promise((r) => setTimeout(r, 300));
    }
    return null;
  })();
  assert.ok(seen !== null, 'the CLI sees the transfer the page sent');
  await page
    .locator('[data-history] td', { hasText: 'sent to' })
    .first()
    .waitFor({ timeout: 30_000 });
  await page
    .locator('[data-history] td', { hasText: '✓ committed' })
    .first()
    .waitFor({ timeout: 30_000 });
  await shoot(page, 'wallet');
  assert.equal(w.errors, []);
  await page.close();
});

test('a tampering proxy between the page and the node: refused, never shown as verified', async () => {
  const proxy = await tamperingProxy(node(1), (method, r) => {
    const outs = r.outputs as { amount: string }[] | undefined;
    if (method === 'pos_getOutputs' && outs !== undefined && outs.length > 0) {
      outs[0]!.amount = String(BigInt(outs[0]!.amount) + 1_000_000n);
    }
    const receipt = r.receipt as { status: string } | undefined;
    if (method === 'pos_getTransaction' && receipt !== undefined) {
      receipt.status = receipt.status === 'committed' ? 'rejected' : 'committed';
    }
  });
  const w = await watchedPage(browser.context);
  const { page } = w;
  try {
    await page.goto(`${proxy.url}/explorer/#/address/${demo(0)}`);
    const refused = page.locator('.refused[data-refused]');
    await refused.waitFor({ timeout: 60_000 });
    assert.is(await refused.getAttribute('data-refused'), 'BAD_PROOF');
    assert.is(await page.locator('[data-balance]').count(), 0);
    assert.is(await page.locator('.verified').count(), 0);
    await shoot(page, 'refused');
    await page.goto(`${proxy.url}/explorer/#/tx/${cliTx}`);
    await page.locator('.refused[data-refused]').waitFor({ timeout: 60_000 });
    assert.is(await page.locator('.verified').count(), 0);
    // The same pages straight from the node verify.
    await page.goto(`${node(1)}/explorer/#/address/${demo(0)}`);
    await page.locator('.verified').waitFor({ timeout: 60_000 });
    assert.is(await page.locator('.refused').count(), 0);
    await shoot(page, 'address');
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('blocks, a block with its certificate, validators and node pages render what they verify', async () => {
  const w = await watchedPage(browser.context);
  const { page } = w;
  await page.goto(`${node(3)}/explorer/#/blocks`);
  await page.locator('tr[data-height]').first().waitFor({ timeout: 30_000 });
  await shoot(page, 'blocks');
  const st = await apiOf(node(3)).status();
  await page.goto(`${node(3)}/explorer/#/block/${st.lastCertifiedHeight}`);
  const cert = page.locator('.verified', { hasText: 'finality certificate verified in this page' });
  await cert.waitFor({ timeout: 60_000 });
  assert.match(
    (await cert.textContent()) ?? '',
    /signed by .* stake \(\d+\.\d%, more than 2\/3\) of epoch \d+'s validator set/,
  );
  assert.ok((await page.locator('[data-signers] tbody tr').count()) >= 2);
  await shoot(page, 'block');
  await page.goto(`${node(3)}/explorer/#/validators`);
  await page.locator('[data-epoch] .verified').first().waitFor({ timeout: 60_000 });
  await page.locator('[data-equivocations="0"]').waitFor();
  await shoot(page, 'validators');
  await page.goto(`${node(3)}/explorer/#/node`);
  await page.locator('[data-chart] canvas').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(4000);
  await shoot(page, 'node');
  // An event's page: the leader of the latest certified block.
  const b = await apiOf(node(3)).getBlock(st.lastCertifiedHeight!);
  await page.goto(`${node(3)}/explorer/#/event/${b.header.leader}`);
  await page.locator(`[data-event="${b.header.leader}"]`).waitFor({ timeout: 30_000 });
  await page.getByText(`yes: it led block ${b.height}`).waitFor({ timeout: 30_000 });
  // The DAG once the network is a minute old, for the README.
  await page.goto(`${node(3)}/explorer/#/dag`);
  await page.locator('tr[data-round]').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(3000);
  await shoot(page, 'dag');
  assert.equal(w.errors, []);
  await page.close();
});

test.run();
