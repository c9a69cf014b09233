// A grid of test images with the true class and the net's answer: a mistake is marked by a
// cross and the word "wrong" and a dashed frame, a right answer by a tick (never colour alone).
import { el, fmt } from './util.js';

// A grey [28, 28, 1] image in [0, 1] on a canvas drawn at `side` CSS px (pixels kept square).
export function greyCanvas(t, { side = 84, label } = {}) {
  const [H, W] = t.shape;
  const c = el('canvas', { class: 'map', width: W, height: H, role: 'img', 'aria-label': label });
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < W * H; i++) {
    const g = Math.round(Math.max(0, Math.min(1, t.data[i])) * 255);
    img.data.set([g, g, g, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  c.style.width = `${side}px`;
  c.style.height = `${Math.round((side * H) / W)}px`;
  return c;
}

const pct = (p) => `${fmt(100 * p, 3)} %`;

// examples: [{index, label, predicted, p, image}] (the done event's); classes: the names.
export function examplesGrid(examples, classes, { id } = {}) {
  const wrong = examples.filter((x) => x.label !== x.predicted);
  const items = examples.map((x) => {
    const ok = x.label === x.predicted;
    const said = `${classes[x.predicted]} (${pct(x.p)})`;
    const label = `Test image ${x.index + 1}: ${classes[x.label]}; the net says ${said}: ${ok ? 'right' : 'wrong'}.`;
    return el('li', { class: `example ${ok ? 'right' : 'wrong'}`, 'data-right': String(ok), 'data-label': x.label, 'data-predicted': x.predicted },
      greyCanvas(x.image, { label }),
      el('span', { class: 'verdict', 'aria-hidden': 'true', text: ok ? '✓ right' : '✗ wrong' }),
      el('span', { class: 'truth', 'aria-hidden': 'true', text: `true: ${classes[x.label]}` }),
      el('span', { class: 'said', 'aria-hidden': 'true', text: `net: ${said}` }));
  });
  const summary = `${examples.length - wrong.length} of ${examples.length} right${wrong.length
    ? `; wrong: ${wrong.map((x) => `image ${x.index + 1} (${classes[x.label]} taken for ${classes[x.predicted]})`).join(', ')}` : ''}.`;
  return el('figure', { class: 'examples-grid', id },
    el('figcaption', { text: `The first ${examples.length} test images, as the net sees them (28 × 28, light on black), with its answer and how sure it is` }),
    el('ul', { class: 'test-grid' }, ...items),
    el('p', { class: 'chart-summary examples-summary', text: `In words: ${summary}` }));
}
