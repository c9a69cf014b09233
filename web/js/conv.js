// Convolution section: image + kernel(s) -> POST /conv -> the input, each kernel beside its
// output map, "how is this number made?"; or the four activations side by side on one scale.
import { post } from './api.js';
import { rememberRequest } from './check.js';
import { bindSection } from './section.js';
import { createImagePicker } from './image.js';
import { FieldError, readInt, readNumber } from './fields.js';
import { imageFigure, mapFigure, kernelCanvas, kernelScale, colorBar, markCells } from './maps.js';
import { makeScale } from './colormap.js';
import { explainConv } from './explain_conv.js';
import { activationPlot, ACT_STYLE } from './actplot.js';
import { ACTIVATIONS, ACT_NAMES } from './activation.js';
import { $, $$, el, fill, fmt, shapeWHC, minMax, argmaxAbs } from './util.js';

// The last output tensor and what it is, for the pooling section ("pool the sigmoid map of
// part 1", as the assignment does, after the four-activation figure).
export const convState = { output: null, label: '' };

// The typed kernel: rows of numbers (replicated over the C channels, as the presets are) or a
// JSON [KH, KW, C] array, checked here so a typo is an error on the text box.
function typedKernel(box, C) {
  const t = box.value.trim();
  if (!t) throw new FieldError(box, 'The kernel is empty: type rows of numbers, e.g. “1 0 -1” on three lines.');
  if (t.startsWith('[')) {
    let k;
    try { k = JSON.parse(t); } catch (e) { throw new FieldError(box, `The kernel is not valid JSON: ${e.message}.`); }
    return k;
  }
  const rows = t.split(/\n|;/).map((r) => r.trim()).filter((r) => r.length).map((r, i) => r.split(/[\s,]+/).map((s) => {
    const v = Number(s);
    if (!Number.isFinite(v) || s === '') throw new FieldError(box, `Row ${i + 1} of the kernel: “${s}” is not a number.`);
    return v;
  }));
  rows.forEach((r, i) => {
    if (r.length !== rows[0].length) throw new FieldError(box, `Row ${i + 1} of the kernel has ${r.length} numbers but row 1 has ${rows[0].length}: every row needs the same count.`);
  });
  return rows.map((row) => row.map((v) => Array(C).fill(v)));
}

function kernelSize(f, ksrc) {
  if (ksrc === 'filters') return [f.fsize, readInt(f.fsize, { min: 1, max: 1024 })];
  return [ksrc === 'typed' ? f.typed : f.preset, null];
}

// Refuse a kernel larger than the padded image here, on the kernel control, in plain words.
function checkFits(control, K, H, W, pad) {
  if (K && (K > H + 2 * pad || K > W + 2 * pad)) {
    throw new FieldError(control, `The kernel (${K} × ${K}) is bigger than the image with its padding (${W} × ${H} plus ${pad} on each side). Use a kernel of at most ${Math.min(H, W) + 2 * pad}, or more padding.`);
  }
}

function readRequest(f, img) {
  const [H, W, C] = img.pixels.shape;
  const req = { ...img.fields };
  const ksrc = f.ksrc.value;
  const [kControl, K] = kernelSize(f, ksrc);
  if (ksrc === 'preset') req.kernel = f.preset.value;
  else if (ksrc === 'typed') req.kernel = typedKernel(f.typed, C);
  else {
    req.filters = { count: readInt(f.count, { min: 1, max: 4096 }), size: K, init: f.init.value,
      seed: readInt(f.seed, { min: 0 }) };
  }
  req.stride = readInt(f.stride, { min: 1 });
  req.padding = readInt(f.padding, { min: 0 });
  const k = ksrc === 'typed' && Array.isArray(req.kernel) ? Math.max(req.kernel.length, (req.kernel[0] || []).length) : K || 3;
  checkFits(kControl, k, H, W, req.padding);
  const bias = readNumber(f.bias);
  if (bias !== 0) req.bias = bias;
  const act = f.activation.value;
  const slope = act === 'leaky_relu' || act === 'compare' ? readNumber(f.slope) : 0.01;
  if (act === 'leaky_relu') req.negative_slope = slope;
  return { req, act, slope, bias };
}

