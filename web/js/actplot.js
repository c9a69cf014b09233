// The four activations of the assignment plotted as functions, each with its own colour and
// line style, with a legend and a text summary.
import { ACTIVATIONS, ACT_NAMES, activate } from './activation.js';
import { lineSample, dashName } from './legend.js';
import { el } from './util.js';

export const ACT_STYLE = {
  relu: { color: '#1f5fa8', dash: [] },
  sigmoid: { color: '#c0392b', dash: [8, 4] },
  tanh: { color: '#1e7b34', dash: [2, 3] },
  leaky_relu: { color: '#7b3fa0', dash: [10, 3, 2, 3] },
};

export function activationPlot({ slope = 0.01, width = 320, height = 220 } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const canvas = el('canvas', { class: 'actplot', width: width * dpr, height: height * dpr, role: 'img',
    'aria-label': 'Plot of ReLU, sigmoid, tanh and leaky ReLU for inputs from −3 to 3' });
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  const x0 = -3, x1 = 3, y0 = -1.25, y1 = 3;
  const pad = { l: 28, r: 8, t: 8, b: 22 };
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => pad.t + ((y1 - y) / (y1 - y0)) * (height - pad.t - pad.b);
  ctx.strokeStyle = '#bbb';
  ctx.fillStyle = '#333';
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (const gx of [-3, -2, -1, 0, 1, 2, 3]) {
    ctx.beginPath(); ctx.moveTo(X(gx), Y(y0)); ctx.lineTo(X(gx), Y(y1)); ctx.stroke();
    ctx.fillText(String(gx), X(gx) - 4, height - 6);
  }
  for (const gy of [-1, 0, 1, 2, 3]) {
    ctx.beginPath(); ctx.moveTo(X(x0), Y(gy)); ctx.lineTo(X(x1), Y(gy)); ctx.stroke();
    ctx.fillText(String(gy), 6, Y(gy) + 4);
  }
  ctx.strokeStyle = '#555';
  ctx.beginPath(); ctx.moveTo(X(x0), Y(0)); ctx.lineTo(X(x1), Y(0)); ctx.moveTo(X(0), Y(y0)); ctx.lineTo(X(0), Y(y1)); ctx.stroke();
  for (const a of ACTIVATIONS) {
    ctx.save();
    ctx.strokeStyle = ACT_STYLE[a].color;
    ctx.setLineDash(ACT_STYLE[a].dash);
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    for (let i = 0; i <= 240; i++) {
      const x = x0 + ((x1 - x0) * i) / 240;
      const y = Math.min(y1, activate(a, x, slope));
      if (i) ctx.lineTo(X(x), Y(y)); else ctx.moveTo(X(x), Y(y));
    }
    ctx.stroke();
    ctx.restore();
  }
  const legend = el('ul', { class: 'legend' }, ...ACTIVATIONS.map((a) => el('li', {},
    lineSample(ACT_STYLE[a].color, ACT_STYLE[a].dash, 2.5), ` ${ACT_NAMES[a]} (${dashName(ACT_STYLE[a].dash)})`)));
  return el('figure', { class: 'actfig' },
    el('figcaption', { text: 'The four activations as functions' }), canvas, legend,
    el('p', { class: 'note chart-summary', text: `ReLU is 0 for negative inputs and the input itself above 0; leaky ReLU is the same but keeps ${slope} × the input below 0; sigmoid squashes every input into (0, 1), 0.5 at 0; tanh squashes into (−1, 1), 0 at 0.` }));
}
