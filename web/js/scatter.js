// Predictions against targets: one point per test sequence and model, the diagonal where a
// perfect prediction lies, and the baseline's constant prediction as a line.
import { lineSample } from './legend.js';
import { el, fmt } from './util.js';

const MARKS = ['circle', 'square', 'triangle'];

function mark(ctx, shape, x, y, r) {
  ctx.beginPath();
  if (shape === 'square') ctx.rect(x - r, y - r, 2 * r, 2 * r);
  else if (shape === 'triangle') { ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath(); } else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.stroke();
}

// groups: [{name, color, points: [{y, pred}]}]; baseline: the constant prediction (or null).
export function predictionPlot(groups, { baseline = 1, size = 300 } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const all = groups.flatMap((g) => g.points.flatMap((p) => [p.y, p.pred]));
  const lo = Math.min(0, ...all), hi = Math.max(2, ...all);
  const pad = 34;
  const canvas = el('canvas', { class: 'scatter', width: size * dpr, height: size * dpr, role: 'img' });
  canvas.style.width = canvas.style.height = `${size}px`;
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  const P = (v) => pad + ((v - lo) / (hi - lo)) * (size - pad - 8);
  const Q = (v) => size - pad - ((v - lo) / (hi - lo)) * (size - pad - 8);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#333';
  ctx.strokeStyle = '#ccc';
  for (let t = Math.ceil(lo * 2) / 2; t <= hi; t += 0.5) {
    ctx.beginPath(); ctx.moveTo(P(t), Q(lo)); ctx.lineTo(P(t), Q(hi)); ctx.moveTo(P(lo), Q(t)); ctx.lineTo(P(hi), Q(t)); ctx.stroke();
    ctx.fillText(t.toFixed(1), P(t) - 8, size - pad + 14);
    ctx.fillText(t.toFixed(1), 4, Q(t) + 4);
  }
  ctx.fillText('target (the true sum)', size / 2 - 40, size - 4);
  ctx.save(); ctx.translate(10, size / 2 + 30); ctx.rotate(-Math.PI / 2); ctx.fillText('prediction', 0, 0); ctx.restore();
  ctx.strokeStyle = '#222'; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
  ctx.beginPath(); ctx.moveTo(P(lo), Q(lo)); ctx.lineTo(P(hi), Q(hi)); ctx.stroke();
  if (baseline !== null) { ctx.setLineDash([2, 3]); ctx.beginPath(); ctx.moveTo(P(lo), Q(baseline)); ctx.lineTo(P(hi), Q(baseline)); ctx.stroke(); }
  ctx.setLineDash([]);
  groups.forEach((g, k) => {
    ctx.strokeStyle = g.color;
    ctx.lineWidth = 1.5;
    for (const p of g.points) mark(ctx, MARKS[k % MARKS.length], P(p.y), Q(p.pred), 3.5);
  });
  const err = (g) => Math.sqrt(g.points.reduce((a, p) => a + (p.pred - p.y) ** 2, 0) / Math.max(1, g.points.length));
  const words = groups.map((g) => `${g.name}: typical error ${fmt(err(g), 2)}`).join('; ');
  canvas.setAttribute('aria-label', `Predictions against targets for ${groups[0] ? groups[0].points.length : 0} test sequences. ${words}.`);
  return el('figure', { class: 'scatterfig' },
    el('figcaption', { text: `Predictions against targets (the first ${groups[0] ? groups[0].points.length : 0} test sequences)` }),
    canvas,
    el('ul', { class: 'legend' },
      ...groups.map((g, k) => el('li', {}, el('span', { class: `mark mark-${MARKS[k % MARKS.length]}`, style: `border-color:${g.color}` }), ` ${g.name}`)),
      el('li', {}, lineSample('#222', [6, 4], 1.5), ' perfect prediction (dashed diagonal)'),
      baseline !== null ? el('li', {}, lineSample('#222', [2, 3], 1.5), ` the baseline: always ${baseline} (dotted)`) : null),
    el('p', { class: 'chart-summary', text: `In words: points on the diagonal are exact predictions. ${words} (root-mean-square distance from the diagonal).` }));
}
