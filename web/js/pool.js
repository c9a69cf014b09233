// Pooling section: an input map (random, typed, or the convolution's output) -> POST /pool ->
// input and pooled output side by side on the same colour scale, and each pooled value's window.
import { post } from './api.js';
import { rememberRequest } from './check.js';
import { bindSection } from './section.js';
import { FieldError, readInt } from './fields.js';
import { renderChannels, channelScale } from './maps.js';
import { barChart } from './bars.js';
import { explainPool, explainGlobal } from './explain_pool.js';
import { convState } from './conv.js';
import { $, $$, el, shapeWHC, rng } from './util.js';

const RANDOM_MAX = 1 << 20;

function typedInput(box) {
  const rows = box.value.trim().split(/\n|;/).map((r) => r.trim()).filter((r) => r.length);
  if (!rows.length) throw new FieldError(box, 'The values are empty: type rows of numbers, one row per line.');
  const m = rows.map((r, i) => r.split(/[\s,]+/).map((s) => {
    const v = Number(s);
    if (!Number.isFinite(v)) throw new FieldError(box, `Row ${i + 1}: “${s}” is not a number.`);
    return v;
  }));
  m.forEach((r, i) => {
    if (r.length !== m[0].length) throw new FieldError(box, `Row ${i + 1} has ${r.length} numbers but row 1 has ${m[0].length}: every row needs the same count.`);
  });
  return { shape: [m.length, m[0].length, 1], data: m.flat() };
}

function inputTensor(f) {
  if (f.src.value === 'conv') {
    if (!convState.output) throw new FieldError(f.src, 'Run the convolution above first: its output is the input here.');
    return convState.output;
  }
  if (f.src.value === 'typed') return typedInput(f.typed);
  const H = readInt(f.h, { min: 1, max: 4096 }), W = readInt(f.w, { min: 1, max: 4096 }), C = readInt(f.c, { min: 1, max: 64 });
  if (H * W * C > RANDOM_MAX) throw new FieldError(f.h, `A random map here has at most ${RANDOM_MAX} values; ${H} × ${W} × ${C} is ${H * W * C}.`);
  const r = rng(readInt(f.seed, { min: 0 }));
  return { shape: [H, W, C], data: Array.from({ length: H * W * C }, () => Math.round((r() * 2 - 1) * 100) / 100) };
}

function render(out, input, res, req) {
  const output = res.output;
  const C = input.shape[2];
  const side = 200;
  const left = el('div', {}, el('h3', {}, 'Input ', el('span', { class: 'shape', id: 'pool-input-shape', text: shapeWHC(input.shape) })));
  const inGrid = renderChannels(left, input, { prefix: 'input channel', limit: 8, side });
  const right = el('div', {}, el('h3', {}, `${req.function} pooled `,
    el('span', { class: 'shape', id: 'pool-output-shape', text: shapeWHC(output.shape) })));
  const pair = el('div', { class: 'pair' }, left, right);
  out.replaceChildren(pair);
  if (output.shape.length === 1) {
    let ex = null;
    right.append(barChart(output.data, { caption: `global ${req.function} pool: one value per channel (${C})`, width: 360,
      onPick: (c) => ex.show(c) }));
    ex = explainGlobal(out, { input, output, fn: req.function });
    ex.show(0);
    return;
  }
  // The input's colour scale, so a pooled value has the colour it had in the input.
  const scales = Array.from({ length: C }, (_, c) => channelScale(input, c));
  let ex = null;
  const outGrid = renderChannels(right, output, { prefix: 'pooled channel', limit: 8, side, scales,
    onPick: (c, x, y) => ex.show(c, x, y) });
  const figs = (g) => [...g.querySelectorAll('figure')];
  const o3 = output.shape.length === 3 ? output : { shape: [...output.shape, 1], data: output.data };
  ex = explainPool(out, { input, output: o3, fn: req.function, size: [req.size, req.size], stride: [req.stride, req.stride],
    inputFigs: figs(inGrid), outputFigs: figs(outGrid) });
  ex.show(0, 0, 0);
}

export function initPool() {
  const form = $('#pool-form');
  const f = form.elements;
  const showSrc = () => {
    for (const e of $$('.ps', form)) e.hidden = !e.classList.contains(`ps-${f.src.value}`);
  };
  f.src.addEventListener('change', showSrc);
  showSrc();
  const syncGlobal = () => { f.size.closest('.ctl').hidden = f.stride.closest('.ctl').hidden = f.global.checked; };
  f.global.addEventListener('change', syncGlobal);
  syncGlobal();
  return bindSection({
    id: 'pool',
    async run({ signal, out }) {
      const input = inputTensor(f);
      const req = { input, function: f.function.value };
      if (f.global.checked) req.size = 'global';
      else {
        req.size = readInt(f.size, { min: 1 });
        req.stride = readInt(f.stride, { min: 1 });
        const [H, W] = input.shape;
        if (req.size > H || req.size > W) {
          throw new FieldError(f.size, `The window (${req.size} × ${req.size}) is bigger than the map it pools (${W} × ${H}). Use a size of at most ${Math.min(H, W)}.`);
        }
      }
      const res = await post('pool', req, { signal });
      rememberRequest('pool', req);
      render(out, input, res, req);
    },
  });
}
