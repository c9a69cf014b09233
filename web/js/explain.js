// What the three "how is this number made?" panels share: the panel (heading, hint, step
// control, a live region for the explanation), the number formats, and the closing line that
// sets the number written out beside the server's.
import { createStepper } from './stepper.js';
import { el, fmt } from './util.js';

export const num = (v) => fmt(v, 4);
export const paren = (v) => (v < 0 ? `(${num(v)})` : num(v));

// The closing line: the page's number beside the server's. scale: the size of the terms
// summed (float32 rounding grows with it).
export function verdict(page, server, scale = 1) {
  const diff = Math.abs(page - server);
  const ok = diff <= 2e-6 * Math.max(1, Math.abs(scale));
  return el('p', { class: `verdict ${ok ? 'ok' : 'bad'}`, 'data-diff': String(diff) },
    'The server returned ', el('strong', { class: 'server-value', 'data-value': String(server), text: fmt(server, 7) }),
    ok ? (diff ? ` ✓ the same, up to ${fmt(diff, 1)} (the server rounds to 32-bit floats)` : ' ✓ exactly the same')
      : ` — but the sum written out gives ${fmt(page, 7)}: they differ by ${fmt(diff, 2)}. This should not happen; please report it.`);
}

// A panel in host. what: the section's name (for the landmark); hint: what to click; step:
// the step control's options (createStepper, without onChange), or null for none;
// onChange(c, x, y) draws the explanation into body. Returns {body, set(c, x, y)}.
export function explainPanel(host, { what, hint, step, onChange }) {
  const box = el('section', { class: 'explain', 'aria-label': `How is this number made? (${what})` },
    el('h3', { text: 'How is this number made?' }), el('p', { class: 'note', text: hint }));
  const body = el('div', { class: 'explain-body', 'aria-live': 'polite' });
  const stepper = step ? createStepper(box, { ...step, onChange }) : null;
  box.append(body);
  host.append(box);
  return { body, set: stepper ? stepper.set : (c) => onChange(c, 0, 0) };
}
