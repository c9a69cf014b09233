// The adding problem, shown: a sequence as a strip of (value, marker) steps with the two marked
// values highlighted and the target written out, and (after training) each model's prediction.
import { el, fmt, rng } from './util.js';

// A sequence of T steps drawn here as the server draws them (values uniform in [0, 1), two
// distinct marked steps): only for showing what the data look like.
export function exampleSequence(seed, T) {
  const r = rng(seed);
  const x = Array.from({ length: T }, () => [Math.round(r() * 1000) / 1000, 0]);
  const a = Math.floor(r() * T);
  let b = Math.floor(r() * (T - 1));
  if (b >= a) b++;
  x[a][1] = x[b][1] = 1;
  return { x, y: x[a][0] + x[b][0] };
}

// A table: one column per step; rows "value" and "marker"; marked steps highlighted.
// preds: [{name, pred}] to list under the target.
export function sequenceTable(seq, { caption, preds = [] } = {}) {
  const marked = seq.x.map((s) => s[1] === 1);
  const vals = seq.x.filter((s) => s[1] === 1).map((s) => fmt(s[0], 3));
  return el('div', { class: 'seq' },
    el('p', { class: 'seq-caption', text: caption }),
    el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption }, el('table', { class: 'sequence' },
      el('tbody', {},
        el('tr', {}, el('th', { scope: 'row', text: 'step' }), ...seq.x.map((_, t) => el('td', { class: marked[t] ? 'marked' : null, text: String(t + 1) }))),
        el('tr', {}, el('th', { scope: 'row', text: 'value' }), ...seq.x.map((s, t) => el('td', { class: marked[t] ? 'marked' : null, text: fmt(s[0], 3) }))),
        el('tr', {}, el('th', { scope: 'row', text: 'marker' }), ...seq.x.map((s, t) => el('td', { class: marked[t] ? 'marked' : null, text: String(s[1]) })))))),
    el('p', { class: 'target' }, `target = ${vals.join(' + ')} = `, el('strong', { text: fmt(seq.y, 4) }),
      ...preds.map((p) => el('span', { class: 'pred', 'data-model': p.model }, ` · ${p.name} predicts `, el('strong', { text: fmt(p.pred, 4) })))));
}
