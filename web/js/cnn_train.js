// CNN training view (Fashion-MNIST): POST /train/cnn with "stream": true. The curves of loss and
// accuracy (train from the progress lines, test from each epoch) grow live in two shared loss
// charts; each epoch redraws the confusion matrix and the first layer's filters; the end shows
// test images with the net's answers, a table per epoch, and hands the trained weights to the
// "try it" section (cnn_try.js) with a "nnlab:cnn-trained" event. A sibling of train.js: the
// stream (stream.js), the charts (losschart.js) and the run cycle (section.js) are shared.
// Empty settings are left out of the request: the server's default run is the default here.
import { bindSection } from './section.js';
import { ApiError } from './api.js';
import { FieldError, readInt, readNumber } from './fields.js';
import { limits, loadServerInfo } from './server.js';
import { streamNdjson } from './stream.js';
import { createLossChart } from './losschart.js';
import { confusionView } from './cnn_confusion.js';
import { filtersView } from './cnn_filters.js';
import { examplesGrid } from './cnn_examples.js';
import { $, el, fmt } from './util.js';

const TRAIN = { color: '#1f5fa8', dash: [], width: 2 };
const TEST = { color: '#b34700', dash: [8, 4], width: 2.5 };
const PRESETS = {
  default: {},
  quick: { epochs: 1, train_samples: 2000, test_samples: 500 },
};
// About this many progress lines an epoch, so a short run still draws curves.
const LINES_PER_EPOCH = 25;
const FIELDS = ['epochs', 'batch_size', 'train_samples', 'test_samples', 'learning_rate', 'lr_decay', 'momentum', 'seed'];

async function fashionInfo() {
  try { return ((await loadServerInfo()).datasets || {})['fashion-mnist'] || {}; } catch { return {}; }
}

// The request: only what the student typed or chose away from the form's defaults.
async function readParams(f) {
  const lim = await limits();
  const fm = await fashionInfo();
  if (fm.available === false) {
    throw new Error(`Fashion-MNIST is not installed on the server (${fm.reason}). Install it with “${fm.install}”, or start nnlabd with --data-dir pointing at its files.`);
  }
  const p = { stream: true };
  const put = (k, v) => { if (v !== undefined) p[k] = v; };
  put('epochs', readInt(f.epochs, { min: 1, max: lim.max_epochs, optional: true }));
  put('train_samples', readInt(f.train_samples, { min: 1, max: fm.train, optional: true }));
  put('test_samples', readInt(f.test_samples, { min: 1, max: fm.test, optional: true }));
  put('batch_size', readInt(f.batch_size, { min: 1, optional: true }));
  const images = p.train_samples ?? fm.train;
  if (p.batch_size > images) {
    throw new FieldError(f.batch_size, `The batch size (${p.batch_size}) cannot be larger than the number of training images (${images}).`);
  }
  const optDefault = [...f.optimizer.options].find((o) => o.defaultSelected)?.value;
  if (f.optimizer.value !== optDefault) p.optimizer = f.optimizer.value;
  put('learning_rate', readNumber(f.learning_rate, { above: 0, optional: true }));
  put('lr_decay', readNumber(f.lr_decay, { above: 0, optional: true }));
  if (p.lr_decay > 1) throw new FieldError(f.lr_decay, `The learning rate's factor after each epoch must be greater than 0 and at most 1 (1 keeps it constant; you typed ${p.lr_decay}).`);
  if (f.optimizer.value === 'sgd') {
    put('momentum', readNumber(f.momentum, { min: 0, optional: true }));
    if (p.momentum >= 1) throw new FieldError(f.momentum, `Momentum must be at least 0 and below 1 (you typed ${p.momentum}).`);
  }
  put('seed', readInt(f.seed, { min: 0, optional: true }));
  const steps = Math.ceil((images || 60000) / (p.batch_size || 32));
  p.report_every = Math.max(1, Math.round(steps / LINES_PER_EPOCH));
  return p;
}

const decay = (s) => (s.lr_decay !== undefined && s.lr_decay !== 1 ? ` × ${s.lr_decay} after each epoch` : '');
const settingsLabel = (s) => `${s.train_samples} training images, ${s.test_samples} test, ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}, batch ${s.batch_size}, ${s.optimizer === 'sgd' ? `SGD (momentum ${s.momentum})` : 'Adam'}, learning rate ${s.learning_rate}${decay(s)}, seed ${s.seed}`;

