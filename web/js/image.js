// An image picker: the shipped sample (sample.png) or a photo of the student's (PNG or JPEG).
// The page decodes the image, scales it down to the chosen longest side, optionally turns it
// grey, and sends THAT (as a PNG) — never the original file, so a 12-megapixel phone photo
// becomes a 256-px image before it leaves the browser. Because the page sends exactly the
// pixels it drew, it knows the very values the server computes with (for "how is this number
// made?").
import { FieldError } from './fields.js';
import { limits } from './server.js';
import { el, fmt } from './util.js';

export const SIDES = [32, 64, 128, 256, 512, 1024, 0];

export function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${fmt(n / 1024, 3)} kB`;
  return `${fmt(n / (1024 * 1024), 3)} MB`;
}

function blobToDataURL(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

let sampleBlob = null;
async function sample() {
  if (!sampleBlob) {
    sampleBlob = fetch('sample.png').then((res) => {
      if (!res.ok) throw new Error(`the sample image could not be loaded (HTTP ${res.status})`);
      return res.blob();
    });
    sampleBlob.catch(() => { sampleBlob = null; });
  }
  return sampleBlob;
}

// Grey as the server computes it (0.299 R + 0.587 G + 0.114 B), written into R, G and B, so
// the PNG the page sends decodes on the server to exactly these grey levels.
function toGrey(img) {
  const p = img.data;
  for (let i = 0; i < p.length; i += 4) {
    const g = Math.round(0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2]);
    p[i] = p[i + 1] = p[i + 2] = g;
  }
}

function pixelsOf(img, C) {
  const { width: W, height: H, data: p } = img;
  const data = new Float32Array(W * H * C);
  for (let i = 0; i < W * H; i++) {
    for (let c = 0; c < C; c++) data[i * C + c] = p[i * 4 + c] / 255;
  }
  return { shape: [H, W, C], data };
}

function buildControls(name, side) {
  const id = (s) => `${name}-${s}`;
  const c = {
    sample: el('input', { type: 'radio', name: 'imgsrc', value: 'sample', id: id('src-sample'), checked: true }),
    upload: el('input', { type: 'radio', name: 'imgsrc', value: 'file', id: id('src-file') }),
    file: el('input', { type: 'file', name: 'imgfile', id: id('file'), accept: 'image/png,image/jpeg', 'data-nourl': '' }),
    side: el('select', { name: 'imgside', id: id('side') },
      ...SIDES.map((s) => el('option', { value: s, text: s ? `${s} px` : 'original size', selected: s === side }))),
    gray: el('input', { type: 'checkbox', name: 'imggray', id: id('gray') }),
    info: el('p', { class: 'file-info note', id: id('info'), 'aria-live': 'polite' }),
  };
  c.box = el('fieldset', { class: 'group image-picker', 'data-field': 'image input resize grayscale' },
    el('legend', { text: 'Image' }),
    el('div', { class: 'radios' },
      el('label', { class: 'inline', for: id('src-sample') }, c.sample, ' the sample'),
      el('label', { class: 'inline', for: id('src-file') }, c.upload, ' a photo of yours')),
    el('div', { class: 'ctl file-ctl' }, el('label', { class: 'lbl', for: id('file'), text: 'Photo (PNG or JPEG)' }), c.file),
    c.info,
    el('div', { class: 'row' },
      el('div', { class: 'ctl' }, el('label', { class: 'lbl', for: id('side'), text: 'Longest side at most' }), c.side),
      el('label', { class: 'ctl inline-ctl', for: id('gray') }, c.gray, ' grayscale')));
  return c;
}

export function createImagePicker(host, { name, side = 256 } = {}) {
  const c = buildControls(name, side);
  host.replaceWith(c.box);
  c.box.id = host.id;
  let decoded = null;      // {key, bitmap, w, h, label}
  let prepared = null;     // {key, result}

  const syncFile = () => {
    c.file.closest('.ctl').hidden = !c.upload.checked;
    if (!c.upload.checked) c.info.textContent = '';
  };
  c.upload.addEventListener('change', syncFile);
  c.sample.addEventListener('change', syncFile);
  c.file.addEventListener('change', () => {
    const f = c.file.files[0];
    if (f) {
      c.upload.checked = true;
      c.info.textContent = `${f.name}: ${formatBytes(f.size)}`;
      c.info.dataset.bytes = String(f.size);
    }
    syncFile();
  });
  syncFile();

  async function decode() {
    const f = c.upload.checked ? c.file.files[0] : null;
    if (c.upload.checked && !f) throw new FieldError(c.file, 'Choose a photo first (PNG or JPEG), or pick “the sample”.');
    const key = f ? `${f.name}|${f.size}|${f.lastModified}` : 'sample';
    if (decoded && decoded.key === key) return decoded;
    const blob = f || await sample();
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    } catch {
      throw new FieldError(f ? c.file : c.sample, 'The browser cannot read this file as an image. Use a PNG or JPEG photo.');
    }
    const label = f ? `${f.name}: ${formatBytes(f.size)}, ${bitmap.width} × ${bitmap.height} px` : `the sample: ${bitmap.width} × ${bitmap.height} px`;
    decoded = { key, bitmap, label };
    return decoded;
  }

  // The target size; refused here (on "Longest side") when the server would refuse it.
  async function targetSize(w, h, C) {
    const cap = Number(c.side.value);
    const k = cap && Math.max(w, h) > cap ? cap / Math.max(w, h) : 1;
    const W = Math.max(1, Math.round(w * k)), H = Math.max(1, Math.round(h * k));
    const lim = await limits();
    const values = W * H * C;
    if (lim.max_image_side && Math.max(W, H) > lim.max_image_side) {
      throw new FieldError(c.side, `This image would be ${W} × ${H} px; the server takes at most ${lim.max_image_side} px a side. Choose a smaller “Longest side”.`);
    }
    if (lim.max_tensor_elems && values > lim.max_tensor_elems) {
      throw new FieldError(c.side, `This image would be ${W} × ${H} × ${C} = ${fmt(values / 1e6, 3)} million values; the server takes at most ${fmt(lim.max_tensor_elems / 1e6, 3)} million. Choose a smaller “Longest side”.`);
    }
    return [W, H];
  }

  // The request fields ({image, grayscale?}), the pixels sent ([H, W, C] in [0, 1]) and a line
  // saying what was sent.
  async function get() {
    const d = await decode();
    const C = c.gray.checked ? 1 : 3;
    const [W, H] = await targetSize(d.bitmap.width, d.bitmap.height, C);
    const key = `${d.key}|${W}x${H}|${C}`;
    if (!prepared || prepared.key !== key) {
      const canvas = el('canvas', { width: W, height: H });
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(d.bitmap, 0, 0, W, H);
      const img = ctx.getImageData(0, 0, W, H);
      if (C === 1) { toGrey(img); ctx.putImageData(img, 0, 0); }
      const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      const lim = await limits();
      if (lim.max_body_bytes && png.size * 4 / 3 + 1024 > lim.max_body_bytes) {
        throw new FieldError(c.side, `This image would take ${formatBytes(Math.round(png.size * 4 / 3))} to send; the server accepts ${formatBytes(lim.max_body_bytes)}. Choose a smaller “Longest side”.`);
      }
      const fields = { image: await blobToDataURL(png) };
      if (C === 1) fields.grayscale = true;
      const scaled = W !== d.bitmap.width || H !== d.bitmap.height;
      const sent = `${scaled ? 'scaled to' : 'sent at'} ${W} × ${H}${C === 1 ? ', grey' : ''} (${formatBytes(png.size)} as PNG)`;
      prepared = { key, result: { fields, pixels: pixelsOf(img, C), info: `${d.label}; ${sent}` } };
    }
    c.info.textContent = prepared.result.info;
    return prepared.result;
  }
  return { get, element: c.box };
}
