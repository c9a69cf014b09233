// Issue 15's numbered items, one test each: phone photos, layer names, out-of-date results,
// messages on the right control, no silent defaults, the assignment's figures, the training chart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setup, run, errors, unexpected, canvasColours, parseShape, sectionShot, SCREENSHOTS } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

// The page's way of writing a byte count ("2.41 MB").
function bytesText(n) {
  const sig = (v) => Number(v.toPrecision(3)).toString();
  return n < 1024 ? `${n} bytes` : n < 1024 * 1024 ? `${sig(n / 1024)} kB` : `${sig(n / (1024 * 1024))} MB`;
}

// Width and height of a PNG from its base64 data URL (the IHDR chunk).
function pngSize(dataUrl) {
  const b = Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64');
  assert.equal(b.toString('latin1', 1, 4), 'PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

async function trainSmall(page, { models = ['rnn'], samples = 200, epochs = 3, lr = 0.01 } = {}) {
  for (const m of ['rnn', 'lstm', 'gru']) await page.setChecked(`#train-form input[name=m-${m}]`, models.includes(m));
  for (const [k, v] of [['samples', samples], ['test_samples', 40], ['epochs', epochs], ['report_every', 50], ['learning_rate', lr]]) {
    await page.fill(`#train-form input[name=${k}]`, String(v));
  }
  return run(page, 'train', { timeout: 60000 });
}

test('1. a 4032×3024 phone photo is scaled in the browser and sent small; its size is the file\'s bytes', async () => {
  const page = await env.newPage();
  // The photo is made in the page and handed to the file inputs as a File (as a picked file is),
  // so its megabytes do not travel to the test and back.
  const bytes = await page.evaluate(async () => {
    const c = new OffscreenCanvas(4032, 3024);
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 4032, 3024);
    grad.addColorStop(0, '#123'); grad.addColorStop(1, '#fc6');
    g.fillStyle = grad; g.fillRect(0, 0, 4032, 3024);
    g.fillStyle = '#c00'; g.fillRect(800, 600, 1200, 900);
    // Grain, as a real photo has (it is what makes a phone JPEG megabytes): a noise tile as a pattern.
    const tile = new OffscreenCanvas(509, 509), t = tile.getContext('2d'), img = t.createImageData(509, 509);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i & 3) === 3 ? 255 : (Math.random() * 256) | 0;
    t.putImageData(img, 0, 0);
    g.globalAlpha = 0.25;
    g.fillStyle = g.createPattern(tile, 'repeat');
    g.fillRect(0, 0, 4032, 3024);
    const file = new File([await c.convertToBlob({ type: 'image/jpeg', quality: 0.85 })], 'phone.jpg', { type: 'image/jpeg' });
    for (const id of ['conv-image', 'cnn-image']) {
      const input = document.querySelector(`#${id} input[type=file]`);
      const dt = new DataTransfer();
      dt.items.add(file);
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
    return file.size;
  });
  assert.ok(bytes > 2e6, `a phone-sized JPEG (${bytes} bytes)`);
  const bodies = [];
  page.on('request', (r) => { if (/\/(conv|cnn)$/.test(r.url())) bodies.push(r.postData()); });
  const info = page.locator('#conv-image .file-info');
  assert.equal(Number(await info.getAttribute('data-bytes')), bytes);
  assert.ok((await info.textContent()).includes(bytesText(bytes)), `${await info.textContent()} states ${bytesText(bytes)}`);
  assert.equal(await run(page, 'conv'), 'fresh', (await errors(page, 'conv')).join());
  assert.deepEqual(parseShape(await page.textContent('#conv-input-shape')), [256, 192, 3]);
  const req = JSON.parse(bodies[0]);
  assert.deepEqual(pngSize(req.image), [256, 192], 'the 256-px PNG is sent, not the photo');
  assert.equal(req.resize, undefined);
  assert.ok(bodies[0].length < bytes / 4, `request ${bodies[0].length} bytes for a ${bytes}-byte photo`);
  assert.match(await info.textContent(), /phone\.jpg: .* 4032 × 3024 px; scaled to 256 × 192/);
  // The CNN section takes the same photo.
  assert.equal(await run(page, 'cnn', { timeout: 60000 }), 'fresh');
  assert.deepEqual(pngSize(JSON.parse(bodies[bodies.length - 1]).image), [128, 96]);
  // At its original size the photo is more than the server takes: said on "Longest side".
  await page.selectOption('#conv-image select[name=imgside]', '0');
  const n = bodies.length;
  assert.equal(await run(page, 'conv'), 'stale');
  const msg = await page.textContent('#conv-image > .err');
  assert.match(msg, /4032 × 3024 × 3 = 36\.6 million values; the server takes at most 16\.8 million\. Choose a smaller “Longest side”/);
  assert.equal(await page.getAttribute('#conv-image select[name=imgside]', 'aria-invalid'), 'true');
  assert.equal(bodies.length, n, 'nothing was sent');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('2. every layer name the server accepts works in the CNN view; the list comes from /healthz', async () => {
  const page = await env.newPage();
  const arch = [
    { type: 'Conv', filters: 4, size: 3, stride: 2 }, { type: 'pooling', size: 2 },
    { type: 'convolution', filters: 6, size: 3, padding: 1 }, { type: 'GLOBAL-POOL' },
    { type: 'fc', hidden_layers: 0, output_size: 10 }];
  await page.fill('#cnn-form textarea[name=arch]', JSON.stringify(arch));
  assert.equal(await run(page, 'cnn'), 'fresh', (await errors(page, 'cnn')).join());
  assert.deepEqual(await page.locator('#cnn-out .layer .shape').allTextContents(), ['63 × 63 × 4', '31 × 31 × 4', '31 × 31 × 6', '6', '10']);
  assert.equal(await page.locator('#cnn-out .layer[data-layer="0"] canvas.map').count(), 4);
  assert.equal(await page.locator('#cnn-out .layer[data-layer="2"] canvas.map').count(), 6);
  for (const t of ['dense', 'linear', 'MLP']) {
    await page.fill('#cnn-form textarea[name=arch]', JSON.stringify([{ type: 'conv', filters: 2 }, { type: 'global_pool' }, { type: t, output_size: 5 }]));
    assert.equal(await run(page, 'cnn'), 'fresh', `${t}: ${(await errors(page, 'cnn')).join()}`);
    assert.match(await page.textContent('#cnn-summary'), /output: 5 values/);
  }
  // An unknown name is refused on the architecture box, listing the server's own names.
  const types = Object.keys((await (await fetch(`${env.base}/healthz`)).json()).layer_types);
  assert.deepEqual(types, ['conv', 'pool', 'global_pool', 'mlp']);
  await page.fill('#cnn-form textarea[name=arch]', JSON.stringify([{ type: 'dropout' }]));
  assert.equal(await run(page, 'cnn'), 'stale');
  const msg = await page.textContent('#cnn [data-field="architecture"] > .err');
  assert.match(msg, /Layer 1: “dropout” is not a layer type/);
  for (const t of types) assert.ok(msg.includes(t), `${msg} names ${t}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('3. results are marked out of date after a change or a failed run, until the next run', async () => {
  const page = await env.newPage();
  assert.equal(await run(page, 'conv'), 'fresh');
  assert.equal(await page.isVisible('#conv-out .stale-note'), false);
  await page.fill('#conv-form input[name=padding]', '2');
  assert.equal(await page.getAttribute('#conv', 'data-state'), 'stale');
  assert.match(await page.textContent('#conv-out .stale-note'), /Out of date: the settings changed/);
  assert.equal(await run(page, 'conv'), 'fresh');
  assert.equal(await page.locator('#conv-out .stale-note').count(), 0);
  assert.equal(await page.textContent('#conv-output-shape'), '258 × 258 × 1');
  // A failed run keeps the old results, marked as such.
  await page.fill('#conv-form input[name=stride]', '0');
  assert.equal(await run(page, 'conv'), 'stale');
  assert.match(await page.textContent('#conv-out .stale-note'), /the last run failed, so these are the results of the run before/);
  assert.equal(await page.textContent('#conv-output-shape'), '258 × 258 × 1');
  // The same in the other sections.
  for (const [id, change] of [['pool', () => page.selectOption('#pool-form select[name=function]', 'average')],
    ['mlp', () => page.fill('#mlp-form input[name=outsize]', '4')], ['cnn', () => page.fill('#cnn-form input[name=seed]', '2')]]) {
    assert.equal(await run(page, id), 'fresh');
    await change();
    assert.equal(await page.getAttribute(`#${id}`, 'data-state'), 'stale', id);
    assert.ok(await page.isVisible(`#${id}-out .stale-note`), id);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('4. messages in a student\'s words, with the real limits, on the control at fault; the layout holds', async () => {
  const page = await env.newPage();
  const lim = (await (await fetch(`${env.base}/healthz`)).json()).limits;
  // stride 0: on Stride, no developer bound.
  await page.fill('#conv-form input[name=stride]', '0');
  await run(page, 'conv');
  const stride = await page.textContent('#conv [data-field="stride"] > .err');
  assert.equal(stride, 'Stride must be a whole number of at least 1 (you typed 0).');
  const input = page.locator('#conv-form input[name=stride]');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  const described = await input.getAttribute('aria-describedby');
  assert.equal(await page.locator(`#${described}`).textContent(), stride, 'the message describes the control');
  assert.equal(await page.isVisible('#conv .err.general'), false, 'not in the general box');
  // The row keeps its shape: the three inputs stay level and nothing overflows the form.
  const tops = await Promise.all(['stride', 'padding', 'bias'].map(async (n) => (await page.locator(`#conv-form input[name=${n}]`).boundingBox()).y));
  assert.ok(Math.max(...tops) - Math.min(...tops) < 1, `inputs level: ${tops}`);
  assert.ok(await page.evaluate(() => { const f = document.getElementById('conv-form'); return f.scrollWidth <= f.clientWidth; }));
  await page.fill('#conv-form input[name=stride]', '1');

  // Filter size 300 on a 256-px image: marked on "Kernel" (the Size box), with the real sizes.
  await page.selectOption('#conv-ksrc', 'filters');
  await page.fill('#conv-form input[name=fsize]', '300');
  await run(page, 'conv');
  assert.match(await page.textContent('#conv [data-field="filters.size"] > .err'), /The kernel \(300 × 300\) is bigger than the image with its padding \(256 × 256 plus 0 on each side\)/);
  assert.ok(await page.locator('#conv fieldset:has(legend:text("Kernel")) [aria-invalid=true]').count() === 1, 'inside the Kernel group');
  await page.fill('#conv-form input[name=fsize]', '3');

  // Epochs: the server's limit (1000 from /healthz), not 2^53.
  await page.fill('#train-form input[name=epochs]', '0');
  await run(page, 'train');
  assert.equal(await page.textContent('#train [data-field="epochs"] > .err'), `Epochs must be a whole number from 1 to ${lim.max_epochs} (you typed 0).`);

  // A server error reworded: a pooling window larger than its map, on the architecture.
  await page.fill('#cnn-form textarea[name=arch]', JSON.stringify([{ type: 'conv', filters: 2, stride: 2 }, { type: 'pool', size: 100 }]));
  await run(page, 'cnn');
  assert.equal(await page.textContent('#cnn [data-field="architecture"] > .err'),
    'Layer 2 (pool): The pooling window (100 × 100) is bigger than the map it pools (63 × 63). Use a smaller size.');

  // An image the browser cannot read: on the image controls.
  await page.setInputFiles('#conv-image input[type=file]', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
  await run(page, 'conv');
  assert.match(await page.textContent('#conv-image > .err'), /cannot read this file as an image/);
  assert.equal(await page.getAttribute('#conv-image input[type=file]', 'aria-invalid'), 'true');
  // A long message wraps inside the form at phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no horizontal overflow with messages shown');
  assert.deepEqual(unexpected(page.errors), []);
  await page.close();
});

test('5. bad input never silently becomes a default: each is an error on its field, nothing is sent', async () => {
  const page = await env.newPage();
  const sent = [];
  page.on('request', (r) => { if (r.method() === 'POST') sent.push(r.url()); });
  // Type into a number box as a student would (the browser keeps "1e" as unreadable input).
  const typeInto = async (sel, text) => { await page.fill(sel, ''); await page.focus(sel); await page.keyboard.type(text); };
  const cases = [
    ['conv', 'input[name=stride]', '', 'stride', /Stride is empty/],
    ['conv', 'input[name=padding]', '', 'padding', /Padding is empty/],
    ['conv', 'input[name=bias]', '1e', 'bias', /Bias: this is not a number/],
    ['conv', 'input[name=slope]', '', 'negative_slope', /Leaky slope is empty/, () => page.selectOption('#conv-form select[name=activation]', 'leaky_relu')],
    ['mlp', 'input[name=hsize]', 'abc', 'hidden_size', /Hidden size\(s\): “abc” is not a whole number/],
    ['pool', 'input[name=h]', '', 'input.shape', /Height is empty/],
    ['train', 'input[name=learning_rate]', '', 'learning_rate', /Learning rate is empty/],
  ];
  // A fresh page each time (a reload would bring the last case's values back).
  const fresh = async () => { await page.goto(`${env.base}/`); await page.waitForSelector('body[data-ready=true]'); };
  for (const [id, sel, text, field, want, prepare] of cases) {
    await fresh();
    if (prepare) await prepare();
    await typeInto(`#${id}-form ${sel}`, text);
    const before = sent.length;
    await run(page, id);
    assert.equal(sent.length, before, `${id} ${sel}: nothing sent`);
    assert.match(await page.textContent(`#${id} [data-field~="${field}"] > .err`), want);
    assert.equal(await page.getAttribute(`#${id}-form ${sel}`, 'aria-invalid'), 'true');
  }
  // "a photo of yours" with no file chosen.
  await fresh();
  await page.check('#conv-image input[value=file]');
  await run(page, 'conv');
  assert.match(await page.textContent('#conv-image > .err'), /Choose a photo first/);
  assert.equal(await page.getAttribute('#conv-image input[type=file]', 'aria-invalid'), 'true');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('6. the assignment\'s figures: four activations on one scale, kernels beside maps, CNN kernels, the adding problem', async () => {
  const page = await env.newPage();
  // The four activations side by side on ONE colour scale, and the functions plotted.
  await page.selectOption('#conv-form select[name=activation]', 'compare');
  assert.equal(await run(page, 'conv'), 'fresh');
  const figs = page.locator('#conv-compare figure');
  assert.deepEqual(await figs.evaluateAll((f) => f.map((x) => x.dataset.activation)), ['relu', 'sigmoid', 'tanh', 'leaky_relu']);
  const ends = await figs.evaluateAll((f) => f.map((x) => x.querySelector('.cbar-labels').textContent));
  assert.equal(new Set(ends).size, 1, `one scale: ${ends}`);
  const rows = await figs.evaluateAll((f) => f.map((x) => Math.round(x.getBoundingClientRect().top)));
  assert.equal(new Set(rows).size, 1, 'side by side at 1280 px');
  assert.ok(await canvasColours(page.locator('#conv canvas.actplot')) > 5, 'the functions are plotted');
  assert.deepEqual(await page.locator('#conv .actfig .legend li').allTextContents(),
    [' ReLU (solid)', ' sigmoid (dashed)', ' tanh (dotted)', ' leaky ReLU (dash-dot)']);
  await sectionShot(page, 'conv', 'conv-compare-1280');

  // Six filters: each kernel is beside its own map, not in a block above the maps.
  await page.selectOption('#conv-form select[name=activation]', 'relu');
  await page.selectOption('#conv-ksrc', 'filters');
  await page.fill('#conv-form input[name=count]', '6');
  assert.equal(await run(page, 'conv'), 'fresh');
  const cards = await page.locator('#conv-maps .kcard').evaluateAll((cs) => cs.map((c) => {
    const k = c.querySelector('.kcol').getBoundingClientRect(), m = c.querySelector('figure canvas').getBoundingClientRect();
    return { n: c.dataset.map, beside: k.right <= m.left && k.top < m.bottom && k.bottom > m.top, kernels: c.querySelectorAll('.kcol canvas').length };
  }));
  assert.equal(cards.length, 6);
  for (const c of cards) assert.ok(c.beside && c.kernels === 3, `kernel ${c.n} beside its map with its 3 channels`);

  // The CNN: each conv layer's kernels, and the plain note that the weights are random.
  assert.equal(await run(page, 'cnn'), 'fresh');
  assert.match(await page.textContent('#cnn-out .weights-note'), /random.*not trained/);
  const boxes = page.locator('#cnn-out .kernels-box');
  assert.equal(await boxes.count(), 2, 'one per conv layer');
  await boxes.nth(1).locator('summary').click();
  await boxes.nth(1).locator('canvas').first().waitFor();   // drawn on the "toggle" event, a task later
  assert.match(await boxes.nth(1).locator('summary').textContent(), /32 × \(3 × 3 × 16\)/);
  assert.equal(await boxes.nth(1).locator('canvas').count(), 32 * 4, '32 kernels, first 4 of 16 channels');

  // The adding problem: an example sequence before training; predictions against targets after.
  const marked = await page.locator('#train-example tr:nth-child(2) td.marked').allTextContents();
  assert.equal(marked.length, 2);
  const target = Number(await page.textContent('#train-example .target strong'));
  assert.ok(Math.abs(target - (Number(marked[0]) + Number(marked[1]))) < 2e-3, 'target = the two marked values');
  assert.equal(await trainSmall(page, { models: ['rnn', 'gru'] }), 'fresh');
  assert.ok(await canvasColours(page.locator('#train-predictions canvas.scatter')) > 3);
  assert.match(await page.getAttribute('#train-predictions canvas.scatter', 'aria-label'), /Predictions against targets for 40 test sequences/);
  const ex = page.locator('#train-predictions .examples .seq');
  assert.equal(await ex.count(), 3);
  for (let k = 0; k < 3; k++) {
    const vals = (await ex.nth(k).locator('tr:nth-child(2) td.marked').allTextContents()).map(Number);
    const y = Number(await ex.nth(k).locator('.target > strong').textContent());
    assert.ok(Math.abs(vals[0] + vals[1] - y) < 2e-3, `example ${k}: ${vals} sum to ${y}`);
    assert.equal(await ex.nth(k).locator('.pred').count(), 2, 'a prediction per model');
  }
  await page.locator('#train-predictions').screenshot({ path: join(SCREENSHOTS, 'train-predictions.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('7. the training chart: labelled baseline, line styles, one number format, overlays, PNG and CSV, worse than baseline', async () => {
  const page = await env.newPage();
  // One format per axis.
  const fmt = await page.evaluate(async () => {
    const { axisLabels } = await import('./js/losschart.js');
    return [axisLabels([0.0001, 0.001, 0.01, 0.1, 1]), axisLabels([0.1, 0.2, 0.5, 1, 2]), axisLabels([0, 1, 2, 3])];
  });
  assert.deepEqual(fmt, [['1e-4', '1e-3', '1e-2', '1e-1', '1e0'], ['0.1', '0.2', '0.5', '1.0', '2.0'], ['0', '1', '2', '3']]);

  assert.equal(await trainSmall(page, { models: ['rnn', 'lstm'] }), 'fresh');
  const chart = page.locator('#train .chart');
  assert.match(await chart.getAttribute('data-baseline-label'), /^baseline: always predict 1: 0\.\d+$/, 'the baseline is labelled on the plot');
  const legend = await page.locator('#train .losschart .legend li').evaluateAll((li) => li.map((x) => ({
    text: x.textContent.trim(), dash: x.querySelector('line')?.getAttribute('stroke-dasharray') ?? null })));
  const item = (t) => legend.find((l) => l.text.startsWith(t));
  assert.equal(item('RNN train').dash, null);
  assert.match(item('RNN test').text, /\(dashed\)/);
  assert.equal(item('RNN test').dash, '8 4');
  assert.match(item('baseline').text, /dotted, dark/);
  assert.match(await page.textContent('#train .chart-summary'), /RNN test .* → .* at epoch 3/);
  const first = Number(await chart.getAttribute('data-points'));

  // A second run overlays the first; the first can be hidden, or cleared.
  await page.fill('#train-form input[name=learning_rate]', '0.003');
  assert.equal(await trainSmall(page, { models: ['rnn', 'lstm'], lr: 0.003 }), 'fresh');
  assert.equal(Number(await chart.getAttribute('data-points')), 2 * first);
  assert.match(await page.textContent('#train .legend li.earlier'), /run 1 \(faded\): .*lr 0\.01/);
  await page.locator('#train .losschart').screenshot({ path: join(SCREENSHOTS, 'train-overlay.png') });
  await page.uncheck('#train .legend li.earlier input');
  await page.waitForFunction((n) => Number(document.querySelector('#train .chart').dataset.points) === n, first);

  // Export.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#train .chart-tools button:text("Download CSV")')]);
  assert.equal(csv.suggestedFilename(), 'nnlab-training.csv');
  const lines = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'run,settings,series,epoch,MSE');
  assert.equal(lines.length, 1 + 2 * first + 1, 'every point of both runs and the baseline');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#train .chart-tools button:text("Download PNG")')]);
  assert.equal(png.suggestedFilename(), 'nnlab-training.png');
  assert.equal(readFileSync(await png.path()).toString('latin1', 1, 4), 'PNG');
  await page.click('#train .chart-tools button:text("Clear earlier runs")');
  await page.waitForFunction(() => !document.querySelector('#train .legend li.earlier'));
  assert.equal(Number(await chart.getAttribute('data-points')), first);

  // A run that ends worse than the baseline says so; it is not a green "done".
  assert.equal(await trainSmall(page, { models: ['rnn'], epochs: 1, lr: 1e-7 }), 'fresh');
  const status = page.locator('#train-status .run-status[data-model=rnn]');
  assert.equal(await status.getAttribute('class'), 'run-status worse');
  assert.match(await status.textContent(), /is not below the baseline .* it has learned nothing useful/);
  assert.equal(await page.textContent('#train-results tr[data-model=rnn] .vs'), 'not better');
  assert.deepEqual(page.errors, []);
  await page.close();
});
