// The dashboard's two chart kinds, drawn into an <svg> with a viewBox so CSS
// sizes them: a line over the last minutes, and a histogram with labelled bars.
import { formatMicros } from './metrics.js';

const svgNs = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const node = document.createElementNS(svgNs, name);
  for (const [k, v] of Object.entries(attrs))
    node.setAttribute(k, String(v));
  if (text !== undefined)
    node.textContent = text;
  return node;
}

// One value per second, oldest left; `capacity` points span the width, so a
// line that has just started grows from the right edge. The top of the scale
// is the largest value shown (at least 1), written in the chart's `.scale`
// element (HTML beside the stretched SVG, so the text keeps its shape).
export function drawLine(svg, values, capacity, { unit = '/s' } = {}) {
  const w = 300;
  const h = 60;
  const top = Math.max(1, ...values);
  const step = w / Math.max(1, capacity - 1);
  const x0 = w - (values.length - 1) * step;
  const y = (v) => h - 2 - (v / top) * (h - 14);
  const points = values.map((v, i) => `${(x0 + i * step).toFixed(1)},${y(v).toFixed(1)}`);
  const children = [el('line', { x1: 0, y1: h - 1, x2: w, y2: h - 1, class: 'axis' })];
  if (values.length > 1) {
    children.push(el('polygon', {
      points: `${points[0].split(',')[0]},${h - 1} ${points.join(' ')} ${w},${h - 1}`, class: 'area',
    }));
    children.push(el('polyline', { points: points.join(' '), class: 'line' }));
  }
  const scale = svg.parentElement?.querySelector('.scale');
  if (scale)
    scale.textContent = `max ${Number.isInteger(top) ? top : top.toFixed(1)}${unit}`;
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.replaceChildren(...children);
}

// Bars for the latency buckets: counts[i] falls at or below bounds[i] (and
// above bounds[i-1]); the last count is above every bound (+Inf).
export function drawHistogram(svg, bounds, counts) {
  const w = 420;
  const h = 150;
  const labelH = 28;
  const n = counts.length;
  const slot = w / Math.max(1, n);
  const top = Math.max(1, ...counts);
  const children = [el('line', { x1: 0, y1: h - labelH, x2: w, y2: h - labelH, class: 'axis' })];
  counts.forEach((c, i) => {
    const barH = (c / top) * (h - labelH - 14);
    const x = i * slot + 2;
    const bar = el('rect', { x, y: h - labelH - barH, width: slot - 4, height: barH, class: 'bar' });
    const upper = i < bounds.length ? `≤ ${formatMicros(bounds[i])}` : `> ${formatMicros(bounds[bounds.length - 1])}`;
    bar.append(el('title', {}, `${upper}: ${c}`));
    children.push(bar);
    if (c > 0)
      children.push(el('text', { x: x + (slot - 4) / 2, y: h - labelH - barH - 3, class: 'count' }, String(c)));
    const label = i < bounds.length ? formatMicros(bounds[i]).replace(' ', '') : '+Inf';
    children.push(el('text', {
      x: x + (slot - 4) / 2, y: h - labelH + 12 + (i % 2) * 11, class: 'label',
    }, label));
  });
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.replaceChildren(...children);
}
