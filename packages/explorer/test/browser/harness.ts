// What the browser suite shares: a 4-node testnet serving the explorer, the
// pos-wallet CLI run as a user runs it, a Chromium page that records every
// dialog, page error and RPC request, and the output folder (screenshots,
// measurements).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiClient, createApiClient, createHttpTransport } from '@pos/api';
import type { BrowserContext, Page } from 'playwright-core';

/** Where screenshots and measurements go (git-ignored). */
export const OUTPUT = join(import.meta.dirname, '..', 'output');
mkdirSync(OUTPUT, { recursive: true });

const CLI = join(import.meta.dirname, '../../../wallet-client/dist/cli/cli.js');

/** Runs `pos-wallet ARGS --json` in `cwd` (where `.testnet` is); its JSON. */
export function wallet(cwd: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args, '--json'],
      {
        cwd,
        // Saved trust states go beside the test's network, not to the user's home.
        env: { ...process.env, POS_WALLET_PASSWORD: '', POS_WALLET_HOME: join(cwd, 'wallet-home') },
        timeout: 120_000,
      },
      (_err, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          reject(new Error(`pos-wallet ${args.join(' ')}: ${stdout} ${stderr}`));
        }
      },
    );
  });
}

/** The typed client of a node. */
export const apiOf = (url: string): ApiClient =>
  createApiClient(createHttpTransport({ url, timeoutMs: 10_000 }));

/** Resolves once `check` holds (polled every 250 ms), or throws `what` after `ms`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A page and what it did: dialogs opened, errors thrown, JSON-RPC requests made. */
export interface Watched {
  readonly page: Page;
  readonly dialogs: string[];
  readonly errors: string[];
  readonly rpc: string[];
}

/** A new page of `context`, watched. */
export async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const w: Watched = { page, dialogs: [], errors: [], rpc: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => w.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(m.text());
  });
  page.on('request', (r) => {
    if (r.url().endsWith('/rpc')) w.rpc.push(r.postData() ?? '');
  });
  return w;
}

/** Saves a full-page screenshot as `name`.png in {@link OUTPUT}. */
export async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: false });
}
