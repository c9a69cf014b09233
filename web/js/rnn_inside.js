// Inside one sequence: a net trained in the training section (its done event's weights) runs on
// one sequence — a test sequence of that run, or one the student types — through POST
// /run/{model}, which returns the hidden state at every step and every gate. Shown: the sequence
// as a strip, the hidden state as a heat map, the gates (and the LSTM's cell) as traces, each
// trained net's prediction against the target, and every picture told in words too.
import { bindSection } from './section.js';
import { FieldError } from './fields.js';
import { post } from './api.js';
import { limits } from './server.js';
import { UNIT_COLORS, heatmap, sequenceStrip, traces } from './seqplots.js';
import { $, el, fill, fmt } from './util.js';

const NAMES = { rnn: 'RNN (Elman)', lstm: 'LSTM', gru: 'GRU' };
const GATES = {
  rnn: [],
  lstm: [['i', 'input gate i (how much of the new candidate enters the cell)', 0, 1], ['f', 'forget gate f (how much of the cell is kept)', 0, 1],
    ['g', 'candidate g', -1, 1], ['o', 'output gate o', 0, 1], ['cell', 'cell state c (the LSTM\'s memory: c = f·c + i·g)']],
  gru: [['r', 'reset gate r', 0, 1], ['z', 'update gate z (how much of the old state is kept: h = (1 − z)·n + z·h)', 0, 1], ['n', 'candidate n', -1, 1]],
};

// "0.3, 0.9 0.1" -> [0.3, 0.9, 0.1]
function numbers(input, { label, whole = false, min, max }) {
  const parts = input.value.trim().split(/[\s,;]+/).filter((p) => p.length);
  if (!parts.length) throw new FieldError(input, `${label} is empty: type ${whole ? 'step numbers' : 'numbers'} separated by commas.`);
  return parts.map((p) => {
    const v = Number(p);
    if (!Number.isFinite(v)) throw new FieldError(input, `${label}: “${p}” is not a number.`);
    if (whole && !Number.isInteger(v)) throw new FieldError(input, `${label}: “${p}” is not a whole number: give step numbers such as 2, 5.`);
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) throw new FieldError(input, `${label}: ${v} is outside ${min}–${max}.`);
    return v;
  });
}

// The student's sequence from the two fields: values, and the steps (1-based) that are marked.
export function ownSequence(f, maxLength) {
  const values = numbers(f.values, { label: 'Values' });
  if (values.length > maxLength) throw new FieldError(f.values, `Values: ${values.length} steps; the server runs at most ${maxLength}.`);
  const marks = numbers(f.marked, { label: 'Marked steps', whole: true, min: 1, max: values.length });
  if (new Set(marks).size !== marks.length) throw new FieldError(f.marked, 'Marked steps: each step once.');
  const x = values.map((v, t) => [v, marks.includes(t + 1) ? 1 : 0]);
  return { x, y: marks.reduce((a, t) => a + values[t - 1], 0) };
}

const mean = (a) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN);

// Mean over units of v [T][H], at the marked steps and elsewhere.
function markedVsRest(v, marked) {
  const m = [], r = [];
  v.forEach((row, t) => (marked[t] ? m : r).push(mean(row)));
  return [mean(m), mean(r)];
}

// How far the hidden state moves at each step, ||h_t - h_{t-1}||, at marked steps and elsewhere.
function jumps(h, marked) {
  const m = [], r = [];
  h.forEach((row, t) => {
    const prev = t ? h[t - 1] : row.map(() => 0);
    (marked[t] ? m : r).push(Math.hypot(...row.map((v, j) => v - prev[j])));
  });
  return [mean(m), mean(r)];
}

