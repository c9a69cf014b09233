// Gradients through time: every epoch line of a recurrent training carries gradient_by_step, the
// norm of dL/dh_t at every step t averaged over test sequences of the longest length. Drawn on a
// log scale against the step, one colour per model, for the epoch chosen with the slider (the
// latest, while it follows the run) and, faded, the first epoch; told in words as the share of
// the last step's gradient that reaches the first step. Fed by the #train section's
// "nnlab:train-start" / "nnlab:train-line" events (train.js).
import { lineSample } from './legend.js';
import { $, el, fmt } from './util.js';

const COLORS = { rnn: '#1f5fa8', lstm: '#c0392b', gru: '#1e7b34' };
const NAMES = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

const fade = (hex, a) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
};

// "1e-23" for a ratio: the order of magnitude is what matters.
export function ratioText(r) {
  if (!(r > 0)) return '0';
  if (r >= 0.01) return fmt(r, 2);
  return r.toExponential(1).replace('e+', 'e');
}

export function initGradChart() {
  const section = $('#train');
  const host = $('#train-gradients');
  const plot = el('div', { class: 'gradplot', id: 'grad-plot' });
  const slider = el('input', { type: 'range', id: 'grad-epoch', min: '1', max: '1', value: '1', step: '1', 'data-nourl': '', 'aria-describedby': 'grad-summary' });
  const sliderLabel = el('label', { for: 'grad-epoch', class: 'lbl', text: 'Epoch shown: 1' });
  const legend = el('ul', { class: 'legend' });
  const summary = el('p', { class: 'chart-summary', id: 'grad-summary', 'aria-live': 'polite' });
  const fig = el('figure', { class: 'gradchart' },
    el('figcaption', { text: 'Gradient reaching each step: the norm of ∂L/∂hₜ (log scale), averaged over test sequences' }),
    el('div', { class: 'ctl slider-ctl' }, sliderLabel, slider), plot, legend, summary);
  fig.hidden = true;
  host.append(fig);

  let runs = {};        // model -> [gradient_by_step per epoch]
  let order = [];       // models in the run's order
  let follow = true;    // the slider follows the newest epoch
  let chart = null, pending = false;

  const epochs = () => Math.max(0, ...order.map((m) => runs[m].length));
  const shown = () => Math.min(Number(slider.value) || 1, epochs());

  function series() {
    const e = shown(), out = [];
    for (const m of order) {
      const g = runs[m];
      if (g.length >= 1 && e > 1) out.push({ m, epoch: 1, data: g[0], first: true });
      if (g.length >= e && e >= 1) out.push({ m, epoch: e, data: g[e - 1], first: false });
    }
    return out;
  }

  function build() {
    if (chart) { chart.destroy(); chart = null; }
    plot.replaceChildren();
    const list = series();
    if (!list.length || typeof uPlot === 'undefined') return;
    const T = Math.max(...list.map((s) => s.data.length));
    const X = Array.from({ length: T }, (_, t) => t + 1);
    // log10 of the norms on a linear scale: uPlot's own log scale cannot place ticks below
    // ~1e-16, and an Elman net's gradients go far lower. A norm of exactly 0: a gap.
    const cols = [X, ...list.map((s) => X.map((_, t) => (s.data[t] > 0 ? Math.log10(s.data[t]) : null)))];
    const font = '12px system-ui, sans-serif';
    const axis = (label, values, incrs) => ({ label, font, labelFont: `600 ${font}`, stroke: '#1b1f24', size: 64, values, incrs });
    const powers = (u, splits) => splits.map((v) => (Number.isInteger(v) ? (v === 0 ? '1' : `1e${v}`) : ''));
    chart = new uPlot({
      width: Math.max(280, plot.clientWidth || 600), height: 300, legend: { show: false },
      series: [{ label: 'step' }, ...list.map((s) => ({ label: `${NAMES[s.m]} epoch ${s.epoch}`,
        stroke: s.first ? fade(COLORS[s.m], 0.45) : COLORS[s.m], width: s.first ? 1.5 : 2.5, dash: s.first ? [3, 4] : [] }))],
      scales: { x: { time: false }, y: { auto: true } },
      axes: [axis('step t (the last step is where the loss is taken)', (u, splits) => splits.map((v) => String(v))),
        axis('‖∂L/∂hₜ‖ (log scale)', powers, [1, 2, 5, 10, 20, 50, 100])],
    }, cols, plot);
    plot.dataset.series = String(list.length);
    plot.dataset.steps = String(T);
  }

  function render() {
    const e = epochs();
    fig.hidden = e === 0;
    if (!e) return;
    slider.max = String(e);
    if (follow) slider.value = String(e);
    sliderLabel.textContent = `Epoch shown: ${shown()} of ${e}`;
    build();
    const list = series().filter((s) => !s.first);
    legend.replaceChildren(...list.map((s) => el('li', {}, lineSample(COLORS[s.m], [], 2.5), ` ${NAMES[s.m]}, epoch ${s.epoch}`)),
      ...(shown() > 1 ? [el('li', {}, lineSample('#777', [3, 4], 1.5, { faded: true }), ' the same model at epoch 1 (faded, dotted)')] : []));
    const words = list.map((s) => `${NAMES[s.m]} ${ratioText(s.data[0] / s.data[s.data.length - 1])}`);
    const T = list.length ? list[0].data.length : 0;
    summary.textContent = `In words: after epoch ${shown()}, the gradient that reaches the first of ${T} steps is this share of the last step's: ${words.join(', ')}. `
      + 'A tiny share means the first steps barely learn: their inputs cannot change the weights.';
    summary.dataset.ratios = JSON.stringify(Object.fromEntries(list.map((s) => [s.m, s.data[0] / s.data[s.data.length - 1]])));
  }

  function update() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  slider.addEventListener('input', () => { follow = Number(slider.value) === epochs(); update(); });
  new ResizeObserver(() => { if (chart && plot.clientWidth) chart.setSize({ width: plot.clientWidth, height: 300 }); }).observe(plot);
  section.addEventListener('nnlab:train-start', (ev) => {
    order = ev.detail.models.slice();
    runs = Object.fromEntries(order.map((m) => [m, []]));
    follow = true;
    update();
  });
  section.addEventListener('nnlab:train-line', (ev) => {
    const { model, line } = ev.detail;
    if (line.type !== 'epoch' || !Array.isArray(line.gradient_by_step) || !runs[model]) return;
    runs[model].push(line.gradient_by_step);
    update();
  });
}
