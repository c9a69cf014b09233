// nnlab page entry point: wire up the sections and show the server's health.
import { addErrorSlots } from './js/api.js';
import { initConv } from './js/conv.js';
import { initPool } from './js/pool.js';
import { initMlp } from './js/mlp.js';
import { initCnn } from './js/cnn.js';
import { initTrain } from './js/train.js';
import { initCheck } from './js/check.js';

initConv();
initPool();
initMlp();
initCnn();
initTrain();
initCheck();
addErrorSlots(document);

const health = document.getElementById('health');
fetch('healthz').then((r) => r.json()).then((h) => {
  health.textContent = `server ok${h.version ? ` · ${h.version}` : ''}`;
  health.classList.add('ok');
}).catch(() => {
  health.textContent = 'server unreachable';
  health.classList.add('bad');
});
document.body.dataset.ready = 'true';
