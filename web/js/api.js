// The JSON API client (server/openapi.json) and the plain display of its errors next to the control
// that caused them: every control wrapper carries data-field="<API field name>".
import { $$, el } from './util.js';

export class ApiError extends Error {
  constructor(status, body, text, retryAfter) {
    const e = body && body.error;
    super(e ? e.message : (text || `HTTP ${status}`));
    this.status = status;
    this.code = e ? e.code : 'http_error';
    this.field = e ? e.field : undefined;
    this.retryAfter = retryAfter ? Number(retryAfter) : 0;
  }
}

export async function post(path, body, { signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body), signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, `cannot reach the server (${e.message})`);
  }
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* reported below */ }
  if (!res.ok) throw new ApiError(res.status, json, text, res.headers.get('Retry-After'));
  if (json === null) throw new ApiError(res.status, null, 'the server sent a response that is not JSON');
  return json;
}

// Clear every error shown in a section.
export function clearErrors(section) {
  for (const e of $$('.err', section)) { e.textContent = ''; e.hidden = true; }
  for (const i of $$('[aria-invalid]', section)) i.removeAttribute('aria-invalid');
}

// Find the control wrapper for an API field: exact name, then the first path segment
// ("filters.count" -> "filters"), then the last one ("architecture[2].size" -> "size").
function controlFor(section, field) {
  if (!field) return null;
  const wrappers = $$('[data-field]', section);
  const names = (w) => w.dataset.field.split(/\s+/);
  const tryName = (n) => wrappers.find((w) => names(w).includes(n) && !w.closest('[hidden]'));
  const parts = field.split(/[.[\]/]+/).filter((p) => p && !/^\d+$/.test(p));
  return tryName(field) || tryName(parts[0]) || tryName(parts[parts.length - 1]) || null;
}

// Show an error from the API (or any Error) next to the control that caused it, or in the
// section's general error box (.err.general) when no control matches.
export function showError(section, err) {
  if (err && err.name === 'AbortError') return;
  const msg = err instanceof ApiError
    ? `${err.status ? err.status + ' ' : ''}${err.code}: ${err.message}${err.field ? ` (field "${err.field}")` : ''}`
    : `Error: ${err && err.message ? err.message : err}`;
  const w = controlFor(section, err && err.field);
  let box = w ? w.querySelector('.err') : null;
  if (!box) box = section.querySelector('.err.general');
  if (w) {
    const input = w.querySelector('input, select, textarea');
    if (input) input.setAttribute('aria-invalid', 'true');
  }
  box.textContent = msg;
  box.hidden = false;
}

// Ensure every [data-field] wrapper has an (initially hidden) error slot.
export function addErrorSlots(root) {
  for (const w of $$('[data-field]', root)) {
    if (!w.querySelector('.err')) w.append(el('span', { class: 'err', role: 'alert', hidden: true }));
  }
}
