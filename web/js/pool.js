// Pooling section: an input map (random, typed, or the convolution's output) -> POST /pool.
import { post, clearErrors, showError } from './api.js';
import { rememberRequest } from './check.js';
import { renderChannels, channelScale } from './maps.js';
import { barChart } from './bars.js';
import { convState } from './conv.js';
import { $, $$, el, shapeWHC, parseMatrix, rng, intValue } from './util.js';

function inputTensor(f) {
  const src = f.src.value;
  if (src === 'conv') {
    if (!convState.output) throw Object.assign(new Error('run the convolution first'), { field: 'input' });
    return convState.output;
  }
  if (src === 'typed') {
    let m;
    try { m = parseMatrix(f.typed.value); } catch (e) {
      throw Object.assign(new Error(`the values are not a matrix of numbers: ${e.message}`), { field: 'input' });
    }
    const H = m.length, W = m[0] ? m[0].length : 0;
    return { shape: [H, W, 1], data: m.flat().map(Number) };
  }
  const H = intValue(f.h), W = intValue(f.w), C = intValue(f.c);
  const r = rng(intValue(f.seed) || 0);
  const n = H > 0 && W > 0 && C > 0 && H * W * C <= 1 << 20 ? H * W * C : 0;
  const data = Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 100) / 100);
  return { shape: [H, W, C], data };
}

export function initPool() {
  const section = $('#pool');
  const form = $('#pool-form');
  const out = $('#pool-out');
  const f = form.elements;
  const showSrc = () => { for (const e of $$('.ps', form)) e.hidden = !e.classList.contains(`ps-${f.src.value}`); };
  f.src.addEventListener('change', showSrc);
  showSrc();
  const syncGlobal = () => { f.size.disabled = f.stride.disabled = f.global.checked; };
  f.global.addEventListener('change', syncGlobal);
  syncGlobal();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(section);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const input = inputTensor(f);
      const req = { input, function: f.function.value };
      if (f.global.checked) req.size = 'global';
      else { req.size = intValue(f.size); req.stride = intValue(f.stride); }
      const res = await post('pool', req);
      rememberRequest('pool', req);
      render(out, input, res.output, req);
    } catch (e) {
      showError(section, e);
    } finally {
      btn.disabled = false;
    }
  });
}

function render(out, input, output, req) {
  out.replaceChildren();
  const C = input.shape[2];
  const side = (t) => (t.shape[0] <= 12 && t.shape[1] <= 12 ? 200 : 180);
  const left = el('div', {}, el('h3', {}, 'Input ', el('span', { class: 'shape', id: 'pool-input-shape', text: shapeWHC(input.shape) })));
  renderChannels(left, input, { prefix: 'input', limit: 8, side: side(input) });
  const right = el('div', {}, el('h3', {}, `${req.function} pooled `,
    el('span', { class: 'shape', id: 'pool-output-shape', text: shapeWHC(output.shape) })));
  if (output.shape.length === 1) {
    right.append(barChart(output.data, { caption: `global ${req.function} pool: one value per channel (${C})`, width: 360 }));
  } else {
    // The input's colour scale, so a pooled value has the colour it had in the input.
    const scales = Array.from({ length: C }, (_, c) => channelScale(input, c));
    renderChannels(right, output, { prefix: 'pooled', limit: 8, side: side(input), scales });
  }
  out.append(el('div', { class: 'pair' }, left, right));
}
