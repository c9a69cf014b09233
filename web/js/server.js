// What the server says about itself (GET /healthz), fetched once: its limits (so the page states
// the real ones) and the layer types /cnn accepts with every spelling (so the page never keeps
// a copy of the parser's list that could drift from it).

let info = null;

export function loadServerInfo() {
  if (!info) {
    info = fetch('healthz').then((r) => {
      if (!r.ok) throw new Error(`healthz answered ${r.status}`);
      return r.json();
    });
    info.catch(() => { info = null; });
  }
  return info;
}

// The limits, or {} when the server could not be asked (the page then states no numbers).
export async function limits() {
  try { return (await loadServerInfo()).limits || {}; } catch { return {}; }
}

// The canonical layer type for any spelling /cnn accepts ("Conv", "dense", "FC" ...), or null.
export async function canonicalLayerType(name) {
  if (typeof name !== 'string') return null;
  const types = (await loadServerInfo()).layer_types || {};
  const n = name.toLowerCase();
  for (const [canon, names] of Object.entries(types)) if (names.includes(n)) return canon;
  return null;
}

// "conv, pool, global_pool, mlp" for messages.
export async function layerTypeNames() {
  try { return Object.keys((await loadServerInfo()).layer_types || {}).join(', '); } catch { return ''; }
}
