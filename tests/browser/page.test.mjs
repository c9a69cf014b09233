// End-to-end tests of the nnlab page in headless Chromium against the real daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup, canvasColours, parseShape, SCREENSHOTS } from './harness.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

// A screenshot of one whole section (the sticky header unpinned so it does not cover it).
async function sectionShot(page, id) {
  await page.addStyleTag({ content: 'header { position: static !important; }' });
  await page.locator(`#${id}`).screenshot({ path: join(SCREENSHOTS, `${id}-1280.png`) });
}

async function activeTrainings() {
  const h = await (await fetch(`${env.base}/healthz`)).json();
  return h.active_trainings;
}
const convSize = (n, k, s, p) => Math.floor((n + 2 * p - k) / s) + 1;

test('the page loads, reaches the server and logs no errors', async () => {
  const page = await env.newPage();
  await page.waitForSelector('#health.ok', { timeout: 10000 });
  for (const id of ['conv', 'pool', 'mlp', 'cnn', 'train']) assert.ok(await page.isVisible(`#${id}`), `section ${id}`);
  // Everything is served by the daemon: no request goes anywhere else.
  assert.ok(page.requests.length >= 10, 'page, styles, scripts and modules were requested');
  for (const u of page.requests) assert.ok(u.startsWith(`${env.base}/`) || u.startsWith('data:'), `${u} is served by nnlabd`);
  assert.equal(await page.evaluate(() => typeof uPlot), 'function', 'vendored uPlot loaded');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('convolution on the sample image: output shape and drawn maps', async () => {
  const page = await env.newPage();
  // A preset 3x3 kernel, stride 1, no padding.
  await page.click('#conv-form button[type=submit]');
  await page.waitForSelector('#conv-output-shape', { timeout: 20000 });
  const [W, H, C] = parseShape(await page.textContent('#conv-input-shape'));
  assert.ok(W > 3 && H > 3 && (C === 3 || C === 1), `input shape ${W}x${H}x${C}`);
  assert.equal(await page.textContent('#conv-output-shape'), `${W - 2} × ${H - 2} × 1`);
  const map = page.locator('#conv-maps canvas.map').first();
  assert.ok(await canvasColours(map) > 10, 'output map canvas has drawn pixels');
  assert.ok(await canvasColours(page.locator('.kernels canvas').first()) > 1, 'kernel heat map drawn');
  assert.match(await page.textContent('#conv-maps .cbar-mid'), /^min -?[\d.e+-]+ · max -?[\d.e+-]+$/);
  // Hovering a pixel shows its value.
  const box = await map.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  assert.match(await page.locator('#conv-maps .readout').first().textContent(), /^x \d+, y \d+: -?[\d.e+-]+$/);

  // Four generated filters, stride 2, padding 1, ReLU: four output maps of the formula's size.
  await page.selectOption('#conv-ksrc', 'filters');
  await page.fill('#conv-form input[name=count]', '4');
  await page.fill('#conv-form input[name=stride]', '2');
  await page.fill('#conv-form input[name=padding]', '1');
  await page.selectOption('#conv-form select[name=activation]', 'relu');
  await page.click('#conv-form button[type=submit]');
  const expect = `${convSize(W, 3, 2, 1)} × ${convSize(H, 3, 2, 1)} × 4`;
  await page.waitForFunction((t) => document.querySelector('#conv-output-shape')?.textContent === t, expect, { timeout: 20000 });
  assert.equal(await page.locator('#conv-maps figure').count(), 4);
  assert.equal(await page.locator('.kernels .krow').count(), 4);
  await sectionShot(page, 'conv');

  // An uploaded file (the sample itself), grayscale, longest side capped at 128 (sent as "resize").
  await page.setInputFiles('#conv-image input[type=file]', join(ROOT, 'web/sample.png'));
  await page.check('#conv-image input[type=checkbox]');
  await page.selectOption('#conv-image select', '128');
  await page.click('#conv-form button[type=submit]');
  const k = 128 / Math.max(W, H);
  const inSmall = `${Math.round(W * k)} × ${Math.round(H * k)} × 1`;
  await page.waitForFunction((t) => document.querySelector('#conv-input-shape')?.textContent === t, inSmall, { timeout: 20000 });
  assert.equal(await page.textContent('#conv-output-shape'),
    `${convSize(Math.round(W * k), 3, 2, 1)} × ${convSize(Math.round(H * k), 3, 2, 1)} × 4`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a bad input shows the API error next to the control that caused it', async () => {
  const page = await env.newPage();
  await page.fill('#conv-form input[name=stride]', '0');
  await page.click('#conv-form button[type=submit]');
  const err = page.locator('#conv [data-field~="stride"] .err');
  await err.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await err.textContent(), /400 invalid_argument: .*stride/);
  assert.equal(await page.getAttribute('#conv-form input[name=stride]', 'aria-invalid'), 'true');
  assert.equal(await page.isVisible('#conv .err.general'), false, 'not in the general box');
  // Fixing the input clears the error.
  await page.fill('#conv-form input[name=stride]', '1');
  await page.click('#conv-form button[type=submit]');
  await page.waitForSelector('#conv-output-shape', { timeout: 20000 });
  assert.equal(await err.isVisible(), false);
  // The same for a training request (the streaming endpoint answers 400 before streaming).
  await page.uncheck('#train-form input[name=m-lstm]');
  await page.uncheck('#train-form input[name=m-gru]');
  await page.fill('#train-form input[name=epochs]', '0');
  await page.click('#train-start');
  const terr = page.locator('#train [data-field~="epochs"] .err');
  await terr.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await terr.textContent(), /400 invalid_argument: .*epochs/);
  // The browser logs each 400 response itself; nothing else may appear.
  assert.deepEqual(page.errors.filter((e) => !/status of 400/.test(e)), []);
  assert.equal(page.errors.length, 2);
  await page.close();
});

test('pooling: input and pooled output side by side with shapes', async () => {
  const page = await env.newPage();
  await page.click('#pool-form button[type=submit]');
  await page.waitForSelector('#pool-output-shape', { timeout: 20000 });
  assert.equal(await page.textContent('#pool-input-shape'), '8 × 8 × 1');
  assert.equal(await page.textContent('#pool-output-shape'), '4 × 4 × 1');
  assert.ok(await canvasColours(page.locator('#pool-out canvas.map').last()) > 2);
  await page.check('#pool-form input[name=global]');
  await page.fill('#pool-form input[name=c]', '3');
  await page.click('#pool-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#pool-output-shape')?.textContent === '3', null, { timeout: 20000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('MLP: output with and without softmax as bar charts', async () => {
  const page = await env.newPage();
  await page.click('#mlp-form button[type=submit]');
  await page.waitForSelector('#mlp-out canvas.bars', { timeout: 20000 });
  const caps = await page.locator('#mlp-out figcaption').allTextContents();
  assert.equal(caps.length, 3);
  assert.match(caps[1], /without softmax.*10/);
  assert.match(caps[2], /with softmax/);
  assert.ok(await canvasColours(page.locator('#mlp-out canvas.bars').nth(2)) > 2);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('CNN: every layer has a shape and maps, and the 1000-vector', async () => {
  const page = await env.newPage();
  await page.click('#cnn-form button[type=submit]');
  await page.waitForSelector('#cnn-summary', { timeout: 20000 });
  const shapes = await page.locator('#cnn-out .layer .shape').allTextContents();
  assert.equal(shapes.length, 6);
  for (const s of shapes) { assert.ok(s.length > 0); assert.doesNotMatch(s, /≠/, 'step-by-step shapes agree with /cnn'); }
  assert.match(shapes[0], / × 16$/);
  assert.match(shapes[2], / × 32$/);
  assert.match(await page.textContent('#cnn-summary'), /output: 1000 values/);
  assert.equal(await page.locator('#cnn-out .layer[data-layer="0"] canvas.map').count(), 16);
  assert.equal(await page.locator('#cnn-out .layer[data-layer="2"] canvas.map').count(), 32);
  await sectionShot(page, 'cnn');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('training streams live curves, then the final table; stop cancels', async () => {
  const page = await env.newPage();
  const set = async (name, v) => page.fill(`#train-form input[name=${name}]`, String(v));
  await set('samples', 300); await set('test_samples', 60); await set('epochs', 4);
  await set('report_every', 50); await set('hidden_size', 6); await set('learning_rate', 0.01);
  await page.click('#train-start');
  // Points arrive while the runs are still going (live), before the table exists.
  await page.waitForFunction(() => Number(document.querySelector('#train-chart').dataset.points) > 0, null, { timeout: 20000 });
  await page.waitForSelector('#train-results tbody tr:nth-child(3)', { timeout: 30000 });
  const points = Number(await page.getAttribute('#train-chart', 'data-points'));
  assert.ok(points >= 3 * 4 * 2, `chart has ${points} points`);
  assert.ok(await canvasColours(page.locator('#train-chart canvas').first()) > 3, 'chart drawn');
  for (const m of ['rnn', 'lstm', 'gru']) {
    const mse = Number(await page.textContent(`#train-results tr[data-model=${m}] .test-mse`));
    assert.ok(Number.isFinite(mse) && mse > 0, `${m} test MSE ${mse}`);
    assert.match(await page.textContent(`#train-results tr[data-model=${m}] .acc`), /\d/);
  }
  // Log scale toggles without losing the data.
  await page.uncheck('#train-form input[name=log]');
  assert.equal(Number(await page.getAttribute('#train-chart', 'data-points')), points);
  await sectionShot(page, 'train');

  // A long run, stopped by the button: every run reports "stopped" and the form is usable again.
  await set('samples', 50000); await set('epochs', 500); await set('report_every', 5000);
  await page.click('#train-start');
  await page.waitForFunction(() => Number(document.querySelector('#train-chart').dataset.points) > 0, null, { timeout: 20000 });
  assert.equal(await page.locator('#train-results').count(), 0, 'points arrive while the runs are still going');
  assert.ok(await activeTrainings() > 0, 'the server is training');
  await page.click('#train-stop');
  await page.waitForFunction(() => [...document.querySelectorAll('#train-status .run-status')].every((e) => e.classList.contains('stopped')), null, { timeout: 10000 });
  assert.equal(await page.isEnabled('#train-start'), true);
  // Aborting the fetch cancels the runs on the server.
  const until = Date.now() + 5000;
  while (await activeTrainings() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await activeTrainings(), 0, 'the server cancelled the stopped runs');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('screenshots at 1280×800 and phone size; no horizontal overflow on a phone', async () => {
  const page = await env.newPage();
  await page.click('#conv-form button[type=submit]');
  await page.waitForSelector('#conv-output-shape', { timeout: 20000 });
  await page.click('#pool-form button[type=submit]');
  await page.waitForSelector('#pool-output-shape', { timeout: 20000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, 'page-1280x800.png') });
  await page.screenshot({ path: join(SCREENSHOTS, 'page-1280-full.png'), fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll at 1280');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(SCREENSHOTS, 'page-phone-390x844.png') });
  await page.screenshot({ path: join(SCREENSHOTS, 'page-phone-full.png'), fullPage: true });
  for (const u of page.requests) assert.ok(u.startsWith(`${env.base}/`) || u.startsWith('data:'), `${u} is served by nnlabd`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
  assert.deepEqual(page.errors, []);
  await page.close();
});
