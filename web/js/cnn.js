// CNN section. The conv and pooling layers run one by one through /conv and /pool so every
// feature map can be drawn from its float tensor; then /cnn runs the whole network with the
// same (explicit) kernels and gives the official layer shapes and the output vector.
import { post, clearErrors, showError } from './api.js';
import { createImagePicker } from './image.js';
import { imageFigure, renderChannels } from './maps.js';
import { barChart } from './bars.js';
import { $, el, fmt, shapeWHC } from './util.js';

export const DEFAULT_ARCH = [
  { type: 'conv', filters: 16, size: 3, stride: 2, padding: 0, activation: 'relu' },
  { type: 'pool', function: 'max', size: 2, stride: 2 },
  { type: 'conv', filters: 32, size: 3, stride: 1, padding: 1, activation: 'relu' },
  { type: 'pool', function: 'max', size: 2, stride: 2 },
  { type: 'global_pool', function: 'average' },
  { type: 'mlp', hidden_layers: 1, hidden_size: 20, activation: 'tanh', output_size: 1000 },
];

function archText(a) {
  return '[\n' + a.map((l) => '  ' + JSON.stringify(l)).join(',\n') + '\n]';
}

function describe(l) {
  switch (l.type) {
    case 'conv': return `conv ${l.filters ?? (l.kernels && l.kernels.shape ? l.kernels.shape[0] : '?')} × ${l.size ?? '?'}×${l.size ?? '?'}, stride ${l.stride ?? 1}, padding ${l.padding ?? 0}, ${l.activation ?? 'identity'}`;
    case 'pool': return `${l.function ?? 'max'} pool ${l.size}, stride ${l.stride ?? l.size}`;
    case 'global_pool': return `global ${l.function ?? 'average'} pool`;
    case 'mlp': return `MLP: ${l.hidden_layers} hidden × ${JSON.stringify(l.hidden_size)} ${l.activation ?? ''} → ${l.output_size}`;
    default: return l.type;
  }
}

// Tag an error from a per-layer call with the architecture entry it came from.
function layerError(e, i) {
  if (e && e.name !== 'AbortError') {
    if (e.field && !['image', 'input', 'resize', 'grayscale', 'seed'].includes(e.field)) {
      e.message = `layer ${i} (its /${e.endpoint} field "${e.field}"): ${e.message}`;
      e.field = 'architecture';
    } else e.message = `layer ${i}: ${e.message}`;
  }
  return e;
}

export function initCnn() {
  const section = $('#cnn');
  const form = $('#cnn-form');
  const out = $('#cnn-out');
  const picker = createImagePicker($('#cnn-image'), { name: 'cnn', side: 128 });
  const f = form.elements;
  f.arch.value = archText(DEFAULT_ARCH);
  $('#cnn-reset').addEventListener('click', () => { f.arch.value = archText(DEFAULT_ARCH); });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(section);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    out.classList.add('busy');
    try {
      let arch;
      try { arch = JSON.parse(f.arch.value); } catch (e) {
        throw Object.assign(new Error(`the architecture is not valid JSON: ${e.message}`), { field: 'architecture' });
      }
      if (!Array.isArray(arch)) throw Object.assign(new Error('the architecture must be a JSON list of layers'), { field: 'architecture' });
      const seed = Number(f.seed.value) || 0;
      const img = await picker.get();
      out.replaceChildren(el('h3', { text: 'Input' }), imageFigure(img.pixels, { caption: `input ${shapeWHC(img.pixels.shape)}`, side: 200 }));
      const cards = [];
      const official = arch.map((l) => ({ ...l }));
      let t = null;   // the running activation tensor; null = still the image
      for (let i = 0; i < arch.length; i++) {
        const l = arch[i];
        const card = el('div', { class: 'layer', 'data-layer': i },
          el('h4', {}, `${i + 1}. ${describe(l)} `, el('span', { class: 'shape' })));
        cards.push(card);
        out.append(card);
        if (l.type === 'mlp' || !['conv', 'pool', 'global_pool'].includes(l.type)) continue;
        try {
          const base = t ? { input: t } : { ...img.fields };
          let res;
          if (l.type === 'conv') {
            const req = { ...base, stride: l.stride ?? 1, padding: l.padding ?? 0, activation: l.activation ?? 'identity' };
            if (l.negative_slope !== undefined) req.negative_slope = l.negative_slope;
            if (l.bias !== undefined) req.bias = l.bias;
            if (l.kernels) req.kernels = l.kernels;
            else {
              req.filters = { count: l.filters, size: l.size, init: /relu/i.test(l.activation || '') ? 'he' : 'xavier', seed: seed + i };
            }
            res = await post('conv', req);
            official[i].kernels = res.kernels;
          } else {
            const req = { ...base, function: l.function ?? (l.type === 'pool' ? 'max' : 'average') };
            if (l.type === 'global_pool') req.size = 'global';
            else { req.size = l.size; if (l.stride !== undefined) req.stride = l.stride; }
            if (!t) throw Object.assign(new Error('a pooling layer needs a conv layer before it on this page'), { field: 'architecture' });
            res = await post('pool', req);
          }
          t = res.output;
        } catch (e) {
          if (e && typeof e === 'object') e.endpoint = l.type === 'conv' ? 'conv' : 'pool';
          throw layerError(e, i + 1);
        }
        card.querySelector('.shape').textContent = shapeWHC(t.shape);
        if (t.shape.length === 3) renderChannels(card, t, { prefix: 'map', limit: 64, side: 96 });
        else card.append(barChart(t.data, { caption: `${t.shape[0]} values, one per channel`, top: 0 }));
      }
      const req = { ...img.fields, architecture: official, seed, softmax: f.softmax.checked };
      const res = await post('cnn', req);
      // Official shapes from /cnn beside each layer (and a warning if the step-by-step run differs).
      (res.layers || []).forEach((L, i) => {
        const card = cards[i];
        if (!card || !L.output_shape) return;
        const s = card.querySelector('.shape');
        const official = shapeWHC(L.output_shape);
        if (s.textContent && s.textContent !== official) s.textContent += `  (≠ /cnn: ${official})`;
        else s.textContent = official;
      });
      const last = cards[cards.length - 1];
      const vec = res.output || [];
      const host = last && arch[arch.length - 1].type === 'mlp' ? last : out;
      host.append(barChart(vec, { caption: `the ${vec.length}-vector${f.softmax.checked ? ' (softmax)' : ''}` }));
      if (f.softmax.checked && res.logits) host.append(barChart(res.logits, { caption: 'logits (before softmax)' }));
      out.append(el('p', { class: 'note', id: 'cnn-summary', text: `output: ${vec.length} values; /cnn took ${fmt(res.elapsed_ms, 3)} ms on the server` }));
    } catch (e) {
      showError(section, e);
    } finally {
      btn.disabled = false;
      out.classList.remove('busy');
    }
  });
}
