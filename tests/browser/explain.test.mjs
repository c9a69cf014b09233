// "How is this number made?": click an output pixel (convolution, pooling) or unit (MLP); the
// window, its padding cells, the kernel and the written sum must give the server's own number.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setup, run, SCREENSHOTS } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

// Click cell (x, y) of a W x H map canvas.
async function clickCell(page, canvas, x, y, W, H) {
  await canvas.scrollIntoViewIfNeeded();
  const b = await canvas.boundingBox();
  await page.mouse.click(b.x + ((x + 0.5) / W) * b.width, b.y + ((y + 0.5) / H) * b.height);
}

// The explanation on screen: window cells, the page's value and the server's.
async function explanation(page, id) {
  return page.evaluate((sid) => {
    const box = document.querySelector(`#${sid} .explain`);
    const cells = [...box.querySelectorAll('table.window td')].map((td) => ({
      pad: td.classList.contains('pad'), picked: td.classList.contains('picked'),
      v: td.querySelector('.in') ? (td.classList.contains('pad') ? 0 : Number(td.querySelector('.in').textContent)) : Number(td.textContent),
      w: td.querySelector('.w') ? Number(td.querySelector('.w').textContent.replace(/[×()\s]/g, '')) : null }));
    return { cells, where: box.querySelector('.where').textContent, steps: [...box.querySelectorAll('.sum-steps li')].map((l) => l.textContent),
      page: Number(box.querySelector('.page-value').dataset.value), server: Number(box.querySelector('.server-value').dataset.value),
      verdict: box.querySelector('.verdict').className, x: box.querySelector('input[name=x]').value, y: box.querySelector('input[name=y]')?.value };
  }, id);
}

