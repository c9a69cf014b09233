// End-to-end tests of the nnlab page in headless Chromium against the real daemon: every section
// runs and draws, training streams and stops, and the screenshots for the docs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setup, run, frames, canvasColours, parseShape, convSize, sectionShot, SCREENSHOTS, ROOT } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

async function activeTrainings() {
  const h = await (await fetch(`${env.base}/healthz`)).json();
  return h.active_trainings;
}

test('the page loads, reaches the server and logs no errors', async () => {
  const page = await env.newPage();
  await page.waitForSelector('#health.ok', { timeout: 10000 });
  for (const id of ['conv', 'pool', 'mlp', 'cnn', 'train']) assert.ok(await page.isVisible(`#${id}`), `section ${id}`);
  // Everything is served by the daemon: no request goes anywhere else.
  assert.ok(page.requests.length >= 10, 'page, styles, scripts and modules were requested');
  for (const u of page.requests) assert.ok(u.startsWith(`${env.base}/`) || u.startsWith('data:') || u.startsWith('blob:'), `${u} is served by nnlabd`);
  assert.equal(await page.evaluate(() => typeof uPlot), 'function', 'vendored uPlot loaded');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('convolution on the sample image: output shape and drawn maps', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'conv'), 'fresh');
  const [W, H, C] = parseShape(await page.textContent('#conv-input-shape'));
  assert.deepEqual([W, H, C], [256, 256, 3]);
  assert.equal(await page.textContent('#conv-output-shape'), `${W - 2} × ${H - 2} × 1`);
  const map = page.locator('#conv-maps figure canvas.map').first();
  assert.ok(await canvasColours(map) > 10, 'output map canvas has drawn pixels');
  assert.ok(await canvasColours(page.locator('#conv-maps .kcol canvas').first()) > 1, 'kernel heat map drawn');
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
  assert.equal(await run(page, 'conv'), 'fresh');
  assert.equal(await page.textContent('#conv-output-shape'), `${convSize(W, 3, 2, 1)} × ${convSize(H, 3, 2, 1)} × 4`);
  assert.equal(await page.locator('#conv-maps .kcard').count(), 4);
  await sectionShot(page, 'conv');

  // The sample uploaded as a file, grey, longest side 128.
  await page.setInputFiles('#conv-image input[type=file]', join(ROOT, 'web/sample.png'));
  await page.check('#conv-image input[name=imggray]');
  await page.selectOption('#conv-image select[name=imgside]', '128');
  assert.equal(await run(page, 'conv'), 'fresh');
  assert.equal(await page.textContent('#conv-input-shape'), '128 × 128 × 1');
  assert.equal(await page.textContent('#conv-output-shape'), `${convSize(128, 3, 2, 1)} × ${convSize(128, 3, 2, 1)} × 4`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('pooling: input and pooled output side by side with shapes', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'pool'), 'fresh');
  assert.equal(await page.textContent('#pool-input-shape'), '8 × 8 × 1');
  assert.equal(await page.textContent('#pool-output-shape'), '4 × 4 × 1');
  assert.ok(await canvasColours(page.locator('#pool-out canvas.map').last()) > 2);
  await page.check('#pool-form input[name=global]');
  await page.fill('#pool-form input[name=c]', '3');
  assert.equal(await run(page, 'pool'), 'fresh');
  assert.equal(await page.textContent('#pool-output-shape'), '3');
  // The pooling input can be the convolution's output.
  await run(page, 'conv');
  await page.uncheck('#pool-form input[name=global]');
  await page.selectOption('#pool-form select[name=src]', 'conv');
  assert.equal(await run(page, 'pool'), 'fresh');
  assert.equal(await page.textContent('#pool-output-shape'), '127 × 127 × 1');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('MLP: output with and without softmax as bar charts', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'mlp'), 'fresh');
  const caps = await page.locator('#mlp-out .barfig figcaption').allTextContents();
  assert.equal(caps.length, 3);
  assert.match(caps[1], /without softmax.*10/);
  assert.match(caps[2], /with softmax/);
  assert.equal(await page.textContent('#mlp-shapes'), '16×32  ·  32×16  ·  16×10');
  assert.ok(await canvasColours(page.locator('#mlp-out canvas.bars').nth(2)) > 2);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('CNN: every layer has a shape and maps, and the 1000-vector', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'cnn'), 'fresh');
  const shapes = await page.locator('#cnn-out .layer .shape').allTextContents();
  assert.deepEqual(shapes, ['63 × 63 × 16', '31 × 31 × 16', '31 × 31 × 32', '15 × 15 × 32', '32', '1000'], 'step-by-step shapes agree with /cnn');
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
  await set('report_every', 50); await set('learning_rate', 0.01);
  await page.click('#train-start');
  // Points arrive while the runs are still going (live), before the table exists.
  await page.waitForFunction(() => Number(document.querySelector('#train .chart').dataset.points) > 0, null, { timeout: 20000 });
  await page.waitForSelector('#train-results tbody tr:nth-child(3)', { timeout: 60000 });
  await page.waitForFunction(() => document.getElementById('train').dataset.state === 'fresh', null, { timeout: 20000 });
  await frames(page); // the chart draws the last points on the next frame
  const points = Number(await page.getAttribute('#train .chart', 'data-points'));
  assert.ok(points >= 3 * 4 * 2, `chart has ${points} points`);
  assert.ok(await canvasColours(page.locator('#train .chart canvas').first()) > 3, 'chart drawn');
  for (const m of ['rnn', 'lstm', 'gru']) {
    const mse = Number(await page.textContent(`#train-results tr[data-model=${m}] .test-mse`));
    assert.ok(Number.isFinite(mse) && mse > 0, `${m} test MSE ${mse}`);
    assert.match(await page.textContent(`#train-results tr[data-model=${m}] .acc`), /\d/);
  }
  // Log scale toggles without losing the data.
  await page.uncheck('#train-form input[name=log]');
  await page.waitForTimeout(100);
  assert.equal(Number(await page.getAttribute('#train .chart', 'data-points')), points);
  await page.check('#train-form input[name=log]');
  await page.waitForTimeout(100);
  await sectionShot(page, 'train');
  await page.locator('#train .losschart').screenshot({ path: join(SCREENSHOTS, 'train-chart.png') });
  await page.locator('#train-predictions').screenshot({ path: join(SCREENSHOTS, 'train-predictions-3.png') });

  // A long run, stopped by the button: every run reports "stopped" and the form is usable again.
  await set('samples', 50000); await set('epochs', 500); await set('report_every', 5000);
  await page.click('#train-start');
  await page.waitForFunction((p) => Number(document.querySelector('#train .chart').dataset.points) > p, points, { timeout: 20000 });
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

test('screenshots for the docs: the page at 1280×800 and on a phone', async () => {
  const page = await env.newPage({ path: '/?conv.ksrc=filters&conv.count=3&conv.activation=relu&run=conv,pool,mlp,cnn' });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, 'page-1280x800.png') });
  await page.screenshot({ path: join(SCREENSHOTS, 'page-1280-full.png'), fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll at 1280');
  await page.locator('#conv .explain').screenshot({ path: join(SCREENSHOTS, 'explain-conv.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(SCREENSHOTS, 'page-phone-390x844.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});
