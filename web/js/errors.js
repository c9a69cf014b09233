// Showing an error on the control at fault. Every control wrapper names the API fields it sets
// (data-field="stride", "filters.size", ...) and holds an error slot; the page's own checks name
// the control directly (FieldError.control). The control gets aria-invalid and is described by
// the message (aria-describedby), so a screen reader reads the error with the control.
import { $$, el } from './util.js';
import { labelOf } from './fields.js';
import { studentMessage } from './messages.js';

let slots = 0;

// Give every [data-field] wrapper an (initially hidden) error slot, and every slot an id.
export function addErrorSlots(root) {
  for (const w of $$('[data-field]', root)) {
    if (!w.querySelector(':scope > .err')) w.append(el('span', { class: 'err', role: 'alert', hidden: true }));
  }
  for (const e of $$('.err', root)) if (!e.id) e.id = `err-${++slots}`;
}

function describedBy(control, id, on) {
  const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== id);
  if (on) ids.push(id);
  if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
  else control.removeAttribute('aria-describedby');
}

export function clearErrors(section) {
  for (const e of $$('.err', section)) {
    if (e.hidden) continue;
    e.textContent = '';
    e.hidden = true;
    for (const c of $$(`[aria-describedby~="${e.id}"]`, section)) describedBy(c, e.id, false);
  }
  for (const i of $$('[aria-invalid]', section)) i.removeAttribute('aria-invalid');
}

const visible = (w) => !w.closest('[hidden]');
const CONTROLS = 'input:not([type=hidden]), select, textarea';

// The wrapper for an API field: exact name, then the path without indices
// ("architecture[2].size" -> "architecture.size"), then its first and last segments.
function wrapperFor(section, field) {
  if (!field) return null;
  const wrappers = $$('[data-field]', section).filter(visible);
  const find = (n) => wrappers.find((w) => w.dataset.field.split(/\s+/).includes(n));
  const parts = field.split(/[.[\]/]+/).filter((p) => p && !/^\d+$/.test(p));
  return find(field) || find(parts.join('.')) || find(parts[0]) || find(parts[parts.length - 1]) || null;
}

// Show err in section; limits (from /healthz) let messages state the real limits.
// Returns the text shown, or null for an aborted request.
export function showError(section, err, limits = {}) {
  if (err && err.name === 'AbortError') return null;
  let wrapper, controls;
  if (err && err.control) {
    wrapper = err.control.closest('[data-field]') || err.control.closest('.ctl, fieldset');
    controls = [err.control];
  } else {
    wrapper = wrapperFor(section, err && err.field);
    controls = wrapper ? $$(CONTROLS, wrapper).filter(visible) : [];
  }
  const label = controls.length ? labelOf(controls[0]) : undefined;
  const text = studentMessage(err, { label, limits });
  let box = wrapper && wrapper.querySelector(':scope > .err');
  if (wrapper && !box && wrapper.tagName !== 'LABEL') {
    box = wrapper.appendChild(el('span', { class: 'err', role: 'alert', id: `err-${++slots}` }));
  }
  if (!box) box = section.querySelector('.err.general');
  box.textContent = text;
  box.hidden = false;
  for (const c of controls) {
    c.setAttribute('aria-invalid', 'true');
    describedBy(c, box.id, true);
  }
  return text;
}
