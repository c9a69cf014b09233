// "Check my answer": a box under the convolution, pooling and MLP sections. A student pastes what
// they computed (JSON: nested arrays or {"shape", "data"}) or drops a .npy file; the box sends the
// section's last request plus "answer" to POST /check/{op} and shows the verdict, the diagnosis
// (the classic mistake that reproduces the answer) and a map of where the answer differs.
//
// Hooks: index.html holds an empty <div data-check="conv|pool|mlp"> per section; each section
// calls rememberRequest(op, req) after a successful run, so the check grades against that run.
import { post, ApiError } from './api.js';
import { el, fmt } from './util.js';

const lastRequest = {};   // op -> the section's last successful request
const LABEL = { conv: 'convolution', pool: 'pooling', mlp: 'MLP' };

export function rememberRequest(op, req) {
  lastRequest[op] = req;
  document.querySelector(`[data-check="${op}"] .check-against`)?.replaceChildren(describe(req));
}

export function initCheck(root = document) {
  for (const box of root.querySelectorAll('[data-check]')) buildBox(box, box.dataset.check);
}

// "kernel sobel_x · stride 1 · activation relu": the run's small settings (no tensors, no image).
function describe(req) {
  const parts = [];
  for (const [k, v] of Object.entries(req)) {
    if (k === 'image') { parts.push('your image'); continue; }
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    parts.push(s.length <= 40 ? `${k} ${s}` : `${k} (${Array.isArray(v) ? 'list' : 'tensor'})`);
  }
  return `It is compared with the last run of this section: ${parts.join(' · ')}.`;
}

function buildBox(box, op) {
  const id = (s) => `${op}-check-${s}`;
  const text = el('textarea', { id: id('text'), rows: 4, spellcheck: 'false', 'aria-describedby': `${id('help')} ${id('against')}`,
    placeholder: op === 'mlp' ? '[0.1, 0.7, 0.2]' : '[[1, 2], [3, 4]]' });
  const file = el('input', { id: id('file'), type: 'file', accept: '.npy,application/octet-stream', 'aria-describedby': id('help') });
  const chosen = el('span', { class: 'check-file', id: id('chosen'), 'aria-live': 'polite' });
  const softmax = op === 'mlp'
    ? el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'softmax', checked: true }), ' my answer is the output with softmax')
    : null;
  const result = el('div', { class: 'check-result', id: id('result'), role: 'status', 'aria-live': 'polite' });
  const error = el('p', { class: 'err', role: 'alert', hidden: true });
  const form = el('form', { class: 'check-form', novalidate: true },
    el('p', { class: 'note', id: id('help') },
      `Compute the ${LABEL[op]} yourself (by hand or in NumPy) with the settings above, then paste your answer as JSON — `,
      'nested arrays or {"shape": [...], "data": [...]} — or drop a .npy file here.'),
    el('p', { class: 'note check-against', id: id('against') }, 'Run the section first: your answer is compared with that run.'),
    el('label', { for: id('text') }, 'Your answer (JSON)'), text,
    el('div', { class: 'row' }, el('label', { for: id('file') }, 'or a .npy file'), file, chosen),
    softmax,
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Check my answer'), error),
    result);
  const details = el('details', { class: 'check' }, el('summary', {}, 'Check my answer'), form);
  box.replaceChildren(details);

  let npy = null;   // {name, b64} of a chosen or dropped file
  const useFile = async (f) => {
    npy = f ? { name: f.name, b64: toBase64(await f.arrayBuffer()) } : null;
    chosen.textContent = f ? `${f.name} (${f.size} bytes) will be checked` : '';
  };
  file.addEventListener('change', () => useFile(file.files[0]));
  text.addEventListener('input', () => { if (npy) { file.value = ''; useFile(null); } });
  for (const t of ['dragenter', 'dragover']) details.addEventListener(t, (ev) => { ev.preventDefault(); details.classList.add('drop'); });
  details.addEventListener('dragleave', () => details.classList.remove('drop'));
  details.addEventListener('drop', (ev) => {
    ev.preventDefault();
    details.classList.remove('drop');
    if (ev.dataTransfer.files.length) {
      file.value = '';   // the dropped file replaces a chosen one
      useFile(ev.dataTransfer.files[0]);
    }
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    text.removeAttribute('aria-invalid');
    result.replaceChildren();
    result.setAttribute('aria-busy', 'true');
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const req = { ...requestFor(op), answer: npy ? { npy: npy.b64 } : parseAnswer(text) };
      if (softmax) req.softmax = softmax.querySelector('input').checked;
      showResult(result, await post(`check/${op}`, req));
    } catch (e) {
      if (e.field === 'answer' || e.field === 'answer.npy') text.setAttribute('aria-invalid', 'true');
      error.textContent = e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : e.message;
      error.hidden = false;
    } finally {
      btn.disabled = false;
      result.removeAttribute('aria-busy');
    }
  });
}

