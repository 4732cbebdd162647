// The overview: workers, queue, jobs by state, disk guard, hardware, the jobs table with live
// progress, watches with pause/resume, the nodes and, in cluster mode, the farm's jobs.
import { api, post, liveEvents, debounce, el, svg, baseName, duration, when, progressBar,
         showError, connectionBadge } from './common.js';

let status = null;
let jobs = [];

function card(label, value, extra) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label),
            el('div', { class: 'value' }, value), extra || null);
}

function renderStatus() {
  const s = status;
  document.getElementById('node').textContent =
    `${s.version ? 'v' + s.version : ''} · up ${duration(s.uptime)}`;
  const pauseButton = el('button', {
    onclick: () => post(s.paused ? '/api/resume' : '/api/pause').then(refreshStatus, showError),
  }, s.paused ? 'Resume' : 'Pause');
  const disk = s.intake.low_disk ? 'LOW — intake paused' : 'ok';
  const hw = s.hardware || {};
  const cards = document.getElementById('cards');
  cards.replaceChildren(
    card('Workers busy', `${s.workers.busy} / ${s.workers.total}`),
    card('Queue depth', String(s.queue_depth)),
    card('Processing', s.paused ? 'paused' : 'running', pauseButton),
    card('Disk guard', disk),
    card('Hardware tier', String(hw.tier ?? '–'), el('div', { class: 'sub' },
      `${hw.cores ?? '?'} cores${hw.gpu ? ' · GPU' : ''}`)),
    card('Settling files', String(s.intake.settling_files ?? 0)),
  );
  cards.querySelectorAll('.card')[3].classList.toggle('warn', !!s.intake.low_disk);

  throughputChart(s.throughput);

  const chips = document.getElementById('by-state');
  chips.replaceChildren(...Object.entries(s.jobs).map(([k, v]) =>
    el('a', { class: `chip state-${k}`, href: '#', onclick: (e) => {
      e.preventDefault(); document.getElementById('state-filter').value = k; refreshJobs();
    } }, `${k} ${v}`)));
  if (!Object.keys(s.jobs).length) chips.append('no jobs yet');

  // The daemon's own list of states (status.jobs has every one), so new states appear here.
  const sf = document.getElementById('state-filter');
  if (sf.options.length === 1)
    for (const k of Object.keys(s.jobs)) sf.append(el('option', { value: k }, k));

  const wf = document.getElementById('watch-filter');
  const chosen = wf.value;
  wf.replaceChildren(el('option', { value: '' }, 'all'),
    ...s.watches.map((w) => el('option', { value: w.path, selected: w.path === chosen }, w.path)));

  document.querySelector('#watches tbody').replaceChildren(...s.watches.map((w) =>
    el('tr', {}, el('td', {}, w.path), el('td', {}, w.profile), el('td', { class: 'wide' }, w.output),
       el('td', {}, el('button', {
         onclick: () => post(`/api/${w.paused ? 'resume' : 'pause'}?watch=${encodeURIComponent(w.path)}`)
           .then(refreshStatus, showError),
       }, w.paused ? 'Resume' : 'Pause')))));
}

// Frames per second for each of the last 60 minutes (the running minute over its seconds so
// far), as bars.
function throughputChart(t) {
  const box = document.getElementById('throughput');
  if (!t || !t.minutes) { box.replaceChildren(el('p', {}, 'not reported by this daemon')); return; }
  const n = t.minutes.length;
  const into = Math.max(1, t.seconds_into_minute || 0);
  const fps = t.minutes.map((f, i) => f / (i === n - 1 ? Math.max(into, 1) : 60));
  const top = Math.max(1, ...fps);
  const W = 1000, H = 120, left = 50, bottom = 20, bw = (W - left) / n;
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'throughput-svg', role: 'img',
                         'aria-label': 'frames per second per minute over the last hour' });
  for (const k of [0, 0.5, 1]) {
    const y = (H - bottom) * (1 - k) + 2;
    g.append(svg('line', { x1: left, x2: W, y1: y, y2: y, class: 'lane-line' }));
    g.append(svg('text', { x: 2, y: y + 4, class: 'tick' }, `${(top * k).toFixed(top * k < 10 ? 1 : 0)}`));
  }
  fps.forEach((v, i) => {
    const h = (v / top) * (H - bottom - 2);
    g.append(svg('rect', { x: left + i * bw + 1, y: H - bottom - h + 2, width: bw - 2, height: h,
                           class: i === n - 1 ? 'tp-bar now' : 'tp-bar' },
                 svg('title', {}, `${n - 1 - i} min ago: ${v.toFixed(1)} frames/s`)));
  });
  g.append(svg('text', { x: left, y: H - 4, class: 'tick' }, '60 min ago'));
  g.append(svg('text', { x: W, y: H - 4, class: 'tick', 'text-anchor': 'end' }, 'now'));
  const total = t.minutes.reduce((a, b) => a + b, 0);
  box.replaceChildren(g, el('p', { class: 'sub', id: 'throughput-summary' },
    `${total} frames in the last hour · last full minute ${(t.fps || 0).toFixed(1)} frames/s`));
}

function liveOf(job) {
  return job.live || (job.state === 'done' ? { progress: 1 } : { progress: job.progress });
}

