// One job: its progress, the timeline of its chunks per worker or, for a cluster job, per node
// (the parallelism made visible, with the sequential estimate beside the measured wall time),
// what each stage did, its events and its sidecar.
import { api, post, liveEvents, debounce, el, svg, baseName, duration, size, when, progressBar,
         showError, connectionBadge } from './common.js';

const id = Number(new URLSearchParams(location.search).get('id'));
let job = null;

function summary() {
  const live = job.live || (job.state === 'done' ? { progress: 1 } : { progress: job.progress });
  const actions = [];
  if (['queued', 'running'].includes(job.state))
    actions.push(el('button', { onclick: () => post(`/api/jobs/${id}/cancel`).then(refresh, showError) }, 'Cancel'));
  if (['failed', 'cancelled'].includes(job.state))
    actions.push(el('button', { onclick: () => post(`/api/jobs/${id}/retry`).then(refresh, showError) }, 'Retry'));
  document.title = `${baseName(job.source)} – RenderRush`;
  document.getElementById('summary').replaceChildren(
    el('h1', { id: 'file-name' }, baseName(job.source)),
    el('div', { class: 'facts' },
      el('span', { class: `chip state-${job.state}` }, job.state),
      el('span', { id: 'job-progress' }, progressBar(live.progress)),
      el('span', {}, `fps ${live.fps ? live.fps.toFixed(1) : '–'}`),
      el('span', {}, `ETA ${live.eta !== undefined ? duration(live.eta) : '–'}`),
      el('span', {}, `profile ${job.profile}`),
      el('span', {}, size(job.size)),
      ...actions),
    el('dl', { class: 'meta' },
      el('dt', {}, 'Input'), el('dd', {}, job.source),
      el('dt', {}, 'Output'), el('dd', {}, job.output || '–'),
      el('dt', {}, 'Started'), el('dd', {}, when(job.started_at)),
      el('dt', {}, 'Finished'), el('dd', {}, when(job.finished_at)),
      job.error ? [el('dt', {}, 'Error'), el('dd', { class: 'error-text' }, job.error)] : null,
      el('dt', {}, 'Sidecar'), el('dd', {}, job.sidecar
        ? el('a', { href: `/api/jobs/${id}/sidecar`, download: `job-${id}.sidecar.json`, id: 'sidecar-link' }, 'download JSON')
        : 'not written yet')));
}

