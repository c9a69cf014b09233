// Shared setup for the browser tests: the daemon under test, headless Chromium, console capture.
//
// NNLAB_URL points at a running nnlabd (mk/browser.mk starts one on a free port). Without it, the
// harness starts ../../build/nnlabd itself on a free port and stops it at the end.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || join(ROOT, 'build/screenshots');
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

// Start (or reuse) the daemon and a browser. Returns {base, context, newPage, close}.
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
  const profile = mkdtempSync(join(tmpdir(), 'nnlab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 },
  });
  mkdirSync(SCREENSHOTS, { recursive: true });

  // A page that records console errors and uncaught exceptions in page.errors, and the URL of
  // every request it makes in page.requests.
  async function newPage() {
    const page = await context.newPage();
    page.errors = [];
    page.requests = [];
    page.on('request', (r) => page.requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-ready=true]');
    return page;
  }

  async function close() {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    if (daemon) { daemon.kill('SIGTERM'); }
  }
  return { base, context, newPage, close };
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
