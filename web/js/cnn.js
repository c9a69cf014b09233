// CNN section: one POST /cnn with "outputs": true runs the whole network and returns every
// layer's output tensor and every conv layer's kernels, so each feature map and kernel is drawn
// from the numbers the network computed with (and the server fills in every default). Layer
// types are checked first against the server's own list of spellings (GET /healthz), so any
// name /cnn accepts ("Conv", "dense", "fc", ...) works and an unknown one is named at once.
import { post } from './api.js';
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

const archText = (a) => '[\n' + a.map((l) => '  ' + JSON.stringify(l)).join(',\n') + '\n]';

// "conv: filters 16, size 3, stride 2": the layer as the student wrote it (the server's defaults
// fill the rest), with its canonical type.
function describe(type, l) {
  const params = Object.entries(l).filter(([k, v]) => k !== 'type' && typeof v !== 'object')
    .map(([k, v]) => (k === 'activation' || k === 'function' ? String(v) : `${k.replace('_', ' ')} ${v}`));
  return `${type}${params.length ? `: ${params.join(', ')}` : ''}`;
}

// The architecture typed in the box: a list of layers whose types the server knows.
async function readArch(box) {
  let arch;
  try { arch = JSON.parse(box.value); } catch (e) {
    throw new FieldError(box, `The architecture is not valid JSON (${e.message}). Press “Default architecture” to start again.`);
  }
  if (!Array.isArray(arch) || !arch.length) throw new FieldError(box, 'The architecture must be a JSON list of layers: [ {"type": "conv", ...}, ... ].');
  const types = [];
  for (let i = 0; i < arch.length; i++) {
    const l = arch[i];
    if (!l || typeof l !== 'object' || Array.isArray(l)) throw new FieldError(box, `Layer ${i + 1} must be an object like {"type": "conv", "filters": 8}.`);
    const type = await canonicalLayerType(l.type);
    if (!type) {
      throw new FieldError(box, `Layer ${i + 1}: ${l.type === undefined ? 'it has no "type"' : `“${l.type}” is not a layer type`}. Use one of: ${await layerTypeNames()}.`);
    }
    types.push(type);
  }
  return { arch, types };
}

function layerCard(i, desc, L) {
  const card = el('div', { class: 'layer', 'data-layer': i },
    el('h4', {}, `${i + 1}. ${desc} → `, el('span', { class: 'shape', text: shapeWHC(L.output_shape) })));
  const t = L.output;
  if (t.shape.length === 3) renderChannels(card, t, { prefix: 'map', limit: 64, side: 96 });
  else if (t.shape[0] <= 64) card.append(barChart(t.data, { caption: `${t.shape[0]} values, one per channel`, top: 0 }));
  if (L.kernels) {
    const k = L.kernels.shape;
    const det = el('details', { class: 'kernels-box' }, el('summary', { text: `Kernels of this layer: ${k[0]} × (${k[2]} × ${k[1]} × ${k[3]})` }));
    // Drawn when first opened: a CNN has hundreds of kernels, most never looked at.
    det.addEventListener('toggle', () => { if (det.open && !det.dataset.drawn) { det.dataset.drawn = '1'; renderKernels(det, L.kernels, { limit: 64, cell: 10 }); } });
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
      const { arch, types } = await readArch(f.arch);
      const seed = readInt(f.seed, { min: 0 });
      const img = await picker.get();
      const res = await post('cnn', { ...img.fields, architecture: arch, seed, softmax: f.softmax.checked, outputs: true }, { signal });
      const view = el('div', {},
        el('p', { class: 'note weights-note', text: 'These weights are random (drawn from the seed), not trained: the maps show what random filters do to the image, and the outputs mean nothing yet. Trained weights come from a training run.' }),
        el('h3', { text: 'Input' }), imageFigure(img.pixels, { caption: `input ${shapeWHC(img.pixels.shape)}`, side: 200 }));
      const cards = res.layers.map((L, i) => layerCard(i, describe(types[i], arch[i]), L));
      view.append(...cards);
      const vec = res.output || [];
      const host = cards[cards.length - 1] || view;
      host.append(barChart(vec, { caption: `the ${vec.length}-vector${f.softmax.checked ? ' (softmax)' : ''}` }));
      if (f.softmax.checked && res.logits) host.append(barChart(res.logits, { caption: 'logits (before softmax)' }));
      view.append(el('p', { class: 'note', id: 'cnn-summary', text: `output: ${vec.length} values; /cnn took ${fmt(res.elapsed_ms, 3)} ms on the server` }));
      out.replaceChildren(view);
    },
  });
}
