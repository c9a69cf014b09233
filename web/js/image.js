// An image picker: the shipped sample (/sample.png) or an uploaded PNG/JPEG, optional grayscale
// and a cap on the longest side (sent to the API as "resize"). The page sends the file itself
// (base64); the pixels decoded here are only for drawing the input and its hover readout.
import { el } from './util.js';

let sampleCache = null;

function readAsDataURL(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

async function sampleDataURL() {
  if (!sampleCache) {
    sampleCache = (async () => {
      const res = await fetch('sample.png');
      if (!res.ok) throw Object.assign(new Error(`the sample image could not be loaded (HTTP ${res.status})`), { field: 'image' });
      return readAsDataURL(await res.blob());
    })();
    sampleCache.catch(() => { sampleCache = null; });
  }
  return sampleCache;
}

function decode(dataUrl) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(Object.assign(new Error('the browser cannot decode this file as an image (use PNG or JPEG)'), { field: 'image' }));
    img.src = dataUrl;
  });
}

export function createImagePicker(host, { name, side = 256 } = {}) {
  const sizes = [32, 64, 128, 256, 512, 0];
  const file = el('input', { type: 'file', accept: 'image/png,image/jpeg' });
  const srcSample = el('input', { type: 'radio', name: `${name}-src`, value: 'sample', checked: true });
  const srcFile = el('input', { type: 'radio', name: `${name}-src`, value: 'file' });
  const gray = el('input', { type: 'checkbox', name: `${name}-gray` });
  const maxSide = el('select', { name: `${name}-side` },
    ...sizes.map((s) => el('option', { value: s, text: s ? `${s} px` : 'original', selected: s === side })));
  file.addEventListener('change', () => { if (file.files.length) srcFile.checked = true; });

  host.append(
    el('div', { class: 'ctl', 'data-field': 'image input' },
      el('span', { class: 'lbl', text: 'Image' }),
      el('label', { class: 'inline' }, srcSample, ' sample'),
      el('label', { class: 'inline' }, srcFile, ' upload: ', file)),
    el('div', { class: 'row' },
      el('label', { class: 'ctl', 'data-field': 'grayscale' }, el('span', { class: 'lbl', text: 'Grayscale' }), gray),
      el('label', { class: 'ctl', 'data-field': 'resize' }, el('span', { class: 'lbl', text: 'Longest side ≤' }), maxSide)));

  // The request fields for the chosen image, plus its decoded pixels ([H, W, C] in [0, 1]).
  async function get() {
    let dataUrl;
    if (srcFile.checked && file.files.length) dataUrl = await readAsDataURL(file.files[0]);
    else dataUrl = await sampleDataURL();
    const img = await decode(dataUrl);
    let W = img.naturalWidth, H = img.naturalHeight;
    const cap = Number(maxSide.value);
    const fields = { image: dataUrl };
    if (cap && Math.max(W, H) > cap) {
      const k = cap / Math.max(W, H);
      W = Math.max(1, Math.round(W * k));
      H = Math.max(1, Math.round(H * k));
      fields.resize = [H, W];
    }
    if (gray.checked) fields.grayscale = true;
    const C = gray.checked ? 1 : 3;
    const cv = el('canvas', { width: W, height: H });
    const ctx = cv.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(img, 0, 0, W, H);
    const px = ctx.getImageData(0, 0, W, H).data;
    const data = new Float32Array(W * H * C);
    for (let i = 0; i < W * H; i++) {
      if (C === 1) data[i] = (0.299 * px[i * 4] + 0.587 * px[i * 4 + 1] + 0.114 * px[i * 4 + 2]) / 255;
      else for (let c = 0; c < 3; c++) data[i * 3 + c] = px[i * 4 + c] / 255;
    }
    return { fields, pixels: { shape: [H, W, C], data } };
  }
  return { get, channels: () => (gray.checked ? 1 : 3) };
}