const netLabel = (layers) => layers.map((L) => `${L.type} → ${L.output_shape.join(' × ')}`).join(', ');

// Every empty box shows the value the server used ("default 2").
function showDefaults(f, start) {
  for (const k of FIELDS) if (f[k] && f[k].value === '' && start[k] !== undefined) f[k].placeholder = `default ${start[k]}`;
}

function progressBar() {
  const bar = el('progress', { max: 1, value: 0, 'aria-label': 'training progress' });
  const text = el('span', { class: 'progress-text' });
  return { box: el('div', { class: 'cnn-progress', hidden: true }, bar, text), bar, text };
}

// The final figures per epoch as a table (also the curves' numbers in text).
function epochTable(done) {
  const row = (i) => el('tr', {}, el('td', { 'data-label': 'epoch', text: String(i + 1) }),
    el('td', { 'data-label': 'train loss', text: fmt(done.train_loss[i]) }),
    el('td', { 'data-label': 'train accuracy', text: `${fmt(100 * done.train_accuracy[i], 3)} %` }),
    el('td', { 'data-label': 'test loss', text: fmt(done.test_loss[i]) }),
    el('td', { 'data-label': 'test accuracy', class: 'acc', text: `${fmt(100 * done.test_accuracy[i], 3)} %` }));
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'results per epoch' },
    el('table', { id: 'cnntrain-results', class: 'cards' },
      el('caption', { text: 'Loss and accuracy after each epoch (train: the mean over the epoch)' }),
      el('thead', {}, el('tr', {}, ...['epoch', 'train loss', 'train accuracy', 'test loss', 'test accuracy'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...done.train_loss.map((_, i) => row(i)))));
}

function makeCharts(host) {
  const lossHost = el('div'), accHost = el('div');
  host.append(lossHost, accHost);
  const loss = createLossChart(lossHost, { title: 'Loss (cross-entropy) while training', xLabel: 'epoch', yLabel: 'cross-entropy', log: false, file: 'nnlab-cnn-loss' });
  const acc = createLossChart(accHost, { title: 'Accuracy while training', xLabel: 'epoch', yLabel: 'accuracy (%)', log: false, file: 'nnlab-cnn-accuracy', better: 'higher' });
  loss.setBaseline(Math.log(10), 'chance: a uniform guess');
  acc.setBaseline(10, 'chance: 1 in 10');
  return { loss, acc };
}

// The view's parts, made once: the status line, the progress bar, the two charts, the boxes
// for the epoch's and the final figures.
function createView(f) {
  const statusBox = $('#cnntrain-status');
  const progress = progressBar();
  statusBox.before(progress.box);
  return {
    f, progress, charts: makeCharts($('#cnntrain-charts')),
    epochBox: $('#cnntrain-epoch'), finalBox: $('#cnntrain-final'),
    say: (text, cls = '') => statusBox.replaceChildren(el('p', { class: `run-status ${cls}`, text })),
  };
}

// A run's state as its lines arrive: run.settings (the start line), run.series, run.done.
function onStart(v, run, m) {
  run.settings = m;
  run.spe = m.steps_per_epoch || 1;
  showDefaults(v.f, m);
  const lossRun = v.charts.loss.newRun(settingsLabel(m)), accRun = v.charts.acc.newRun(settingsLabel(m));
  run.series = {
    loss: v.charts.loss.addSeries(lossRun, { name: 'train (recent batches)', ...TRAIN }),
    lossTest: v.charts.loss.addSeries(lossRun, { name: 'test', ...TEST }),
    acc: v.charts.acc.addSeries(accRun, { name: 'train (recent batches)', ...TRAIN }),
    accTest: v.charts.acc.addSeries(accRun, { name: 'test', ...TEST }),
  };
  v.progress.box.hidden = false;
  v.say(`Training: ${settingsLabel(m)}. The net: ${netLabel(m.layers)}; ${m.parameters} parameters. About ${fmt(m.estimated_seconds, 2)} s of computing.`);
}

function onProgress(v, run, m) {
  run.series.loss.push(m.step / run.spe, m.loss);
  run.series.acc.push(m.step / run.spe, 100 * m.accuracy);
  v.progress.bar.value = m.steps ? m.step / m.steps : 0;
  v.progress.text.textContent = `epoch ${m.epoch} of ${run.settings.epochs} · step ${m.step} of ${m.steps} · ${m.images_per_s} images/s · recent loss ${fmt(m.loss)}, accuracy ${fmt(100 * m.accuracy, 3)} %`;
}

