// The DAG view's frame rate with 2,000 events on screen (issue 20), in
// Chromium, through the Performance API: the page is the built explorer,
// served with a stand-in node that answers a generated DAG of exactly 2,000
// events (./browser/fake-dag.ts); the view is zoomed to fit them all, then
// scrolled every animation frame for 3 s while the frames are counted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { explorerAssetsDir } from '@pos/explorer/assets';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium } from './browser/chromium.js';
import { fakeDagNode, generateDag } from './browser/fake-dag.js';
import { OUTPUT, shoot, until } from './browser/harness.js';

const EVENTS = 2000;

interface Measured {
  frames: number;
  ms: number;
  fps: number;
  p95FrameMs: number;
  drawMeanMs: number;
  drawMaxMs: number;
  eventsDrawn: number;
}

// Runs in the page (as text: the test's transpiler would add helpers the
// page lacks). One wheel step a frame, so that every frame has a redraw;
// frames counted by requestAnimationFrame, draws by their measures.
const MEASURE = `new Promise((resolve) => {
  const canvas = document.querySelector('canvas[data-dag-canvas]');
  performance.clearMeasures('pos-dag-draw');
  const gaps = [];
  let last = performance.now();
  const start = last;
  let dir = 1;
  function frame(now) {
    gaps.push(now - last);
    last = now;
    canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: 3 * dir, cancelable: true }));
    dir = -dir;
    if (now - start < 3000) return requestAnimationFrame(frame);
    const draws = performance.getEntriesByName('pos-dag-draw');
    const d = draws.map((m) => m.duration);
    const sorted = [...gaps].sort((a, b) => a - b);
    resolve({
      frames: gaps.length,
      ms: now - start,
      fps: (gaps.length * 1000) / (now - start),
      p95FrameMs: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
      drawMeanMs: d.reduce((a, b) => a + b, 0) / Math.max(1, d.length),
      drawMaxMs: Math.max(...d),
      eventsDrawn: Math.max(...draws.map((m) => Number(m.detail))),
    });
  }
  requestAnimationFrame(frame);
})`;

test(`the DAG view stays smooth with ${EVENTS} events on screen`, async () => {
  const server = await fakeDagNode(explorerAssetsDir(), generateDag(EVENTS, 8, 2));
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1400 });
    await page.goto(`${server.url}/explorer/#/dag`);
    const summary = page.locator('[data-dag-summary]');
    await summary.waitFor({ timeout: 30_000 });
    // The older rounds come as the view reaches them: fit until all are in.
    await until(
      'every event loaded',
      async () => {
        await page.click('[data-action=fit]');
        return ((await summary.textContent()) ?? '').startsWith(`${EVENTS} events`);
      },
      60_000,
    );
    await page.click('[data-action=fit]');
    await page.waitForTimeout(300);
    const result = (await page.evaluate(MEASURE)) as Measured;
    await shoot(page, 'dag-2000');
    writeFileSync(join(OUTPUT, 'dag-fps.json'), `${JSON.stringify(result, null, 2)}\n`);
    // process.stdout, not console.log: console.log asks for the colour depth,
    // and Node warns when the runner's FORCE_COLOR and NO_COLOR are both set.
    process.stdout.write(
      `DAG view, ${result.eventsDrawn} events drawn: ${result.fps.toFixed(1)} fps, p95 frame ${result.p95FrameMs.toFixed(1)} ms, draw mean ${result.drawMeanMs.toFixed(2)} ms, max ${result.drawMaxMs.toFixed(2)} ms\n`,
    );
    assert.ok(result.eventsDrawn >= EVENTS * 0.95, `events on screen: ${result.eventsDrawn}`);
    // A measurement, printed and saved, not a timing threshold: only that
    // frames were counted at all.
    assert.ok(result.frames > 0, 'no frame measured');
  } finally {
    await browser.close();
    await server.close();
  }
});

test.run();
