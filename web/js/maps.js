// Drawing float tensors on canvases: feature maps with a colour bar and a value readout (hover,
// or tap on a touch screen), kernels as heat maps with their numbers, RGB images; and a marker
// over a map's cells (the window of "how is this number made?").
import { makeScale, lutIndex, colorOf, cssColor, textOn } from './colormap.js';
import { el, fmt, minMax } from './util.js';

const CELL = 30;          // px per cell when numbers are printed in the cells
const NUMBERS_MAX = 12;   // print numbers in maps up to this many cells per side

// A number short enough for a 30 px cell.
export function cellText(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const t = a >= 1000 ? v.toExponential(0) : a >= 10 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toFixed(2);
  return /^-0(\.0+)?$/.test(t) ? t.slice(1) : t;
}

// Display size of W x H pixels: integer upscaling up to `side` px, or scaled down to it.
function cssSize(canvas, W, H, side) {
  const m = Math.max(W, H);
  const k = m >= side ? side / m : Math.max(1, Math.floor(side / m));
  canvas.style.width = `${Math.round(W * k)}px`;
  canvas.style.height = `${Math.round(H * k)}px`;
}

// The tensor cell under a pointer event, or null.
function cellAt(canvas, ev, W, H) {
  const r = canvas.getBoundingClientRect();
  const x = Math.floor(((ev.clientX - r.left) / r.width) * W);
  const y = Math.floor(((ev.clientY - r.top) / r.height) * H);
  return x >= 0 && y >= 0 && x < W && y < H ? [x, y] : null;
}

// Hover (mouse) shows a value; a click or a tap shows it and keeps it, and calls onPick.
function readoutOn(canvas, readout, W, H, describe, onPick) {
  let kept = readout.textContent;
  canvas.addEventListener('pointermove', (ev) => {
    if (ev.pointerType !== 'mouse') return;
    const p = cellAt(canvas, ev, W, H);
    readout.textContent = p ? describe(p[0], p[1]) : kept;
  });
  canvas.addEventListener('pointerleave', () => { readout.textContent = kept; });
  canvas.addEventListener('click', (ev) => {
    const p = cellAt(canvas, ev, W, H);
    if (!p) return;
    kept = readout.textContent = describe(p[0], p[1]);
    if (onPick) onPick(p[0], p[1]);
  });
  if (onPick) canvas.classList.add('pickable');
}

// A CSS gradient of a scale's colours (no canvas: a page shows hundreds of colour bars).
const gradients = new Map();
function gradientOf(lut) {
  if (!gradients.has(lut)) {
    const stops = [];
    for (let i = 0; i <= 16; i++) {
      const k = Math.round((i / 16) * 255) * 3;
      stops.push(`rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]}) ${(i / 16) * 100}%`);
    }
    gradients.set(lut, `linear-gradient(to right, ${stops.join(', ')})`);
  }
  return gradients.get(lut);
}

// A horizontal colour bar for scale s, labelled with the scale's ends and the data's min / max.
export function colorBar(s, min, max) {
  const wrap = el('div', { class: 'cbar-wrap' },
    el('div', { class: 'cbar', 'aria-hidden': 'true', style: `background: ${gradientOf(s.lut)}` }),
    el('div', { class: 'cbar-labels' }, el('span', { text: fmt(s.lo) }), el('span', { text: fmt(s.hi) })),
    el('div', { class: 'cbar-mid', text: `min ${fmt(min)} · max ${fmt(max)}` }));
  wrap.title = s.signed ? 'diverging scale, symmetric around 0' : 'viridis scale';
  return wrap;
}

