// Small DOM helpers shared by the dashboard's panels.

export const $ = (id) => document.getElementById(id);

// Every element showing figure `name` (data-metric) gets `text`; the raw
// value stays in data-value, so scripts read numbers, not formatted text.
export function setMetric(name, value, text = value === null || value === undefined ? '—' : String(value)) {
  for (const node of document.querySelectorAll(`[data-metric="${CSS.escape(name)}"]`)) {
    node.textContent = text;
    node.dataset.value = value === null || value === undefined ? '' : String(value);
  }
}

// A table row of cells; a cell is text, a Node, or { text, metric, value,
// className } (metric/value become data-metric/data-value).
export function row(cells, attrs = {}) {
  const tr = document.createElement('tr');
  for (const [k, v] of Object.entries(attrs))
    tr.setAttribute(k, String(v));
  for (const cell of cells) {
    const td = document.createElement('td');
    if (cell instanceof Node) {
      td.append(cell);
    } else if (cell !== null && typeof cell === 'object') {
      td.textContent = cell.text ?? String(cell.value ?? '');
      if (cell.metric)
        td.dataset.metric = cell.metric;
      if (cell.value !== undefined)
        td.dataset.value = String(cell.value);
      if (cell.className)
        td.className = cell.className;
    } else {
      td.textContent = String(cell ?? '—');
    }
    tr.append(td);
  }
  return tr;
}

// A number cell: right-aligned, raw value kept.
export const num = (value, metric = undefined) =>
  ({ text: value === null || value === undefined ? '—' : value.toLocaleString('en-US'), value: value ?? '', metric, className: 'num' });

// Sets the text and the data-state of a status line or badge.
export function showState(node, state, text) {
  node.dataset.state = state;
  node.textContent = text;
}
