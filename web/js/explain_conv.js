// "How is this number made?" for a convolution: pick an output pixel (click a map or step);
// the page lays the kernel over its input window (padding cells shown as zeros), writes out
// the multiply-and-sum with the numbers, adds the bias, applies the activation, and sets the
// result beside the value the server returned. The page's inputs are the exact float32 values
// the server used (the image it sent, the kernels the server returned).
import { explainPanel, verdict, num, paren } from './explain.js';
import { markCells } from './maps.js';
import { writeActivation, activate, ACT_NAMES } from './activation.js';
import { el, fmt } from './util.js';

const LIST_MAX = 7;      // window tables up to 7 x 7
const TERMS_MAX = 25;    // products written out per channel before "..."
const CHANNELS_MAX = 3;  // channels shown in full

// One channel's window: a table of "input × weight" cells (padding cells marked).
function windowTable(cells, KH, KW, c) {
  const rows = [];
  for (let ky = 0; ky < KH; ky++) {
    const tds = [];
    for (let kx = 0; kx < KW; kx++) {
      const t = cells[ky * KW + kx];
      tds.push(el('td', { class: t.pad ? 'pad' : null, title: t.pad ? 'padding: outside the image, counts as 0' : `input at x ${t.ix}, y ${t.iy}` },
        el('span', { class: 'in', text: t.pad ? '0 pad' : num(t.v) }), el('span', { class: 'w', text: `× ${paren(t.w)}` })));
    }
    rows.push(el('tr', {}, ...tds));
  }
  return el('table', { class: 'window' }, el('caption', { text: `channel ${c}: input × kernel` }), el('tbody', {}, ...rows));
}

function writeSum(terms, total) {
  const shown = terms.slice(0, TERMS_MAX).map((t) => `${t.pad ? '0' : num(t.v)} × ${paren(t.w)}`);
  const more = terms.length > TERMS_MAX ? ` + … (${terms.length - TERMS_MAX} more products)` : '';
  return `${shown.join(' + ')}${more} = ${num(total)}`;
}

// The window of output (x, y) of map n, channel by channel: [{cells, sum}] and the absolute
// size of the terms (the scale of rounding errors).
function gather(p, n, x, y) {
  const [H, W, C] = p.input.shape;
  const [, KH, KW] = p.kernels.shape;
  const per = [];
  let mag = 0;
  for (let c = 0; c < C; c++) {
    const cells = [];
    let sum = 0;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        const iy = y * p.stride[0] - p.padding[0] + ky, ix = x * p.stride[1] - p.padding[1] + kx;
        const pad = iy < 0 || ix < 0 || iy >= H || ix >= W;
        const v = pad ? 0 : p.input.data[(iy * W + ix) * C + c];
        const w = p.kernels.data[((n * KH + ky) * KW + kx) * C + c];
        sum += v * w;
        mag += Math.abs(v * w);
        cells.push({ v, w, pad, ix, iy });
      }
    }
    per.push({ cells, sum });
  }
  return { per, mag, KH, KW, C };
}

function explainOne(body, p, n, x, y) {
  const { per, mag, KH, KW, C } = gather(p, n, x, y);
  const [OH, OW, N] = p.output.shape;
  const top = [y * p.stride[0] - p.padding[0], x * p.stride[1] - p.padding[1]];
  const s = per.reduce((a, q) => a + q.sum, 0);
  const b = Array.isArray(p.bias) ? p.bias[n] : p.bias;
  const z = s + b;
  const yv = activate(p.activation, z, p.slope);
  const server = p.output.data[(y * OW + x) * N + n];
  const steps = el('ol', { class: 'sum-steps' });
  per.slice(0, CHANNELS_MAX).forEach((q, c) => steps.append(el('li', { class: 'channel-sum', text: `channel ${c}: ${writeSum(q.cells, q.sum)}` })));
  if (C > CHANNELS_MAX) steps.append(el('li', { text: `channels ${CHANNELS_MAX}–${C - 1}: ${per.slice(CHANNELS_MAX).map((q) => num(q.sum)).join(' + ')}` }));
  if (C > 1) steps.append(el('li', { text: `all ${C} channels: ${per.map((q) => paren(q.sum)).join(' + ')} = ${num(s)}` }));
  steps.append(el('li', { text: `plus the bias: ${num(s)} + ${paren(b)} = ${num(z)}` }));
  steps.append(el('li', { class: 'act-step', text: writeActivation(p.activation, z, p.slope, num) }));
  const tables = KH <= LIST_MAX && KW <= LIST_MAX
    ? el('div', { class: 'windows' }, ...per.slice(0, CHANNELS_MAX).map((q, c) => windowTable(q.cells, KH, KW, c)))
    : el('p', { class: 'note', text: `The window is ${KW} × ${KH}: too big to list cell by cell; the sums below are still complete.` });
  const padCount = per[0].cells.filter((t) => t.pad).length;
  body.replaceChildren(
    el('p', { class: 'where' }, `Output map ${n}, x ${x}, y ${y} (of ${OW} × ${OH}). Its window is the ${KW} × ${KH} input square whose top-left corner is at x ${top[1]}, y ${top[0]}`,
      ` (x·stride − padding)${padCount ? `; ${padCount} of its cells per channel lie outside the image, in the padding, and count as 0` : ''}.`),
    tables, steps,
    el('p', { class: 'page-value', 'data-value': String(yv), 'data-activation': p.activation },
      `${ACT_NAMES[p.activation] || p.activation} output: ${fmt(yv, 7)}`),
    verdict(yv, server, mag + Math.abs(b)));
  return { top, KH, KW };
}

// host: where the explainer goes. p: {input, kernels, output, stride: [sh, sw], padding:
// [ph, pw], bias (number or [N]), activation, slope, inputFig, outputFigs: [figure per map]}
// (the caller may change p before show: the four-activation figure does). Returns {show(n, x, y)}.
export function explainConv(host, p) {
  const [OH, OW, N] = p.output.shape;
  const panel = explainPanel(host, {
    what: 'convolution', hint: 'Click a pixel of an output map, or step the window across with the buttons.',
    step: { W: OW, H: OH, maps: N },
    onChange(n, x, y) {
      const w = explainOne(panel.body, p, n, x, y);
      markCells(p.inputFig, { x: w.top[1], y: w.top[0], w: w.KW, h: w.KH });
      p.outputFigs.forEach((f, i) => f && markCells(f, i === n ? { x, y, w: 1, h: 1 } : null));
    },
  });
  return { show: panel.set };
}
