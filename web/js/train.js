// Training section (recurrent nets on the adding problem): POST /train/{rnn,lstm,gru} with
// "stream": true, one run per chosen model at once; curves grow live in a shared loss chart
// (earlier runs stay, faded, to compare); a final table; predictions against targets.
// The streaming (stream.js) and the chart (losschart.js) are shared helpers, so another
// training view (another model, another data set) is a sibling of this one. Every line that
// arrives is also dispatched on the section ("nnlab:train-start" with the models and settings,
// then "nnlab:train-line" with {model, line}) for the views that show more of the same runs
// (train_extras.js, gradchart.js, rnn_inside.js).
import { bindSection } from './section.js';
import { showError } from './errors.js';
import { FieldError, readInt, readNumber } from './fields.js';
import { limits } from './server.js';
import { lineError, streamNdjson } from './stream.js';
import { createLossChart } from './losschart.js';
import { predictionPlot } from './scatter.js';
import { exampleSequence, sequenceTable } from './adding.js';
import { $, el, fmt } from './util.js';

const MODELS = ['rnn', 'lstm', 'gru'];
const COLORS = { rnn: '#1f5fa8', lstm: '#c0392b', gru: '#1e7b34' };
const NAMES = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

async function readParams(f) {
  const lim = await limits();
  const p = { stream: true };
  p.samples = readInt(f.samples, { min: 1, max: lim.max_samples });
  p.test_samples = readInt(f.test_samples, { min: 1, max: lim.max_samples });
  p.epochs = readInt(f.epochs, { min: 1, max: lim.max_epochs });
  p.min_length = readInt(f.min_length, { min: 2, max: lim.max_length });
  p.max_length = readInt(f.max_length, { min: p.min_length, max: lim.max_length });
  p.hidden_size = readInt(f.hidden_size, { min: 1, max: lim.max_hidden });
  p.learning_rate = readNumber(f.learning_rate, { above: 0 });
  p.clip = readNumber(f.clip, { above: 0 });
  p.batch_size = readInt(f.batch_size, { min: 1, max: p.samples });
  p.seed = readInt(f.seed, { min: 0 });
  p.report_every = readInt(f.report_every, { min: 1 });
  if (f.export && f.export.checked) p.export = 'pytorch';
  return p;
}

const settings = (p) => `${p.samples} samples, lengths ${p.min_length}–${p.max_length}, hidden ${p.hidden_size}, lr ${p.learning_rate}, batch ${p.batch_size}, ${p.epochs} epochs, seed ${p.seed}`;

