// A live loss chart (uPlot) for training views: series grow as points stream in; each run keeps
// its curves so later runs overlay earlier ones (drawn faded, each can be hidden); the baseline
// is drawn dark and labelled ON the plot; the legend shows every line's colour and style; one
// number format per axis; a text summary of the curves; export as PNG and CSV.
// Used by the recurrent-net training view; a training view of another model makes its own chart
// with its own series (createLossChart is not tied to the adding problem).
import { lineSample, dashName, drawSample } from './legend.js';
import { el, fmt } from './util.js';

// One format for every label of an axis: plain decimals with the same number of places, or, when
// the values span several decades or are tiny, the same exponent notation for all.
export function axisLabels(splits) {
  const vals = splits.filter((v) => v !== null && v !== undefined && Number.isFinite(v) && v !== 0).map(Math.abs);
  if (!vals.length) return splits.map((v) => (v === 0 ? '0' : ''));
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const digits = (f) => { for (let d = 0; d < 6; d++) if (splits.every((v) => v === null || v === undefined || Number(f(v, d)) === v || Math.abs(Number(f(v, d)) - v) <= Math.abs(v) * 1e-9)) return d; return 6; };
  if (lo < 1e-3 || hi >= 1e5 || hi / lo >= 1000) {
    const d = digits((v, k) => v.toExponential(k));
    return splits.map((v) => (v === null || v === undefined ? '' : v === 0 ? '0' : v.toExponential(d).replace('e+', 'e')));
  }
  const d = digits((v, k) => v.toFixed(k));
  return splits.map((v) => (v === null || v === undefined ? '' : v.toFixed(d)));
}

const fade = (hex, a) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
};

