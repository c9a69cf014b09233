// The CNN training view (Fashion-MNIST) and "try it": a small run draws live curves, the
// confusion matrix, the first layer's filters and test images with the net's answers; Stop frees
// the server's training slot; a drawing and a test image are classified by the trained net;
// errors land on their control; a 390-px phone works with a finger. Kept short: a run of 2 000
// training and 500 test images for one epoch takes a second or two.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setup, run, axeViolations, canvasColours, sectionShot, errors, unexpected, SCREENSHOTS } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };

async function healthz() {
  return (await fetch(`${env.base}/healthz`)).json();
}

async function quickRun(page) {
  await page.click('#cnntrain-form button[data-preset=quick]');
  assert.equal(await run(page, 'cnntrain', { timeout: 60000 }), 'fresh');
}

// A T-shirt-like filled shape, stroke by stroke, with the mouse or with a finger (real touch
// events through the DevTools protocol: the browser turns them into touch pointer events).
const STROKES = [[[0.2, 0.25], [0.8, 0.25]], [[0.15, 0.32], [0.85, 0.32]], [[0.35, 0.3], [0.35, 0.85]], [[0.5, 0.3], [0.5, 0.85]], [[0.65, 0.3], [0.65, 0.85]]];
async function draw(page, { touch = false } = {}) {
  const pad = page.locator('#cnntry canvas.pad');
  await pad.scrollIntoViewIfNeeded();
  const b = await pad.boundingBox();
  const at = ([x, y]) => ({ x: b.x + x * b.width, y: b.y + y * b.height });
  const cdp = touch ? await page.context().newCDPSession(page) : null;
  for (const [from, to] of STROKES) {
    const path = [0, 1, 2, 3, 4, 5, 6].map((k) => at([from[0] + ((to[0] - from[0]) * k) / 6, from[1] + ((to[1] - from[1]) * k) / 6]));
    if (touch) {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [path[0]] });
      for (const p of path.slice(1)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [p] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    } else {
      await page.mouse.move(path[0].x, path[0].y);
      await page.mouse.down();
      for (const p of path.slice(1)) await page.mouse.move(p.x, p.y);
      await page.mouse.up();
    }
  }
  if (cdp) await cdp.detach();
}

// The three classes of the answer: [{name, p}], checked to be three, in order, summing to <= 1.
async function topThree(page) {
  const top = await page.locator('#cnntry-top li').evaluateAll((lis) => lis.map((li) => ({ name: li.querySelector('.name').textContent, p: Number(li.dataset.p) })));
  assert.equal(top.length, 3, 'three classes');
  for (const t of top) assert.ok(t.p > 0 && t.p <= 1, `${t.name}: p = ${t.p}`);
  assert.ok(top[0].p >= top[1].p && top[1].p >= top[2].p, 'most likely first');
  assert.ok(top.reduce((a, t) => a + t.p, 0) <= 1 + 1e-6, 'the three probabilities sum to at most 1');
  return top;
}

// A dark shoe-like blob on white paper, as a PNG made by the browser: a photo the page must invert.
async function darkOnLightPng(page) {
  const url = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 120; c.height = 90;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#f4f4f0'; ctx.fillRect(0, 0, 120, 90);
    ctx.fillStyle = '#202020'; ctx.fillRect(20, 50, 85, 22); ctx.fillRect(20, 20, 30, 40);
    return c.toDataURL('image/png');
  });
  return Buffer.from(url.split(',')[1], 'base64');
}

