// Training section: POST /train/{rnn,lstm,gru} with "stream": true, read the NDJSON with
// fetch + ReadableStream, grow the curves live in one uPlot chart (with the baseline), stop =
// abort the fetch (the server cancels a run whose client disconnects), final table at the end.
import { ApiError, clearErrors, showError } from './api.js';
import { $, el, fmt, intValue } from './util.js';

const MODELS = ['rnn', 'lstm', 'gru'];
const COLORS = { rnn: '#1f77b4', lstm: '#d62728', gru: '#2ca02c' };
const NAMES = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); reject(new DOMException('aborted', 'AbortError')); }, { once: true });
});

// Read an NDJSON body line by line, calling onLine with each parsed object.
async function readNdjson(body, onLine) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  if (buf.trim()) onLine(JSON.parse(buf));
}

export function initTrain() {
  const section = $('#train');
  const form = $('#train-form');
  const f = form.elements;
  const chartBox = $('#train-chart');
  const statusBox = $('#train-status');
  const tableBox = $('#train-table');
  const startBtn = $('#train-start');
  const stopBtn = $('#train-stop');

  let runs = [];          // [{model, ctrl, prog: [[x, train loss]], test: [[x, test loss]], status, state, done}]
  let baseline = null;
  let chart = null;
  let pending = false;

  // uPlot wants one sorted x array shared by all series; merge every series' points onto it.
  function chartData() {
    const xs = new Set();
    for (const r of runs) for (const s of [r.prog, r.test]) for (const [x] of s) xs.add(x);
    const X = [...xs].sort((a, b) => a - b);
    const idx = new Map(X.map((x, i) => [x, i]));
    const cols = [X];
    let points = 0;
    for (const r of runs) {
      for (const s of [r.prog, r.test]) {
        const col = new Array(X.length).fill(null);
        for (const [x, v] of s) col[idx.get(x)] = v;
        for (const v of col) if (v !== null) points++;
        cols.push(col);
      }
    }
    cols.push(X.map(() => baseline));
    return { cols, points };
  }

  function makeChart() {
    if (chart) { chart.destroy(); chart = null; }
    chartBox.replaceChildren();
    if (!runs.length || typeof uPlot === 'undefined') return;
    const series = [{ label: 'epoch', value: (u, v) => (v === null || v === undefined ? '–' : fmt(v, 3)) }];
    for (const r of runs) {
      series.push({ label: `${NAMES[r.model]} train`, stroke: COLORS[r.model], width: 1.5, spanGaps: true,
        value: (u, v) => (v === null || v === undefined ? '–' : fmt(v)) });
      series.push({ label: `${NAMES[r.model]} test`, stroke: COLORS[r.model], width: 2, dash: [6, 4], spanGaps: true,
        points: { show: true, size: 5 }, value: (u, v) => (v === null || v === undefined ? '–' : fmt(v)) });
    }
    series.push({ label: 'baseline (predict 1)', stroke: '#777', width: 1, dash: [2, 3], points: { show: false },
      value: (u, v) => (v === null || v === undefined ? '–' : fmt(v)) });
    const log = f.log.checked;
    const opts = {
      width: Math.max(280, chartBox.clientWidth || 600),
      height: 320,
      series,
      scales: { x: { time: false }, y: log ? { distr: 3 } : { auto: true } },
      axes: [{ label: 'epoch' }, { label: log ? 'MSE (log scale)' : 'MSE', size: 60,
        values: (u, vals) => vals.map((v) => (v === null || v === undefined ? '' : fmt(v, 3))) }],
      legend: { live: true },
    };
    const { cols, points } = chartData();
    chart = new uPlot(opts, cols, chartBox);
    chartBox.dataset.points = String(points);
  }

  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (!chart) makeChart();
      if (!chart) return;
      const { cols, points } = chartData();
      chart.setData(cols);
      chartBox.dataset.points = String(points);
    });
  }

  new ResizeObserver(() => {
    if (chart && chartBox.clientWidth) chart.setSize({ width: chartBox.clientWidth, height: 320 });
  }).observe(chartBox);
  f.log.addEventListener('change', () => { if (runs.length) makeChart(); });

  function renderStatus() {
    statusBox.replaceChildren(...runs.map((r) => el('div', { class: `run-status ${r.state}`, 'data-model': r.model },
      el('span', { class: 'swatch', style: `background:${COLORS[r.model]}` }), ` ${NAMES[r.model]}: ${r.status}`)));
  }

  function renderTable() {
    const done = runs.filter((r) => r.done);
    if (!done.length) { tableBox.replaceChildren(); return; }
    const pct = (a) => (a === undefined || a === null ? '–' : a <= 1 ? `${(a * 100).toFixed(1)} %` : fmt(a));
    const last = (a) => (Array.isArray(a) && a.length ? a[a.length - 1] : undefined);
    tableBox.replaceChildren(el('table', { id: 'train-results' },
      el('caption', { text: 'Final results (after the last epoch)' }),
      el('thead', {}, el('tr', {}, ...['model', 'epochs', 'train MSE', 'test MSE', 'baseline MSE', 'test accuracy', 'time']
        .map((h) => el('th', { text: h })))),
      el('tbody', {}, ...done.map((r) => el('tr', { 'data-model': r.model },
        el('td', { text: NAMES[r.model] }),
        el('td', { text: String((r.done.train_loss || []).length) }),
        el('td', { text: fmt(last(r.done.train_loss)) }),
        el('td', { class: 'test-mse', text: fmt(last(r.done.test_loss)) }),
        el('td', { text: fmt(r.done.baseline_loss ?? baseline) }),
        el('td', { class: 'acc', text: pct(r.done.test_accuracy) }),
        el('td', { text: `${fmt((r.t1 - r.t0) / 1000, 3)} s` }))))),
    el('p', { class: 'note', text: 'Test accuracy: share of test sequences whose prediction is within 0.04 of the true sum.' }));
  }

  function params() {
    const p = { stream: true };
    for (const k of ['samples', 'test_samples', 'epochs', 'min_length', 'max_length', 'hidden_size', 'batch_size', 'seed', 'report_every']) {
      const v = intValue(f[k]);
      if (v !== undefined) p[k] = v;
    }
    for (const k of ['learning_rate', 'clip']) if (f[k].value.trim() !== '') p[k] = Number(f[k].value);
    return p;
  }

  async function runOne(r, p) {
    // x axis in epochs: "step" counts optimiser steps from the start of the run.
    let spe = Math.max(1, Math.ceil((p.samples || 5000) / (p.batch_size || 1)));
    const handle = (m) => {
      if (m.type === 'start') {
        if (m.steps_per_epoch > 0) spe = m.steps_per_epoch;
        r.status = 'started';
      } else if (m.type === 'progress') {
        if (Number.isFinite(m.loss) && Number.isFinite(m.step)) r.prog.push([m.step / spe, m.loss]);
        r.status = `epoch ${m.epoch}/${p.epochs}, step ${m.step}, loss ${fmt(m.loss)}`;
      } else if (m.type === 'epoch') {
        const e = m.epoch;
        if (Number.isFinite(m.train_loss)) r.prog.push([e, m.train_loss]);
        if (Number.isFinite(m.test_loss)) r.test.push([e, m.test_loss]);
        if (baseline === null && Number.isFinite(m.baseline_loss)) baseline = m.baseline_loss;
        r.status = `epoch ${e}/${p.epochs}: train ${fmt(m.train_loss)}, test ${fmt(m.test_loss)}`;
      } else if (m.type === 'done') {
        r.done = m;
        r.t1 = performance.now();
        if (baseline === null && Number.isFinite(m.baseline_loss)) baseline = m.baseline_loss;
        r.state = 'finished';
        r.status = `done: test MSE ${fmt((m.test_loss || []).slice(-1)[0])}`;
        renderTable();
      } else if (m.type === 'error') {
        r.state = 'failed';
        r.status = `error: ${m.message || (m.error && m.error.message) || JSON.stringify(m)}`;
        showError(section, new ApiError(m.status || 0, { error: m.error || m }));
      }
      renderStatus();
      redraw();
    };
    for (;;) {
      const res = await fetch(`train/${r.model}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(p), signal: r.ctrl.signal,
      });
      if (res.status === 503) {
        const wait = Number(res.headers.get('Retry-After')) || 1;
        await res.body?.cancel();
        r.status = `server busy, retrying in ${wait} s`;
        renderStatus();
        await sleep(wait * 1000, r.ctrl.signal);
        continue;
      }
      if (!res.ok) {
        const text = await res.text();
        let json = null;
        try { json = JSON.parse(text); } catch { /* plain text error */ }
        throw new ApiError(res.status, json, text);
      }
      r.status = 'running';
      renderStatus();
      await readNdjson(res.body, handle);
      if (!r.done && r.state !== 'failed') throw new Error('the stream ended before the run finished');
      return;
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(section);
    const models = MODELS.filter((m) => f[`m-${m}`].checked);
    if (!models.length) { showError(section, new Error('pick at least one model')); return; }
    const p = params();
    baseline = null;
    runs = models.map((model) => ({ model, ctrl: new AbortController(), prog: [], test: [],
      status: 'connecting…', state: 'running', done: null, t0: performance.now() }));
    tableBox.replaceChildren();
    makeChart();
    renderStatus();
    startBtn.disabled = true;
    stopBtn.disabled = false;
    await Promise.all(runs.map(async (r) => {
      try { await runOne(r, p); } catch (e) {
        if (e.name === 'AbortError') { r.state = 'stopped'; r.status = 'stopped'; } else {
          r.state = 'failed';
          r.status = `failed: ${e.message}`;
          showError(section, e);
        }
      }
      renderStatus();
    }));
    redraw();
    startBtn.disabled = false;
    stopBtn.disabled = true;
  });

  stopBtn.addEventListener('click', () => { for (const r of runs) r.ctrl.abort(); });
}
