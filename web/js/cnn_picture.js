// Any picture -> a Fashion-MNIST image, the way that data set was made: grey, a light object on
// a black background (a picture whose border is light is dark-on-light, and is inverted), the
// background trimmed away, scaled so that the object's longer side is 28 px, centred in 28 x 28.
// Done in the browser on canvases, so the page shows exactly the 28 x 28 pixels it sends.
import { el } from './util.js';

const SIDE = 28;
const WORK = 112;      // working resolution for the border and the trim
const INK = 0.12;      // a pixel brighter than this (after inverting) belongs to the object

// Grey levels in [0, 1] of `source` (image, bitmap or canvas, sw x sh) fitted into WORK x WORK,
// transparent parts as white paper.
function greyOf(source, sw, sh) {
  const k = Math.min(1, WORK / Math.max(sw, sh));
  const w = Math.max(1, Math.round(sw * k)), h = Math.max(1, Math.round(sh * k));
  const c = el('canvas', { width: w, height: h });
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, w, h);
  const p = ctx.getImageData(0, 0, w, h).data;
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) g[i] = (0.299 * p[i * 4] + 0.587 * p[i * 4 + 1] + 0.114 * p[i * 4 + 2]) / 255;
  return { g, w, h };
}

// The mean grey of the outermost pixels: the background's brightness.
function borderMean({ g, w, h }) {
  let s = 0, n = 0;
  for (let x = 0; x < w; x++) { s += g[x] + g[(h - 1) * w + x]; n += 2; }
  for (let y = 1; y < h - 1; y++) { s += g[y * w] + g[y * w + w - 1]; n += 2; }
  return n ? s / n : 0;
}

// The bounding box of the object's pixels, or null when there is none.
function inkBox({ g, w, h }) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (g[y * w + x] <= INK) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

// invert: 'auto' (when the border is light), 'yes' or 'no'. Returns {pixels: [28, 28, 1] tensor,
// inverted, border, box} or null when nothing is left after trimming the background.
export function toFashion(source, sw, sh, { invert = 'auto' } = {}) {
  const img = greyOf(source, sw, sh);
  const border = borderMean(img);
  const inverted = invert === 'yes' || (invert === 'auto' && border > 0.5);
  if (inverted) for (let i = 0; i < img.g.length; i++) img.g[i] = 1 - img.g[i];
  const box = inkBox(img);
  if (!box) return null;
  // The trimmed object as a grey canvas, drawn scaled and centred on black.
  const crop = el('canvas', { width: box.w, height: box.h });
  const cctx = crop.getContext('2d');
  const data = cctx.createImageData(box.w, box.h);
  for (let y = 0; y < box.h; y++) {
    for (let x = 0; x < box.w; x++) {
      const v = Math.round(img.g[(box.y + y) * img.w + box.x + x] * 255);
      data.data.set([v, v, v, 255], (y * box.w + x) * 4);
    }
  }
  cctx.putImageData(data, 0, 0);
  const k = SIDE / Math.max(box.w, box.h);
  const w = Math.max(1, Math.round(box.w * k)), h = Math.max(1, Math.round(box.h * k));
  const out = el('canvas', { width: SIDE, height: SIDE });
  const ctx = out.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, SIDE, SIDE);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(crop, Math.floor((SIDE - w) / 2), Math.floor((SIDE - h) / 2), w, h);
  const p = ctx.getImageData(0, 0, SIDE, SIDE).data;
  const px = new Array(SIDE * SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) px[i] = p[i * 4] / 255;
  return { pixels: { shape: [SIDE, SIDE, 1], data: px }, inverted, border, box };
}