function jobRow(job) {
  const live = liveOf(job);
  return el('tr', { 'data-job': job.id },
    el('td', {}, el('a', { href: `/job?id=${job.id}` }, String(job.id))),
    el('td', { class: 'file', title: job.source }, el('a', { href: `/job?id=${job.id}` }, baseName(job.source))),
    el('td', {}, el('span', { class: `chip state-${job.state}` }, job.state)),
    el('td', { class: 'progress-cell' }, progressBar(live.progress)),
    el('td', { class: 'fps' }, live.fps ? live.fps.toFixed(1) : '–'),
    el('td', { class: 'eta' }, live.eta !== undefined ? duration(live.eta) : '–'),
    el('td', { class: 'wide' }, job.profile),
    el('td', { class: 'wide' }, when(job.updated_at)));
}

function renderJobs() {
  const watch = document.getElementById('watch-filter').value;
  const shown = watch ? jobs.filter((j) => j.watch === watch) : jobs;
  const body = document.querySelector('#jobs tbody');
  body.replaceChildren(...shown.map(jobRow));
  if (!shown.length) body.append(el('tr', {}, el('td', { colspan: '8' }, 'no jobs')));
}

async function refreshStatus() {
  try {
    status = await api('/api/status');
    renderStatus();
    showError(null);
  } catch (e) { showError(e); }
}

async function refreshJobs() {
  const state = document.getElementById('state-filter').value;
  try {
    jobs = (await api(`/api/jobs?limit=200${state ? '&state=' + state : ''}`)).jobs;
    renderJobs();
  } catch (e) { showError(e); }
}

// A cluster node's state, and why it claims nothing when its storage keeps it from it (it
// still says active); a single daemon is running or paused.
function nodeState(n) {
  const state = n.state ?? (n.paused ? 'paused' : 'active');
  return n.storage_problem ? `${state}, not claiming: ${n.storage_problem}` : state;
}

// Hidden where the daemon has no nodes endpoint.
async function refreshNodes() {
  const section = document.getElementById('nodes-section');
  try {
    const { nodes } = await api('/api/nodes');
    section.hidden = !nodes || !nodes.length;
    document.querySelector('#nodes tbody').replaceChildren(...nodes.map((n) =>
      el('tr', { 'data-node': n.name }, el('td', {}, n.name + (n.self ? ' (this)' : '')),
         el('td', { class: 'node-state' + (n.storage_problem ? ' warn' : '') }, nodeState(n)),
         el('td', {}, `${n.workers.busy} / ${n.workers.total}`), el('td', {}, String(n.running ?? '–')),
         el('td', {}, String((n.hardware || {}).tier ?? '–')), el('td', { class: 'wide' }, n.version))));
  } catch (e) { section.hidden = true; }
}

// What every node of the farm has in hand, from any node (`cluster-jobs`): hidden on a single
// daemon, whose /api/cluster-jobs answers 404. IDs are the queue's; the owner's own job id
// is what its dashboard shows.
async function refreshFarm() {
  const section = document.getElementById('farm-section');
  try {
    const { jobs: inHand } = await api('/api/cluster-jobs');
    section.hidden = false;
    const ended = ['done', 'failed', 'cancelled'];
    const rows = inHand.map((j) => el('tr', { 'data-farm-job': String(j.id) },
      el('td', {}, String(j.id)), el('td', {}, j.source),
      el('td', {}, ended.includes(j.state) ? `${j.state}, disposing` : j.state),
      el('td', {}, `${j.chunks_done} / ${j.chunks_total}`),
      el('td', {}, j.owner ? j.owner + (j.owner_job ? ` (job ${j.owner_job})` : '') : '–'),
      el('td', {}, Object.entries(j.leases).map(([node, n]) => `${node}: ${n}`).join(', ') || '–'),
      el('td', { class: 'wide' }, j.profile)));
    document.querySelector('#farm tbody').replaceChildren(...(rows.length ? rows
      : [el('tr', {}, el('td', { colspan: '7' }, 'The farm has no jobs in hand.'))]));
  } catch (e) { section.hidden = true; }
}

// A progress event changes one row in place; anything else refreshes what it affects.
function onEvent(ev) {
  if (ev.event === 'progress') {
    // The progress event is the job's live state itself (id, progress, fps, eta, ...).
    const job = jobs.find((j) => j.id === ev.id);
    if (job) {
      job.live = ev;
      const row = document.querySelector(`#jobs tr[data-job="${ev.id}"]`);
      if (row) row.replaceWith(jobRow(job));
    } else {
      refreshJobsSoon();
    }
    return;
  }
  if (ev.event === 'job') {
    refreshJobsSoon();
    refreshStatusSoon();
  }
}

const refreshJobsSoon = debounce(refreshJobs, 500);
const refreshStatusSoon = debounce(() => { refreshStatus(); refreshNodes(); refreshFarm(); }, 500);

document.getElementById('state-filter').addEventListener('change', refreshJobs);
document.getElementById('watch-filter').addEventListener('change', renderJobs);

refreshStatus();
refreshJobs();
refreshNodes();
refreshFarm();
liveEvents(onEvent, connectionBadge);
// Uptime, settling files and the like change without events.
setInterval(() => { refreshStatus(); refreshNodes(); refreshFarm(); }, 10000);