// The rows a timeline draws: one per worker (the audio task gets its own) for a job run here;
// for a cluster job one group per node, as many rows as that node ran chunks at once (the
// workers of another node are not known here). Each row: {label, node, chunks}.
function timelineRows(started) {
  if (!started.some((c) => c.node)) {
    const lanes = [...new Set(started.map((c) => (c.kind === 'audio' ? 'audio' : `worker ${c.worker ?? '?'}`)))]
      .sort((a, b) => (a === 'audio') - (b === 'audio') || a.localeCompare(b, undefined, { numeric: true }));
    return lanes.map((label) => ({ label, node: null, chunks: started.filter((c) =>
      (c.kind === 'audio' ? 'audio' : `worker ${c.worker ?? '?'}`) === label) }));
  }
  const nodes = [...new Set(started.map((c) => c.node || '?'))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const rows = [];
  for (const node of nodes) {
    const mine = started.filter((c) => (c.node || '?') === node).sort((a, b) => a.started_at - b.started_at);
    const group = [];
    for (const c of mine) {
      let row = group.find((r) => r.end <= c.started_at);
      if (!row) { row = { label: group.length ? '' : node, node, chunks: [], end: 0 }; group.push(row); }
      row.chunks.push(c);
      row.end = c.finished_at || Infinity;
    }
    rows.push(...group);
  }
  return rows;
}

// x is wall-clock time from the first start.
function timeline() {
  const box = document.getElementById('timeline');
  const chunks = job.chunks || [];
  const started = chunks.filter((c) => c.started_at);
  const now = Date.now() / 1000;
  const t0 = Math.min(...started.map((c) => c.started_at));
  const t1 = Math.max(...started.map((c) => c.finished_at || now));
  const video = chunks.filter((c) => c.kind === 'video');
  const waiting = video.filter((c) => !c.started_at).length;
  const seq = chunks.filter((c) => c.seconds).reduce((a, c) => a + c.seconds, 0);
  const wall = started.length ? t1 - t0 : 0;
  const perNode = started.some((c) => c.node);
  document.getElementById('timeline-title').textContent = perNode ? 'Chunks per node' : 'Chunks per worker';
  document.getElementById('speedup').replaceChildren(
    el('span', {}, `${video.length} chunks`),
    el('span', {}, `measured wall time ${duration(wall)}`),
    el('span', {}, `sequential estimate ${duration(seq)} (sum of chunk times)`),
    el('span', { class: 'strong' }, wall > 0 && seq > 0 ? `speed-up ×${(seq / wall).toFixed(1)}` : ''),
    ...(perNode ? [el('span', {}, `${new Set(started.map((c) => c.node)).size} nodes`)] : []),
    ...(waiting ? [el('span', {}, `${waiting} waiting`)] : []));
  if (!started.length) { box.replaceChildren(el('p', {}, 'No chunk has started yet.')); return; }

  const rows = timelineRows(started);
  const W = 1000, lane = 28, left = 90, top = 6, axis = 22;
  const H = top + rows.length * lane + axis;
  const span = Math.max(t1 - t0, 0.001);
  const x = (t) => left + ((t - t0) / span) * (W - left - 10);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'timeline-svg', role: 'img',
                         'aria-label': perNode ? 'chunks per node over time' : 'chunks per worker over time' });
  rows.forEach((row, i) => {
    const lineClass = i + 1 < rows.length && rows[i + 1].node !== row.node ? 'lane-line node-line' : 'lane-line';
    const laneAttrs = row.node === null ? { class: 'lane' } : { class: 'node-lane', 'data-node': row.node };
    const laneG = svg('g', laneAttrs,
      svg('text', { x: 4, y: top + i * lane + 18, class: 'lane-label' }, row.label),
      svg('line', { x1: left, x2: W - 10, y1: top + (i + 1) * lane, y2: top + (i + 1) * lane, class: lineClass }));
    for (const c of row.chunks) {
      const x0 = x(c.started_at), x1 = Math.max(x(c.finished_at || now), x0 + 2);
      const where = c.node ? ` on ${c.node}` : '';
      const bar = svg('g', { class: `chunk-bar ${c.kind} ${c.state}`, 'data-chunk': c.index, 'data-kind': c.kind },
        svg('rect', { x: x0, y: top + i * lane + 4, width: x1 - x0, height: lane - 8, rx: 3 }),
        svg('title', {}, `${c.kind === 'audio' ? 'audio' : 'chunk ' + c.index}${where}: ${c.state}` +
            `, from ${(c.started_at - t0).toFixed(2)} s` +
            `${c.seconds ? ' for ' + c.seconds.toFixed(2) + ' s' : ''}, frames ${c.frames}`));
      if (c.kind === 'video' && x1 - x0 > 18)
        bar.append(svg('text', { x: x0 + 4, y: top + i * lane + 18, class: 'bar-label' }, String(c.index)));
      laneG.append(bar);
    }
    g.append(laneG);
  });
  for (let k = 0; k <= 4; k++) {
    const t = t0 + (span * k) / 4;
    g.append(svg('text', { x: x(t), y: H - 6, class: 'tick', 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' },
                 `${(t - t0).toFixed(1)} s`));
  }
  box.replaceChildren(g);
}

function stageBox(title, ...content) {
  return el('div', { class: 'stage' }, el('h3', {}, title), ...content);
}

