// CNN section. The conv and pooling layers run one by one through /conv and /pool so every
// feature map and kernel can be drawn from its float tensor; then /cnn runs the whole network
// with the same (explicit) kernels and gives the official layer shapes and the output vector.
// Layer types are read with the server's own list of spellings (GET /healthz), so any name
// /cnn accepts ("Conv", "dense", "fc", ...) works here too.
import { post, ApiError } from './api.js';
import { bindSection } from './section.js';
import { createImagePicker } from './image.js';
import { FieldError, readInt } from './fields.js';
import { canonicalLayerType, layerTypeNames } from './server.js';
import { imageFigure, renderChannels, renderKernels } from './maps.js';
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

// What a layer that leaves a field out gets. The page writes every value into the
// architecture it sends, so its step-by-step run and /cnn's run use the same numbers.
const DEFAULTS = {
  conv: { filters: 16, size: 3, stride: 1, padding: 0, activation: 'relu', init: 'he' },
  pool: { function: 'max', size: 2 },
  global_pool: { function: 'average' },
  mlp: { hidden_layers: 1, hidden_size: 20, activation: 'tanh', output_size: 1000 },
};

const archText = (a) => '[\n' + a.map((l) => '  ' + JSON.stringify(l)).join(',\n') + '\n]';
const pairText = (v) => (Array.isArray(v) ? v.join('×') : `${v}×${v}`);

function describe(l) {
  switch (l.type) {
    case 'conv': return `conv ${l.kernels ? l.kernels.shape[0] : l.filters} × ${pairText(l.size)}, stride ${l.stride}, padding ${l.padding}, ${l.activation}`;
    case 'pool': return `${l.function} pool ${pairText(l.size)}, stride ${l.stride ?? l.size}`;
    case 'global_pool': return `global ${l.function} pool`;
    default: return `MLP: ${l.hidden_layers} hidden × ${JSON.stringify(l.hidden_size)} ${l.activation} → ${l.output_size}`;
  }
}

// The architecture typed in the box, each layer with its canonical type and every default filled.
async function readArch(box) {
  let arch;
  try { arch = JSON.parse(box.value); } catch (e) {
    throw new FieldError(box, `The architecture is not valid JSON (${e.message}). Press “Default architecture” to start again.`);
  }
  if (!Array.isArray(arch) || !arch.length) throw new FieldError(box, 'The architecture must be a JSON list of layers: [ {"type": "conv", ...}, ... ].');
  const out = [];
  for (let i = 0; i < arch.length; i++) {
    const l = arch[i];
    if (!l || typeof l !== 'object' || Array.isArray(l)) throw new FieldError(box, `Layer ${i + 1} must be an object like {"type": "conv", "filters": 8}.`);
    const type = await canonicalLayerType(l.type);
    if (!type) {
      throw new FieldError(box, `Layer ${i + 1}: ${l.type === undefined ? 'it has no "type"' : `“${l.type}” is not a layer type`}. Use one of: ${await layerTypeNames()}.`);
    }
    const full = { ...DEFAULTS[type], ...l, type };
    if (type === 'pool' && full.stride === undefined) full.stride = full.size;
    out.push(full);
  }
  return out;
}

// Tag a per-layer API error with its layer, as /cnn's own errors are ("architecture[2] (pool): ...").
function layerError(e, i, type) {
  if (e instanceof ApiError && e.status === 400 && !['image', 'input', 'resize', 'grayscale'].includes(e.field)) {
    e.message = `architecture[${i}] (${type}): ${e.message}`;
    e.field = 'architecture';
  }
  return e;
}

async function runLayer(l, i, t, img, seed, signal) {
  const base = t ? { input: t } : { ...img.fields };
  if (l.type === 'conv') {
    const req = { ...base, stride: l.stride, padding: l.padding, activation: l.activation };
    if (l.negative_slope !== undefined) req.negative_slope = l.negative_slope;
    if (l.bias !== undefined) req.bias = l.bias;
    if (l.kernels) req.kernels = l.kernels;
    else req.filters = { count: l.filters, size: l.size, init: l.init, seed: seed + i };
    return post('conv', req, { signal });
  }
  if (!t) throw new FieldError(null, 'On this page a pooling layer needs a conv layer before it.');
  const req = { ...base, function: l.function };
  if (l.type === 'global_pool') req.size = 'global';
  else { req.size = l.size; req.stride = l.stride; }
  return post('pool', req, { signal });
}

