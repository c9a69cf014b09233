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

export function initTrainCnn() {
  const form = $('#cnntrain-form');
  const f = form.elements;
  const statusBox = $('#cnntrain-status');
  const epochBox = $('#cnntrain-epoch');
  const finalBox = $('#cnntrain-final');
  const progress = progressBar();
  statusBox.before(progress.box);
  const charts = makeCharts($('#cnntrain-charts'));

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

  const say = (text, cls = '') => statusBox.replaceChildren(el('p', { class: `run-status ${cls}`, text }));

  // One run: the stream's lines drawn as they come. Returns the done line.
  async function train(p, signal) {
    let spe = 1, settings = null, done = null, prevKernels = null;
    let lossRun, accRun, series;
    const handle = (m) => {
      if (m.type === 'start') {
        settings = m;
        spe = m.steps_per_epoch || 1;
        showDefaults(f, m);
        lossRun = charts.loss.newRun(settingsLabel(m));
        accRun = charts.acc.newRun(settingsLabel(m));
        series = {
          loss: charts.loss.addSeries(lossRun, { name: 'train (recent batches)', ...TRAIN }),
          lossTest: charts.loss.addSeries(lossRun, { name: 'test', ...TEST }),
          acc: charts.acc.addSeries(accRun, { name: 'train (recent batches)', ...TRAIN }),
          accTest: charts.acc.addSeries(accRun, { name: 'test', ...TEST }),
        };
        progress.box.hidden = false;
        say(`Training: ${settingsLabel(m)}. The net: ${netLabel(m.layers)}; ${m.parameters} parameters. About ${fmt(m.estimated_seconds, 2)} s of computing.`);
      } else if (m.type === 'progress') {
        series.loss.push(m.step / spe, m.loss);
        series.acc.push(m.step / spe, 100 * m.accuracy);
        progress.bar.value = m.steps ? m.step / m.steps : 0;
        progress.text.textContent = `epoch ${m.epoch} of ${settings.epochs} · step ${m.step} of ${m.steps} · ${m.images_per_s} images/s · recent loss ${fmt(m.loss)}, accuracy ${fmt(100 * m.accuracy, 3)} %`;
      } else if (m.type === 'epoch') {
        series.lossTest.push(m.epoch, m.test_loss);
        series.accTest.push(m.epoch, 100 * m.test_accuracy);
        showEpoch(m, settings, prevKernels);
        prevKernels = m.kernels || null;
        say(`Epoch ${m.epoch} of ${m.epochs}: test accuracy ${fmt(100 * m.test_accuracy, 3)} % (loss ${fmt(m.test_loss)}), train accuracy ${fmt(100 * m.train_accuracy, 3)} %.`);
      } else if (m.type === 'done') {
        done = m;
      } else if (m.type === 'error') {
        throw Object.assign(new ApiError(m.status, { error: m }), { step: m.step });
      }
    };
    await streamNdjson('train/cnn', p, { signal, onLine: handle,
      onWait: (s) => say(`The server is busy (all its training slots are taken); trying again in ${s} s.`) });
    if (!done) throw new Error('The connection ended before the run finished. Is nnlabd still running?');
    progress.bar.value = 1;
    return { done, settings };
  }

  function showEpoch(m, settings, prevKernels) {
    const classes = settings.classes;
    epochBox.replaceChildren(el('h3', { text: `After epoch ${m.epoch} of ${m.epochs}` }),
      el('div', { class: 'pair' },
        confusionView(m.confusion, classes, { id: 'cnntrain-confusion', caption: `Confusion matrix of the ${settings.test_samples} test images after epoch ${m.epoch}` }),
        m.kernels ? filtersView(m.kernels, { epoch: m.epoch, prev: prevKernels, id: 'cnntrain-filters' }) : null));
  }

  function showDone({ done, settings }) {
    const last = done.final;
    say(`Done in ${fmt(done.elapsed_ms / 1000, 3)} s: test accuracy ${fmt(100 * last.test_accuracy, 3)} % on ${settings.test_samples} test images after ${done.epochs} epoch${done.epochs === 1 ? '' : 's'}. Try the net below.`, 'finished');
    finalBox.replaceChildren(el('h3', { text: 'The trained net on test images' }),
      examplesGrid(done.examples, done.classes, { id: 'cnntrain-examples' }), epochTable(done));
    document.dispatchEvent(new CustomEvent('nnlab:cnn-trained', { detail: {
      weights: done.weights, classes: done.classes, examples: done.examples,
      label: `${settingsLabel(settings)}: test accuracy ${fmt(100 * last.test_accuracy, 3)} %`,
    } }));
  }

  return bindSection({
    id: 'cnntrain', stale: false, stop: $('#cnntrain-stop'),
    async run({ signal }) {
      const p = await readParams(f);
      epochBox.replaceChildren();
      finalBox.replaceChildren();
      progress.bar.value = 0;
      progress.text.textContent = '';
      say('Connecting…');
      try {
        showDone(await train(p, signal));
      } catch (e) {
        if (e.name !== 'AbortError') { say('The run stopped with an error: see the message in red by the setting at fault.', 'failed'); throw e; }
        say(`Stopped: ${progress.text.textContent || 'before the first step'}. The server cancelled the run when the page closed the connection.`);
      }
    },
  });
}
