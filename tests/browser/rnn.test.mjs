// The recurrent nets from inside, on the page: the one-click presets (the long-sequence lesson),
// the gradient-by-step chart fed by the epoch events, the PyTorch script offered for download,
// the inside of a trained net on a test sequence and on the student's own (each net's
// prediction there is the training's own), the sweep over sequence lengths, and the page's
// accessibility with all of it on screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setup, run, errors, unexpected, canvasColours, axeViolations, sectionShot } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

// The server frees a stopped run's slot when it notices the closed stream (within ~0.2 s): wait
// for that before starting more runs, which would otherwise be refused 503 while the slots are
// taken.
async function trainingsOver() {
  for (const t0 = Date.now(); ;) {
    const h = await (await fetch(`${env.base}/healthz`)).json();
    if (h.active_trainings === 0) return;
    assert.ok(Date.now() - t0 < 10000, `${h.active_trainings} trainings still running 10 s after the stop`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A small training of the given models at one sequence length.
async function trainSmall(page, { models, length = 20, samples = 200, epochs = 2, exportScript = false }) {
  for (const m of ['rnn', 'lstm', 'gru']) await page.setChecked(`#train-form input[name=m-${m}]`, models.includes(m));
  for (const [k, v] of [['samples', samples], ['test_samples', 40], ['epochs', epochs], ['min_length', length], ['max_length', length],
    ['learning_rate', 0.01], ['report_every', 100]]) {
    await page.fill(`#train-form input[name=${k}]`, String(v));
  }
  await page.setChecked('#train-form input[name=export]', exportScript);
  return run(page, 'train', { timeout: 120000 });
}

test('the long-sequence preset fills the assignment\'s settings with T = 100 and starts all three models', async () => {
  const page = await env.newPage();
  const bodies = [];
  page.on('request', (r) => { if (/\/train\/(rnn|lstm|gru)$/.test(r.url())) bodies.push(JSON.parse(r.postData())); });
  await page.click('#train-form button[data-preset=long]');
  await page.waitForFunction(() => document.getElementById('train').dataset.state === 'running');
  await page.waitForFunction(() => document.querySelectorAll('#train-status .run-status').length === 3);
  await page.click('#train-stop'); // the lesson takes ~5 s of computing: the request is what is checked here
  await page.waitForFunction(() => document.getElementById('train').dataset.state !== 'running');
  await trainingsOver();
  assert.equal(bodies.length, 3);
  for (const b of bodies) {
    assert.equal(b.min_length, 100);
    assert.equal(b.max_length, 100);
    assert.equal(b.samples, 5000);
    assert.equal(b.epochs, 20);
    assert.equal(b.hidden_size, 6);
    assert.equal(b.learning_rate, 0.001);
    assert.equal(b.batch_size, 1);
  }
  assert.equal(await page.inputValue('#train-form input[name=max_length]'), '100');
  assert.match(page.url(), /train\.max_length=100/, 'the preset is in the link');
  await page.click('#train-form button[data-preset=assignment]');
  // the assignment's runs take well under a second on an idle machine, so their "running" state
  // can be over before a check sees it: wait for their three requests instead, then stop them
  // only if they are still running, checked and clicked in one step in the page (a click that
  // waits would wait for a button that the end of the runs has disabled)
  for (const t0 = Date.now(); bodies.length < 6;) {
    assert.ok(Date.now() - t0 < 30000, `the assignment preset sent ${bodies.length - 3} of its 3 requests`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await page.evaluate(() => { const b = document.getElementById('train-stop'); if (!b.disabled) b.click(); });
  await page.waitForFunction(() => document.getElementById('train').dataset.state !== 'running');
  await trainingsOver();
  assert.equal(bodies.length, 6);
  for (const b of bodies.slice(3)) assert.deepEqual([b.min_length, b.max_length, b.samples, b.epochs], [3, 9, 5000, 20]);
  assert.equal(await page.inputValue('#train-form input[name=min_length]'), '3');
  assert.equal(await page.inputValue('#train-form input[name=max_length]'), '9');
  assert.deepEqual(unexpected(page.errors), []);
  await page.close();
});

test('gradients through time: a log-scale curve per model and epoch, told as first/last ratios', async () => {
  const page = await env.newPage();
  assert.equal(await trainSmall(page, { models: ['rnn', 'lstm'], length: 30, epochs: 3 }), 'fresh', (await errors(page, 'train')).join());
  await page.waitForSelector('#train-gradients figure:not([hidden])');
  assert.equal(await page.getAttribute('#grad-plot', 'data-steps'), '30');
  // the latest epoch per model, solid, and epoch 1 faded behind: 4 curves
  assert.equal(await page.getAttribute('#grad-plot', 'data-series'), '4');
  assert.ok(await canvasColours(page.locator('#grad-plot canvas').first()) > 3, 'curves drawn');
  const ratios = JSON.parse(await page.getAttribute('#grad-summary', 'data-ratios'));
  assert.ok(ratios.rnn > 0 && ratios.rnn < 1, `Elman: the first step gets less than the last (${ratios.rnn})`);
  assert.ok(ratios.lstm > 0);
  const words = await page.textContent('#grad-summary');
  assert.match(words, /after epoch 3, the gradient that reaches the first of 30 steps/);
  assert.match(words, /RNN [\d.e-]+, LSTM [\d.e-]+/);
  assert.equal(await page.getAttribute('#grad-epoch', 'max'), '3');
  await page.fill('#grad-epoch', '1');
  await page.waitForFunction(() => /Epoch shown: 1 of 3/.test(document.querySelector('#train-gradients label').textContent));
  assert.equal(await page.getAttribute('#grad-plot', 'data-series'), '2', 'epoch 1 alone');
  assert.deepEqual(unexpected(page.errors), []);
  await page.close();
});

test('the PyTorch script of a run is offered as a download and holds the run', async () => {
  const page = await env.newPage();
  assert.equal(await trainSmall(page, { models: ['gru'], length: 6, samples: 50, epochs: 1, exportScript: true }), 'fresh');
  const link = page.locator('#train-scripts a[data-model=gru]');
  assert.equal(await link.getAttribute('download'), 'nnlab_gru_run.py');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const text = readFileSync(await download.path(), 'utf8');
  assert.match(text, /^#!\/usr\/bin\/env python3\n/);
  assert.match(text, /\nRUN = \{"model": "gru", "hidden_size": 6, "epochs": 1, "batch_size": 1, /);
  assert.match(text, /"train_x": \{"shape":\[300,2\],"dtype":"float64","npy":"k05VTVBZ/);
  assert.ok(text.includes('torch.nn.utils.clip_grad_norm_'));
  // Without the box ticked, no script travels.
  assert.equal(await trainSmall(page, { models: ['gru'], length: 6, samples: 50, epochs: 1 }), 'fresh');
  assert.equal(await page.locator('#train-scripts a').count(), 0);
  await page.close();
});

test('inside a trained net: strip, heat map, gates; each net\'s prediction is the training\'s own', async () => {
  const page = await env.newPage();
  assert.equal(await trainSmall(page, { models: ['rnn', 'lstm', 'gru'], length: 12, epochs: 2 }), 'fresh');
  // The training's predictions for its first test sequence, as the training view shows them.
  const trainPreds = await page.$$eval('#train-predictions .seq:first-child .pred', (ps) => Object.fromEntries(ps.map((p) => [p.dataset.model, p.querySelector('strong').textContent])));
  assert.deepEqual(Object.keys(trainPreds).sort(), ['gru', 'lstm', 'rnn']);
  assert.match(await page.textContent('#inside-trained'), /RNN \(Elman\), LSTM, GRU/);
  await page.check('#inside-form input[name=net][value=lstm]');
  await page.check('#inside-form input[name=seq][value="1"]');
  assert.equal(await run(page, 'inside'), 'fresh', (await errors(page, 'inside')).join());
  assert.match(await page.textContent('#inside-out h3'), /LSTM on test sequence 1 \(12 steps\)/);
  for (const c of await page.locator('#inside-out canvas.seqplot').all()) assert.ok(await canvasColours(c) > 3, 'every picture is drawn');
  assert.deepEqual(await page.$$eval('#inside-out .gatefig', (fs) => fs.map((x) => x.dataset.gate)), ['i', 'f', 'g', 'o', 'cell']);
  const insidePreds = await page.$$eval('#inside-preds li', (ls) => Object.fromEntries(ls.map((l) => [l.dataset.model, l.querySelector('strong').textContent])));
  assert.deepEqual(insidePreds, trainPreds, 'POST /run gives the prediction training made for the same sequence');
  assert.match(await page.textContent('#inside-heat-summary'), /at the marked steps the hidden state moves by [\d.e-]+ on average/);
  for (const t of await page.locator('#inside-out .gatefig .chart-summary').allTextContents()) assert.match(t, /mean [\d.e-]+ at the marked steps, [\d.e-]+ elsewhere/);
  await sectionShot(page, 'inside');

  // The student's own sequence: 0.5 + 0.25 marked at steps 1 and 3.
  await page.check('#inside-form input[name=net][value=gru]');
  await page.check('#inside-form input[name=seq][value=own]');
  await page.fill('#inside-values', '0.5, 0.9, 0.25, 0.1');
  await page.fill('#inside-marked', '1, 3');
  assert.equal(await run(page, 'inside'), 'fresh');
  assert.match(await page.textContent('#inside-target'), /0\.75/);
  assert.deepEqual(await page.$$eval('#inside-out .gatefig', (fs) => fs.map((x) => x.dataset.gate)), ['r', 'z', 'n']);
  // A marked step past the end is the student's mistake, on that field.
  await page.fill('#inside-marked', '1, 5');
  assert.notEqual(await run(page, 'inside'), 'fresh');
  assert.match((await errors(page, 'inside')).join(), /Marked steps: 5 is outside 1–4/);
  // The Elman net has no gates, and says so.
  await page.fill('#inside-marked', '2, 4');
  await page.check('#inside-form input[name=net][value=rnn]');
  assert.equal(await run(page, 'inside'), 'fresh');
  assert.match(await page.textContent('#inside-out'), /An Elman net has no gates/);
  assert.deepEqual(unexpected(page.errors), []);
  await page.close();
});

test('the sweep streams a point per model and length into the chart and the table', async () => {
  const page = await env.newPage();
  await page.setChecked('#sweep-form input[name=m-lstm]', false);
  await page.fill('#sweep-lengths', '8, 4');
  await page.fill('#sweep-samples', '100');
  await page.fill('#sweep-epochs', '2');
  const bodies = [];
  page.on('request', (r) => { if (/\/train\/sweep$/.test(r.url())) bodies.push(JSON.parse(r.postData())); });
  assert.equal(await run(page, 'sweep', { timeout: 120000 }), 'fresh', (await errors(page, 'sweep')).join());
  assert.deepEqual(bodies[0].models, ['rnn', 'gru']);
  assert.deepEqual(bodies[0].lengths, [4, 8]);
  assert.equal(await page.getAttribute('#sweep', 'data-points'), '4');
  assert.equal(await page.locator('#sweep-results tbody tr').count(), 2);
  assert.equal(await page.locator('#sweep-results td[data-model]').count(), 4);
  assert.match(await page.textContent('#sweep-status'), /^done in [\d.]+ s\. In words: /);
  assert.equal(await page.getAttribute('#sweep-chart-host .chart', 'data-points'), '6', '4 points and the baseline at 2 lengths');
  // A bad length is refused on its field, before anything is sent.
  await page.fill('#sweep-lengths', '1, 10');
  assert.notEqual(await run(page, 'sweep'), 'fresh');
  assert.match((await errors(page, 'sweep')).join(), /Lengths: “1” must be a whole number from 2/);
  assert.equal(bodies.length, 1);
  assert.deepEqual(unexpected(page.errors), []);
  await sectionShot(page, 'sweep');
  await page.close();
});

test('with the new views on screen the page has no serious accessibility violations', async () => {
  const page = await env.newPage();
  assert.equal(await trainSmall(page, { models: ['lstm'], length: 8, samples: 60, epochs: 2 }), 'fresh');
  assert.equal(await run(page, 'inside'), 'fresh');
  assert.deepEqual(await axeViolations(page), []);
  await page.close();
});
