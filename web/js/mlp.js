// MLP section: a seeded random input vector -> POST /mlp -> the output with and without softmax
// as bar charts, and how one output unit's number is made.
import { post } from './api.js';
import { rememberRequest } from './check.js';
import { bindSection } from './section.js';
import { readInt, readIntList } from './fields.js';
import { barChart } from './bars.js';
import { explainMlp } from './explain_mlp.js';
import { $, el, rng } from './util.js';

const MAX_HIDDEN_LAYERS = 32;   // the server's NN_MLP_MAX_HIDDEN
const WEIGHTS_MAX = 200000;     // ask for the weights (for the explanation) up to this many

export function initMlp() {
  const f = $('#mlp-form').elements;
  return bindSection({
    id: 'mlp',
    async run({ signal, out }) {
      const n = readInt(f.insize, { min: 1, max: 1 << 20 });
      const r = rng(readInt(f.inseed, { min: 0 }));
      const layers = readInt(f.layers, { min: 0, max: MAX_HIDDEN_LAYERS });
      const sizes = layers ? readIntList(f.hsize, { min: 1, max: 1 << 20, count: layers }) : [];
      const outSize = readInt(f.outsize, { min: 1, max: 1 << 20 });
      const widths = [n, ...(sizes.length === 1 ? Array(layers).fill(sizes[0]) : sizes), outSize];
      let params = 0;
      for (let l = 0; l + 1 < widths.length; l++) params += widths[l] * widths[l + 1] + widths[l + 1];
      const input = Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 1000) / 1000);
      const req = { input, hidden_layers: layers, activation: f.activation.value, output_size: outSize,
        seed: readInt(f.seed, { min: 0 }), return_weights: params <= WEIGHTS_MAX };
      if (layers) req.hidden_size = sizes.length === 1 ? sizes[0] : sizes;
      const res = await post('mlp', req, { signal });
      rememberRequest('mlp', req);
      let ex = null;
      const onPick = req.return_weights ? (j) => ex.show(j) : undefined;
      out.replaceChildren(
        el('div', { class: 'shapes' }, 'Layers: ',
          el('strong', { id: 'mlp-shapes', text: (res.layers || []).map((s) => s.join('×')).join('  ·  ') })),
        barChart(input, { caption: `input x (${n} values)`, top: 0 }),
        barChart(res.logits, { caption: `output without softmax (logits, ${res.logits.length})`, onPick }),
        barChart(res.softmax, { caption: 'output with softmax (probabilities, sum 1)', onPick }));
      if (res.weights) {
        ex = explainMlp(out, { x: input, weights: res.weights, act: f.activation.value, slope: 0.01, logits: res.logits, softmax: res.softmax });
        let best = 0;
        res.logits.forEach((v, i) => { if (v > res.logits[best]) best = i; });
        ex.show(best);
      } else {
        out.append(el('p', { class: 'note', text: `This MLP has ${params} weights: too many to fetch for “how is this number made?” (at most ${WEIGHTS_MAX}).` }));
      }
    },
  });
}
