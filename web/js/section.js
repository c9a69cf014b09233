// The run cycle every section shares: submit -> clear the old errors -> busy -> run -> fresh
// results; or the error on the control at fault and the results on screen marked out of date.
// Changing the form after a run marks the results out of date too, until the next run.
import { clearErrors, showError } from './errors.js';
import { limits } from './server.js';
import { el } from './util.js';

const sections = new Map(); // id -> the object bindSection returns

// id: the <section> id. run({signal, out, form, section}) does the work and renders into out
// (render only at the end, so a failed run leaves the previous results whole).
// stale: false for a section whose results stay valid when the form changes (training keeps
// earlier runs to compare). stop: a button that cancels the run.
export function bindSection({ id, run, stale = true, stop = null }) {
  const section = document.getElementById(id);
  const form = section.querySelector('form');
  const out = section.querySelector('.results');
  const submit = form.querySelector('button[type=submit]');
  let shown = false;
  let ctrl = null;

  function markStale(reason) {
    if (!shown || !stale) return;
    out.classList.add('stale');
    let note = out.querySelector(':scope > .stale-note');
    if (!note) {
      note = el('p', { class: 'stale-note', role: 'status' });
      out.prepend(note);
    }
    note.textContent = reason === 'error'
      ? `Out of date: the last run failed, so these are the results of the run before. Fix the setting marked in red, then press “${submit.textContent}”.`
      : `Out of date: the settings changed since these results were made. Press “${submit.textContent}” to update them.`;
    section.dataset.state = 'stale';
  }

  function markFresh() {
    out.classList.remove('stale');
    out.querySelector(':scope > .stale-note')?.remove();
    shown = true;
    section.dataset.state = 'fresh';
  }

  for (const type of ['input', 'change']) {
    form.addEventListener(type, (ev) => { if (!ev.target.closest('[data-nostale]')) markStale('changed'); });
  }

  async function go() {
    clearErrors(section);
    if (ctrl) ctrl.abort();
    const mine = ctrl = new AbortController();
    submit.disabled = true;
    if (stop) stop.disabled = false;
    out.classList.add('busy');
    out.setAttribute('aria-busy', 'true');
    section.dataset.state = 'running';
    const t0 = performance.now();
    try {
      await run({ signal: mine.signal, out, form, section });
      out.dataset.ms = String(Math.round(performance.now() - t0));
      markFresh();
      section.dispatchEvent(new CustomEvent('nnlab:ran', { bubbles: true }));
      return true;
    } catch (e) {
      if (e && e.name === 'AbortError') { section.dataset.state = shown ? 'fresh' : 'idle'; return false; }
      showError(section, e, await limits());
      if (shown && stale) markStale('error'); else section.dataset.state = 'error'; // (a section that keeps its results is never stale)
      return false;
    } finally {
      if (ctrl === mine) {
        ctrl = null;
        submit.disabled = false;
        if (stop) stop.disabled = true;
        out.classList.remove('busy');
        out.removeAttribute('aria-busy');
      }
    }
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); go(); });
  if (stop) stop.addEventListener('click', () => { if (ctrl) ctrl.abort(); });
  const api = { id, section, form, out, go, markStale, hasResults: () => shown };
  sections.set(id, api);
  return api;
}

export function boundSection(id) { return sections.get(id); }
export function boundSections() { return [...sections.values()]; }
