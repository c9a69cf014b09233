// A drawing pad: white strokes on black (Fashion-MNIST's colours), drawn with a mouse, a pen or
// a finger (pointer events; the pad does not scroll the page while a finger draws on it). Every
// stroke sends an "input" event up the form, so the section's results go out of date.
import { el } from './util.js';

const SIZE = 224;   // canvas pixels; drawn at up to this many CSS px
const BRUSH = 20;

export function createPad(host, { label = 'Drawing pad' } = {}) {
  const canvas = el('canvas', { class: 'pad', width: SIZE, height: SIZE, role: 'img',
    'aria-label': `${label}: draw with the mouse or a finger (a photo or a test image work from the keyboard)` });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const clear = el('button', { type: 'button', class: 'secondary small', text: 'Clear the drawing' });
  let ink = false, last = null;

  function wipe() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, SIZE, SIZE);
    ink = false;
  }
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) / r.width) * SIZE, ((ev.clientY - r.top) / r.height) * SIZE];
  };
  function stroke(to) {
    ctx.strokeStyle = ctx.fillStyle = '#fff';
    ctx.lineWidth = BRUSH;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...(last || to));
    ctx.lineTo(...to);
    ctx.stroke();
    last = to;
    ink = true;
  }
  canvas.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    last = null;
    stroke(at(ev));
  });
  canvas.addEventListener('pointermove', (ev) => { if (last) stroke(at(ev)); });
  const end = () => {
    if (!last) return;
    last = null;
    canvas.dispatchEvent(new Event('input', { bubbles: true }));
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  clear.addEventListener('click', () => { wipe(); canvas.dispatchEvent(new Event('input', { bubbles: true })); });
  wipe();

  const element = el('div', { class: 'pad-box' }, canvas, clear);
  host.replaceWith(element);
  element.id = host.id;
  return { element, canvas, size: SIZE, isEmpty: () => !ink, clear: wipe };
}
