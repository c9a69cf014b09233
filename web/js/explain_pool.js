// "How is this number made?" for pooling: the window of the chosen pooled value, its numbers,
// the maximum (marked) or the average written out, and the server's value beside it.
import { explainPanel, verdict, num, paren } from './explain.js';
import { markCells } from './maps.js';
import { el, fill, fmt } from './util.js';

const LIST_MAX = 12;

function windowValues(p, c, x, y) {
  const [, W, C] = p.input.shape;
  const v = [];
  for (let ky = 0; ky < p.size[0]; ky++) {
    for (let kx = 0; kx < p.size[1]; kx++) {
      const iy = y * p.stride[0] + ky, ix = x * p.stride[1] + kx;
      v.push({ v: p.input.data[(iy * W + ix) * C + c], ix, iy });
    }
  }
  return v;
}

function table(vals, KH, KW, pick) {
  const rows = [];
  for (let ky = 0; ky < KH; ky++) {
    rows.push(el('tr', {}, ...vals.slice(ky * KW, ky * KW + KW).map((t, i) =>
      el('td', { class: ky * KW + i === pick ? 'picked' : null, text: num(t.v) }))));
  }
  return el('table', { class: 'window' }, el('caption', { text: 'the window' }), el('tbody', {}, ...rows));
}

function explainOne(body, p, c, x, y) {
  const [OH, OW, C] = p.output.shape;
  const vals = windowValues(p, c, x, y);
  const [KH, KW] = p.size;
  let value, pick = -1, text;
  if (p.fn === 'max') {
    vals.forEach((t, i) => { if (pick < 0 || t.v > vals[pick].v) pick = i; });
    value = vals[pick].v;
    const shown = vals.length <= 25 ? vals.map((t) => num(t.v)).join(', ') : `${vals.length} values`;
    text = `max(${shown}) = ${num(value)} (the first largest, at x ${vals[pick].ix}, y ${vals[pick].iy})`;
  } else {
    const s = vals.reduce((a, t) => a + t.v, 0);
    value = s / vals.length;
    const shown = vals.length <= 25 ? vals.map((t) => paren(t.v)).join(' + ') : `the ${vals.length} values`;
    text = `(${shown}) / ${vals.length} = ${num(s)} / ${vals.length} = ${num(value)}`;
  }
  fill(body,
    el('p', { class: 'where', text: `Pooled value at x ${x}, y ${y} of channel ${c} (of ${OW} × ${OH} × ${C}): the ${KW} × ${KH} window whose top-left corner is at x ${x * p.stride[1]}, y ${y * p.stride[0]} (x·stride).` }),
    KH <= LIST_MAX && KW <= LIST_MAX ? table(vals, KH, KW, pick) : null,
    el('ol', { class: 'sum-steps' }, el('li', { text })),
    el('p', { class: 'page-value', 'data-value': String(value) }, `${p.fn === 'max' ? 'maximum' : 'average'}: ${fmt(value, 7)}`),
    verdict(value, p.output.data[(y * OW + x) * C + c], Math.abs(value) + 1));
  return { x: x * p.stride[1], y: y * p.stride[0], w: KW, h: KH };
}

// p: {input [H, W, C], output [OH, OW, C], fn: "max" | "average", size: [kh, kw], stride:
// [sh, sw], inputFigs, outputFigs (one per channel)}.
export function explainPool(host, p) {
  const [OH, OW, C] = p.output.shape;
  const panel = explainPanel(host, {
    what: 'pooling', hint: 'Click a pooled value, or step the window across with the buttons.',
    step: { W: OW, H: OH, maps: C, mapLabel: 'Channel' },
    onChange(c, x, y) {
      const r = explainOne(panel.body, p, c, x, y);
      p.inputFigs.forEach((f, i) => f && markCells(f, i === c ? r : null));
      p.outputFigs.forEach((f, i) => f && markCells(f, i === c ? { x, y, w: 1, h: 1 } : null));
    },
  });
  return { show: panel.set };
}

// Global pooling of channel c, written out (no window: the whole map).
export function explainGlobal(host, { input, output, fn }) {
  const [H, W, C] = input.shape;
  const panel = explainPanel(host, {
    what: 'global pooling', hint: 'Click a bar (one per channel).', step: null,
    onChange(c) {
      let s = 0, best = -Infinity, at = 0;
      for (let i = 0; i < H * W; i++) {
        const v = input.data[i * C + c];
        s += v;
        if (v > best) { best = v; at = i; }
      }
      const value = fn === 'max' ? best : s / (H * W);
      const text = fn === 'max'
        ? `the largest of the ${H * W} values of channel ${c} is ${num(best)}, at x ${at % W}, y ${Math.floor(at / W)}`
        : `the ${H * W} values of channel ${c} add up to ${num(s)}; ${num(s)} / ${H * W} = ${num(value)}`;
      fill(panel.body, el('ol', { class: 'sum-steps' }, el('li', { text })),
        el('p', { class: 'page-value', 'data-value': String(value) }, `channel ${c}: ${fmt(value, 7)}`),
        verdict(value, output.data[c], Math.abs(value) + 1));
    },
  });
  return { show: panel.set };
}