function download(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// host: an element to fill. Options: title, xLabel, yLabel, log (initial), file (download name),
// better: 'lower' (a loss) or 'higher' (an accuracy), for the summary's words about the baseline.
export function createLossChart(host, { title = 'Loss', xLabel = 'epoch', yLabel = 'loss', log = true, file = 'curves', better = 'lower' } = {}) {
  const plot = el('div', { class: 'chart', 'data-points': '0' });
  const readout = el('div', { class: 'readout chart-readout', text: 'hover the chart to read values' });
  const legend = el('ul', { class: 'legend' });
  const summary = el('p', { class: 'chart-summary' });
  const pngBtn = el('button', { type: 'button', class: 'secondary small', text: 'Download PNG' });
  const csvBtn = el('button', { type: 'button', class: 'secondary small', text: 'Download CSV' });
  const clearBtn = el('button', { type: 'button', class: 'secondary small', text: 'Clear earlier runs' });
  const tools = el('div', { class: 'chart-tools' }, pngBtn, csvBtn, clearBtn);
  const fig = el('figure', { class: 'losschart' }, el('figcaption', { text: title }), plot, readout, legend, summary, tools);
  host.append(fig);
  fig.hidden = true;

  let runs = [];          // [{id, label, visible, series: [{name, color, dash, width, points}]}]
  let baseline = null;    // {value, label}
  let chart = null, dirty = true, pending = false, logScale = log, nextId = 1;

  const current = () => runs[runs.length - 1];
  const visibleSeries = () => runs.filter((r) => r.visible).flatMap((r) => r.series.map((s) => ({ run: r, s })));
  const big = () => document.body.classList.contains('present');

  function columns() {
    const xs = new Set();
    for (const { s } of visibleSeries()) for (const [x] of s.points) xs.add(x);
    const X = [...xs].sort((a, b) => a - b);
    const idx = new Map(X.map((x, i) => [x, i]));
    const cols = [X];
    let points = 0;
    for (const { s } of visibleSeries()) {
      const col = new Array(X.length).fill(null);
      for (const [x, v] of s.points) if (!logScale || v > 0) col[idx.get(x)] = v;
      points += s.points.length;
      cols.push(col);
    }
    cols.push(X.map(() => (baseline ? baseline.value : null)));
    return { cols, points };
  }

  // The baseline's name and value on the plot, at its right end, outlined in white so the
  // curves under it stay visible.
  function drawBaselineLabel(u) {
    if (!baseline) return;
    const y = u.valToPos(baseline.value, 'y', true);
    const { left, top, width, height } = u.bbox;
    if (!Number.isFinite(y) || y < top || y > top + height) return;
    const dpr = devicePixelRatio || 1, px = (big() ? 20 : 13) * dpr;
    const ctx = u.ctx;
    const text = `${baseline.label}: ${fmt(baseline.value)}`;
    ctx.save();
    ctx.font = `600 ${px}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    // Above the line, unless most curves end above it (then below, out of their way).
    const ends = visibleSeries().map(({ s }) => s.points[s.points.length - 1]).filter(Boolean);
    const above = ends.filter(([, v]) => v > baseline.value).length;
    const below = above * 2 <= ends.length ? y - 4 * dpr < top + px : y + px + 4 * dpr <= top + height;
    const x = left + width - 6 * dpr, ty = below ? y + px + 4 * dpr : y - 4 * dpr;
    ctx.lineWidth = 4 * dpr;
    ctx.lineJoin = 'round';
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    ctx.strokeText(text, x, ty);
    ctx.fillStyle = '#1b1f24';
    ctx.fillText(text, x, ty);
    ctx.restore();
    plot.dataset.baselineLabel = text;   // what was drawn, for tests
  }

  function showCursor(u) {
    const i = u.cursor.idx;
    if (i === null || i === undefined) { readout.textContent = 'hover the chart to read values'; return; }
    const parts = visibleSeries().map(({ run, s }, k) => [run, s, u.data[k + 1][i]]).filter(([, , v]) => v !== null && v !== undefined)
      .map(([run, s, v]) => `${runs.length > 1 ? `run ${run.id} ` : ''}${s.name} ${fmt(v)}`);
    readout.textContent = `${xLabel} ${fmt(u.data[0][i], 3)}: ${parts.join(' · ') || '–'}`;
  }

  function build() {
    if (chart) { chart.destroy(); chart = null; }
    plot.replaceChildren();
    dirty = false;
    if (!runs.length || typeof uPlot === 'undefined') return;
    const font = big() ? '18px system-ui, sans-serif' : '12px system-ui, sans-serif';
    const series = [{ label: xLabel }];
    for (const { run, s } of visibleSeries()) {
      const old = run !== current();
      series.push({ label: s.name, stroke: old ? fade(s.color, 0.4) : s.color, width: (old ? 1.5 : s.width) * (big() ? 1.5 : 1),
        dash: s.dash, spanGaps: true, points: { show: s.dash.length > 0 && !old, size: big() ? 7 : 5 } });
    }
    series.push({ label: baseline ? baseline.label : 'baseline', stroke: '#222', width: big() ? 3 : 2, dash: [3, 4], points: { show: false } });
    const axis = (label) => ({ label, font, labelFont: `600 ${font}`, stroke: '#1b1f24', size: big() ? 80 : 60,
      values: (u, splits) => axisLabels(splits) });
    const { cols, points } = columns();
    chart = new uPlot({
      width: Math.max(280, plot.clientWidth || 600), height: big() ? 460 : 320, series,
      legend: { show: false },
      scales: { x: { time: false }, y: logScale ? { distr: 3 } : { auto: true } },
      axes: [axis(xLabel), axis(logScale ? `${yLabel} (log scale)` : yLabel)],
      hooks: { draw: [drawBaselineLabel], setCursor: [showCursor] },
    }, cols, plot);
    plot.dataset.points = String(points);
  }

  // The legend as data: [{text, color?, dash?, width?, run?}] (run: a toggle for an earlier run).
  function legendEntries() {
    const items = [];
    for (const r of runs) {
      if (r !== current()) { items.push({ text: `run ${r.id} (faded): ${r.label}`, run: r }); continue; }
      items.push({ text: `run ${r.id}${runs.length > 1 ? ' (this run)' : ''}: ${r.label}` });
      for (const s of r.series) items.push({ text: `${s.name} (${dashName(s.dash)})`, color: s.color, dash: s.dash, width: s.width });
    }
    if (baseline) items.push({ text: `${baseline.label} (dotted, dark): ${fmt(baseline.value)}`, color: '#222', dash: [3, 4], width: 2, baseline: true });
    return items;
  }

  function renderLegend() {
    legend.replaceChildren(...legendEntries().map((it) => {
      if (it.run) {
        const r = it.run;
        const box = el('input', { type: 'checkbox', checked: r.visible, id: `run-${r.id}-show`, 'data-nourl': '' });
        box.addEventListener('change', () => { r.visible = box.checked; dirty = true; update(); });
        return el('li', { class: 'earlier' }, box, el('label', { for: box.id, text: ` ${it.text}` }));
      }
      if (!it.color) return el('li', { class: 'run-head', text: it.text });
      return el('li', { class: it.baseline ? 'baseline' : null }, lineSample(it.color, it.dash, it.width), ` ${it.text}`);
    }));
  }

  // In words: each summarised series (the test curves) from its first to its last value.
  function summarise() {
    const parts = [];
    for (const r of runs.filter((x) => x.visible)) {
      const curves = r.series.filter((q) => q.summary && q.points.length).map((q) => {
        const [x0, v0] = q.points[0], [x1, v1] = q.points[q.points.length - 1];
        const side = better === 'higher' ? 'above' : 'below';
        const beats = better === 'higher' ? v1 > baseline?.value : v1 < baseline?.value;
        const vs = baseline ? `${beats ? '' : 'not '}${side} the baseline` : '';
        const from = q.points.length > 1 ? `${fmt(v0)} at ${xLabel} ${fmt(x0, 3)} → ` : '';
        return `${q.name} ${from}${fmt(v1)} at ${xLabel} ${fmt(x1, 3)}${vs ? ` (${vs})` : ''}`;
      });
      if (curves.length) parts.push(`${runs.length > 1 ? `run ${r.id}: ` : ''}${curves.join('; ')}`);
    }
    summary.textContent = parts.length ? `In words: ${parts.join('. ')}.${baseline ? ` The ${baseline.label} is ${fmt(baseline.value)}.` : ''}` : '';
  }

  function update() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fig.hidden = !runs.length;
      if (dirty || !chart) { build(); renderLegend(); } else {
        const { cols, points } = columns();
        chart.setData(cols);
        plot.dataset.points = String(points);
      }
      summarise();
    });
  }

  new ResizeObserver(() => { if (chart && plot.clientWidth) chart.setSize({ width: plot.clientWidth, height: big() ? 460 : 320 }); }).observe(plot);
  document.addEventListener('nnlab:present', () => { dirty = true; update(); });

  function toCSV() {
    const rows = [['run', 'settings', 'series', xLabel, yLabel]];
    for (const r of runs) for (const s of r.series) for (const [x, v] of s.points) rows.push([r.id, r.label, s.name, x, v]);
    if (baseline) rows.push(['', '', baseline.label, '', baseline.value]);
    return rows.map((row) => row.map((c) => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';
  }

  function toPNG() {
    if (!chart) return Promise.resolve(null);
    const src = chart.ctx.canvas, dpr = devicePixelRatio || 1;
    const items = legendEntries();
    const lh = 20 * dpr;
    const c = el('canvas', { width: src.width, height: src.height + (items.length + 2) * lh });
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.fillStyle = '#1b1f24';
    ctx.font = `600 ${14 * dpr}px system-ui, sans-serif`;
    ctx.fillText(title, 8 * dpr, lh);
    ctx.drawImage(src, 0, lh * 1.4);
    ctx.font = `${12 * dpr}px system-ui, sans-serif`;
    let y = src.height + lh * 2;
    for (const it of items) {
      if (it.color) drawSample(ctx, 8 * dpr, y - 4 * dpr, it.color, it.dash.map((d) => d * dpr), it.width * dpr);
      ctx.fillStyle = '#1b1f24';
      ctx.fillText(it.text, 44 * dpr, y);
      y += lh;
    }
    return new Promise((resolve) => c.toBlob(resolve, 'image/png'));
  }

  pngBtn.addEventListener('click', async () => { const b = await toPNG(); if (b) download(b, `${file}.png`); });
  csvBtn.addEventListener('click', () => download(new Blob([toCSV()], { type: 'text/csv' }), `${file}.csv`));
  clearBtn.addEventListener('click', () => { runs = runs.slice(-1); dirty = true; update(); });

  return {
    element: fig,
    // A new run (the earlier ones stay, faded). label: its settings in words.
    newRun(label) {
      const r = { id: nextId++, label, visible: true, series: [] };
      runs.push(r);
      dirty = true;
      update();
      return r;
    },
    // A series of run r: {name, color, dash (canvas dash array, [] = solid), width, summary (told
    // in the text summary; default true)}.
    addSeries(r, spec) {
      const s = { dash: [], width: 2, summary: true, ...spec, points: [] };
      r.series.push(s);
      dirty = true;
      update();
      return { push(x, v) { if (Number.isFinite(x) && Number.isFinite(v)) { s.points.push([x, v]); update(); } }, points: s.points };
    },
    setBaseline(value, label) {
      if (!Number.isFinite(value)) return;
      if (!baseline || baseline.value !== value || baseline.label !== label) { baseline = { value, label }; dirty = true; update(); }
    },
    setLog(on) { logScale = on; dirty = true; update(); },
    toCSV,
  };
}