function requestFor(op) {
  const req = lastRequest[op];
  if (!req) throw new Error(`Run the ${LABEL[op]} first: your answer is compared with that run.`);
  return req;
}

function parseAnswer(text) {
  const t = text.value.trim();
  if (!t) throw Object.assign(new Error('Paste your answer (JSON) or choose a .npy file.'), { field: 'answer' });
  try { return JSON.parse(t); } catch (e) {
    throw Object.assign(new Error(`Your answer is not valid JSON: ${e.message}.`), { field: 'answer' });
  }
}

function toBase64(buf) {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// ---- the verdict ------------------------------------------------------------------------------

function showResult(box, r) {
  const same = r.worst !== null;
  const head = r.pass
    ? el('p', { class: 'check-verdict pass' }, `Correct: all ${r.elements} values are within the tolerance (largest error ${fmt(r.max_abs_error)}).`)
    : el('p', { class: 'check-verdict fail' }, same
      ? `Not yet: ${r.mismatches} of ${r.elements} values differ (largest error ${fmt(r.max_abs_error)} at [${r.worst.index.join(', ')}]: expected ${fmt(r.worst.expected)}, you have ${fmt(r.worst.got)}).`
      : `Not yet: your answer's shape [${r.got_shape.join(', ')}] is not the expected [${r.expected_shape.join(', ')}].`);
  const tol = el('p', { class: 'note' }, `Tolerance: |yours − expected| ≤ ${fmt(r.tolerance.atol)} + ${fmt(r.tolerance.rtol)} · |expected|.`);
  const diag = r.diagnosis.length
    ? el('ul', { class: 'check-diagnosis' }, ...r.diagnosis.map((d) => el('li', { 'data-code': d.code }, el('code', { text: d.code }), ` ${d.message}`)))
    : (r.pass ? null : el('p', { class: 'check-diagnosis none' },
      `No classic mistake reproduces your answer (tried: ${r.mistakes_tried.join(', ') || 'none'}).`));
  box.replaceChildren(head, tol, diag, r.mismatch_map ? mismatchMap(r.mismatch_map, r.elements) : null);
}

// The map: one cell per position, grey where right, red where wrong (darker: more channels wrong).
function mismatchMap(t, elements) {
  const [H, W] = t.shape.length === 2 ? t.shape : [1, t.shape[0]];
  const most = Math.max(1, ...t.data);
  const canvas = el('canvas', { class: 'check-map', width: W, height: H, role: 'img' });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(W, H);
  let wrong = 0;
  t.data.forEach((v, i) => {
    const a = v / most;
    wrong += v > 0;
    img.data.set(v > 0 ? [255, Math.round(200 * (1 - a)), Math.round(200 * (1 - a)), 255] : [225, 225, 225, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
  const what = `${wrong} of ${H * W} positions hold a wrong value`;
  canvas.setAttribute('aria-label', `Map of where your answer differs: ${what}.`);
  const side = Math.min(320, Math.max(W, H) * Math.max(1, Math.floor(256 / Math.max(W, H))));
  canvas.style.width = `${Math.round(side * W / Math.max(W, H))}px`;
  canvas.style.height = `${Math.max(12, Math.round(side * H / Math.max(W, H)))}px`;
  const per = elements / (H * W);
  const key = per > 1 ? `red; darker where more of the ${per} values at a position are wrong` : 'red';
  return el('figure', { class: 'check-map-fig' }, canvas,
    el('figcaption', { class: 'note' }, `Where your answer differs (${key}): ${what}.`));
}
