// A bar chart of a vector on a canvas, with a hover readout and the top entries listed.
import { makeScale, colorOf, cssColor } from './colormap.js';
import { el, fmt, minMax } from './util.js';

export function barChart(values, { caption, width = 640, height = 170, top = 5 } = {}) {
  const n = values.length;
  const [min, max] = minMax(values);
  const s = makeScale(min, max);
  const lo = Math.min(0, min), hi = Math.max(0, max);
  const span = hi - lo || 1;
  const pad = 4;
  const canvas = el('canvas', { class: 'bars', width, height });
  const ctx = canvas.getContext('2d');
  const y0 = pad + ((hi - 0) / span) * (height - 2 * pad);
  const bw = (width - 2 * pad) / n;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const y = pad + ((hi - v) / span) * (height - 2 * pad);
    ctx.fillStyle = cssColor(colorOf(s, s.signed ? v : Math.max(v, s.lo + (s.hi - s.lo) * 0.15)));
    const x = pad + i * bw;
    ctx.fillRect(x, Math.min(y, y0), Math.max(bw - (bw > 4 ? 1 : 0), 1), Math.max(Math.abs(y0 - y), 1));
  }
  ctx.strokeStyle = '#888';
  ctx.beginPath();
  ctx.moveTo(pad, y0 + 0.5);
  ctx.lineTo(width - pad, y0 + 0.5);
  ctx.stroke();

  const readout = el('div', { class: 'readout', text: `${n} values, min ${fmt(min)}, max ${fmt(max)} — hover a bar` });
  const idle = readout.textContent;
  canvas.addEventListener('mousemove', (ev) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor((((ev.clientX - r.left) / r.width) * width - pad) / bw);
    readout.textContent = i >= 0 && i < n ? `[${i}] = ${fmt(values[i], 6)}` : idle;
  });
  canvas.addEventListener('mouseleave', () => { readout.textContent = idle; });

  const order = values.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, Math.min(top, n));
  const list = el('ol', { class: 'top' }, ...order.map(([v, i]) => el('li', { text: `[${i}] ${fmt(v, 5)}` })));
  return el('figure', { class: 'barfig' }, el('figcaption', { text: caption }), canvas, readout,
    top > 0 && n > top ? el('div', { class: 'note', text: `largest ${top}:` }) : null, top > 0 && n > top ? list : null);
}