// After an epoch: the test points, the confusion matrix and the filters redrawn.
function onEpoch(v, run, m) {
  run.series.lossTest.push(m.epoch, m.test_loss);
  run.series.accTest.push(m.epoch, 100 * m.test_accuracy);
  const { classes, test_samples: n } = run.settings;
  v.epochBox.replaceChildren(el('h3', { text: `After epoch ${m.epoch} of ${m.epochs}` }),
    el('div', { class: 'pair' },
      confusionView(m.confusion, classes, { id: 'cnntrain-confusion', caption: `Confusion matrix of the ${n} test images after epoch ${m.epoch}` }),
      m.kernels ? filtersView(m.kernels, { epoch: m.epoch, prev: run.kernels, id: 'cnntrain-filters' }) : null));
  run.kernels = m.kernels || null;
  v.say(`Epoch ${m.epoch} of ${m.epochs}: test accuracy ${fmt(100 * m.test_accuracy, 3)} % (loss ${fmt(m.test_loss)}), train accuracy ${fmt(100 * m.train_accuracy, 3)} %.`);
}

// The end: the test images, the table, and the trained net handed to "try it".
function onDone(v, run, done) {
  const last = done.final, settings = run.settings;
  v.progress.bar.value = 1;
  v.say(`Done in ${fmt(done.elapsed_ms / 1000, 3)} s: test accuracy ${fmt(100 * last.test_accuracy, 3)} % on ${settings.test_samples} test images after ${done.epochs} epoch${done.epochs === 1 ? '' : 's'}. Try the net below.`, 'finished');
  v.finalBox.replaceChildren(el('h3', { text: 'The trained net on test images' }),
    examplesGrid(done.examples, done.classes, { id: 'cnntrain-examples' }), epochTable(done));
  document.dispatchEvent(new CustomEvent('nnlab:cnn-trained', { detail: {
    weights: done.weights, classes: done.classes, examples: done.examples,
    label: `${settingsLabel(settings)}: test accuracy ${fmt(100 * last.test_accuracy, 3)} %`,
  } }));
}

// One run: the stream's lines drawn as they come; an error line is thrown as the ApiError it is.
async function train(v, p, signal) {
  const run = { spe: 1, settings: null, series: null, kernels: null, done: null };
  const onLine = (m) => {
    if (m.type === 'start') onStart(v, run, m);
    else if (m.type === 'progress') onProgress(v, run, m);
    else if (m.type === 'epoch') onEpoch(v, run, m);
    else if (m.type === 'done') run.done = m;
    else if (m.type === 'error') throw Object.assign(new ApiError(m.status, { error: m }), { step: m.step });
  };
  await streamNdjson('train/cnn', p, { signal, onLine,
    onWait: (s) => v.say(`The server is busy (all its training slots are taken); trying again in ${s} s.`) });
  if (!run.done) throw new Error('The connection ended before the run finished. Is nnlabd still running?');
  onDone(v, run, run.done);
}

function bindControls(form, f) {
  const syncOptimizer = () => {
    $('#cnntrain-momentum-ctl').hidden = f.optimizer.value !== 'sgd';
    f.learning_rate.placeholder = f.momentum.placeholder = 'default';
  };
  f.optimizer.addEventListener('change', syncOptimizer);
  syncOptimizer();
  for (const b of form.querySelectorAll('[data-preset]')) {
    b.addEventListener('click', () => {
      const preset = PRESETS[b.dataset.preset];
      for (const k of FIELDS) { f[k].value = preset[k] ?? ''; f[k].placeholder = 'default'; }
      f.optimizer.value = 'adam';
      f.optimizer.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }
}

export function initTrainCnn() {
  const form = $('#cnntrain-form');
  const f = form.elements;
  bindControls(form, f);
  const v = createView(f);
  return bindSection({
    id: 'cnntrain', stale: false, stop: $('#cnntrain-stop'),
    async run({ signal }) {
      const p = await readParams(f);
      v.epochBox.replaceChildren();
      v.finalBox.replaceChildren();
      v.progress.bar.value = 0;
      v.progress.text.textContent = '';
      v.say('Connecting…');
      try {
        await train(v, p, signal);
      } catch (e) {
        if (e.name !== 'AbortError') { v.say('The run stopped with an error: see the message in red by the setting at fault.', 'failed'); throw e; }
        v.say(`Stopped: ${v.progress.text.textContent || 'before the first step'}. The server cancelled the run when the page closed the connection.`);
      }
    },
  });
}
