// Colour maps. Signed data uses a diverging map symmetric around 0 (blue < 0 < red, white at 0);
// non-negative data uses viridis (perceptually uniform). Both return [r, g, b] bytes.

// Viridis as a 6th-degree polynomial fit (Matt Zucker, CC0), accurate to ~1/255.
const VC = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

function clamp01(t) { return t < 0 ? 0 : t > 1 ? 1 : t; }

function buildViridis() {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let ch = 0; ch < 3; ch++) {
      let v = VC[6][ch];
      for (let k = 5; k >= 0; k--) v = VC[k][ch] + t * v;
      lut[i * 3 + ch] = Math.round(clamp01(v) * 255);
    }
  }
  return lut;
}

// ColorBrewer RdBu (reversed so negative = blue), 11 stops, white-ish in the middle.
const RDBU = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

function buildDiverging() {
  const lut = new Uint8ClampedArray(256 * 3);
  const n = RDBU.length - 1;
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * n;
    const k = Math.min(n - 1, Math.floor(x));
    const f = x - k;
    for (let ch = 0; ch < 3; ch++) {
      lut[i * 3 + ch] = Math.round(RDBU[k][ch] * (1 - f) + RDBU[k + 1][ch] * f);
    }
  }
  return lut;
}

export const VIRIDIS = buildViridis();
export const DIVERGING = buildDiverging();

// A scale for a set of values: signed data -> diverging over [-m, m]; else viridis over [lo, hi].
export function makeScale(min, max, forceSigned = false) {
  const signed = forceSigned || min < 0;
  if (signed) {
    const m = Math.max(Math.abs(min), Math.abs(max)) || 1;
    return { signed, lo: -m, hi: m, lut: DIVERGING };
  }
  const lo = min, hi = max > min ? max : min + 1;
  return { signed, lo, hi, lut: VIRIDIS };
}

// Index into the LUT for value v under scale s.
export function lutIndex(s, v) {
  if (!Number.isFinite(v)) return v > 0 ? 255 : 0;
  const t = (v - s.lo) / (s.hi - s.lo);
  return Math.max(0, Math.min(255, Math.round(t * 255)));
}

export function colorOf(s, v) {
  const i = lutIndex(s, v) * 3;
  return [s.lut[i], s.lut[i + 1], s.lut[i + 2]];
}

export function cssColor(rgb) { return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`; }

// Black or white text, whichever reads better on rgb.
export function textOn(rgb) {
  const y = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
  return y > 140 ? '#111' : '#fff';
}