// One kernel (its channels stacked) beside its output map.
function kernelCard(k, n, scale, fig) {
  const [, , , C] = k.shape;
  const col = el('div', { class: 'kcol' }, el('span', { class: 'klabel', text: `kernel ${n}` }));
  for (let c = 0; c < Math.min(C, 3); c++) {
    col.append(el('div', { class: 'kcell' }, kernelCanvas(k, n, c, scale, { cell: 20 }), el('span', { class: 'note', text: `ch ${c}` })));
  }
  if (C > 3) col.append(el('span', { class: 'note', text: `+${C - 3} channels` }));
  return el('div', { class: 'kcard', 'data-map': n }, col, fig);
}

function shapesLine(res, o) {
  const k = res.kernels.shape;
  return el('div', { class: 'shapes' },
    el('div', {}, 'Input: ', el('strong', { id: 'conv-input-shape', text: shapeWHC(res.input_shape) }), ' (W × H × C)'),
    el('div', {}, 'Kernels: ', el('strong', { text: `${k[0]} × (${k[2]} × ${k[1]} × ${k[3]})` }), ' (N × (KW × KH × C))'),
    el('div', {}, 'Output: ', el('strong', { id: 'conv-output-shape', text: shapeWHC(o.shape) }), ' (W × H × C)'),
    el('div', { class: 'note', text: `${fmt(res.flops)} flops, ${fmt(res.elapsed_ms, 3)} ms on the server` }));
}

function explainParams(img, res, r, act, output) {
  return { input: img.pixels, kernels: res.kernels, output, stride: [r.req.stride, r.req.stride],
    padding: [r.req.padding, r.req.padding], bias: Math.fround(r.bias), activation: act, slope: r.slope };
}

function renderOne(out, img, res, r) {
  const o = res.output;
  const N = o.shape[2];
  // Maps as large as lets up to four kernel cards (kernel column ~70 px + margins) fit a row.
  const cols = Math.min(N, 4);
  const side = Math.max(120, Math.min(256, Math.floor(((out.clientWidth || 900) - cols * 100) / cols)));
  const inputFig = imageFigure(img.pixels, { caption: `input ${shapeWHC(img.pixels.shape)}`, side: 256 });
  const { scale, min, max } = kernelScale(res.kernels);
  const p = { ...explainParams(img, res, r, r.act, o), inputFig, outputFigs: [] };
  let ex = null;
  const cards = el('div', { class: 'kcards', id: 'conv-maps' });
  for (let n = 0; n < Math.min(N, 64); n++) {
    const fig = mapFigure(o, n, { caption: `output map ${n}`, side, onPick: (x, y) => ex.show(n, x, y) });
    p.outputFigs.push(fig);
    cards.append(kernelCard(res.kernels, n, scale, fig));
  }
  const bar = colorBar(scale, min, max);
  bar.classList.add('kernel-bar');
  fill(out, shapesLine(res, o),
    el('div', { class: 'pair' }, el('div', {}, el('h3', { text: 'Input' }), inputFig)),
    el('h3', { text: `Each kernel beside its output map (${N})` }), cards,
    N > 64 ? el('p', { class: 'note', text: `… and ${N - 64} more maps.` }) : null,
    el('div', { class: 'note' }, 'Kernel colours (one scale for all kernels): ', bar));
  ex = explainConv(out, p);
  const at = argmaxAbs(o.data, 0, N);
  ex.show(0, at % o.shape[1], Math.floor(at / o.shape[1]));
}

