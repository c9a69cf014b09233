// Drawing float tensors on canvases: feature maps with a colour bar and a hover readout,
// kernels as heat maps with their numbers, RGB images.
import { makeScale, lutIndex, colorOf, cssColor, textOn } from './colormap.js';
import { el, fmt, minMax } from './util.js';

const CELL = 30;          // px per cell when numbers are printed in the cells
const NUMBERS_MAX = 12;   // print numbers in maps up to this many cells per side

// A number short enough for a 30 px cell.
function cellText(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const t = a >= 1000 ? v.toExponential(0) : a >= 10 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toFixed(2);
  return /^-0(\.0+)?$/.test(t) ? t.slice(1) : t;
}

// Size a canvas of W x H pixels for display: integer upscaling up to `side` px.
function cssSize(canvas, W, H, side) {
  const m = Math.max(W, H);
  const k = m >= side ? side / m : Math.max(1, Math.floor(side / m));
  canvas.style.width = `${Math.round(W * k)}px`;
  canvas.style.height = `${Math.round(H * k)}px`;
}

// Pixel under the mouse, in tensor coordinates, or null.
function cellAt(canvas, ev, W, H) {
  const r = canvas.getBoundingClientRect();
  const x = Math.floor(((ev.clientX - r.left) / r.width) * W);
  const y = Math.floor(((ev.clientY - r.top) / r.height) * H);
  return x >= 0 && y >= 0 && x < W && y < H ? [x, y] : null;
}

function hover(canvas, readout, W, H, describe) {
  const idle = readout.textContent;
  canvas.addEventListener('mousemove', (ev) => {
    const p = cellAt(canvas, ev, W, H);
    readout.textContent = p ? describe(p[0], p[1]) : idle;
  });
  canvas.addEventListener('mouseleave', () => { readout.textContent = idle; });
}

// A horizontal colour bar for scale s, labelled with the data's min and max.
export function colorBar(s, min, max) {
  const c = el('canvas', { class: 'cbar', width: 256, height: 1 });
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    img.data.set([s.lut[i * 3], s.lut[i * 3 + 1], s.lut[i * 3 + 2], 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  const wrap = el('div', { class: 'cbar-wrap' },
    c,
    el('div', { class: 'cbar-labels' }, el('span', { text: fmt(s.lo) }), el('span', { text: fmt(s.hi) })),
    el('div', { class: 'cbar-mid', text: `min ${fmt(min)} · max ${fmt(max)}` }));
  wrap.title = s.signed ? 'diverging scale, symmetric around 0' : 'viridis scale';
  return wrap;
}

// Draw channel c of a [H, W, C] tensor into a new canvas. Returns {canvas, scale, min, max}.
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
    canvas.style.width = `${Math.min(W * CELL, Math.max(side, 160))}px`;
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

// A figure for one channel: caption, canvas, colour bar, hover readout.
export function mapFigure(t, c, { caption, side, scale } = {}) {
  const m = mapCanvas(t, c, { side, scale });
  const readout = el('div', { class: 'readout', text: 'hover a pixel' });
  hover(m.canvas, readout, m.W, m.H,
    (x, y) => `x ${x}, y ${y}: ${fmt(t.data[(y * m.W + x) * m.C + c], 6)}`);
  const fig = el('figure', { class: 'mapfig', 'data-channel': c },
    el('figcaption', { text: caption ?? `channel ${c}` }),
    m.canvas, colorBar(m.scale, m.min, m.max), readout);
  fig.style.width = `${Math.max(parseFloat(m.canvas.style.width) || 0, 150)}px`;
  m.canvas.setAttribute('role', 'img');
  m.canvas.setAttribute('aria-label', `${caption ?? `channel ${c}`}: ${m.W} × ${m.H} map, min ${fmt(m.min)}, max ${fmt(m.max)}`);
  return fig;
}

// Every channel of a [H, W, C] tensor (up to `limit`), each with its own colour bar.
// scales: optional per-channel colour scales (e.g. the input's, so pooled colours compare).
export function renderChannels(container, t, { limit = 64, side, prefix = 'map', scales } = {}) {
  const C = t.shape.length === 3 ? t.shape[2] : 1;
  const grid = el('div', { class: 'mapgrid' });
  for (let c = 0; c < Math.min(C, limit); c++) {
    grid.append(mapFigure(t, c, { caption: `${prefix} ${c}`, side, scale: scales && scales[c] }));
  }
  container.append(grid);
  if (C > limit) container.append(el('p', { class: 'note', text: `… and ${C - limit} more channels (showing the first ${limit}).` }));
  return grid;
}

// An RGB or grayscale image tensor [H, W, C] with values in [0, 1], drawn as an image.
export function imageFigure(t, { caption = 'input', side = 260 } = {}) {
  const [H, W, C] = t.shape;
  const canvas = el('canvas', { class: 'map', width: W, height: H });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < W * H; i++) {
    for (let ch = 0; ch < 3; ch++) img.data[i * 4 + ch] = Math.round(t.data[i * C + (C === 1 ? 0 : ch)] * 255);
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  cssSize(canvas, W, H, side);
  const readout = el('div', { class: 'readout', text: 'hover a pixel' });
  hover(canvas, readout, W, H, (x, y) => {
    const v = [];
    for (let ch = 0; ch < C; ch++) v.push(fmt(t.data[(y * W + x) * C + ch], 3));
    return `x ${x}, y ${y}: ${C === 1 ? v[0] : `(${v.join(', ')})`}`;
  });
  return el('figure', { class: 'mapfig' }, el('figcaption', { text: caption }), canvas, readout);
}

// A bank of kernels [N, KH, KW, C] as heat maps with their numbers: one row per kernel, one
// small grid per input channel; one diverging scale over the whole bank.
export function renderKernels(container, k, { limit = 16 } = {}) {
  const [N, KH, KW, C] = k.shape;
  const [min, max] = minMax(k.data);
  const s = makeScale(min, max, true);
  const nums = KH <= 7 && KW <= 7;
  const wrap = el('div', { class: 'kernels' });
  for (let n = 0; n < Math.min(N, limit); n++) {
    const row = el('div', { class: 'krow' }, el('span', { class: 'klabel', text: `kernel ${n}` }));
    for (let c = 0; c < Math.min(C, 4); c++) {
      const sub = { shape: [KH, KW, 1], data: new Array(KH * KW) };
      for (let i = 0; i < KH * KW; i++) sub.data[i] = k.data[((n * KH * KW) + i) * C + c];
      const m = mapCanvas(sub, 0, { side: nums ? KW * 30 : 90, scale: s, numbers: nums });
      if (nums) m.canvas.style.width = `${KW * 30}px`;
      const readout = el('div', { class: 'readout small', text: `ch ${c}` });
      hover(m.canvas, readout, KW, KH, (x, y) => `[${y},${x}] ${fmt(sub.data[y * KW + x], 6)}`);
      row.append(el('div', { class: 'kcell' }, m.canvas, readout));
    }
    if (C > 4) row.append(el('span', { class: 'note', text: `+${C - 4} channels` }));
    wrap.append(row);
  }
  container.append(wrap);
  if (N > limit) container.append(el('p', { class: 'note', text: `… and ${N - limit} more kernels.` }));
  const bar = colorBar(s, min, max);
  bar.style.maxWidth = '360px';
  container.append(bar);
}
