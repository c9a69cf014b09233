// The training view's extras: one-click presets (the assignment's settings, and the same with
// every sequence 100 steps long, where the Elman net stays at the baseline while LSTM and GRU
// learn), and the PyTorch script of each run ("export": "pytorch": the start line carries it)
// offered as a download. Hooks: the #train form's preset buttons and export box, and the
// section's "nnlab:train-start" / "nnlab:train-line" events (train.js).
import { $, $$, el } from './util.js';

const NAMES = { rnn: 'RNN (Elman)', lstm: 'LSTM', gru: 'GRU' };

// The assignment's settings; a preset changes only what it names.
const ASSIGNMENT = { samples: 5000, test_samples: 1000, epochs: 20, min_length: 3, max_length: 9, hidden_size: 6,
  learning_rate: 0.001, clip: 3, batch_size: 1 };
export const PRESETS = {
  assignment: { ...ASSIGNMENT },
  long: { ...ASSIGNMENT, min_length: 100, max_length: 100 },
};

function sizeText(n) {
  return n < 1024 * 1024 ? `${Math.round(n / 1024)} kB` : `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function initTrainExtras() {
  const section = $('#train');
  const form = $('#train-form');
  const f = form.elements;
  const box = $('#train-scripts');

  for (const b of $$('button[data-preset]', form)) {
    b.addEventListener('click', () => {
      const preset = PRESETS[b.dataset.preset];
      for (const [k, v] of Object.entries(preset)) f[k].value = String(v);
      for (const m of ['rnn', 'lstm', 'gru']) f[`m-${m}`].checked = true;
      f.max_length.dispatchEvent(new Event('change', { bubbles: true })); // the example and the URL follow
      form.requestSubmit();
    });
  }

  let urls = [];
  section.addEventListener('nnlab:train-start', () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    box.replaceChildren();
  });
  section.addEventListener('nnlab:train-line', (ev) => {
    const { model, line } = ev.detail;
    if (line.type !== 'start' || typeof line.pytorch !== 'string') return;
    const blob = new Blob([line.pytorch], { type: 'text/x-python' });
    const url = URL.createObjectURL(blob);
    urls.push(url);
    if (!box.firstChild) {
      box.append(el('h3', { text: 'The same runs in PyTorch' }),
        el('p', { class: 'note', text: 'Each script holds this run\'s data and initial weights and trains the same net with torch.nn and torch.optim.Adam. Run it with python3 (with torch and numpy installed): its last line is the loss of every epoch, the same numbers as here to about 1e-12.' }),
        el('ul', { class: 'scripts' }));
    }
    box.querySelector('ul').append(el('li', {}, el('a', { href: url, download: `nnlab_${model}_run.py`, 'data-model': model },
      `Download the ${NAMES[model]} run as a PyTorch script`), ` (nnlab_${model}_run.py, ${sizeText(blob.size)})`));
  });
}