test('convolution: the window with its padding cells, the kernel, the written sum, bias and ReLU give the server\'s value', async () => {
  const page = await env.newPage();
  await page.fill('#conv-form input[name=padding]', '1');
  await page.fill('#conv-form input[name=stride]', '2');
  await page.fill('#conv-form input[name=bias]', '0.25');
  await page.selectOption('#conv-form select[name=activation]', 'relu');
  await page.selectOption('#conv-form select[name=preset]', 'sobel_y');
  assert.equal(await run(page, 'conv'), 'fresh');
  assert.equal(await page.textContent('#conv-output-shape'), '128 × 128 × 1');
  // The top-left output pixel: its 3x3 window starts at (-1, -1), so 5 of its 9 cells per
  // channel are padding (zeros).
  await clickCell(page, page.locator('#conv-maps figure canvas.map'), 0, 0, 128, 128);
  let e = await explanation(page, 'conv');
  assert.equal(e.x, '0');
  assert.match(e.where, /top-left corner is at x -1, y -1 .* 5 of its cells per channel lie outside the image, in the padding/);
  assert.equal(e.cells.length, 27, '3 channels × 3 × 3');
  assert.equal(e.cells.filter((c) => c.pad).length, 15);
  assert.deepEqual(e.cells.slice(0, 9).map((c) => c.w), [-1, -2, -1, 0, 0, 0, 1, 2, 1], 'sobel_y laid over the window');
  // The sum written with the numbers on screen (4 digits) is the server's value to that precision;
  // the page's exact sum (from the same float32 inputs) matches it to float32 rounding.
  const sum = e.cells.reduce((a, c) => a + c.v * c.w, 0) + 0.25;
  assert.ok(Math.abs(Math.max(0, sum) - e.server) < 5e-3, `written sum ${sum} vs server ${e.server}`);
  assert.ok(Math.abs(e.page - e.server) < 1e-5, `page ${e.page} vs server ${e.server}`);
  assert.equal(e.verdict, 'verdict ok');
  assert.match(e.steps[e.steps.length - 2], /plus the bias: .* \+ 0\.25 = /);
  assert.match(e.steps[e.steps.length - 1], /^ReLU\(.*\) = max\(0, .*\) = /);
  // The window is outlined on the input, reaching out into the padding.
  const marker = await page.locator('#conv-out .pair figure .marker').evaluate((m) => [m.style.left, m.style.top, m.style.width].map(parseFloat));
  const want = [-1 / 256, -1 / 256, 3 / 256].map((v) => v * 100);
  marker.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-3, `marker ${marker} at ${want}`));
  await page.locator('#conv .explain').screenshot({ path: join(SCREENSHOTS, 'explain-padding.png') });

  // The step control walks the window: each position's explanation still equals the server.
  for (let i = 1; i <= 3; i++) {
    await page.click('#conv .explain .step-next');
    e = await explanation(page, 'conv');
    assert.equal(e.x, String(i));
    assert.match(e.where, new RegExp(`top-left corner is at x ${2 * i - 1}, y -1`));
    assert.ok(Math.abs(e.page - e.server) < 1e-5);
  }
  const walk = page.locator('#conv .explain button[aria-pressed]');
  await walk.click();
  assert.equal(await walk.getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(() => Number(document.querySelector('#conv .explain input[name=x]').value) > 4, null, { timeout: 5000 });
  assert.equal(await walk.textContent(), 'Pause');
  await walk.click();
  assert.equal(await walk.getAttribute('aria-pressed'), 'false');
  // Keyboard: type a position.
  await page.fill('#conv .explain input[name=x]', '100');
  await page.fill('#conv .explain input[name=y]', '60');
  await page.press('#conv .explain input[name=y]', 'Enter');
  await page.locator('#conv .explain input[name=y]').evaluate((i) => i.dispatchEvent(new Event('change')));
  e = await explanation(page, 'conv');
  assert.match(e.where, /x 100, y 60 .* top-left corner is at x 199, y 119/);
  assert.equal(e.cells.filter((c) => c.pad).length, 0);
  assert.ok(Math.abs(e.page - e.server) < 1e-5);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('convolution with N filters and each activation: the pixel clicked on any map is explained', async () => {
  const page = await env.newPage();
  await page.selectOption('#conv-ksrc', 'filters');
  await page.fill('#conv-form input[name=count]', '3');
  await page.selectOption('#conv-form select[name=activation]', 'sigmoid');
  assert.equal(await run(page, 'conv'), 'fresh');
  await clickCell(page, page.locator('#conv-maps figure canvas.map').nth(2), 40, 30, 254, 254);
  let e = await explanation(page, 'conv');
  assert.match(e.where, /^Output map 2, x (39|40|41), y (29|30|31) /, 'the pixel clicked (a map drawn at 200 px has cells under 1 px)');
  assert.match(e.steps[e.steps.length - 1], /^sigmoid\(/);
  assert.ok(Math.abs(e.page - e.server) < 1e-5, `${e.page} vs ${e.server}`);
  // The four-activation figure: a click on the tanh map explains tanh.
  await page.selectOption('#conv-form select[name=activation]', 'compare');
  await page.selectOption('#conv-ksrc', 'preset');
  assert.equal(await run(page, 'conv'), 'fresh');
  await clickCell(page, page.locator('#conv-compare figure[data-activation=tanh] canvas'), 20, 20, 254, 254);
  e = await explanation(page, 'conv');
  assert.match(e.steps[e.steps.length - 1], /^tanh\(/);
  assert.ok(Math.abs(e.page - e.server) < 1e-5);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('pooling: the window, its maximum marked (or the average written out), equal to the server', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'pool'), 'fresh');
  await clickCell(page, page.locator('#pool-out figure canvas.map').last(), 2, 1, 4, 4);
  let e = await explanation(page, 'pool');
  assert.match(e.where, /x 2, y 1 .* top-left corner is at x 4, y 2/);
  assert.equal(e.cells.length, 4);
  const max = Math.max(...e.cells.map((c) => c.v));
  assert.equal(e.cells.find((c) => c.picked).v, max);
  assert.equal(e.server, e.page);
  assert.ok(Math.abs(max - e.server) < 1e-6);
  await page.selectOption('#pool-form select[name=function]', 'average');
  assert.equal(await run(page, 'pool'), 'fresh');
  await clickCell(page, page.locator('#pool-out figure canvas.map').last(), 3, 3, 4, 4);
  e = await explanation(page, 'pool');
  const avg = e.cells.reduce((a, c) => a + c.v, 0) / 4;
  assert.ok(Math.abs(avg - e.server) < 1e-6, `${avg} vs ${e.server}`);
  assert.match(e.steps[0], /\/ 4 = /);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('MLP: one output unit, its inputs times its weights plus the bias, is the server\'s logit', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'mlp'), 'fresh');
  const bars = page.locator('#mlp-out canvas.bars').nth(1);
  await bars.scrollIntoViewIfNeeded();
  const b = await bars.boundingBox();
  await page.mouse.click(b.x + 4 + ((7 + 0.5) / 10) * (b.width - 8), b.y + b.height / 2);
  const e = await page.evaluate(() => {
    const box = document.querySelector('#mlp .explain');
    return { where: box.querySelector('.where').textContent, rows: [...box.querySelectorAll('table.terms tbody tr')].map((r) => [...r.cells].map((c) => Number(c.textContent))),
      steps: [...box.querySelectorAll('.sum-steps li')].map((l) => l.textContent),
      page: Number(box.querySelector('.page-value').dataset.value), server: Number(box.querySelector('.server-value').dataset.value) };
  });
  assert.match(e.where, /^Output unit 7 of 10\. Its inputs are the last hidden layer \(16 values/);
  assert.equal(e.rows.length, 16);
  for (const [, h, w, p] of e.rows) assert.ok(Math.abs(h * w - p) <= 1e-3 * Math.max(1, Math.abs(p)) + 1e-4);
  assert.ok(Math.abs(e.page - e.server) < 1e-5, `${e.page} vs ${e.server}`);
  assert.match(e.steps[1], /plus the bias/);
  assert.match(e.steps[2], /^softmax: /);
  assert.deepEqual(page.errors, []);
  await page.close();
});
