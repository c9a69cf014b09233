// Legends that show each line's colour AND style (solid, dashed, dotted), as on the plot, so a
// line is told apart in grey print, on a washed-out projector and by colour-blind readers.
const SVG = 'http://www.w3.org/2000/svg';

// A short line drawn the way the series is drawn. dash: [] (solid) or a canvas-style dash array.
export function lineSample(color, dash = [], width = 2, { faded = false } = {}) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', '34');
  svg.setAttribute('height', '12');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'line-sample');
  const line = document.createElementNS(SVG, 'line');
  for (const [k, v] of [['x1', 1], ['y1', 6], ['x2', 33], ['y2', 6], ['stroke', color], ['stroke-width', width]]) line.setAttribute(k, v);
  if (dash.length) line.setAttribute('stroke-dasharray', dash.join(' '));
  if (faded) line.setAttribute('stroke-opacity', '0.45');
  svg.append(line);
  return svg;
}

// Words for a dash pattern, for text legends and summaries.
export function dashName(dash) {
  if (!dash || !dash.length) return 'solid';
  return dash[0] <= 2 ? 'dotted' : dash.length > 2 ? 'dash-dot' : 'dashed';
}

// Draw a line sample on a canvas (for exported images).
export function drawSample(ctx, x, y, color, dash = [], width = 2) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + 30, y);
  ctx.stroke();
  ctx.restore();
}
