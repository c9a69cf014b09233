// The confusion matrix of a classifier as a heat-map table: one row per true class, one column
// per predicted class, each cell the number of test images, its colour the share of its row (so
// classes with fewer images compare fairly). The diagonal (right answers) is bold and outlined,
// not marked by colour alone; the text in each cell is black or white, whichever has the higher
// WCAG contrast on its colour (never below 4.5:1). A summary in words says what a screen reader
// cannot see at a glance: the accuracy, the best and worst recognised classes, the commonest
// mistakes.
import { el, fmt } from './util.js';

// ColorBrewer "Blues" (9 classes), white for 0 % of the row, dark blue for 100 %.
const BLUES = [[255, 255, 255], [222, 235, 247], [198, 219, 239], [158, 202, 225], [107, 174, 214],
  [66, 146, 198], [33, 113, 181], [8, 81, 156], [8, 48, 107]];

export function shareColour(t) {
  const x = Math.max(0, Math.min(1, t)) * (BLUES.length - 1);
  const k = Math.min(BLUES.length - 2, Math.floor(x)), f = x - k;
  return BLUES[k].map((v, i) => Math.round(v * (1 - f) + BLUES[k + 1][i] * f));
}

// WCAG relative luminance and the text colour with the higher contrast on rgb.
function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrastText(rgb) {
  const L = luminance(rgb);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#000' : '#fff';
}

const pct = (v) => `${fmt(100 * v, 3)} %`;

// The facts the summary states: [{name, right, total}] per class and the largest off-diagonal cells.
function facts(m, classes) {
  const rows = m.map((row, i) => ({ name: classes[i] ?? `class ${i}`, right: row[i], total: row.reduce((a, b) => a + b, 0) }));
  const mistakes = [];
  m.forEach((row, i) => row.forEach((n, j) => { if (i !== j && n > 0) mistakes.push({ from: rows[i].name, to: classes[j] ?? `class ${j}`, n }); }));
  mistakes.sort((a, b) => b.n - a.n);
  return { rows, mistakes };
}

export function confusionSummary(m, classes) {
  const { rows, mistakes } = facts(m, classes);
  const total = rows.reduce((a, r) => a + r.total, 0), right = rows.reduce((a, r) => a + r.right, 0);
  const ranked = rows.filter((r) => r.total > 0).map((r) => ({ ...r, share: r.right / r.total })).sort((a, b) => b.share - a.share);
  const parts = [`${right} of ${total} test images right (${pct(total ? right / total : 0)}).`];
  if (ranked.length) {
    const best = ranked[0], worst = ranked[ranked.length - 1];
    parts.push(`Best recognised: ${best.name} (${best.right} of ${best.total}, ${pct(best.share)}); hardest: ${worst.name} (${worst.right} of ${worst.total}, ${pct(worst.share)}).`);
  }
  parts.push(mistakes.length
    ? `Commonest mistakes: ${mistakes.slice(0, 3).map((x) => `${x.from} taken for ${x.to} (${x.n})`).join(', ')}.`
    : 'No mistakes.');
  return parts.join(' ');
}

// m: [K][K] counts, rows = true class; classes: K names. caption: what the matrix is of.
export function confusionView(m, classes, { caption, id } = {}) {
  const K = m.length;
  const head = el('tr', {}, el('th', { scope: 'col', class: 'corner' },
    el('span', { 'aria-hidden': 'true', text: 'true ↓ predicted →' }), el('span', { class: 'sr-only', text: 'true class' })));
  for (let j = 0; j < K; j++) {
    head.append(el('th', { scope: 'col', title: classes[j] }, el('span', { 'aria-hidden': 'true', text: String(j) }),
      el('span', { class: 'sr-only', text: `predicted ${classes[j]}` })));
  }
  head.append(el('th', { scope: 'col', text: 'right' }));
  const body = el('tbody');
  let total = 0;
  m.forEach((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    total += n;
    const tr = el('tr', { 'data-total': n }, el('th', { scope: 'row', text: `${i} ${classes[i]}` }));
    row.forEach((v, j) => {
      const share = n ? v / n : 0;
      const bg = shareColour(share);
      tr.append(el('td', {
        class: i === j ? 'diag' : v ? null : 'zero', text: String(v),
        title: `true ${classes[i]}, predicted ${classes[j]}: ${v} (${pct(share)} of the ${classes[i]} images)`,
        style: `background: rgb(${bg.join(',')}); color: ${v ? contrastText(bg) : '#666'}`,
      }));
    });
    tr.append(el('td', { class: 'recall', text: n ? `${Math.round((100 * row[i]) / n)} %` : '–' }));
    body.append(tr);
  });
  const bar = el('div', { class: 'share-bar' },
    el('span', { text: '0 %' }),
    el('span', { class: 'ramp', 'aria-hidden': 'true', style: `background: linear-gradient(to right, ${BLUES.map((c) => `rgb(${c.join(',')})`).join(', ')})` }),
    el('span', { text: '100 % of the row' }));
  return el('figure', { class: 'confusion', id, 'data-total': total },
    el('figcaption', { text: caption }),
    el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'confusion matrix' },
      el('table', { class: 'confusion-table' }, el('caption', { class: 'sr-only', text: `${caption}. Rows: the true class; columns: the class the net predicted.` }),
        el('thead', {}, head), body)),
    el('p', { class: 'note' }, 'Rows: the true class; columns: the predicted class (numbered as the rows). ',
      'Bold, outlined cells are right answers. Colour: the share of the row, ', bar),
    el('p', { class: 'chart-summary confusion-summary', text: `In words: ${confusionSummary(m, classes)}` }));
}