test('a small run: live curves, confusion matrix, filters each epoch, test images; then try it', async () => {
  const page = await env.newPage();
  await page.click('#cnntrain-form button[data-preset=quick]');
  await page.fill('#cnntrain-epochs', '2');
  await page.waitForFunction(() => /cnntrain\.epochs=2/.test(location.search) && /cnntrain\.train_samples=2000/.test(location.search));
  // Record each epoch's redraw as it happens, and whether the run was still going then.
  await page.evaluate(() => {
    window.epochViews = [];
    new MutationObserver(() => {
      const f = document.getElementById('cnntrain-filters');
      if (f) window.epochViews.push([Number(f.dataset.epoch), document.getElementById('cnntrain').dataset.state]);
    }).observe(document.getElementById('cnntrain-epoch'), { childList: true });
  });
  assert.equal(await run(page, 'cnntrain', { timeout: 60000 }), 'fresh');
  assert.deepEqual(await page.evaluate(() => window.epochViews), [[1, 'running'], [2, 'running']], 'the matrix and the filters are redrawn live after each epoch');
  assert.match(await page.textContent('#cnntrain-status'), /^Done in [\d.]+ s: test accuracy [\d.]+ % on 500 test images after 2 epochs/);
  // Empty boxes now say what the server used.
  assert.match(await page.getAttribute('#cnntrain-batch_size', 'placeholder'), /^default \d+$/);

  // Curves: the training points arrived as the run went (several per epoch), the test point per epoch.
  const points = await page.locator('#cnntrain-charts .chart').evaluateAll((cs) => cs.map((c) => Number(c.dataset.points)));
  assert.equal(points.length, 2, 'a loss chart and an accuracy chart');
  for (const n of points) assert.ok(n >= 5, `${n} points on a chart`);
  for (const c of await page.locator('#cnntrain-charts .chart canvas').all()) assert.ok(await canvasColours(c) > 3, 'chart drawn');
  const words = await page.locator('#cnntrain-charts .chart-summary').allTextContents();
  assert.match(words[0], /^In words: train \(recent batches\) [\d.]+ at epoch [\d.]+ → [\d.]+ at epoch 2 \((not )?below the baseline\); test [\d.]+ at epoch 1 → [\d.]+ at epoch 2 \(below the baseline\)\. The chance: a uniform guess is 2\.303\.$/);
  assert.match(words[1], /^In words: train \(recent batches\) [\d.]+ at epoch [\d.]+ → [\d.]+ at epoch 2 \((not )?above the baseline\); test [\d.]+ at epoch 1 → [\d.]+ at epoch 2 \(above the baseline\)\. The chance: 1 in 10 is 10\.$/);

  // The confusion matrix: 10 x 10, each row's cells sum to its total, the totals to the test count.
  const m = await page.locator('#cnntrain-confusion tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    total: Number(tr.dataset.total), cells: [...tr.querySelectorAll('td:not(.recall)')].map((td) => Number(td.textContent)),
    name: tr.querySelector('th').textContent })));
  assert.equal(m.length, 10);
  for (const r of m) {
    assert.equal(r.cells.length, 10, `row ${r.name}`);
    assert.equal(r.cells.reduce((a, b) => a + b, 0), r.total, `row ${r.name} sums to its total`);
  }
  assert.equal(m.reduce((a, r) => a + r.total, 0), 500, 'the rows hold the 500 test images');
  assert.deepEqual(m.map((r) => r.name.replace(/^\d+ /, '')), ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  assert.equal(await page.locator('#cnntrain-confusion td.diag').count(), 10);
  assert.match(await page.textContent('#cnntrain-confusion .confusion-summary'), /^In words: \d+ of 500 test images right \([\d.]+ %\)\. Best recognised: .+; hardest: .+\. Commonest mistakes: /);

  // The first layer's filters, one colour scale stated.
  const filters = page.locator('#cnntrain-filters .filter canvas');
  assert.ok(await filters.count() >= 4, 'filters drawn');
  assert.ok(await canvasColours(filters.first()) > 1);
  assert.match(await page.textContent('#cnntrain-filters .filter-scale'), /^One colour scale for all \d+ filters of this layer: blue negative, white 0, red positive, from -[\d.]+ to [\d.]+/);
  assert.match(await page.textContent('#cnntrain-filters .filter-change'), /^The largest change of a weight since the previous epoch: [\d.e-]+\.$/);

  // Test images with true and predicted labels; mistakes marked in words, not by colour alone.
  const ex = await page.locator('#cnntrain-examples li').evaluateAll((lis) => lis.map((li) => ({
    right: li.dataset.right === 'true', same: li.dataset.label === li.dataset.predicted,
    verdict: li.querySelector('.verdict').textContent, truth: li.querySelector('.truth').textContent, said: li.querySelector('.said').textContent,
    alt: li.querySelector('canvas').getAttribute('aria-label') })));
  assert.ok(ex.length >= 8, `${ex.length} test images`);
  for (const x of ex) {
    assert.equal(x.right, x.same);
    assert.equal(x.verdict, x.right ? '✓ right' : '✗ wrong');
    assert.match(x.truth, /^true: .+/);
    assert.match(x.said, /^net: .+ \([\d.]+ %\)$/);
    assert.match(x.alt, x.right ? /: right\.$/ : /: wrong\.$/);
  }
  assert.equal(await page.locator('#cnntrain-results tbody tr').count(), 2, 'one row per epoch');
  await sectionShot(page, 'cnntrain', 'cnn-training-1280');

  // Try it: a drawing, then a test image (the trained net's answer is the one the run gave).
  assert.match(await page.textContent('#cnntry-net'), /^Using the net just trained/);
  await draw(page);
  assert.equal(await run(page, 'cnntry'), 'fresh');
  await topThree(page);
  assert.ok(await canvasColours(page.locator('#cnntry-out canvas')) > 2, 'the 28 × 28 picture sent is shown');
  assert.match(await page.textContent('#cnntry-out .how'), /^Not inverted: its border was already dark .* scaled so its longer side is 28 px/);
  await sectionShot(page, 'cnntry', 'cnn-try-1280');
  // A photo of a dark object on white paper is inverted, trimmed and scaled, and says so.
  await page.setInputFiles('#cnntry-file', { name: 'shoe.png', mimeType: 'image/png', buffer: await darkOnLightPng(page) });
  assert.equal(await page.isChecked('#cnntry-form input[name=src][value=file]'), true);
  assert.equal(await run(page, 'cnntry'), 'fresh');
  await topThree(page);
  assert.match(await page.textContent('#cnntry-out .how'), /^Inverted, because its border was light \(0\.9\d on a 0–1 scale\): dark on light became light on black; cropped to the object \(\d+ × \d+ px/);
  const sent = await page.locator('#cnntry-out canvas').evaluate((c) => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data; return [d[0], d[(19 * 28 + 14) * 4]]; });
  assert.deepEqual(sent, [0, 255 - 0x20], 'the corner is black background; the bar of the L (#202020) is inverted to 223');
  await page.check('#cnntry-form input[name=src][value=test]');
  await page.selectOption('#cnntry-test', '0');
  assert.equal(await run(page, 'cnntry'), 'fresh');
  const top = await topThree(page);
  const first = await page.locator('#cnntrain-examples li').first().evaluate((li) => li.querySelector('.said').textContent);
  assert.ok(first.startsWith(`net: ${top[0].name} (`), `/cnn with the trained weights agrees with the run: ${first} vs ${top[0].name}`);
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('Stop mid-run frees the server\'s training slot', async () => {
  const page = await env.newPage();
  await page.fill('#cnntrain-epochs', '5');   // all 60 000 images: long enough to stop in the middle
  await page.click('#cnntrain-start');
  await page.waitForFunction(() => document.querySelector('#cnntrain .progress-text')?.textContent, null, { timeout: 20000 });
  assert.equal((await healthz()).active_trainings, 1, 'the server is training');
  await page.click('#cnntrain-stop');
  await page.waitForFunction(() => document.getElementById('cnntrain').dataset.state !== 'running', null, { timeout: 10000 });
  assert.match(await page.textContent('#cnntrain-status'), /^Stopped: epoch 1 of 5 · step \d+/);
  assert.equal(await page.isEnabled('#cnntrain-start'), true);
  const until = Date.now() + 2000;
  while ((await healthz()).active_trainings > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await healthz()).active_trainings, 0, 'closing the stream cancelled the run');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a link keeps the settings; errors in a student\'s words on the control at fault', async () => {
  const page = await env.newPage({ path: '/?cnntrain.optimizer=sgd&cnntrain.epochs=4&cnntrain.momentum=0.5' });
  assert.equal(await page.inputValue('#cnntrain-optimizer'), 'sgd');
  assert.equal(await page.inputValue('#cnntrain-epochs'), '4');
  assert.equal(await page.inputValue('#cnntrain-momentum'), '0.5');
  assert.equal(await page.isVisible('#cnntrain-momentum'), true, 'SGD shows its momentum');
  assert.equal(await page.getAttribute('#cnntrain', 'data-state'), null, 'a link does not start a training');
  await page.selectOption('#cnntrain-optimizer', 'adam');
  assert.equal(await page.isVisible('#cnntrain-momentum'), false, 'Adam has no momentum');
  const h = await healthz();
  const bad = async (sel, value, re) => {
    await page.fill(sel, value);
    assert.notEqual(await run(page, 'cnntrain'), 'fresh');
    const box = page.locator(sel).locator('xpath=ancestor::div[contains(@class,"ctl")]').locator('.err');
    assert.match(await box.textContent(), re);
    assert.equal(await page.getAttribute(sel, 'aria-invalid'), 'true');
    assert.ok((await page.getAttribute(sel, 'aria-describedby')).includes(await box.getAttribute('id')), 'the message describes the control');
    await page.fill(sel, '');
  };
  await bad('#cnntrain-epochs', '0', new RegExp(`^Epochs must be a whole number from 1 to ${h.limits.max_epochs} \\(you typed 0\\)\\.$`));
  await bad('#cnntrain-train_samples', '70000', /^Training images must be a whole number from 1 to 60000 \(you typed 70000\)\.$/);
  await page.fill('#cnntrain-train_samples', '100');
  await bad('#cnntrain-batch_size', '200', /^The batch size \(200\) cannot be larger than the number of training images \(100\)\.$/);
  // Refused by the server, reworded and placed by the error's field.
  await bad('#cnntrain-learning_rate', '20', /^Learning rate must be greater than 0 and at most 10\.$/);
  await bad('#cnntrain-lr_decay', '2', /^The learning rate's factor after each epoch must be greater than 0 and at most 1 \(1 keeps it constant; you typed 2\)\.$/);
  await page.selectOption('#cnntrain-optimizer', 'sgd');
  await bad('#cnntrain-momentum', '1', /^Momentum must be at least 0 and below 1 \(you typed 1\)\.$/);
  // An error line in the middle of the stream: SGD at learning rate 10 diverges at step 5.
  for (const [k, v] of [['train_samples', 500], ['test_samples', 100], ['epochs', 1]]) await page.fill(`#cnntrain-${k}`, String(v));
  await bad('#cnntrain-learning_rate', '10', /^The training blew up at step 5: the loss became infinite or not a number\. Use a smaller learning rate\.$/);
  assert.match(await page.textContent('#cnntrain-status'), /^The run stopped with an error/);
  // "Try it" before any training.
  assert.notEqual(await run(page, 'cnntry'), 'fresh');
  assert.deepEqual(await errors(page, 'cnntry'), ['There is no trained net yet: train one in the section above first (the quick look takes a second or two).']);
  assert.deepEqual(unexpected(page.errors), []);
  await page.close();
});

test('phone (390 px, touch): no sideways scrolling, 24-px targets, a finger drawing is classified', async () => {
  const page = await env.newPage(PHONE);
  await quickRun(page);
  await page.check('#cnntry-form input[name=src][value=draw]');
  await draw(page, { touch: true });
  assert.equal(await run(page, 'cnntry'), 'fresh');
  await topThree(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
  const table = await page.locator('#cnntrain-confusion table').evaluate((t) => [t.getBoundingClientRect().width, t.parentElement.clientWidth]);
  assert.ok(table[0] <= table[1] + 1, `the confusion matrix (${table[0]} px) fits its ${table[1]} px`);
  const small = await page.evaluate(() => [...document.querySelectorAll('#cnntrain input, #cnntrain select, #cnntrain button, #cnntry input, #cnntry select, #cnntry button')]
    .filter((e) => e.offsetParent !== null).map((e) => [e, e.getBoundingClientRect()]).filter(([, r]) => r.width < 24 || r.height < 24)
    .map(([e, r]) => `${e.name || e.id || e.textContent} ${Math.round(r.width)}x${Math.round(r.height)}`));
  assert.deepEqual(small, []);
  assert.deepEqual(await axeViolations(page), []);
  await page.locator('#cnntrain').screenshot({ path: join(SCREENSHOTS, 'cnn-training-390.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});