// Draw channel c of a [H, W, C] (or [H, W]) tensor into a new canvas.
export function mapCanvas(t, c, { side = 220, scale: given, numbers } = {}) {
  const [H, W, C] = t.shape.length === 2 ? [...t.shape, 1] : t.shape;
  const d = t.data;
  const [min, max] = minMax(d, c, d.length, C);
  const s = given || makeScale(min, max);
  const showNums = numbers ?? (W <= NUMBERS_MAX && H <= NUMBERS_MAX);
  const canvas = el('canvas', { class: 'map' });
  if (showNums) {
    canvas.width = W * CELL;
    canvas.height = H * CELL;
    const ctx = canvas.getContext('2d');
    ctx.font = `${W > 8 ? 9 : 10}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = d[(y * W + x) * C + c];
        const rgb = colorOf(s, v);
        ctx.fillStyle = cssColor(rgb);
        ctx.fillRect(x * CELL, y * CELL, CELL, CELL);
        ctx.fillStyle = textOn(rgb);
        ctx.fillText(cellText(v), x * CELL + CELL / 2, y * CELL + CELL / 2);
      }
    }
    const w = Math.min(W * CELL, Math.max(side, 160));
    canvas.style.width = `${w}px`;
    canvas.style.height = `${Math.round((w * H) / W)}px`;
    canvas.classList.add('smooth');
  } else {
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(W, H);
    const px = img.data;
    for (let i = 0, n = W * H; i < n; i++) {
      const k = lutIndex(s, d[i * C + c]) * 3;
      px[i * 4] = s.lut[k];
      px[i * 4 + 1] = s.lut[k + 1];
      px[i * 4 + 2] = s.lut[k + 2];
      px[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    cssSize(canvas, W, H, side);
  }
  return { canvas, scale: s, min, max, W, H, C };
}

// The colour scale mapCanvas would pick for channel c of t.
export function channelScale(t, c) {
  const C = t.shape.length === 3 ? t.shape[2] : 1;
  const [min, max] = minMax(t.data, c, t.data.length, C);
  return makeScale(min, max);
}

// A canvas inside a positioned box, so markers can be laid over its cells.
function wrapCanvas(canvas, W, H) {
  const wrap = el('div', { class: 'canvas-wrap' }, canvas);
  wrap.dataset.w = W;
  wrap.dataset.h = H;
  return wrap;
}

// Outline cells [x0, x0 + w) x [y0, y0 + h) of the map in `host` (a figure or canvas-wrap);
// cells outside the map (padding) are drawn too, outside the canvas. null removes the marker.
export function markCells(host, region, cls = 'marker') {
  const wrap = host.classList.contains('canvas-wrap') ? host : host.querySelector('.canvas-wrap');
  if (!wrap) return;
  let m = wrap.querySelector(`:scope > .${cls}`);
  if (!region) { if (m) m.remove(); return; }
  if (!m) m = wrap.appendChild(el('div', { class: cls, 'aria-hidden': 'true' }));
  const W = Number(wrap.dataset.w), H = Number(wrap.dataset.h);
  m.style.left = `${(region.x / W) * 100}%`;
  m.style.top = `${(region.y / H) * 100}%`;
  m.style.width = `${(region.w / W) * 100}%`;
  m.style.height = `${(region.h / H) * 100}%`;
}

// A figure for one channel: caption, canvas, colour bar, readout. onPick(x, y) on click / tap.
export function mapFigure(t, c, { caption, side, scale, onPick } = {}) {
  const m = mapCanvas(t, c, { side, scale });
  const name = caption ?? `channel ${c}`;
  const hint = side && side < 120 ? '' : onPick ? 'tap or click a pixel' : 'hover or tap a pixel';
  const readout = el('div', { class: 'readout', text: hint });
  readoutOn(m.canvas, readout, m.W, m.H, (x, y) => `x ${x}, y ${y}: ${fmt(t.data[(y * m.W + x) * m.C + c], 6)}`, onPick);
  m.canvas.setAttribute('role', 'img');
  m.canvas.setAttribute('aria-label', `${name}: ${m.W} × ${m.H} map, values from ${fmt(m.min)} to ${fmt(m.max)}`);
  const fig = el('figure', { class: 'mapfig', 'data-channel': c },
    el('figcaption', { text: name }), wrapCanvas(m.canvas, m.W, m.H), colorBar(m.scale, m.min, m.max), readout);
  fig.style.width = `${Math.max(parseFloat(m.canvas.style.width) || 0, 150)}px`;
  return fig;
}

// Every channel of a [H, W, C] tensor (up to `limit`). scales: optional per-channel scales.
// onPick(c, x, y): a click on channel c's pixel (x, y).
export function renderChannels(container, t, { limit = 64, side, prefix = 'map', scales, onPick } = {}) {
  const C = t.shape.length === 3 ? t.shape[2] : 1;
  const grid = el('div', { class: 'mapgrid' });
  for (let c = 0; c < Math.min(C, limit); c++) {
    grid.append(mapFigure(t, c, { caption: `${prefix} ${c}`, side, scale: scales && scales[c],
      onPick: onPick && ((x, y) => onPick(c, x, y)) }));
  }
  container.append(grid);
  if (C > limit) container.append(el('p', { class: 'note', text: `… and ${C - limit} more channels (showing the first ${limit}).` }));
  return grid;
}

// An RGB or grey image tensor [H, W, C] in [0, 1], drawn as an image.
export function imageFigure(t, { caption = 'input', side = 260 } = {}) {
  const [H, W, C] = t.shape;
  const canvas = el('canvas', { class: 'map', width: W, height: H, role: 'img', 'aria-label': `${caption}: ${W} × ${H} image` });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < W * H; i++) {
    for (let ch = 0; ch < 3; ch++) img.data[i * 4 + ch] = Math.round(t.data[i * C + (C === 1 ? 0 : ch)] * 255);
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  cssSize(canvas, W, H, side);
  const readout = el('div', { class: 'readout', text: 'hover or tap a pixel' });
  readoutOn(canvas, readout, W, H, (x, y) => {
    const v = [];
    for (let ch = 0; ch < C; ch++) v.push(fmt(t.data[(y * W + x) * C + ch], 3));
    return `x ${x}, y ${y}: ${C === 1 ? v[0] : `(${v.join(', ')})`}`;
  });
  return el('figure', { class: 'mapfig' }, el('figcaption', { text: caption }), wrapCanvas(canvas, W, H), readout);
}

// Channel c of kernel n of a bank [N, KH, KW, C] as a small heat map (numbers when small).
export function kernelCanvas(k, n, c, scale, { cell = 24 } = {}) {
  const [, KH, KW, C] = k.shape;
  const sub = { shape: [KH, KW, 1], data: new Array(KH * KW) };
  for (let i = 0; i < KH * KW; i++) sub.data[i] = k.data[(n * KH * KW + i) * C + c];
  const nums = KH <= 7 && KW <= 7 && cell >= 20;
  const m = mapCanvas(sub, 0, { side: KW * cell, scale, numbers: nums });
  m.canvas.style.width = `${KW * cell}px`;
  m.canvas.style.height = `${KH * cell}px`;
  m.canvas.setAttribute('role', 'img');
  m.canvas.setAttribute('aria-label', `kernel ${n}, channel ${c}: ${KH} × ${KW} values ${sub.data.map((v) => fmt(v, 3)).join(', ')}`);
  return m.canvas;
}

// One diverging scale over a whole kernel bank, so kernels compare by colour.
export function kernelScale(k) {
  const [min, max] = minMax(k.data);
  return { scale: makeScale(min, max, true), min, max };
}

// A kernel bank [N, KH, KW, C] as compact heat maps, one row per kernel (first 4 channels).
export function renderKernels(container, k, { limit = 64, cell = 10 } = {}) {
  const [N, , , C] = k.shape;
  const { scale, min, max } = kernelScale(k);
  const wrap = el('div', { class: 'kernels compact' });
  for (let n = 0; n < Math.min(N, limit); n++) {
    const row = el('div', { class: 'krow' }, el('span', { class: 'klabel', text: `${n}` }));
    for (let c = 0; c < Math.min(C, 4); c++) row.append(kernelCanvas(k, n, c, scale, { cell }));
    if (C > 4) row.append(el('span', { class: 'note', text: `+${C - 4}` }));
    wrap.append(row);
  }
  container.append(wrap);
  if (N > limit) container.append(el('p', { class: 'note', text: `… and ${N - limit} more kernels.` }));
  const bar = colorBar(scale, min, max);
  bar.style.maxWidth = '300px';
  container.append(bar);
}
