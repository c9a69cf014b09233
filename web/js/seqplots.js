// Pictures of one sequence going through a recurrent net (canvas, each with a text alternative):
// the sequence as a strip of values with the marked steps highlighted, the hidden state as a
// heat map (units x steps), and a set of per-unit traces over the steps (a gate, the cell).
// Shared step geometry: every picture of a sequence puts step t at the same x, so they line up.
import { colorOf, cssColor, makeScale } from './colormap.js';
import { el, fmt } from './util.js';

const LEFT = 56, RIGHT = 10;
const UNIT_COLORS = ['#1f5fa8', '#c0392b', '#1e7b34', '#8e44ad', '#d35400', '#16a085', '#7f8c8d', '#2c3e50'];

// Canvas of CSS size w x h at the device's resolution; returns [canvas, ctx].
function canvas(w, h, label) {
  const dpr = window.devicePixelRatio || 1;
  const c = el('canvas', { class: 'seqplot', width: Math.round(w * dpr), height: Math.round(h * dpr), role: 'img', 'aria-label': label });
  c.style.width = `${w}px`;
  c.style.height = `${h}px`;
  const ctx = c.getContext('2d');
  ctx.scale(dpr, dpr);
  ctx.font = '11px system-ui, sans-serif';
  return [c, ctx];
}

// Step geometry for T steps in a plot of width w: x of the centre of step t (0-based), and the
// width of one step.
export function stepGeometry(T, w) {
  const cw = (w - LEFT - RIGHT) / T;
  return { cw, x: (t) => LEFT + (t + 0.5) * cw, w };
}

function stepAxis(ctx, g, T, y, marked) {
  ctx.fillStyle = '#333';
  ctx.textAlign = 'center';
  const every = Math.max(1, Math.ceil(T / Math.floor((g.w - LEFT - RIGHT) / 28)));
  for (let t = 0; t < T; t++) {
    if (marked[t]) { ctx.fillStyle = '#9a6700'; ctx.fillText(String(t + 1), g.x(t), y); ctx.fillStyle = '#333'; continue; }
    if ((t + 1) % every === 0 || t === 0) ctx.fillText(String(t + 1), g.x(t), y);
  }
}

// Marked steps as pale bands behind a plot area [top, bottom].
function bands(ctx, g, marked, top, bottom) {
  ctx.fillStyle = 'rgba(255, 200, 60, 0.28)';
  marked.forEach((m, t) => { if (m) ctx.fillRect(g.x(t) - g.cw / 2, top, g.cw, bottom - top); });
}

// The sequence: a bar per step of height = value (0..1 scale, taller values clipped), marked
// steps in amber with a dot above.
export function sequenceStrip(x, { width }) {
  const T = x.length, h = 96, g = stepGeometry(T, width);
  const marked = x.map((s) => s[1] !== 0);
  const vals = x.filter((s) => s[1] !== 0).map((s) => fmt(s[0], 3));
  const [c, ctx] = canvas(width, h, `The sequence: ${T} steps, values between ${fmt(Math.min(...x.map((s) => s[0])), 3)} and ${fmt(Math.max(...x.map((s) => s[0])), 3)}; marked steps ${marked.map((m, t) => (m ? t + 1 : 0)).filter(Boolean).join(' and ')} (values ${vals.join(' and ')}).`);
  const top = 14, bottom = h - 18, hi = Math.max(1, ...x.map((s) => s[0]));
  ctx.strokeStyle = '#ccd';
  ctx.beginPath(); ctx.moveTo(LEFT, bottom + 0.5); ctx.lineTo(width - RIGHT, bottom + 0.5); ctx.stroke();
  ctx.fillStyle = '#333'; ctx.textAlign = 'right';
  ctx.fillText('value', LEFT - 6, top + 8);
  ctx.fillText(fmt(hi, 2), LEFT - 6, top + 20);
  ctx.fillText('0', LEFT - 6, bottom);
  for (let t = 0; t < T; t++) {
    const v = Math.max(0, x[t][0]) / hi, bw = Math.max(1, g.cw * 0.7);
    ctx.fillStyle = marked[t] ? '#d99100' : '#7d8fa8';
    ctx.fillRect(g.x(t) - bw / 2, bottom - v * (bottom - top), bw, v * (bottom - top));
    if (marked[t]) { ctx.beginPath(); ctx.arc(g.x(t), top - 6, 4, 0, 2 * Math.PI); ctx.fill(); }
  }
  stepAxis(ctx, g, T, h - 4, marked);
  return c;
}

