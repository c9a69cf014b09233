// A bar chart of a vector on a canvas, with a readout (hover, or tap / click: onPick(i)), the
// largest entries listed, and a text summary for screen readers.
import { makeScale, colorOf, cssColor } from './colormap.js';
import { el, fmt, minMax } from './util.js';

export function barChart(values, { caption, width = 640, height = 170, top = 5, onPick } = {}) {
  const n = values.length;
  const [min, max] = minMax(values);
  const s = makeScale(min, max);
  const lo = Math.min(0, min), hi = Math.max(0, max);
  const span = hi - lo || 1;
  const pad = 4;
  const order = values.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, Math.min(top || 3, n));
  const summary = `${caption}: ${n} values from ${fmt(min)} to ${fmt(max)}; largest ${order.map(([v, i]) => `[${i}] ${fmt(v)}`).join(', ')}`;
  const canvas = el('canvas', { class: `bars${onPick ? ' pickable' : ''}`, width, height, role: 'img', 'aria-label': summary });
  const ctx = canvas.getContext('2d');
  const y0 = pad + (hi / span) * (height - 2 * pad);
  const bw = (width - 2 * pad) / n;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const y = pad + ((hi - v) / span) * (height - 2 * pad);
    ctx.fillStyle = cssColor(colorOf(s, s.signed ? v : Math.max(v, s.lo + (s.hi - s.lo) * 0.15)));
    ctx.fillRect(pad + i * bw, Math.min(y, y0), Math.max(bw - (bw > 4 ? 1 : 0), 1), Math.max(Math.abs(y0 - y), 1));
  }
  ctx.strokeStyle = '#888';
  ctx.beginPath();
  ctx.moveTo(pad, y0 + 0.5);
  ctx.lineTo(width - pad, y0 + 0.5);
  ctx.stroke();

  const readout = el('div', { class: 'readout', text: `${n} values, min ${fmt(min)}, max ${fmt(max)} — hover or tap a bar` });
  let kept = readout.textContent;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor((((ev.clientX - r.left) / r.width) * width - pad) / bw);
    return i >= 0 && i < n ? i : -1;
  };
  canvas.addEventListener('pointermove', (ev) => {
    if (ev.pointerType !== 'mouse') return;
    const i = at(ev);
    readout.textContent = i >= 0 ? `[${i}] = ${fmt(values[i], 6)}` : kept;
  });
  canvas.addEventListener('pointerleave', () => { readout.textContent = kept; });
  canvas.addEventListener('click', (ev) => {
    const i = at(ev);
    if (i < 0) return;
    kept = readout.textContent = `[${i}] = ${fmt(values[i], 6)}`;
    if (onPick) onPick(i);
  });
  const list = el('ol', { class: 'top' }, ...order.map(([v, i]) => el('li', { text: `[${i}] ${fmt(v, 5)}` })));
  return el('figure', { class: 'barfig' }, el('figcaption', { text: caption }), canvas, readout,
    top > 0 && n > top ? el('div', { class: 'note', text: `largest ${top}:` }) : null, top > 0 && n > top ? list : null);
}