function layerCard(l, i, res) {
  const t = res.output;
  const card = el('div', { class: 'layer', 'data-layer': i },
    el('h4', {}, `${i + 1}. ${describe(l)} → `, el('span', { class: 'shape', text: shapeWHC(t.shape) })));
  if (t.shape.length === 3) renderChannels(card, t, { prefix: 'map', limit: 64, side: 96 });
  else card.append(barChart(t.data, { caption: `${t.shape[0]} values, one per channel`, top: 0 }));
  if (res.kernels) {
    const k = res.kernels.shape;
    const det = el('details', { class: 'kernels-box' }, el('summary', { text: `Kernels of this layer: ${k[0]} × (${k[2]} × ${k[1]} × ${k[3]})` }));
    // Drawn when first opened: a CNN has hundreds of kernels, most never looked at.
    det.addEventListener('toggle', () => { if (det.open && !det.dataset.drawn) { det.dataset.drawn = '1'; renderKernels(det, res.kernels, { limit: 64, cell: 10 }); } });
    card.append(det);
  }
  return card;
}

export function initCnn() {
  const form = $('#cnn-form');
  const picker = createImagePicker($('#cnn-image'), { name: 'cnn', side: 128 });
  const f = form.elements;
  f.arch.defaultValue = archText(DEFAULT_ARCH);
  f.arch.value = f.arch.defaultValue;
  $('#cnn-reset').addEventListener('click', () => {
    f.arch.value = archText(DEFAULT_ARCH);
    f.arch.dispatchEvent(new Event('input', { bubbles: true }));
  });

  return bindSection({
    id: 'cnn',
    async run({ signal, out }) {
      const arch = await readArch(f.arch);
      const seed = readInt(f.seed, { min: 0 });
      const img = await picker.get();
      const view = el('div', {},
        el('p', { class: 'note weights-note', text: 'These weights are random (He initialisation from the seed), not trained: the maps show what random filters do to the image, and the 1000 outputs mean nothing yet. Trained weights come from a training run.' }),
        el('h3', { text: 'Input' }), imageFigure(img.pixels, { caption: `input ${shapeWHC(img.pixels.shape)}`, side: 200 }));
      const cards = [];
      const official = arch.map((l) => ({ ...l }));
      let t = null;   // the running activation tensor; null = still the image
      for (let i = 0; i < arch.length && arch[i].type !== 'mlp'; i++) {
        let res;
        try { res = await runLayer(arch[i], i, t, img, seed, signal); } catch (e) {
          if (e instanceof FieldError && !e.control) e.control = f.arch;
          throw layerError(e, i, arch[i].type);
        }
        if (res.kernels) {
          official[i].kernels = res.kernels;
          delete official[i].init;
        }
        t = res.output;
        cards[i] = layerCard(arch[i], i, res);
        view.append(cards[i]);
      }
      const res = await post('cnn', { ...img.fields, architecture: official, seed, softmax: f.softmax.checked }, { signal });
      (res.layers || []).forEach((L, i) => {
        if (!cards[i]) {
          cards[i] = el('div', { class: 'layer', 'data-layer': i }, el('h4', {}, `${i + 1}. ${describe(arch[i])} → `, el('span', { class: 'shape' })));
          view.append(cards[i]);
        }
        const s = cards[i].querySelector('.shape');
        const shape = shapeWHC(L.output_shape);
        if (s.textContent && s.textContent !== shape) s.textContent += `  (≠ /cnn: ${shape})`;
        else s.textContent = shape;
      });
      const vec = res.output || [];
      const host = cards[cards.length - 1] || view;
      host.append(barChart(vec, { caption: `the ${vec.length}-vector${f.softmax.checked ? ' (softmax)' : ''}` }));
      if (f.softmax.checked && res.logits) host.append(barChart(res.logits, { caption: 'logits (before softmax)' }));
      view.append(el('p', { class: 'note', id: 'cnn-summary', text: `output: ${vec.length} values; /cnn took ${fmt(res.elapsed_ms, 3)} ms on the server` }));
      out.replaceChildren(view);
    },
  });
}
