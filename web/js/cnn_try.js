// "Try it": the CNN trained in the section above (its weights arrive with the
// "nnlab:cnn-trained" event from cnn_train.js) on a picture of the student's: drawn on a pad,
// uploaded, or one of the test images. Drawings and photos become Fashion-MNIST images in the
// browser (cnn_picture.js); one POST /cnn with the trained weights as the architecture and the
// class names gives the three most likely classes with their probabilities.
import { post } from './api.js';
import { bindSection } from './section.js';
import { FieldError } from './fields.js';
import { createPad } from './cnn_pad.js';
import { toFashion } from './cnn_picture.js';
import { greyCanvas } from './cnn_examples.js';
import { $, el, fmt } from './util.js';

const pct = (p) => `${fmt(100 * p, 3)} %`;

async function decodeFile(input) {
  const file = input.files[0];
  if (!file) throw new FieldError(input, 'Choose a photo first (PNG or JPEG), or draw one.');
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new FieldError(input, 'The browser cannot read this file as an image. Use a PNG or JPEG photo.');
  }
}

// What the conversion did, in words.
function howMade(src, pic) {
  if (src === 'test') return 'A test image, sent as it is in the data set.';
  const b = fmt(pic.border, 2);
  const light = pic.border > 0.5;
  const inv = pic.inverted
    ? (light ? `Inverted, because its border was light (${b} on a 0–1 scale): dark on light became light on black; ` : 'Inverted, as you asked; ')
    : (light ? `Not inverted, as you asked, although its border is light (${b}); ` : `Not inverted: its border was already dark (${b} on a 0–1 scale); `);
  return `${inv}cropped to the object (${pic.box.w} × ${pic.box.h} px of the ${src === 'draw' ? 'drawing' : 'photo'} after a first scaling), scaled so its longer side is 28 px and centred. The 28 × 28 picture above is exactly what the net got.`;
}

function answerView(pic, res, { src, truth, how }) {
  const top = res.top || [];
  const sum = top.reduce((a, t) => a + t.p, 0);
  const list = el('ol', { class: 'top3', id: 'cnntry-top' }, ...top.map((t) => el('li', { 'data-class': t.class, 'data-p': t.p },
    el('span', { class: 'name', text: t.name }),
    el('span', { class: 'pbar', 'aria-hidden': 'true' }, el('span', { style: `width: ${Math.max(0.5, 100 * t.p)}%` })),
    el('span', { class: 'p', text: pct(t.p) }))));
  const first = top[0];
  return el('div', { class: 'try-answer' },
    el('div', { class: 'pair' },
      el('figure', { class: 'mapfig' }, el('figcaption', { text: 'What the net sees (28 × 28)' }),
        greyCanvas(pic.pixels, { side: 140, label: `the picture sent: 28 × 28 grey${truth ? `, a test image labelled ${truth}` : ''}` })),
      el('div', {},
        el('p', { class: 'try-verdict', text: first ? `The net's answer: ${first.name} (${pct(first.p)}).${truth ? ` The test image's label is ${truth}.` : ''}` : '' }),
        el('h3', { text: 'The three most likely classes' }), list,
        el('p', { class: 'note', text: `These three hold ${pct(sum)} of the probability; the other ${res.output.length - top.length} classes share the rest.` }))),
    el('p', { class: 'note how', text: how }),
    src === 'draw' ? el('p', { class: 'note', text: 'Drawings look little like the photos the net learnt from: a filled shape (a whole T-shirt, not its outline) works best.' }) : null);
}

export function initTryCnn() {
  const form = $('#cnntry-form');
  const f = form.elements;
  const pad = createPad($('#cnntry-pad-host'));
  const netNote = $('#cnntry-net');
  let net = null, api = null;

  const sync = () => {
    pad.element.hidden = f.src.value !== 'draw';
    $('#cnntry-file-ctl').hidden = f.src.value !== 'file';
    $('#cnntry-test-ctl').hidden = f.src.value !== 'test';
  };
  for (const r of form.querySelectorAll('input[name=src]')) r.addEventListener('change', sync);
  f.file.addEventListener('change', () => { if (f.file.files[0]) { form.querySelector('input[name=src][value=file]').checked = true; sync(); } });
  sync();

  document.addEventListener('nnlab:cnn-trained', (ev) => {
    net = ev.detail;
    netNote.textContent = `Using the net just trained (${net.label}).`;
    f.test.replaceChildren(...net.examples.map((x, i) => el('option', { value: i, text: `image ${x.index + 1}: ${net.classes[x.label]}` })));
    api?.markStale('changed');   // the answers on screen came from the previous net
  });

  async function picture() {
    const src = f.src.value;
    if (src === 'test') {
      const x = net.examples[Number(f.test.value)];
      if (!x) throw new FieldError(f.test, 'Pick a test image.');
      return { src, pic: { pixels: x.image }, truth: net.classes[x.label] };
    }
    let pic;
    if (src === 'draw') {
      if (pad.isEmpty()) throw new FieldError(form.querySelector('input[name=src][value=draw]'), 'The drawing is empty: draw a piece of clothing on the black square first.');
      pic = toFashion(pad.canvas, pad.size, pad.size, { invert: f.invert.value });
    } else {
      const bmp = await decodeFile(f.file);
      pic = toFashion(bmp, bmp.width, bmp.height, { invert: f.invert.value });
    }
    if (!pic) throw new FieldError(f.invert, 'Nothing is left of the picture once its background is taken away: it is all background. Try “Invert” the other way, or another picture.');
    return { src, pic };
  }

  api = bindSection({
    id: 'cnntry',
    async run({ signal, out }) {
      if (!net) throw new Error('There is no trained net yet: train one in the section above first (the quick look takes a second or two).');
      const { src, pic, truth } = await picture();
      const res = await post('cnn', { input: pic.pixels, architecture: net.weights, classes: net.classes, top: 3 }, { signal });
      out.replaceChildren(answerView(pic, res, { src, truth, how: howMade(src, pic) }));
    },
  });
  return api;
}
