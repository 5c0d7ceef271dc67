// DOM helpers. Every value that comes from the hub, an agent, a database or
// a user becomes a text node or an attribute value: nothing here parses
// HTML, so a source named <img src=x onerror=…> stays text.

/** h('p', {class: 'x', on: {click: fn}}, 'text', child, ...) → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'value') {
      el.value = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      if (/^on/i.test(key)) throw new Error('event attributes are not allowed: ' + key);
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table: headers, then rows of cells (strings, numbers or nodes). */
export function table(headers, rows, attrs = {}) {
  return h('div', {class: 'table-wrap'},
    h('table', attrs,
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** A JSON value as text for a table cell (strings as they are, null as NULL). */
export function cellText(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** "2026-12-02 18:04:05" in the browser's time zone, or "—". */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
         `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "12 s ago", "3 min ago" from a duration in milliseconds. */
export function ago(ms) {
  if (ms < 0) ms = 0;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A status pill: scheduled, running, succeeded, failed, cancelled, online, offline. */
export function badge(status) {
  return h('span', {class: `badge badge-${String(status).replace(/[^a-z_]/g, '')}`}, status);
}

/** An error box with the code and the message, both as text. */
export function errorBox(code, message) {
  return h('div', {class: 'error-box', role: 'alert'},
    h('strong', {}, code || 'error'), ': ', message || '');
}

/** A "nothing here yet" block with a title, a hint and optional links. */
export function empty(title, ...hint) {
  return h('div', {class: 'empty'}, h('p', {class: 'empty-title'}, title), h('p', {}, ...hint));
}

/** A button that asks again before acting: first click arms, second runs. */
export function confirmButton(label, confirmLabel, action) {
  let armed = false;
  let timer = null;
  const button = h('button', {type: 'button', class: 'danger'}, label);
  button.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      timer = setTimeout(() => { armed = false; button.textContent = label; }, 4000);
      return;
    }
    clearTimeout(timer);
    button.disabled = true;
    try { await action(); } finally { button.disabled = false; armed = false; button.textContent = label; }
  });
  return button;
}

/** A read-only code block with a Copy button. */
export function copyBlock(label, text, id) {
  const code = h('pre', {class: 'copy', id, tabindex: '0'}, h('code', {}, text));
  const button = h('button', {type: 'button', class: 'quiet'}, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      // No clipboard permission (plain http on another host): select instead.
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      button.textContent = 'Selected — press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2500);
  });
  return h('div', {class: 'copy-block'}, h('div', {class: 'copy-head'}, h('span', {}, label), button), code);
}