export function initInside() {
  const form = $('#inside-form');
  const f = form.elements;
  const out = $('#inside-out');
  let trained = {};   // model -> done event
  let examples = [];  // the run's test sequences [{x, y}]

  const seqChoice = () => form.querySelector('input[name=seq]:checked')?.value || '1';
  const syncFields = () => {
    const own = seqChoice() === 'own';
    $('#inside-own').hidden = !own;
  };
  for (const r of form.querySelectorAll('input[name=seq]')) r.addEventListener('change', syncFields);
  syncFields();

  function syncModels() {
    for (const m of ['rnn', 'lstm', 'gru']) {
      form.querySelector(`input[name=net][value=${m}]`).disabled = !trained[m];
    }
    const cur = form.querySelector('input[name=net]:checked');
    if (!cur || cur.disabled) {
      const first = form.querySelector('input[name=net]:not([disabled])');
      if (first) first.checked = true;
    }
    const have = ['rnn', 'lstm', 'gru'].filter((m) => trained[m]);
    $('#inside-trained').textContent = have.length
      ? `Trained in this page: ${have.map((m) => NAMES[m]).join(', ')}.`
      : 'No net trained yet: train one in the section above first.';
  }

  const train = $('#train');
  train.addEventListener('nnlab:train-start', () => { trained = {}; examples = []; syncModels(); });
  train.addEventListener('nnlab:train-line', (ev) => {
    const { model, line } = ev.detail;
    if (line.type !== 'done') return;
    trained[model] = line;
    if (Array.isArray(line.examples) && line.examples.length) examples = line.examples.map((e) => ({ x: e.x, y: e.y }));
    syncModels();
  });
  syncModels();

  async function chosenSequence() {
    const c = seqChoice();
    if (c === 'own') return { ...ownSequence(f, (await limits()).max_length), name: 'your sequence' };
    const e = examples[Number(c) - 1];
    if (!e) throw new FieldError(form.querySelector('input[name=seq]'), 'The training run above kept no test sequences: train first, or type your own sequence.');
    return { ...e, name: `test sequence ${c}` };
  }

  function gatesView(model, r, width, marked) {
    const list = GATES[model];
    if (!list.length) {
      return [el('p', { class: 'note', text: 'An Elman net has no gates: its state is rewritten at every step, h = tanh(W_ih·x + W_hh·h + b). What it must remember has to survive being multiplied by W_hh and squashed by tanh again and again.' })];
    }
    return list.map(([key, words, lo, hi]) => {
      const v = r.gates[key].data ? toRows(r.gates[key]) : r.gates[key];
      const [atMarks, elsewhere] = markedVsRest(v, marked);
      const text = `${words}: mean ${fmt(atMarks, 3)} at the marked steps, ${fmt(elsewhere, 3)} elsewhere.`;
      return el('figure', { class: 'gatefig', 'data-gate': key },
        el('figcaption', { text: words }),
        traces(v, { width, marked, lo, hi, label: `${words}, one line per hidden unit over the steps. ${text}` }),
        el('p', { class: 'chart-summary', text }));
    });
  }

  // A response tensor {shape: [T, H], data} as rows.
  function toRows(t) {
    const [T, H] = t.shape;
    return Array.from({ length: T }, (_, i) => t.data.slice(i * H, (i + 1) * H));
  }

  return bindSection({
    id: 'inside',
    async run({ signal }) {
      const model = form.querySelector('input[name=net]:checked')?.value;
      if (!model || !trained[model]) throw new FieldError(form.querySelector('input[name=net]'), 'Train a net in the section above first: there is nothing to look inside yet.');
      const seq = await chosenSequence();
      // Every trained net on the same sequence (their predictions), the chosen one drawn.
      const models = ['rnn', 'lstm', 'gru'].filter((m) => trained[m]);
      const answers = await Promise.all(models.map((m) => post(`run/${m}`, { weights: trained[m].weights, sequence: seq.x }, { signal })));
      const r = answers[models.indexOf(model)];
      const h = toRows(r.hidden), marked = seq.x.map((s) => s[1] !== 0);
      const width = Math.max(320, Math.min(900, out.clientWidth || 700));
      const [jm, jr] = jumps(h, marked);
      const preds = models.map((m, k) => el('li', { 'data-model': m },
        `${NAMES[m]} predicts `, el('strong', { text: fmt(answers[k].output, 4) }), ` (error ${fmt(answers[k].output - seq.y, 3)})`));
      fill(out,
        el('h3', { text: `${NAMES[model]} on ${seq.name} (${seq.x.length} steps)` }),
        el('figure', { class: 'seqfig' }, el('figcaption', { text: 'The sequence: each step\'s value; the marked steps in amber' }), sequenceStrip(seq.x, { width })),
        el('p', { class: 'target', id: 'inside-target' }, 'Target (the sum of the marked values): ', el('strong', { text: fmt(seq.y, 4) })),
        el('ul', { class: 'preds', id: 'inside-preds' }, ...preds),
        el('figure', { class: 'heatfig' }, el('figcaption', { text: `The hidden state hₜ of the ${NAMES[model]}: one row per unit, one column per step` }), heatmap(h, { width, marked }),
          el('p', { class: 'chart-summary', id: 'inside-heat-summary', text: `In words: at the marked steps the hidden state moves by ${fmt(jm, 3)} on average (the length of hₜ − hₜ₋₁), at the other steps by ${fmt(jr, 3)}. The prediction is read from the last column only.` })),
        el('h4', { text: model === 'rnn' ? 'Gates' : 'Gates: one line per hidden unit; the marked steps shaded' }),
        model === 'rnn' ? null : el('ul', { class: 'legend units' }, ...h[0].map((_, j) => el('li', {},
          el('span', { class: 'swatch', style: `background:${UNIT_COLORS[j % UNIT_COLORS.length]}` }), ` unit ${j + 1}`))),
        ...gatesView(model, r, width, marked));
    },
  });
}