export function initTrain() {
  const section = $('#train');
  const form = $('#train-form');
  const f = form.elements;
  const statusBox = $('#train-status');
  const tableBox = $('#train-table');
  const predBox = $('#train-predictions');
  const exampleBox = $('#train-example');
  const chart = createLossChart($('#train-chart-host'), { title: 'Training and test loss (MSE) by epoch', xLabel: 'epoch', yLabel: 'MSE', log: f.log.checked, file: 'nnlab-training' });
  f.log.closest('label').dataset.nostale = '';
  f.log.addEventListener('change', () => chart.setLog(f.log.checked));

  const showExample = () => {
    const hi = Number(f.max_length.value);
    const T = Number.isInteger(hi) && hi >= 2 ? Math.min(hi, 12) : 9;
    const seq = exampleSequence(7, T);
    exampleBox.replaceChildren(sequenceTable(seq, { caption: `An example sequence of ${T} steps, drawn by the page the way the server draws them${hi > 12 ? ` (the server's are up to ${hi} steps long)` : ''}:` }));
  };
  f.max_length.addEventListener('change', showExample);
  showExample();

  let runs = [];

  function renderStatus() {
    statusBox.replaceChildren(...runs.map((r) => el('div', { class: `run-status ${r.state}`, 'data-model': r.model },
      el('span', { class: 'swatch', style: `background:${COLORS[r.model]}` }), ` ${NAMES[r.model]}: ${r.status}`)));
  }

  function renderTable() {
    const done = runs.filter((r) => r.done);
    if (!done.length) { tableBox.replaceChildren(); return; }
    const last = (a) => (Array.isArray(a) && a.length ? a[a.length - 1] : undefined);
    const cells = (r) => {
      const test = last(r.done.test_loss), base = r.done.baseline_loss;
      return [['model', NAMES[r.model]], ['train MSE', fmt(last(r.done.train_loss))], ['test MSE', fmt(test), 'test-mse'],
        ['baseline MSE', fmt(base)], ['test accuracy', `${(r.done.test_accuracy * 100).toFixed(1)} %`, 'acc'],
        ['against the baseline', test < base ? `${fmt(base / test, 3)}× lower` : 'not better', 'vs'], ['time', `${fmt((r.t1 - r.t0) / 1000, 3)} s`]];
    };
    const head = cells(done[0]).map(([h]) => el('th', { scope: 'col', text: h }));
    tableBox.replaceChildren(el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'final results' }, el('table', { id: 'train-results', class: 'cards' },
      el('caption', { text: 'Final results (after the last epoch)' }),
      el('thead', {}, el('tr', {}, ...head)),
      el('tbody', {}, ...done.map((r) => el('tr', { 'data-model': r.model, class: r.state },
        ...cells(r).map(([h, v, cls]) => el('td', { 'data-label': h, class: cls, text: v }))))))),
    el('p', { class: 'note', text: 'Test accuracy: the share of test sequences whose prediction is within 0.04 of the true sum.' }));
  }

  function renderPredictions() {
    const done = runs.filter((r) => r.done && r.done.test_predictions);
    if (!done.length) { predBox.replaceChildren(); return; }
    const groups = done.map((r) => ({ name: NAMES[r.model], model: r.model, color: COLORS[r.model], points: r.done.test_predictions }));
    const examples = (done[0].done.examples || []).map((ex, k) => sequenceTable(ex, {
      caption: `Test sequence ${k + 1}`,
      preds: done.map((r) => ({ name: NAMES[r.model], model: r.model, pred: r.done.examples[k].pred })) }));
    predBox.replaceChildren(el('h3', { text: 'Predictions against targets' }),
      el('div', { class: 'pair' }, predictionPlot(groups, { baseline: 1 }), el('div', { class: 'examples' }, ...examples)));
  }

  function finish(r, m) {
    r.done = m;
    r.t1 = performance.now();
    const test = m.test_loss[m.test_loss.length - 1], base = m.baseline_loss;
    if (test < base) {
      r.state = 'finished';
      r.status = `done: test MSE ${fmt(test)}, ${fmt(base / test, 3)}× lower than the baseline ${fmt(base)}`;
    } else {
      r.state = 'worse';
      r.status = `finished, but its test MSE ${fmt(test)} is not below the baseline ${fmt(base)} (always predicting 1): it has learned nothing useful. Try more epochs or another learning rate.`;
    }
    renderTable();
    renderPredictions();
  }

  async function runOne(r, p, signal) {
    let spe = Math.max(1, Math.ceil(p.samples / p.batch_size));
    const handle = (m) => {
      section.dispatchEvent(new CustomEvent('nnlab:train-line', { detail: { model: r.model, line: m } }));
      if (m.type === 'start') {
        if (m.steps_per_epoch > 0) spe = m.steps_per_epoch;
        r.status = 'started';
      } else if (m.type === 'progress') {
        r.train.push(m.step / spe, m.loss);
        r.status = `epoch ${m.epoch}/${p.epochs}, step ${m.step}, loss ${fmt(m.loss)}`;
      } else if (m.type === 'epoch') {
        r.train.push(m.epoch, m.train_loss);
        r.test.push(m.epoch, m.test_loss);
        chart.setBaseline(m.baseline_loss, 'baseline: always predict 1');
        r.status = `epoch ${m.epoch}/${p.epochs}: train ${fmt(m.train_loss)}, test ${fmt(m.test_loss)}`;
      } else if (m.type === 'done') {
        chart.setBaseline(m.baseline_loss, 'baseline: always predict 1');
        finish(r, m);
      } else if (m.type === 'error') {
        r.state = 'failed';
        r.status = `stopped by an error: ${m.message}`;
        r.error = lineError(m);
      }
      renderStatus();
    };
    await streamNdjson(`train/${r.model}`, p, {
      signal, onLine: handle,
      onWait: (s) => { r.status = `the server is busy; trying again in ${s} s`; renderStatus(); },
    });
    if (!r.done && r.state !== 'failed') throw new Error('the connection ended before the run finished');
    if (r.error) throw r.error;
  }

  return bindSection({
    id: 'train', stale: false, stop: $('#train-stop'),
    async run({ signal }) {
      const models = MODELS.filter((m) => f[`m-${m}`].checked);
      if (!models.length) throw new FieldError(f['m-rnn'], 'Pick at least one model to train.');
      const p = await readParams(f);
      const run = chart.newRun(settings(p));
      runs = models.map((model) => ({ model, state: 'running', status: 'connecting…', done: null, t0: performance.now(),
        train: chart.addSeries(run, { name: `${NAMES[model]} train`, color: COLORS[model], dash: [], width: 2, summary: false }),
        test: chart.addSeries(run, { name: `${NAMES[model]} test`, color: COLORS[model], dash: [8, 4], width: 2.5 }) }));
      tableBox.replaceChildren();
      predBox.replaceChildren();
      renderStatus();
      section.dispatchEvent(new CustomEvent('nnlab:train-start', { detail: { models, params: p } }));
      const lim = await limits();
      await Promise.all(runs.map(async (r) => {
        try { await runOne(r, p, signal); } catch (e) {
          if (e.name === 'AbortError') { r.state = 'stopped'; r.status = 'stopped'; } else {
            r.state = 'failed';
            r.status = `failed: ${e.message}`;
            showError(section, e, lim);
          }
        }
        renderStatus();
      }));
    },
  });
}
