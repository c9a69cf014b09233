// Convolution section: image + kernel(s) -> POST /conv -> input, kernels, every output map.
import { post, clearErrors, showError } from './api.js';
import { rememberRequest } from './check.js';
import { createImagePicker } from './image.js';
import { imageFigure, renderKernels, renderChannels } from './maps.js';
import { $, $$, el, fmt, shapeWHC, parseMatrix, intValue } from './util.js';

export const convState = { output: null };   // the last output tensor, used by the pooling section

// A typed 2-D kernel is replicated over the input channels (as the presets are); a typed
// JSON [KH, KW, C] array is sent as it is.
function typedKernel(text, C) {
  const m = parseMatrix(text);
  if (Array.isArray(m[0]) && Array.isArray(m[0][0])) return m;
  return m.map((row) => row.map((v) => Array(C).fill(v)));
}

export function initConv() {
  const section = $('#conv');
  const form = $('#conv-form');
  const out = $('#conv-out');
  const picker = createImagePicker($('#conv-image'), { name: 'conv', side: 256 });
  const ksrc = form.elements.ksrc;
  const showKs = () => {
    for (const e of $$('.ks', form)) e.hidden = !e.classList.contains(`ks-${ksrc.value}`);
  };
  ksrc.addEventListener('change', showKs);
  showKs();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(section);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    out.classList.add('busy');
    try {
      const f = form.elements;
      const img = await picker.get();
      const req = { ...img.fields };
      if (ksrc.value === 'preset') req.kernel = f.preset.value;
      else if (ksrc.value === 'typed') {
        try { req.kernel = typedKernel(f.typed.value, img.pixels.shape[2]); } catch (e) {
          throw Object.assign(new Error(`the kernel is not a list of numbers: ${e.message}`), { field: 'kernel' });
        }
      } else {
        req.filters = { count: intValue(f.count), size: intValue(f.fsize), init: f.init.value, seed: intValue(f.seed) };
      }
      req.stride = intValue(f.stride);
      req.padding = intValue(f.padding);
      if (f.bias.value.trim() !== '' && Number(f.bias.value) !== 0) req.bias = Number(f.bias.value);
      req.activation = f.activation.value;
      if (f.activation.value === 'leaky_relu') req.negative_slope = Number(f.slope.value);
      const res = await post('conv', req);
      rememberRequest('conv', req);
      convState.output = res.output;
      render(out, img.pixels, res);
    } catch (e) {
      showError(section, e);
    } finally {
      btn.disabled = false;
      out.classList.remove('busy');
    }
  });
}

function render(out, pixels, res) {
  out.replaceChildren();
  const inShape = res.input_shape || pixels.shape;
  const o = res.output;
  out.append(
    el('div', { class: 'shapes' },
      el('div', {}, 'Input: ', el('strong', { id: 'conv-input-shape', text: shapeWHC(inShape) }), ' (W × H × C)'),
      res.kernels ? el('div', {}, 'Kernels: ', el('strong', { text: `${res.kernels.shape[0]} × (${res.kernels.shape[2]} × ${res.kernels.shape[1]} × ${res.kernels.shape[3]})` }), ' (N × (KW × KH × C))') : null,
      el('div', {}, 'Output: ', el('strong', { id: 'conv-output-shape', text: shapeWHC(o.shape) }), ' (W × H × C)'),
      el('div', { class: 'note', text: `${fmt(res.flops)} flops, ${fmt(res.elapsed_ms, 3)} ms on the server` })));
  const top = el('div', { class: 'pair' });
  top.append(el('div', {}, el('h3', { text: 'Input' }), imageFigure(pixels, { caption: `input ${shapeWHC(pixels.shape)}` })));
  if (res.kernels) {
    const kbox = el('div', {}, el('h3', { text: 'Kernels' }));
    renderKernels(kbox, res.kernels);
    top.append(kbox);
  }
  out.append(top, el('h3', { text: `Output maps (${o.shape[2]})` }));
  renderChannels(out, o, { prefix: 'output', limit: 32, side: 240 }).id = 'conv-maps';
}