// Scenes on a strip as long as the output, cuts as ticks, and the scene stage's thumbnails
// below, each under its scene.
function scenesView(result, total) {
  const scenes = result.scenes || [];
  const end = total || Math.max(0, ...scenes.map((s) => s.end_time || 0)) || 1;
  const W = 1000, H = 40;
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'strip', role: 'img', 'aria-label': 'scenes' });
  scenes.forEach((s, i) => g.append(svg('rect', {
    x: (s.start_time / end) * W, y: 4, width: Math.max(1, ((s.end_time - s.start_time) / end) * W), height: H - 8,
    class: `scene scene-${i % 2}` }, svg('title', {}, `scene ${s.index}: ${s.start_time.toFixed(2)}–${s.end_time.toFixed(2)} s`))));
  for (const c of result.cuts || [])
    g.append(svg('line', { x1: (c.time / end) * W, x2: (c.time / end) * W, y1: 0, y2: H, class: `cut ${c.kind || ''}` }));
  const thumbs = (result.thumbnails || []).map((name, i) => {
    const s = scenes[i];
    return el('figure', { class: 'thumb' },
      el('img', { src: `/api/jobs/${id}/scenes/${encodeURIComponent(name)}`, alt: `scene ${i + 1}`, loading: 'lazy' }),
      el('figcaption', {}, s ? `${s.start_time.toFixed(1)} s` : name));
  });
  return stageBox(`Scenes: ${scenes.length} scenes, ${(result.cuts || []).length} cuts`, g,
                  thumbs.length ? el('div', { class: 'thumbs' }, thumbs) : null);
}

function loudnessView(result) {
  const rows = ['before', 'after'].filter((k) => result[k]).map((k) => {
    const l = result[k];
    const lufs = l.integrated_lufs;
    const w = Math.max(0, Math.min(100, ((lufs + 70) / 70) * 100));
    const bar = el('span', { class: `meter ${k}` });
    bar.style.width = `${w}%`;
    return el('tr', {}, el('th', {}, k), el('td', { class: 'meter-cell' }, bar),
              el('td', {}, `${lufs} LUFS`), el('td', {}, `peak ${l.true_peak_dbtp} dBTP`), el('td', {}, `LRA ${l.lra_lu} LU`));
  });
  return stageBox('Loudness before / after', el('table', { class: 'loudness' }, rows));
}

// One line per label (faces, people, ...): how many were seen in each analysed frame.
function detectView(result) {
  const tracks = result.tracks || {};
  const counts = Object.entries(tracks).map(([label, t]) => el('span', { class: `chip label-${label}` }, `${label}: ${t.count}`));
  const frames = result.frames || [];
  let chart = null;
  if (frames.length) {
    const W = 1000, H = 80;
    const labels = [...new Set(frames.flatMap((f) => (f.objects || []).map((o) => o.label)))].sort();
    const tEnd = Math.max(...frames.map((f) => f.time || 0)) || 1;
    const per = (f, label) => (f.objects || []).filter((o) => o.label === label).length;
    const most = Math.max(1, ...frames.flatMap((f) => labels.map((l) => per(f, l))));
    chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'spark', role: 'img', 'aria-label': 'detections over time' });
    labels.forEach((label, k) => {
      const pts = frames.map((f) => `${((f.time || 0) / tEnd) * W},${H - 2 - (per(f, label) / most) * (H - 6)}`).join(' ');
      chart.append(svg('polyline', { points: pts, class: `series-${k % 3}`, 'data-label': label },
                       svg('title', {}, `${label} per frame (most ${most})`)));
    });
  }
  return stageBox(`Detections: ${result.frames_with_objects ?? 0} of ${result.frames_processed ?? 0} frames`,
                  el('div', { class: 'chips' }, counts.length ? counts : 'nothing found'), chart);
}

// Two bars per measure: the camera shake before and after, in pixels.
function stabilizeView(r) {
  const b = r.shake_before_px || {}, a = r.shake_after_px || {};
  const top = Math.max(0.01, b.max || 0, a.max || 0);
  const W = 1000, row = 22, left = 170;
  const rows = [['mean before', b.mean, 'before'], ['mean after', a.mean, 'after'],
                ['max before', b.max, 'before'], ['max after', a.max, 'after']];
  const g = svg('svg', { viewBox: `0 0 ${W} ${rows.length * row + 4}`, class: 'bars', role: 'img', 'aria-label': 'shake before and after' });
  rows.forEach(([name, v, kind], i) => {
    g.append(svg('text', { x: 2, y: i * row + 16, class: 'lane-label' }, name));
    g.append(svg('rect', { x: left, y: i * row + 4, height: row - 8, width: Math.max(1, ((v || 0) / top) * (W - left - 90)),
                           class: `shake ${kind}` }));
    g.append(svg('text', { x: left + ((v || 0) / top) * (W - left - 90) + 6, y: i * row + 16, class: 'tick' }, `${v ?? '–'} px`));
  });
  return stageBox(`Stabilization: shake ${b.mean ?? '–'} → ${a.mean ?? '–'} px (mean)`, g,
                  el('p', { class: 'sub' }, `crop ${r.crop ?? '–'}, zoom ${r.zoom ?? '–'}, smoothing ${r.smoothing_frames ?? '–'} frames`));
}

