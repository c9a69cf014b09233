// MLP section: a seeded random input vector -> POST /mlp -> logits and softmax as bar charts.
import { post, clearErrors, showError } from './api.js';
import { rememberRequest } from './check.js';
import { barChart } from './bars.js';
import { $, el, rng, intValue } from './util.js';

export function initMlp() {
  const section = $('#mlp');
  const form = $('#mlp-form');
  const out = $('#mlp-out');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(section);
    const f = form.elements;
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const n = intValue(f.insize);
      const r = rng(intValue(f.inseed) || 0);
      const input = Array.from({ length: n > 0 && n <= 1 << 20 ? n : 0 }, () => Math.round((r() * 2 - 1) * 1000) / 1000);
      const sizes = f.hsize.value.split(/[\s,]+/).filter((s) => s.length).map(Number);
      const req = {
        input, hidden_layers: intValue(f.layers),
        hidden_size: sizes.length === 1 ? sizes[0] : sizes,
        activation: f.activation.value, output_size: intValue(f.outsize), seed: intValue(f.seed),
      };
      const res = await post('mlp', req);
      rememberRequest('mlp', req);
      out.replaceChildren(
        el('div', { class: 'shapes' }, 'Layers: ',
          el('strong', { id: 'mlp-layers', text: [...(res.layers || []).map((s) => (Array.isArray(s) ? s.join('×') : JSON.stringify(s)))].join('  ·  ') })),
        barChart(input, { caption: `input x (${n} values)`, top: 0 }),
        barChart(res.logits, { caption: `output without softmax (logits, ${res.logits.length})` }),
        barChart(res.softmax, { caption: 'output with softmax (probabilities, sum 1)' }));
    } catch (e) {
      showError(section, e);
    } finally {
      btn.disabled = false;
    }
  });
}
