// nnlab page entry point: ask the server about itself, wire up the sections, restore the view
// from the URL (settings, presentation mode, sections to run) and keep the URL in step.
import { addErrorSlots } from './js/errors.js';
import { loadServerInfo } from './js/server.js';
import { initConv } from './js/conv.js';
import { initPool } from './js/pool.js';
import { initMlp } from './js/mlp.js';
import { initCnn } from './js/cnn.js';
import { initTrain } from './js/train.js';
import { initTrainCnn } from './js/cnn_train.js';
import { initTryCnn } from './js/cnn_try.js';
import { initTrainExtras } from './js/train_extras.js';
import { initGradChart } from './js/gradchart.js';
import { initInside } from './js/rnn_inside.js';
import { initSweep } from './js/rnn_sweep.js';
import { initCheck } from './js/check.js';
import { initPresent, setPresent } from './js/present.js';
import { restoreURL, trackURL, viewURL } from './js/urlstate.js';

const health = document.getElementById('health');
loadServerInfo().then((h) => {
  health.textContent = `server ok${h.version ? ` · ${h.version}` : ''}`;
  health.classList.add('ok');
}).catch(() => {
  health.textContent = 'server unreachable';
  health.classList.add('bad');
});

const sections = [initConv(), initPool(), initMlp(), initCnn(), initTrain(), initInside(), initSweep(), initTrainCnn(), initTryCnn()];
initCheck();
initTrainExtras();
initGradChart();
addErrorSlots(document);
initPresent();

const view = restoreURL(sections);
if (view.present) setPresent(true);
const writeURL = trackURL(sections);

// "Copy link": the address of this view, to hand out.
const status = document.getElementById('share-status');
document.getElementById('share').addEventListener('click', async () => {
  writeURL();
  const url = new URL(viewURL(sections), location.href).href;
  const upload = sections.some((s) => s.form.querySelector('input[name=imgsrc][value=file]:checked'));
  const note = upload ? ' (with the sample image: a photo cannot travel in a link)' : '';
  try {
    await navigator.clipboard.writeText(url);
    status.textContent = `Link copied${note}.`;
  } catch {
    status.textContent = `Copy this link${note}: ${url}`;
  }
  status.dataset.url = url;
});

// Run the sections the link showed, in page order (the pooling input may be the convolution's).
(async () => {
  for (const id of view.run) await sections.find((s) => s.id === id).go();
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
  document.body.dataset.ready = 'true';
})();
