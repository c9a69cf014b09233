// The step control of "how is this number made?": which output (map, x, y) is explained, with
// buttons that walk the window across the output one position at a time. Keyboard: the inputs
// and buttons; pointer: a click on an output map calls set().
import { el } from './util.js';

let count = 0;

// host: where the controls go. W, H: output width and height; maps: number of output maps (1
// hides the map choice). onChange(c, x, y) whenever the position changes.
export function createStepper(host, { W, H, maps = 1, mapLabel = 'Output map', onChange }) {
  const id = `step-${++count}`;
  let c = 0, x = 0, y = 0, timer = null;
  const num = (name, label, max) => {
    const input = el('input', { type: 'number', id: `${id}-${name}`, name, min: 0, max, value: 0, inputmode: 'numeric', 'data-nourl': '', 'data-nostale': '' });
    return [input, el('div', { class: 'ctl' }, el('label', { class: 'lbl', for: input.id, text: label }), input)];
  };
  const [xIn, xBox] = num('x', H > 1 ? `x (0–${W - 1})` : `unit (0–${W - 1})`, W - 1);
  const [yIn, yBox] = num('y', `y (0–${H - 1})`, H - 1);
  const mapSel = el('select', { id: `${id}-map`, 'data-nourl': '', 'data-nostale': '' },
    ...Array.from({ length: maps }, (_, i) => el('option', { value: i, text: String(i) })));
  const back = el('button', { type: 'button', class: 'secondary', text: '◀ Back', 'aria-label': 'step back' });
  const next = el('button', { type: 'button', class: 'secondary step-next', text: 'Step ▶', 'aria-label': 'step forward' });
  const walk = el('button', { type: 'button', class: 'secondary', text: 'Walk', 'aria-pressed': 'false' });
  if (H <= 1) yBox.hidden = true;
  const bar = el('div', { class: 'stepper row', role: 'group', 'aria-label': 'position explained' },
    maps > 1 ? el('div', { class: 'ctl' }, el('label', { class: 'lbl', for: mapSel.id, text: mapLabel }), mapSel) : null,
    xBox, yBox, el('div', { class: 'step-buttons' }, back, next, walk));
  host.append(bar);

  const clampInt = (v, hi) => Math.max(0, Math.min(hi, Number.isFinite(v) ? Math.trunc(v) : 0));
  function set(nc, nx, ny) {
    c = clampInt(nc, maps - 1); x = clampInt(nx, W - 1); y = clampInt(ny, H - 1);
    mapSel.value = String(c); xIn.value = String(x); yIn.value = String(y);
    onChange(c, x, y);
  }
  function step(d) {
    let i = y * W + x + d;
    const n = W * H;
    i = ((i % n) + n) % n;
    set(c, i % W, Math.floor(i / W));
  }
  function stopWalk() {
    if (timer) clearInterval(timer);
    timer = null;
    walk.textContent = 'Walk';
    walk.setAttribute('aria-pressed', 'false');
  }
  back.addEventListener('click', () => { stopWalk(); step(-1); });
  next.addEventListener('click', () => { stopWalk(); step(1); });
  walk.addEventListener('click', () => {
    if (timer) { stopWalk(); return; }
    walk.textContent = 'Pause';
    walk.setAttribute('aria-pressed', 'true');
    timer = setInterval(() => { if (!bar.isConnected) stopWalk(); else step(1); }, 400);
  });
  for (const [input, f] of [[xIn, () => set(c, Number(xIn.value), y)], [yIn, () => set(c, x, Number(yIn.value))]]) {
    input.addEventListener('change', f);
  }
  mapSel.addEventListener('change', () => set(Number(mapSel.value), x, y));
  return { set, stop: stopWalk, element: bar };
}
