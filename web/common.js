// What every page shares: the JSON API, the live event stream (reconnecting by itself) and
// formatting. No framework; ES modules served from the daemon, nothing from elsewhere.

export async function api(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...options });
  let body = null;
  try { body = await res.json(); } catch (_) { /* empty or not JSON */ }
  if (!res.ok) throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
  return body;
}

export const post = (path) => api(path, { method: 'POST' });

// The subscribe stream over a WebSocket; `onEvent` gets each typed event, `onState` 'live' or
// 'reconnecting'. A lost connection retries with a growing pause (1 s .. 15 s).
export function liveEvents(onEvent, onState = () => {}) {
  let delay = 1000;
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/events`);
    ws.onopen = () => { delay = 1000; onState('live'); };
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch (_) { return; }
      if (ev.event) onEvent(ev);
    };
    ws.onclose = () => {
      onState('reconnecting');
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 15000);
    };
  };
  open();
}

// Runs `fn` at most once per `ms`, trailing: bursts of events cost one refresh.
export function debounce(fn, ms) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(); }, ms);
  };
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export const baseName = (p) => (p || '').split('/').pop();

export function duration(s) {
  if (s === undefined || s === null || s < 0 || !isFinite(s)) return '–';
  if (s < 10) return `${s.toFixed(1)} s`;
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function size(b) {
  if (!b) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${b.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function when(unix) {
  if (!unix) return '–';
  return new Date(unix * 1000).toLocaleString();
}

export function progressBar(fraction) {
  const p = Math.max(0, Math.min(1, fraction || 0));
  return el('span', { class: 'bar' },
    el('progress', { max: '1', value: String(p) }),
    el('span', { class: 'pct' }, `${Math.round(p * 100)} %`));
}

export function showError(err) {
  const box = document.getElementById('error');
  if (!box) return;
  box.textContent = err ? String(err.message || err) : '';
  box.hidden = !err;
}

export function connectionBadge(state) {
  const b = document.getElementById('live');
  if (!b) return;
  b.textContent = state === 'live' ? 'live' : 'reconnecting…';
  b.className = `badge ${state}`;
}
