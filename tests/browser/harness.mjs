// Shared setup for the browser tests: the daemon under test, headless Chromium, console capture,
// and helpers the test files share (run a section, axe-core, screenshots).
//
// NNLAB_URL points at a running nnlabd (mk/browser.mk starts one on a free port). Without it, the
// harness starts ../../build/nnlabd itself on a free port and stops it at the end.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || join(ROOT, 'build/screenshots');
const AXE = join(dirname(fileURLToPath(import.meta.url)), 'node_modules/axe-core/axe.min.js');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

async function waitHealthy(base, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`nnlabd did not answer ${base}/healthz within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Start (or reuse) the daemon and a browser. Returns {base, newPage, close}.
export async function setup() {
  let base = process.env.NNLAB_URL;
  let daemon = null;
  if (!base) {
    const port = await freePort();
    daemon = spawn(join(ROOT, 'build/nnlabd'), ['--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
    base = `http://127.0.0.1:${port}`;
  }
  base = base.replace(/\/$/, '');
  await waitHealthy(base, 10000);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  mkdirSync(SCREENSHOTS, { recursive: true });

  // A page in its own context (options: viewport, hasTouch, isMobile ...) that records console
  // errors and uncaught exceptions in page.errors and every request's URL in page.requests.
  // path: what to open after the base URL ('/' by default, e.g. '/?conv.stride=2').
  async function newPage({ path = '/', ...options } = {}) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...options });
    const page = await context.newPage();
    page.errors = [];
    page.requests = [];
    page.on('request', (r) => page.requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
    const close = page.close.bind(page);
    page.close = async () => { await close(); await context.close(); };
    await page.goto(`${base}${path}`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    return page;
  }

  async function close() {
    await browser.close().catch(() => {});
    if (daemon) daemon.kill('SIGTERM');
  }
  return { base, newPage, close };
}

// Press a section's run button and wait until the run is over. Returns the section's state
// ("fresh" after a good run; "error" or "stale" after a refused one). The charts draw on the next
// animation frame after their last point (losschart.js): two frames are waited for, so a check
// that follows sees every point of a run that ended fast.
export async function run(page, id, { timeout = 30000 } = {}) {
  await page.click(`#${id}-form button[type=submit]`);
  await page.waitForFunction((i) => !['running', undefined].includes(document.getElementById(i).dataset.state)
    && !document.querySelector(`#${i}-form button[type=submit]`).disabled, id, { timeout });
  await frames(page);
  return page.evaluate((i) => document.getElementById(i).dataset.state, id);
}

// Wait for two animation frames: what the page drew on the next frame is there.
export async function frames(page) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

// The visible error messages of a section, by the id of the box they are in.
export async function errors(page, id) {
  return page.locator(`#${id} .err:not([hidden])`).allTextContents();
}

// axe-core on the whole page: the serious and critical violations (WCAG 2.2 A/AA + best practice).
export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

// A screenshot of one whole section (the sticky header unpinned so it does not cover it).
export async function sectionShot(page, id, name = `${id}-1280`) {
  await page.addStyleTag({ content: 'header { position: static !important; }' });
  await page.locator(`#${id}`).screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

// Number of distinct colours in a canvas (1 = blank / uniform).
export async function canvasColours(locator) {
  return locator.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length && seen.size < 1000; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  });
}

// "W × H × C" -> [W, H, C]
export function parseShape(text) {
  return text.split('×').map((s) => Number(s.trim()));
}

export const convSize = (n, k, s, p) => Math.floor((n + 2 * p - k) / s) + 1;

// Only the browser's own "Failed to load resource: ... 400" lines (a refused request the test
// provoked on purpose) may appear besides nothing.
export function unexpected(errs) {
  return errs.filter((e) => !/status of 400/.test(e));
}
