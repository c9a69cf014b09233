// The first conv layer's filters during training: each filter a small heat map with its numbers,
// all on ONE diverging colour scale (blue < 0 < red, symmetric around 0) stated beside them, so
// filters compare by colour; redrawn every epoch, with how far the weights moved since the last.
import { colorBar, kernelCanvas, kernelScale } from './maps.js';
import { el, fmt } from './util.js';

// The largest |k - prev| over the bank (null when the shapes differ or there is no prev).
function largestChange(k, prev) {
  if (!prev || prev.data.length !== k.data.length) return null;
  let d = 0;
  for (let i = 0; i < k.data.length; i++) d = Math.max(d, Math.abs(k.data[i] - prev.data[i]));
  return d;
}

// k: {shape: [N, KH, KW, C], data}; prev: the previous epoch's bank (or null).
export function filtersView(k, { epoch, prev = null, id } = {}) {
  const [N, KH, KW, C] = k.shape;
  const { scale, min, max } = kernelScale(k);
  const grid = el('div', { class: 'filter-grid' });
  const shown = Math.min(C, 3);
  for (let n = 0; n < N; n++) {
    const cell = el('div', { class: 'filter', 'data-filter': n }, el('span', { class: 'klabel', text: `filter ${n}` }));
    for (let c = 0; c < shown; c++) cell.append(kernelCanvas(k, n, c, scale, { cell: KH <= 5 ? 28 : 12 }));
    grid.append(cell);
  }
  const change = largestChange(k, prev);
  const scaleText = `One colour scale for all ${N} filters of this layer: blue negative, white 0, red positive, from ${fmt(scale.lo)} to ${fmt(scale.hi)} (the weights lie between ${fmt(min)} and ${fmt(max)}).`;
  const bar = colorBar(scale, min, max);
  bar.classList.add('filter-bar');
  return el('figure', { class: 'filters', id, 'data-epoch': epoch },
    el('figcaption', { text: `The first layer's ${N} filters (${KH} × ${KW}${C > 1 ? ` × ${C}, first ${shown} channels` : ''}) after epoch ${epoch}` }),
    grid, bar,
    el('p', { class: 'note filter-scale', text: scaleText }),
    el('p', { class: 'note filter-change', text: change === null ? 'Each epoch redraws them: watch the random start turn into edge and blob detectors.'
      : `The largest change of a weight since the previous epoch: ${fmt(change)}.` }));
}
