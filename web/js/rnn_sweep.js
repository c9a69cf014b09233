// The long-sequence lesson in one run: POST /train/sweep trains every chosen model at every
// sequence length (the assignment's settings otherwise) and streams a point per (model, length);
// the final test loss is drawn against the length, one line per model, with the baseline (always
// predict 1) as a dotted line, and summed up in a table and in words. The sweep is one request
// on one of the server's training slots, so the Python client and the notebook get the same.
import { bindSection } from './section.js';
import { FieldError, readInt } from './fields.js';
import { limits } from './server.js';
import { lineError, streamNdjson } from './stream.js';
import { createLossChart } from './losschart.js';
import { $, el, fmt } from './util.js';

const MODELS = ['rnn', 'lstm', 'gru'];
const COLORS = { rnn: '#1f5fa8', lstm: '#c0392b', gru: '#1e7b34' };
const NAMES = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

// "10, 25 50" -> [10, 25, 50], each in [2, max], at most 16, no repeats.
function readLengths(input, max) {
  const parts = input.value.trim().split(/[\s,;]+/).filter((p) => p.length);
  if (!parts.length) throw new FieldError(input, 'Lengths is empty: type sequence lengths separated by commas, such as 10, 50, 100.');
  if (parts.length > 16) throw new FieldError(input, `Lengths: at most 16 lengths (you typed ${parts.length}).`);
  const out = parts.map((p) => {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 2 || v > max) throw new FieldError(input, `Lengths: “${p}” must be a whole number from 2 to ${max}.`);
    return v;
  });
  if (new Set(out).size !== out.length) throw new FieldError(input, 'Lengths: each length once.');
  return out.sort((a, b) => a - b);
}

export function initSweep() {
  const section = $('#sweep');
  const form = $('#sweep-form');
  const f = form.elements;
  const statusBox = $('#sweep-status');
  const tableBox = $('#sweep-table');
  const chart = createLossChart($('#sweep-chart-host'), { title: 'Final test loss (MSE) against sequence length', xLabel: 'sequence length T', yLabel: 'final test MSE', log: true, file: 'nnlab-sweep' });

  function renderTable(points, lengths, models) {
    const at = (m, T) => points.find((p) => p.model === m && p.length === T);
    tableBox.replaceChildren(el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'final test loss by model and length' },
      el('table', { id: 'sweep-results' },
        el('caption', { text: 'Final test MSE (and test accuracy) by sequence length; marked ≈ when within 10 % of the baseline' }),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'length T' }), ...models.map((m) => el('th', { scope: 'col', text: NAMES[m] })),
          el('th', { scope: 'col', text: 'baseline' }))),
        el('tbody', {}, ...lengths.map((T) => {
          const base = points.find((p) => p.length === T)?.baseline_loss;
          return el('tr', { 'data-length': String(T) }, el('th', { scope: 'row', text: String(T) }),
            ...models.map((m) => {
              const p = at(m, T);
              if (!p) return el('td', { text: '…' });
              const near = p.test_loss > 0.9 * p.baseline_loss;
              return el('td', { class: near ? 'at-baseline' : null, 'data-model': m, text: `${near ? '≈ ' : ''}${fmt(p.test_loss, 3)} (${(p.test_accuracy * 100).toFixed(0)} %)` });
            }),
            el('td', { text: base === undefined ? '…' : fmt(base, 3) }));
        })))));
  }

  function words(points, models) {
    return models.map((m) => {
      const mine = points.filter((p) => p.model === m);
      const stuck = mine.filter((p) => p.test_loss > 0.9 * p.baseline_loss).map((p) => p.length);
      if (!mine.length) return '';
      return stuck.length ? `${NAMES[m]} is at the baseline for T = ${stuck.join(', ')}` : `${NAMES[m]} learns at every length (worst ${fmt(Math.max(...mine.map((p) => p.test_loss)), 2)})`;
    }).filter(Boolean).join('; ');
  }

  return bindSection({
    id: 'sweep', stale: false, stop: $('#sweep-stop'),
    async run({ signal }) {
      const lim = await limits();
      const models = MODELS.filter((m) => f[`m-${m}`].checked);
      if (!models.length) throw new FieldError(f['m-rnn'], 'Pick at least one model.');
      const p = { stream: true, models, lengths: readLengths(f.lengths, lim.max_length) };
      p.samples = readInt(f.samples, { min: 1, max: lim.max_samples });
      p.epochs = readInt(f.epochs, { min: 1, max: lim.max_epochs });
      p.seed = readInt(f.seed, { min: 0 });
      const run = chart.newRun(`${p.samples} samples, ${p.epochs} epochs, seed ${p.seed}`);
      const series = Object.fromEntries(models.map((m) => [m, chart.addSeries(run, { name: NAMES[m], color: COLORS[m], width: 2.5 })]));
      const base = chart.addSeries(run, { name: 'baseline (always predict 1)', color: '#222', dash: [2, 4], width: 2, summary: false });
      const points = [];
      let status = 'connecting…', failure = null;
      const show = () => { statusBox.textContent = status; };
      renderTable(points, p.lengths, models);
      show();
      await streamNdjson('train/sweep', p, {
        signal,
        onWait: (s) => { status = `the server is busy; trying again in ${s} s`; show(); },
        onLine: (m) => {
          if (m.type === 'start') status = `started: ${m.points} trainings`;
          else if (m.type === 'progress') status = `training ${NAMES[m.model]} at T = ${m.length} (${m.point} of ${m.points}): epoch ${m.epoch}/${m.epochs}, test MSE ${fmt(m.test_loss)}`;
          else if (m.type === 'point') {
            points.push(m);
            series[m.model].push(m.length, m.test_loss);
            if (!points.some((q) => q !== m && q.length === m.length)) base.push(m.length, m.baseline_loss);
            renderTable(points, p.lengths, models);
            status = `${m.point} of ${m.points} trained (last: ${NAMES[m.model]} at T = ${m.length}, test MSE ${fmt(m.test_loss)})`;
          } else if (m.type === 'done') {
            status = `done in ${fmt(m.elapsed_ms / 1000, 3)} s. In words: ${words(points, models)}.`;
            section.dataset.points = String(m.points.length);
          } else if (m.type === 'error') failure = lineError(m);
          show();
        },
      });
      if (failure) throw failure;
      if (points.length < models.length * p.lengths.length) throw new Error('the connection ended before the sweep finished');
    },
  });
}
