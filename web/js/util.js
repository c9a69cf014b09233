// Small DOM and number helpers shared by the sections.

export function $(sel, root = document) { return root.querySelector(sel); }
export function $$(sel, root = document) { return Array.from(root.querySelectorAll(sel)); }

// el('div', {class: 'x', text: 'hi'}, child, ...)
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// A compact number for labels: 4 significant digits, exponent for very large/small magnitudes.
export function fmt(v, digits = 4) {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

// A shape [H, W, C] stated the way the page promises: "W × H × C".
export function shapeWHC(shape) {
  if (!shape) return '?';
  if (shape.length === 3) return `${shape[1]} × ${shape[0]} × ${shape[2]}`;
  if (shape.length === 2) return `${shape[1]} × ${shape[0]}`;
  return shape.join(' × ');
}

export function minMax(data, from = 0, to = data.length, step = 1) {
  let lo = Infinity, hi = -Infinity;
  for (let i = from; i < to; i += step) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

// Deterministic PRNG (mulberry32) for client-side example inputs.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// replaceChildren that skips null / undefined / false (which replaceChildren would print).
export function fill(node, ...children) {
  node.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// The index of the largest |value| in channel c of a [.., C] tensor: an interesting place to
// explain first (a flat region explains nothing).
export function argmaxAbs(data, c = 0, C = 1) {
  let best = c;
  for (let i = c; i < data.length; i += C) if (Math.abs(data[i]) > Math.abs(data[best])) best = i;
  return Math.floor(best / C);
}