// The assignment's figure: the same kernel through ReLU, sigmoid, tanh and leaky ReLU, the four
// maps side by side on ONE colour scale, with the functions plotted.
function renderCompare(out, img, results, r) {
  const outs = results.map((res) => res.output);
  let lo = Infinity, hi = -Infinity;
  for (const o of outs) {
    const C = o.shape[2];
    const [a, b] = minMax(o.data, 0, o.data.length, C);
    lo = Math.min(lo, a); hi = Math.max(hi, b);
  }
  const scale = makeScale(lo, hi);
  const inputFig = imageFigure(img.pixels, { caption: `input ${shapeWHC(img.pixels.shape)}`, side: 200 });
  const p = { ...explainParams(img, results[0], r, ACTIVATIONS[0], outs[0]), inputFig, outputFigs: [] };
  const figs = [];
  let ex = null;
  const grid = el('div', { class: 'mapgrid compare', id: 'conv-compare' });
  // Four across when they fit (two by two on a phone).
  const side = Math.max(120, Math.min(256, Math.floor(((out.clientWidth || 900) - 48) / 4)));
  ACTIVATIONS.forEach((a, i) => {
    const fig = mapFigure(outs[i], 0, { caption: `${ACT_NAMES[a]}`, side, scale, onPick: (x, y) => {
      for (const g of figs) markCells(g, null);
      Object.assign(p, { activation: a, output: outs[i], outputFigs: [fig] });
      ex.show(0, x, y);
    } });
    fig.dataset.activation = a;
    fig.querySelector('figcaption').prepend(el('span', { class: 'swatch', style: `background:${ACT_STYLE[a].color}` }), ' ');
    figs.push(fig);
    grid.append(fig);
  });
  const N = outs[0].shape[2];
  fill(out, shapesLine(results[0], outs[0]),
    el('div', { class: 'pair' }, el('div', {}, el('h3', { text: 'Input' }), inputFig), activationPlot({ slope: r.slope })),
    el('h3', { text: 'The four activations side by side, on one colour scale' }), grid,
    el('div', { class: 'shared-bar' }, colorBar(scale, lo, hi)),
    N > 1 ? el('p', { class: 'note', text: `Showing output map 0 of ${N}.` }) : null);
  p.outputFigs = [figs[0]];
  ex = explainConv(out, p);
  const at = argmaxAbs(outs[0].data, 0, N);
  ex.show(0, at % outs[0].shape[1], Math.floor(at / outs[0].shape[1]));
}

export function initConv() {
  const form = $('#conv-form');
  const picker = createImagePicker($('#conv-image'), { name: 'conv', side: 256 });
  const f = form.elements;
  const showKs = () => { for (const e of $$('.ks', form)) e.hidden = !e.classList.contains(`ks-${f.ksrc.value}`); };
  const showSlope = () => { f.slope.closest('.ctl').hidden = !['leaky_relu', 'compare'].includes(f.activation.value); };
  f.ksrc.addEventListener('change', showKs);
  f.activation.addEventListener('change', showSlope);
  showKs();
  showSlope();
  return bindSection({
    id: 'conv',
    async run({ signal, out }) {
      const img = await picker.get();
      const r = readRequest(f, img);
      if (r.act === 'compare') {
        const results = await Promise.all(ACTIVATIONS.map((a) => post('conv', { ...r.req, activation: a,
          ...(a === 'leaky_relu' ? { negative_slope: r.slope } : {}) }, { signal })));
        const sig = ACTIVATIONS.indexOf('sigmoid');
        rememberRequest('conv', { ...r.req, activation: 'sigmoid' });   // the map the pooling section takes
        Object.assign(convState, { output: results[sig].output, label: 'the sigmoid map of the convolution' });
        renderCompare(out, img, results, r);
      } else {
        const res = await post('conv', { ...r.req, activation: r.act }, { signal });
        rememberRequest('conv', { ...r.req, activation: r.act });
        Object.assign(convState, { output: res.output, label: `the convolution's output (${ACT_NAMES[r.act]})` });
        renderOne(out, img, res, r);
      }
    },
  });
}
