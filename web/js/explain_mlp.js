// "How is this number made?" for one output unit of the MLP: the last hidden layer's values
// (computed here from the weights the server returned, layer by layer), each times its weight
// into the unit, the sum, the bias -> the logit the server returned; then the softmax.
import { explainPanel, verdict, num, paren } from './explain.js';
import { activate } from './activation.js';
import { el, fmt } from './util.js';

const TERMS_MAX = 25;
const ROWS_MAX = 64;

// The input of the last linear layer: x through every hidden layer (y = act(x·W + b)).
export function lastHidden(x, weights, act, slope) {
  let a = x;
  for (let l = 0; l < weights.length - 1; l++) {
    const [nin, nout] = weights[l].weight.shape;
    const W = weights[l].weight.data, b = weights[l].bias;
    const next = new Array(nout);
    for (let j = 0; j < nout; j++) {
      let s = b[j];
      for (let i = 0; i < nin; i++) s += a[i] * W[i * nout + j];
      next[j] = activate(act, s, slope);
    }
    a = next;
  }
  return a;
}

function explainUnit(body, p, j) {
  const last = p.weights[p.weights.length - 1];
  const [nin, nout] = last.weight.shape;
  const terms = p.h.map((h, i) => ({ h, w: last.weight.data[i * nout + j] }));
  const s = terms.reduce((a, t) => a + t.h * t.w, 0);
  const z = s + last.bias[j];
  const mag = terms.reduce((a, t) => a + Math.abs(t.h * t.w), 0) + Math.abs(last.bias[j]);
  const written = terms.slice(0, TERMS_MAX).map((t) => `${num(t.h)} × ${paren(t.w)}`).join(' + ')
    + (nin > TERMS_MAX ? ` + … (${nin - TERMS_MAX} more products)` : '');
  const rows = terms.slice(0, ROWS_MAX).map((t, i) => el('tr', {}, el('td', { text: String(i) }), el('td', { text: num(t.h) }),
    el('td', { text: num(t.w) }), el('td', { text: num(t.h * t.w) })));
  const sm = p.softmax[j];
  const from = p.weights.length > 1 ? `the last hidden layer (${nin} values, each ${p.act} of its own sum — the same computation one layer down)` : `the input (${nin} values)`;
  body.replaceChildren(
    el('p', { class: 'where', text: `Output unit ${j} of ${nout}. Its inputs are ${from}; its weights are column ${j} of the last weight matrix [${nin}, ${nout}].` }),
    el('div', { class: 'table-wrap scroll', tabindex: '0', role: 'region', 'aria-label': `the products of unit ${j}` }, el('table', { class: 'terms' },
      el('caption', { text: `unit ${j}: value × weight${nin > ROWS_MAX ? ` (first ${ROWS_MAX} of ${nin})` : ''}` }),
      el('thead', {}, el('tr', {}, ...['i', 'value', 'weight', 'product'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...rows))),
    el('ol', { class: 'sum-steps' },
      el('li', { text: `sum of the products: ${written} = ${num(s)}` }),
      el('li', { text: `plus the bias: ${num(s)} + ${paren(last.bias[j])} = ${num(z)} (no activation on the output: this is the logit)` }),
      el('li', { text: `softmax: e^${num(z)} / (the sum of e^logit over all ${nout} outputs) = ${fmt(sm, 6)}` })),
    el('p', { class: 'page-value', 'data-value': String(z) }, `logit ${j}: ${fmt(z, 7)}`),
    verdict(z, p.logits[j], mag));
}

// p: {x, weights: [{weight: {shape, data}, bias}], act, slope, logits, softmax}.
export function explainMlp(host, p) {
  p.h = lastHidden(p.x, p.weights, p.act, p.slope);
  const panel = explainPanel(host, {
    what: 'MLP', hint: 'Click a bar of the output, or step through the units.',
    step: { W: p.logits.length, H: 1 },
    onChange: (c, j) => explainUnit(panel.body, p, j),
  });
  return { show: (j) => panel.set(0, j, 0) };
}
