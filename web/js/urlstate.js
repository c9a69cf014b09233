// The URL keeps the view: each section's settings that differ from the page's defaults
// ("conv.stride=2"), which sections show results ("run=conv,pool": they run again when the link
// is opened; training does not, it is long and the server runs few at once), presentation
// mode ("present=1") and the section in view (#conv). A teacher can hand out the link.

const AUTO_RUN = ['conv', 'pool', 'mlp', 'cnn'];

// The named controls of a form that belong in the URL (not files, not explainer steppers).
function controls(form) {
  return [...form.elements].filter((c) => c.name && !c.closest('[data-nourl]') && c.type !== 'file' && c.type !== 'submit' && c.type !== 'button');
}

function current(c) {
  if (c.type === 'checkbox') return c.checked ? '1' : '0';
  return c.value;
}

function initial(c) {
  if (c.type === 'checkbox') return c.defaultChecked ? '1' : '0';
  if (c.tagName === 'SELECT') {
    const o = [...c.options].find((x) => x.defaultSelected) || c.options[0];
    return o ? o.value : '';
  }
  return c.defaultValue;
}

// {key: value} of everything that differs from the defaults, over the bound sections.
function settings(sections) {
  const out = {};
  for (const s of sections) {
    for (const c of controls(s.form)) {
      if (c.type === 'radio') {
        // An uploaded photo cannot travel in a link: the link opens with the sample.
        if (c.checked && !c.defaultChecked && c.value !== 'file') out[`${s.id}.${c.name}`] = c.value;
        continue;
      }
      const v = current(c);
      if (v !== initial(c)) out[`${s.id}.${c.name}`] = v;
    }
  }
  return out;
}

export function viewURL(sections) {
  const q = new URLSearchParams(settings(sections));
  const ran = sections.filter((s) => AUTO_RUN.includes(s.id) && s.hasResults()).map((s) => s.id);
  if (ran.length) q.set('run', ran.join(','));
  if (document.body.classList.contains('present')) q.set('present', '1');
  const qs = q.toString();
  return `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`;
}

// Keep the address bar in step with the page (replaceState: no history entry per keystroke).
export function trackURL(sections) {
  let t = null;
  const write = () => { t = null; history.replaceState(null, '', viewURL(sections)); };
  const soon = () => { if (!t) t = setTimeout(write, 150); };
  for (const s of sections) {
    s.form.addEventListener('input', soon);
    s.form.addEventListener('change', soon);
    s.section.addEventListener('nnlab:ran', soon);
  }
  document.addEventListener('nnlab:present', soon);
  window.addEventListener('hashchange', soon);
  return write;
}

// Apply the settings in the URL to the forms. Returns {run: [section ids], present: bool}.
export function restoreURL(sections) {
  const q = new URLSearchParams(location.search);
  for (const s of sections) {
    const byName = new Map();
    for (const c of controls(s.form)) {
      if (!byName.has(c.name)) byName.set(c.name, []);
      byName.get(c.name).push(c);
    }
    for (const [name, list] of byName) {
      const v = q.get(`${s.id}.${name}`);
      if (v === null) continue;
      for (const c of list) {
        if (c.type === 'radio') c.checked = c.value === v;
        else if (c.type === 'checkbox') c.checked = v === '1';
        else c.value = v;
        c.dispatchEvent(new Event('change', { bubbles: true }));
      }
    }
  }
  const run = (q.get('run') || '').split(',').filter((id) => AUTO_RUN.includes(id));
  return { run: AUTO_RUN.filter((id) => run.includes(id)), present: q.get('present') === '1' };
}

