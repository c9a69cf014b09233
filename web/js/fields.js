// Reading the form controls, with the page's own checks: an empty, half-typed or out-of-range
// value is an error on that control, in a student's words, never silently a default.

// An error the page found itself, tied to the control at fault.
export class FieldError extends Error {
  constructor(control, message) {
    super(message);
    this.name = 'FieldError';
    this.control = control;
  }
}

// The visible label of a control ("Stride"), for messages.
export function labelOf(control) {
  const host = control.closest('label, .ctl, fieldset');
  const l = host && host.querySelector('.lbl, legend');
  return l ? l.textContent.trim() : (control.getAttribute('aria-label') || control.name);
}

function rangeWords(min, max) {
  if (max === undefined || max === Infinity) return min === undefined ? '' : ` of at least ${min}`;
  return ` from ${min} to ${max}`;
}

// The number typed into an <input type=number> or text input, or null when empty. A value the
// browser could not read as a number ("1e", "abc") is an error, not an empty field.
function rawNumber(input, label, kind) {
  const s = input.value.trim();
  if (input.validity && input.validity.badInput) {
    throw new FieldError(input, `${label}: this is not a number. Type ${kind}, such as ${kind === 'a whole number' ? '3' : '0.5'}.`);
  }
  if (s === '') return null;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new FieldError(input, `${label}: “${s}” is not a number. Type ${kind}.`);
  return v;
}

// A whole number in [min, max]. optional: empty gives undefined instead of an error.
export function readInt(input, { min = 0, max, label = labelOf(input), optional = false } = {}) {
  const v = rawNumber(input, label, 'a whole number');
  if (v === null) {
    if (optional) return undefined;
    throw new FieldError(input, `${label} is empty: type a whole number${rangeWords(min, max)}.`);
  }
  if (!Number.isInteger(v)) throw new FieldError(input, `${label} must be a whole number (you typed ${v}).`);
  if (v < min || (max !== undefined && v > max)) {
    throw new FieldError(input, `${label} must be a whole number${rangeWords(min, max)} (you typed ${v}).`);
  }
  return v;
}

// Any finite number; above: exclusive lower bound (e.g. a learning rate > 0).
export function readNumber(input, { label = labelOf(input), above, min, optional = false } = {}) {
  const v = rawNumber(input, label, 'a number');
  if (v === null) {
    if (optional) return undefined;
    throw new FieldError(input, `${label} is empty: type a number${above !== undefined ? ` greater than ${above}` : ''}.`);
  }
  if (above !== undefined && !(v > above)) throw new FieldError(input, `${label} must be greater than ${above} (you typed ${v}).`);
  if (min !== undefined && v < min) throw new FieldError(input, `${label} must be at least ${min} (you typed ${v}).`);
  return v;
}

// "32, 16" -> [32, 16]; each a whole number in [min, max].
export function readIntList(input, { min = 1, max, count, label = labelOf(input) } = {}) {
  const s = input.value.trim();
  if (s === '') throw new FieldError(input, `${label} is empty: type one whole number, or one per layer separated by commas.`);
  const parts = s.split(/[\s,;]+/).filter((p) => p.length);
  const out = parts.map((p) => {
    const v = Number(p);
    if (!Number.isInteger(v)) throw new FieldError(input, `${label}: “${p}” is not a whole number. Type numbers like 32, 16.`);
    if (v < min || (max !== undefined && v > max)) throw new FieldError(input, `${label}: ${v} is out of range; each size must be${rangeWords(min, max)}.`);
    return v;
  });
  if (count !== undefined && out.length !== 1 && out.length !== count) {
    throw new FieldError(input, `${label}: give one size for every hidden layer, or one size for all (${count} layer${count === 1 ? '' : 's'}, ${out.length} sizes typed).`);
  }
  return out;
}