function upscaleView(r) {
  const [iw, ih] = r.input || [];
  const [ow, oh] = r.output || [];
  const tile = r.tile ? `${r.tile} px tiles` + (r.tile_size ? ` (${r.tile_size[0]}×${r.tile_size[1]}, margin ${r.tile_margin})` : '')
                      : 'whole frame';
  return stageBox(`Upscale ×${r.scale ?? '?'} with ${r.model ?? '?'}`,
    el('dl', { class: 'meta' },
      el('dt', {}, 'Model'), el('dd', { class: 'upscale-model' }, String(r.model ?? '–')),
      el('dt', {}, 'Tile'), el('dd', { class: 'upscale-tile' }, tile),
      el('dt', {}, 'Size'), el('dd', {}, iw ? `${iw}×${ih} → ${ow}×${oh}` : '–'),
      el('dt', {}, 'Time'), el('dd', {}, r.ms_per_frame !== undefined ? `${r.ms_per_frame.toFixed(1)} ms per frame` : '–'),
      r.fallback_reason ? [el('dt', {}, 'Fallback'), el('dd', {}, `${r.fallback}: ${r.fallback_reason}`)] : null));
}

// The input and the output at the same moment, written at publish.
function framePair() {
  const section = document.getElementById('frames-section');
  const p = job.sidecar && job.sidecar.preview;
  section.hidden = !p;
  if (!p) return;
  const fig = (which) => el('figure', {},
    el('img', { id: `frame-${which}`, src: `/api/jobs/${id}/frames/${p[which].file}`, alt: `${which} at ${p.time} s`,
                width: String(p[which].width), height: String(p[which].height) }),
    el('figcaption', {}, `${which === 'before' ? 'input' : 'output'} at ${p.time} s`));
  document.getElementById('frames').replaceChildren(fig('before'), fig('after'));
}

function stages() {
  const box = document.getElementById('stages');
  const sc = job.sidecar;
  if (!sc) { box.replaceChildren(el('p', {}, 'Stage results appear when the job is published.')); return; }
  const views = [];
  const total = sc.output && sc.output.duration;
  for (const st of sc.stages || []) {
    const r = st.result || {};
    if (st.name === 'scenes' && r.scenes) views.push(scenesView(r, total));
    else if (r.before && r.after && r.before.integrated_lufs !== undefined) views.push(loudnessView(r));
    else if (st.name === 'detect' || r.tracks) views.push(detectView(r));
    else if (r.shake_before_px) views.push(stabilizeView(r));
    else if (st.name === 'upscale' && r.model) views.push(upscaleView(r));
    else views.push(stageBox(st.name, el('details', {}, el('summary', {}, 'result'),
                                          el('pre', {}, JSON.stringify(r, null, 2)))));
  }
  if (sc.audio && sc.audio.loudness && sc.audio.loudness.before) views.push(loudnessView(sc.audio.loudness));
  box.replaceChildren(...(views.length ? views : [el('p', {}, 'This profile has no analysis stages.')]));
}

function events() {
  document.getElementById('events').replaceChildren(...(job.events || []).map((e) =>
    el('li', {}, el('time', {}, when(e.at)), ' ', el('b', {}, e.kind), ' ', e.message)));
}

function render() {
  summary();
  timeline();
  framePair();
  stages();
  events();
}

async function refresh() {
  try {
    job = await api(`/api/jobs/${id}`);
    render();
    showError(null);
  } catch (e) { showError(e); }
}

const refreshSoon = debounce(refresh, 400);

liveEvents((ev) => {
  if (ev.event === 'progress' && ev.id === id && job) {
    job.live = ev;
    summary();
    timeline();
  } else if ((ev.event === 'chunk' || ev.event === 'job') && ev.id === id) {
    refreshSoon();
  }
}, connectionBadge);
refresh();
