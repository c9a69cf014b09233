// Presentation mode, for projecting: large type, one section a screen (the page snaps from one
// section to the next), keys to move between sections. Toggled by the header button or ?present=1.

function inField(ev) {
  return ev.target.closest && ev.target.closest('input, select, textarea, [contenteditable]');
}

// Scroll to the section after (delta 1) or before (-1) the one at the top of the screen.
function go(delta) {
  const head = document.querySelector('header').getBoundingClientRect().bottom;
  // Every panel of the page, in page order (a new section needs no entry here).
  const sections = [...document.querySelectorAll('main > section.panel')].map((s) => s.id);
  let cur = 0;
  sections.forEach((id, i) => { if (document.getElementById(id).getBoundingClientRect().top <= head + 12) cur = i; });
  const id = sections[Math.max(0, Math.min(sections.length - 1, cur + delta))];
  document.getElementById(id).scrollIntoView({ block: 'start' });
  history.replaceState(null, '', `${location.pathname}${location.search}#${id}`);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function setPresent(on) {
  document.body.classList.toggle('present', on);
  const b = document.getElementById('present');
  b.setAttribute('aria-pressed', String(on));
  b.textContent = on ? 'Leave presentation mode' : 'Presentation mode';
  document.dispatchEvent(new CustomEvent('nnlab:present', { detail: on }));
}

export function initPresent() {
  const b = document.getElementById('present');
  b.addEventListener('click', () => setPresent(!document.body.classList.contains('present')));
  document.addEventListener('keydown', (ev) => {
    if (!document.body.classList.contains('present') || inField(ev) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === 'PageDown' || ev.key === 'ArrowRight') { ev.preventDefault(); go(1); }
    if (ev.key === 'PageUp' || ev.key === 'ArrowLeft') { ev.preventDefault(); go(-1); }
    if (ev.key === 'Escape') setPresent(false);
  });
}