// The hidden state h [T][H] as a heat map: a row per unit, a column per step, diverging colours
// (tanh keeps h within [-1, 1]), with a colour bar.
export function heatmap(h, { width, marked }) {
  const T = h.length, H = h[0].length, g = stepGeometry(T, width);
  const rowH = Math.max(8, Math.min(24, Math.floor(220 / H))), top = 6, h0 = top + rowH * H, total = h0 + 40;
  const s = makeScale(-1, 1, true);
  const [c, ctx] = canvas(width, total, `Heat map of the hidden state: ${H} units (rows) over ${T} steps (columns); blue negative, red positive, white 0.`);
  for (let j = 0; j < H; j++) {
    for (let t = 0; t < T; t++) {
      ctx.fillStyle = cssColor(colorOf(s, h[t][j]));
      ctx.fillRect(LEFT + t * g.cw, top + j * rowH, Math.ceil(g.cw), rowH);
    }
    ctx.fillStyle = '#333'; ctx.textAlign = 'right';
    if (rowH >= 10 || j % 2 === 0) ctx.fillText(`unit ${j + 1}`, LEFT - 6, top + j * rowH + rowH / 2 + 4);
  }
  ctx.strokeStyle = '#9a6700';
  marked.forEach((m, t) => { if (m) ctx.strokeRect(g.x(t) - g.cw / 2, top, g.cw, rowH * H); });
  stepAxis(ctx, g, T, h0 + 12, marked);
  for (let i = 0; i < 100; i++) { // the colour bar, -1 .. 1
    ctx.fillStyle = cssColor(colorOf(s, -1 + (2 * i) / 99));
    ctx.fillRect(LEFT + i * 2, h0 + 22, 2, 8);
  }
  ctx.fillStyle = '#333'; ctx.textAlign = 'left';
  ctx.fillText('−1', LEFT - 14, h0 + 30); ctx.fillText('0', LEFT + 97, h0 + 40); ctx.fillText('+1', LEFT + 204, h0 + 30);
  return c;
}

// Traces: v [T][H], one line per unit, on [lo, hi] (default: the data's range), marked steps as
// bands behind.
export function traces(v, { width, marked, label, lo, hi }) {
  const T = v.length, H = v[0].length, g = stepGeometry(T, width), h = 110, top = 8, bottom = h - 18;
  const flat = v.flat();
  if (lo === undefined) lo = Math.min(...flat);
  if (hi === undefined) hi = Math.max(...flat);
  if (!(hi > lo)) { hi = lo + 1; }
  const [c, ctx] = canvas(width, h, label);
  bands(ctx, g, marked, top, bottom);
  const y = (val) => bottom - ((val - lo) / (hi - lo)) * (bottom - top);
  ctx.strokeStyle = '#dde'; ctx.beginPath(); ctx.moveTo(LEFT, y(lo) + 0.5); ctx.lineTo(width - RIGHT, y(lo) + 0.5);
  ctx.moveTo(LEFT, y(hi) + 0.5); ctx.lineTo(width - RIGHT, y(hi) + 0.5); ctx.stroke();
  ctx.fillStyle = '#333'; ctx.textAlign = 'right';
  ctx.fillText(fmt(hi, 2), LEFT - 6, y(hi) + 4);
  ctx.fillText(fmt(lo, 2), LEFT - 6, y(lo));
  for (let j = 0; j < H; j++) {
    ctx.strokeStyle = UNIT_COLORS[j % UNIT_COLORS.length];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let t = 0; t < T; t++) (t ? ctx.lineTo : ctx.moveTo).call(ctx, g.x(t), y(v[t][j]));
    ctx.stroke();
  }
  stepAxis(ctx, g, T, h - 4, marked);
  return c;
}

export { UNIT_COLORS };
