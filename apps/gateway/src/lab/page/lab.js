/*
 * Synod fault lab: the browser side of issue 15. Plain ES2020, no build step, no dependencies.
 *
 * Data arrives over Server-Sent Events from /v1/lab/events (lab-contract.ts): `hello` once per
 * connection, then `state` frames (<= 4/s) and `event` frames (timeline). Frames only update the
 * model and mark it dirty; one render per animation frame writes the DOM, touching only what changed
 * (attributes and texts are compared before they are written), so a busy cluster costs the page
 * the same as an idle one. New timeline rows are drawn at most every TIMELINE_EVERY_MS, together.
 */
(function () {
  'use strict';

  const SERIES_SECONDS = 300; // lab-contract.ts
  const TIMELINE_MAX = 5000; // events kept in memory
  const DOM_ROWS = 500; // timeline rows in the DOM (more with "show older")
  const CHART_EVERY_MS = 1000;
  // New timeline rows go in at most this often: a row that comes alone is drawn in the next frame,
  // a busy stream's rows are drawn together (each insert moves every row below it, which costs the
  // same for one row as for forty).
  const TIMELINE_EVERY_MS = 100;
  const SVGNS = 'http://www.w3.org/2000/svg';

  const GROUP_OF = {
    'election-started': 'elections',
    vote: 'elections',
    elected: 'elections',
    'leader-lost': 'elections',
    'view-change': 'elections',
    'new-view': 'elections',
    snapshot: 'log',
    checkpoint: 'log',
    'state-transfer': 'log',
    killed: 'faults',
    revived: 'faults',
    isolated: 'faults',
    healed: 'faults',
    'link-cut': 'faults',
    'link-healed': 'faults',
    byzantine: 'faults',
    drops: 'faults',
    admin: 'admin',
    scenario: 'scenario',
  };
  const groupOf = (kind) => GROUP_OF[kind] || 'log';
  // what fits inside a node's circle
  const SHORT_ROLE = { 'view-changing': 'view-chg', 'non-member': 'non-mem', candidate: 'candidate' };

  // The node actions, what each needs to apply, and which ones ask first.
  const ACTIONS = [
    { action: 'kill', label: 'kill', path: 'kill', ok: (n) => n.alive },
    {
      action: 'hard-kill',
      label: 'hard kill',
      path: 'kill?mode=hard',
      supervisor: true,
      ok: (n) => n.alive,
      confirm: (id) => `Hard kill ${id}? Its process gets SIGKILL and the launcher respawns it: everything volatile is lost.`,
    },
    { action: 'revive', label: 'revive', path: 'revive', ok: (n) => !n.alive },
    { action: 'isolate', label: 'isolate', path: 'isolate', ok: (n) => n.alive && !n.isolated },
    { action: 'heal', label: 'heal', path: 'heal', ok: (n) => n.isolated },
    {
      action: 'storage-kill',
      label: 'storage kill',
      path: 'storage/kill',
      supervisor: true,
      ok: () => true,
      confirm: (id) => `Kill the Redis server behind ${id}? Writes it has not made durable may be lost.`,
    },
    { action: 'storage-restart', label: 'storage restart', path: 'storage/restart', supervisor: true, ok: () => true },
  ];

  // ---- benchmark hook (read by the browser tests)
  const perf = (window.synodLab = { renders: 0, lastRenderMs: 0, maxRenderMs: 0, renderMs: [] });

  // ---- small DOM helpers: write only when the value differs (writes are what cost)
  const $ = (sel, root) => (root || document).querySelector(sel);
  function setText(el, v) {
    v = String(v);
    if (el.textContent !== v) el.textContent = v;
  }
  function setAttr(el, name, v) {
    v = String(v);
    if (el.getAttribute(name) !== v) el.setAttribute(name, v);
  }
  function setDisabled(el, d) {
    if (el.disabled !== d) el.disabled = d;
  }
  function el(tag, props, text) {
    const e = document.createElement(tag);
    if (props) for (const k in props) e.setAttribute(k, props[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, props, parent) {
    const e = document.createElementNS(SVGNS, tag);
    if (props) for (const k in props) e.setAttribute(k, props[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }
  function fmtRate(r) {
    if (!r) return '0';
    if (r >= 10000) return (r / 1000).toFixed(0) + 'k';
    if (r >= 1000) return (r / 1000).toFixed(1) + 'k';
    return r >= 10 ? r.toFixed(0) : r.toFixed(1);
  }
  const pad = (n, w) => String(n).padStart(w, '0');
  function fmtTime(ms) {
    const d = new Date(ms);
    return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
  }

  // ---- the model
  let hello = null; // LabHello of the current connection
  let state = null; // newest LabState
  let series = []; // LabSample[], oldest first
  let events = []; // LabEvent[], oldest first, at most TIMELINE_MAX (+ slack)
  let lastSeq = 0;
  let pendingEvents = []; // received, not yet in the DOM
  let pendingOverflow = false; // pendingEvents lost some: rebuild the DOM rows from `events`
  const groupCounts = {};
  let selectedNode = null;
  let selectedLink = null;
  const pending = new Set(); // "id:action" in flight: its button stays disabled
  const runs = new Map(); // scenario run id -> last state
  let activeRun = null; // the run "cancel" acts on
  let lastRun = null; // the run the status line tells about
  let cancelling = false; // a cancel is in flight (it answers once the cluster is healed)

  // what the next render has to do
  let structureDirty = false; // protocol, node set, scenarios changed: rebuild the skeletons
  let stateDirty = false;
  let seriesDirty = false;
  let timelineRebuild = true;

  // ---- elements
  const E = {
    summary: $('#summary'),
    stream: $('#stream-status'),
    status: $('#status'),
    token: $('#token'),
    tokenHint: $('#token-hint'),
    svg: $('#topology'),
    linksLayer: $('#links-layer'),
    nodesLayer: $('#nodes-layer'),
    linkSelect: $('#link-select'),
    cutLink: $('button[data-action="cut-link"]'),
    healLink: $('button[data-action="heal-link"]'),
    linkInfo: $('#link-info'),
    nodeSelect: $('#node-select'),
    nodeDetail: $('#node-detail'),
    replicas: $('#replicas'),
    replicasBody: $('#replicas tbody'),
    timeline: $('#timeline'),
    timelineFilter: $('#timeline-filter'),
    timelineOlder: $('#timeline-older'),
    timelineNewer: $('#timeline-newer'),
    timelineCount: $('#timeline-count'),
    scenarioSelect: $('#scenario-select'),
    runScenario: $('button[data-action="run-scenario"]'),
    cancelScenario: $('button[data-action="cancel-scenario"]'),
    scenarioDesc: $('#scenario-desc'),
    scenarioRun: $('#scenario-run'),
    kvForm: $('#kv-form'),
    kvPrefix: $('#kv-prefix'),
    kvNext: $('button[data-action="kv-next"]'),
    kvResults: $('#kv-results'),
    chartThroughput: $('#chart-throughput'),
    chartLatency: $('#chart-latency'),
    confirm: $('#confirm'),
    confirmText: $('#confirm-text'),
  };

  const isPbft = () => !!hello && hello.protocol === 'pbft';
  const termWord = () => (isPbft() ? 'view' : 'term');
  const leaderWord = () => (isPbft() ? 'primary' : 'leader');
  const isLeaderRole = (role) => role === 'leader' || role === 'primary';

  // ---- render scheduling: at most one render per animation frame. Hidden tabs get no animation
  // frames, so a timer backs it up (a test's background page still sees the timeline move).
  let scheduled = false;
  let rafId = 0;
  let timerId = 0;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    rafId = requestAnimationFrame(frame);
    timerId = setTimeout(frame, 500);
  }
  function frame() {
    if (!scheduled) return;
    scheduled = false;
    cancelAnimationFrame(rafId);
    clearTimeout(timerId);
    const t0 = performance.now();
    try {
      render();
    } catch (err) {
      console.error('lab render failed', err);
    }
    const ms = performance.now() - t0;
    perf.renders++;
    perf.lastRenderMs = ms;
    if (ms > perf.maxRenderMs) perf.maxRenderMs = ms;
    perf.renderMs.push(ms);
    // at least the last 200; trimmed in chunks, so a reader that remembers the length it saw
    // (tools/bench/lab-frames.ts) still finds what came after
    if (perf.renderMs.length >= 400) perf.renderMs.splice(0, perf.renderMs.length - 200);
  }

  function render() {
    if (structureDirty && hello && state) buildStructure();
    if (stateDirty && state && hello) {
      stateDirty = false;
      renderSummary();
      renderTopology();
      renderReplicas();
      renderLinkControls();
      renderDetail();
    }
    maybeRenderTimeline();
    renderScenarioControls();
    maybeDrawCharts();
  }

  // ---- event stream
  let source = null;
  function setStream(word) {
    setText(E.stream, word);
    setAttr(E.stream, 'data-state', word);
  }
  function connect() {
    setStream(source ? 'reconnecting' : 'connecting');
    source = new EventSource('/v1/lab/events');
    source.onopen = () => setStream('connected');
    source.onerror = () => {
      // CONNECTING: the browser retries by itself; CLOSED (e.g. a non-2xx answer): we retry.
      setStream('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, 2000);
      }
    };
    source.addEventListener('hello', (m) => onHello(parse(m)));
    source.addEventListener('state', (m) => onState(parse(m)));
    source.addEventListener('event', (m) => {
      const e = parse(m);
      if (e) addEvent(e);
      timelineChanged();
    });
  }
  function parse(m) {
    try {
      return JSON.parse(m.data);
    } catch (err) {
      console.warn('lab: bad frame', err);
      return null;
    }
  }

  function onHello(h) {
    if (!h) return;
    setStream('connected');
    const prev = hello;
    hello = h;
    // A new hello replaces state and series; the timeline continues unless the gateway restarted
    // (its seq starts over: the newest it has is below what we have).
    const timeline = h.timeline || [];
    let newest = 0;
    for (const e of timeline) if (e.seq > newest) newest = e.seq;
    if (newest < lastSeq) resetTimeline();
    for (const e of timeline) addEvent(e);
    series = [];
    for (const s of h.series || []) appendSample(s);
    state = h.state;
    if (state) appendSample(state.sample);
    seriesDirty = true;
    structureDirty = true;
    stateDirty = true;
    if (!prev || prev.protocol !== h.protocol || JSON.stringify(prev.scenarios) !== JSON.stringify(h.scenarios)) buildScenarios();
    E.tokenHint.hidden = !h.adminToken;
    document.body.classList.toggle('raft', h.protocol !== 'pbft');
    document.body.classList.toggle('pbft', h.protocol === 'pbft');
    schedule();
  }

  function onState(s) {
    if (!s) return;
    const prevIds = state ? state.nodes.map((n) => n.id).join(',') : '';
    const prevLinks = state ? state.links.map((l) => l.a + '|' + l.b).join(',') : '';
    state = s;
    if (s.nodes.map((n) => n.id).join(',') !== prevIds || s.links.map((l) => l.a + '|' + l.b).join(',') !== prevLinks) structureDirty = true;
    appendSample(s.sample);
    stateDirty = true;
    schedule();
  }

  function appendSample(s) {
    if (!s || typeof s.at !== 'number') return;
    const last = series[series.length - 1];
    if (last && s.at < last.at) return;
    if (last && s.at === last.at) series[series.length - 1] = s;
    else series.push(s);
    // keep SERIES_SECONDS (and a little) before the newest; splice in chunks, not per sample
    const cutoff = s.at - SERIES_SECONDS * 1000 - 2000;
    let drop = 0;
    while (drop < series.length && series[drop].at < cutoff) drop++;
    if (drop > 20 || (drop > 0 && series.length > 4000)) series.splice(0, drop);
    seriesDirty = true;
  }

  // ---- timeline model
  function resetTimeline() {
    events = [];
    lastSeq = 0;
    pendingEvents = [];
    pendingOverflow = false;
    for (const k in groupCounts) groupCounts[k] = 0;
    timelineRebuild = true;
  }
  function addEvent(e) {
    if (!e || typeof e.seq !== 'number' || e.seq <= lastSeq) return; // already have it
    lastSeq = e.seq;
    events.push(e);
    const g = groupOf(e.kind);
    groupCounts[g] = (groupCounts[g] || 0) + 1;
    pendingEvents.push(e);
    if (events.length > TIMELINE_MAX + 500) {
      const gone = events.splice(0, events.length - TIMELINE_MAX);
      for (const x of gone) groupCounts[groupOf(x.kind)]--;
    }
    if (pendingEvents.length > DOM_ROWS) {
      // more than the DOM shows arrived while nobody looked: a rebuild from `events` is cheaper
      pendingEvents = pendingEvents.slice(-DOM_ROWS);
      pendingOverflow = true;
    }
    if (e.kind === 'scenario') noteScenario(e);
  }

  // ---- structure: the skeletons that only change with the node set or the protocol
  let layout = { pos: new Map(), r: 36 };
  let narrowLayout = false;
  const nodeEls = new Map(); // id -> svg parts
  const linkEls = new Map(); // "a|b" -> svg parts
  const rowEls = new Map(); // id -> table row parts

  function buildStructure() {
    structureDirty = false;
    const nodes = state.nodes;
    const n = nodes.length;
    // a circle that fits the viewBox, the first replica on top; smaller nodes when there are many
    // an ellipse in a wide panel (7 nodes need the room), a circle in a narrow one (bigger text)
    narrowLayout = E.svg.clientWidth > 0 && E.svg.clientWidth < 520;
    const W = narrowLayout ? 470 : 640;
    E.svg.setAttribute('viewBox', `0 0 ${W} 480`);
    const cx = W / 2;
    const cy = 228;
    const R = n <= 2 ? 120 : 172;
    const Rx = n <= 4 || narrowLayout ? R : 245;
    const r = n <= 7 ? 36 : Math.max(16, Math.round((36 * 7) / n));
    layout = { pos: new Map(), r };
    nodes.forEach((node, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
      layout.pos.set(node.id, { x: cx + Rx * Math.cos(a), y: cy + R * Math.sin(a) });
    });

    // links below nodes
    E.linksLayer.textContent = '';
    linkEls.clear();
    for (const l of state.links) {
      const key = l.a + '|' + l.b;
      const p = layout.pos.get(l.a);
      const q = layout.pos.get(l.b);
      if (!p || !q) continue;
      const len = Math.hypot(q.x - p.x, q.y - p.y) || 1;
      const ux = (q.x - p.x) / len;
      const uy = (q.y - p.y) / len;
      const x1 = p.x + ux * r;
      const y1 = p.y + uy * r;
      const x2 = q.x - ux * r;
      const y2 = q.y - uy * r;
      const g = svg('g', { class: 'link', 'data-link': key, 'data-cut': String(l.cut) }, E.linksLayer);
      const title = svg('title', null, g);
      svg('line', { class: 'hit', x1, y1, x2, y2 }, g);
      const wire = svg('line', { class: 'wire', x1, y1, x2, y2 }, g);
      // labels not at the middle: the diameters of an even count would all meet at the centre
      const t = 0.4;
      const lx = p.x + (q.x - p.x) * t;
      const ly = p.y + (q.y - p.y) * t;
      const label = svg('text', { x: lx.toFixed(1), y: (ly - 3).toFixed(1) }, g);
      const drop = svg('text', { class: 'ldrop', x: lx.toFixed(1), y: (ly + 9).toFixed(1) }, g);
      g.addEventListener('click', () => selectLink(key));
      linkEls.set(key, { g, title, wire, label, drop });
    }

    E.nodesLayer.textContent = '';
    nodeEls.clear();
    const bw = Math.round(r * 2.4);
    for (const node of nodes) {
      const { x, y } = layout.pos.get(node.id);
      const g = svg('g', { class: 'node', 'data-node': node.id, tabindex: '0', role: 'button', 'aria-label': `replica ${node.id}` }, E.nodesLayer);
      const title = svg('title', null, g);
      svg('circle', { class: 'halo', cx: x, cy: y, r: r + 6 }, g);
      svg('circle', { class: 'ring', cx: x, cy: y, r }, g);
      const small = r < 30;
      const idText = svg('text', { class: 'id', x, y: y - (small ? 2 : 8) }, g);
      idText.textContent = node.id;
      const role = svg('text', { class: 'sub', x, y: y + (small ? 10 : 7) }, g);
      const term = svg('text', { class: 'sub', x, y: y + 21 }, g);
      if (small) term.setAttribute('display', 'none');
      const by = y + r + 5;
      const bx = x - bw / 2;
      const barBg = svg('rect', { class: 'bar-bg', x: bx, y: by, width: bw, height: 8 }, g);
      const bars = {};
      for (const k of ['last', 'commit', 'applied', 'snap']) bars[k] = svg('rect', { class: 'bar-' + k, x: bx, y: by, width: 0, height: 8 }, g);
      const logText = svg('text', { class: 'sub out', x, y: by + 19 }, g);
      const dropText = svg('text', { class: 'drop out', x, y: by + 31 }, g);
      g.addEventListener('click', () => selectNode(node.id));
      g.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          selectNode(node.id);
        }
      });
      nodeEls.set(node.id, { g, title, role, term, bars, barBg, bw, logText, dropText });
    }

    buildReplicaRows();
    buildLinkSelect();
    buildNodeSelect();
    setText($('.term-head'), termWord());
    setText($('.snap-word'), isPbft() ? 'checkpoint' : 'snapshot');
    setText($('.lg-leader'), leaderWord());
    setText($('.lg-snap'), isPbft() ? 'stable checkpoint' : 'snapshot');
    if (selectedNode === null || !layout.pos.has(selectedNode))
      selectedNode = (state.leader && layout.pos.has(state.leader) ? state.leader : nodes[0] && nodes[0].id) || null;
    if (selectedLink && !linkEls.has(selectedLink)) selectedLink = null;
  }

  function buildReplicaRows() {
    E.replicasBody.textContent = '';
    rowEls.clear();
    const behaviors = hello.behaviors && hello.behaviors.length ? hello.behaviors.slice() : ['none'];
    if (!behaviors.includes('none')) behaviors.unshift('none');
    for (const node of state.nodes) {
      const id = node.id;
      const tr = el('tr', { 'data-row': id });
      const idCell = el('td');
      const idBtn = el('button', { type: 'button', class: 'id-btn', 'aria-label': `show replica ${id}` }, id);
      idBtn.addEventListener('click', () => selectNode(id));
      idCell.appendChild(idBtn);
      const roleCell = el('td');
      const roleText = el('span');
      const isoTag = el('span', { class: 'tag iso' }, 'isolated');
      const byzTag = el('span', { class: 'tag byz' });
      roleCell.append(roleText, isoTag, byzTag);
      const termCell = el('td', { class: 'num', 'data-label': termWord() });
      const logCell = el('td', { class: 'num', 'data-label': 'log' });
      const dropCell = el('td', { class: 'num', 'data-label': 'drops' });
      const drops = el('span', { 'data-drops': id }, '0');
      const dropRate = el('span', { class: 'muted' });
      dropCell.append(drops, ' ', dropRate);
      const seenCell = el('td', { class: 'num', 'data-label': 'seen' });
      const acts = el('td', { class: 'acts' });
      const buttons = {};
      for (const a of ACTIONS) {
        const b = el('button', { type: 'button', 'data-action': a.action, 'data-node': id, 'aria-label': `${a.label} ${id}` }, a.label);
        b.disabled = true;
        if (a.confirm) b.classList.add('danger');
        if (a.supervisor && !hello.supervisor) b.title = 'needs the launcher\u2019s supervisor (npm start)';
        b.addEventListener('click', () => nodeAction(a, id));
        acts.append(b, ' ');
        buttons[a.action] = b;
      }
      tr.append(idCell, roleCell, termCell, logCell, dropCell, seenCell, acts);
      let byzSelect = null;
      let byzBtn = null;
      if (isPbft()) {
        // Raft has no Byzantine behaviours: the column is not built at all there.
        const byzCell = el('td', { class: 'byz-cell' });
        byzSelect = el('select', { 'data-byzantine-for': id, 'aria-label': `byzantine behaviour for ${id}` });
        for (const b of behaviors) byzSelect.appendChild(el('option', { value: b }, b));
        byzSelect.value = node.byzantine || 'none';
        byzBtn = el('button', { type: 'button', 'data-action': 'byzantine', 'data-node': id, 'aria-label': `apply byzantine behaviour to ${id}` }, 'apply');
        byzBtn.addEventListener('click', () => byzantineAction(id, byzSelect.value));
        byzCell.append(byzSelect, ' ', byzBtn);
        tr.appendChild(byzCell);
      }
      E.replicasBody.appendChild(tr);
      rowEls.set(id, { tr, roleText, isoTag, byzTag, termCell, logCell, drops, dropRate, seenCell, buttons, byzSelect, byzBtn, shownByz: node.byzantine });
    }
  }

  function buildLinkSelect() {
    const keep = selectedLink;
    E.linkSelect.textContent = '';
    E.linkSelect.appendChild(el('option', { value: '' }, 'choose a link\u2026'));
    for (const l of state.links) E.linkSelect.appendChild(el('option', { value: l.a + '|' + l.b }, `${l.a} \u2194 ${l.b}`));
    E.linkSelect.value = keep && linkEls.has(keep) ? keep : '';
  }

  function buildNodeSelect() {
    E.nodeSelect.textContent = '';
    for (const node of state.nodes) E.nodeSelect.appendChild(el('option', { value: node.id }, node.id));
  }

  function buildScenarios() {
    const list = (hello.scenarios || []).filter((s) => !s.protocols || s.protocols.includes(hello.protocol));
    const keep = E.scenarioSelect.value;
    E.scenarioSelect.textContent = '';
    for (const s of list) E.scenarioSelect.appendChild(el('option', { value: s.name }, s.title || s.name));
    if (list.some((s) => s.name === keep)) E.scenarioSelect.value = keep;
    if (!list.length) E.scenarioSelect.appendChild(el('option', { value: '' }, '(none for this protocol)'));
    showScenarioDesc();
  }
  function showScenarioDesc() {
    const s = hello && (hello.scenarios || []).find((x) => x.name === E.scenarioSelect.value);
    setText(E.scenarioDesc, s ? s.description : '');
  }

  // ---- per-state renders
  function renderSummary() {
    const members = state.nodes.filter((n) => n.membership !== 'spare');
    const alive = members.filter((n) => n.alive).length;
    const parts = [
      hello.protocol === 'pbft' ? 'PBFT' : 'Raft',
      hello.cluster ? `cluster ${hello.cluster}` : null,
      `${leaderWord()} ${state.leader || 'none'}`,
      `${termWord()} ${state.term}`,
      `${alive}/${members.length} alive`,
      `quorum ${hello.quorum}`,
    ];
    setText(E.summary, parts.filter(Boolean).join(' \u00b7 '));
    document.title = `${state.leader || 'no ' + leaderWord()} \u00b7 Synod fault lab`;
  }

  function renderTopology() {
    let lo = Infinity;
    let hi = 0;
    for (const n of state.nodes) {
      if (n.log.snapshot < lo) lo = n.log.snapshot;
      if (n.log.last > hi) hi = n.log.last;
    }
    if (!isFinite(lo) || lo > hi) lo = 0;
    // the compacted prefix takes about the left half: the retained log stays wide enough to see lag
    lo = Math.max(0, lo - (hi - lo));
    const span = hi - lo;
    const pbft = isPbft();
    for (const n of state.nodes) {
      const p = nodeEls.get(n.id);
      if (!p) continue;
      const byz = n.byzantine && n.byzantine !== 'none';
      let cls = 'node';
      if (isLeaderRole(n.role)) cls += ' lead';
      if (n.role === 'candidate' || n.role === 'view-changing') cls += ' cand';
      if (!n.alive) cls += ' dead';
      if (n.isolated) cls += ' iso';
      if (byz) cls += ' byz';
      if (n.id === selectedNode) cls += ' sel';
      const g = p.g;
      setAttr(g, 'class', cls);
      setAttr(g, 'data-role', n.role);
      setAttr(g, 'data-alive', n.alive);
      setAttr(g, 'data-isolated', n.isolated);
      setAttr(g, 'data-byzantine', n.byzantine || 'none');
      setAttr(g, 'opacity', n.membership === 'spare' ? '0.55' : '1');
      setText(p.role, (SHORT_ROLE[n.role] || n.role) + (byz ? ' \u2620' : ''));
      setText(p.term, `${pbft ? 'v' : 't'}${n.term}`);
      const w = (v) => (span > 0 ? Math.max(0, Math.min(1, (v - lo) / span)) * p.bw : 0).toFixed(1);
      setAttr(p.bars.last, 'width', w(n.log.last));
      setAttr(p.bars.commit, 'width', w(n.log.commit));
      setAttr(p.bars.applied, 'width', w(n.log.applied));
      setAttr(p.bars.snap, 'width', w(n.log.snapshot));
      setText(p.logText, `${n.log.commit} / ${n.log.last}`);
      setText(p.dropText, n.dropRate > 0 ? `drops ${fmtRate(n.dropRate)}/s` : '');
      setText(
        p.title,
        `${n.id}: ${n.role}${n.alive ? '' : ' (dead)'}${n.isolated ? ', isolated' : ''}${byz ? ', byzantine ' + n.byzantine : ''}\n` +
          `${termWord()} ${n.term}\nlog last ${n.log.last}, commit ${n.log.commit}, applied ${n.log.applied}, ` +
          `${pbft ? 'stable checkpoint' : 'snapshot'} ${n.log.snapshot}\ndropped ${n.droppedTotal}`,
      );
    }
    const many = state.nodes.length > 5;
    for (const l of state.links) {
      const key = l.a + '|' + l.b;
      const p = linkEls.get(key);
      if (!p) continue;
      let total = 0;
      for (const k in l.rate) total += l.rate[k];
      // width and opacity grow with the log of the rate: 10 msg/s and 10k msg/s must both be visible
      const lg = Math.log10(1 + total);
      const width = l.cut ? 2.5 : 1 + Math.min(8, lg * 1.8);
      const opacity = l.cut ? 1 : 0.25 + Math.min(0.75, lg / 4);
      setAttr(p.g, 'class', 'link' + (l.cut ? ' cut' : '') + (key === selectedLink ? ' sel' : ''));
      setAttr(p.g, 'data-cut', l.cut);
      setAttr(p.wire, 'stroke-width', width.toFixed(1));
      setAttr(p.wire, 'opacity', opacity.toFixed(2));
      // with many replicas 20+ rate labels are noise: width says it, the tooltip and link info tell it
      const label = many && key !== selectedLink ? '' : total > 0 ? fmtRate(total) + '/s' : '';
      setText(p.label, l.cut ? 'cut' : label);
      setText(p.drop, l.dropRate > 0 ? `drop ${fmtRate(l.dropRate)}/s` : '');
      setText(p.title, linkDescription(l, total, '\n'));
    }
  }

  function linkDescription(l, total, sep) {
    const types = Object.keys(l.rate)
      .filter((k) => l.rate[k] > 0)
      .sort((x, y) => l.rate[y] - l.rate[x])
      .map((k) => `${k} ${fmtRate(l.rate[k])}/s`);
    let s = `${l.a} \u2194 ${l.b}${l.cut ? ' (cut)' : ''}: ${fmtRate(total)} msg/s`;
    if (types.length) s += sep + types.join(sep === '\n' ? '\n' : ', ');
    if (l.dropRate > 0) s += `${sep}dropped ${fmtRate(l.dropRate)}/s`;
    return s;
  }

  function renderReplicas() {
    const pbft = isPbft();
    for (const n of state.nodes) {
      const r = rowEls.get(n.id);
      if (!r) continue;
      const byz = n.byzantine && n.byzantine !== 'none';
      setAttr(r.tr, 'class', (isLeaderRole(n.role) ? 'lead' : '') + (n.alive ? '' : ' dead') + (n.id === selectedNode ? ' sel' : ''));
      setText(r.roleText, n.membership === 'voter' ? n.role : `${n.role} (${n.membership})`);
      r.isoTag.hidden = !n.isolated;
      r.byzTag.hidden = !byz;
      if (byz) setText(r.byzTag, n.byzantine);
      setText(r.termCell, n.term);
      setText(r.logCell, `${n.log.last} / ${n.log.commit} / ${n.log.applied} / ${n.log.snapshot}`);
      setText(r.drops, Math.round(n.droppedTotal || 0));
      setText(r.dropRate, n.dropRate > 0 ? `(${fmtRate(n.dropRate)}/s)` : '');
      setText(r.seenCell, n.lastSeenMs === null || n.lastSeenMs === undefined ? 'never' : `${(n.lastSeenMs / 1000).toFixed(1)} s ago`);
      for (const a of ACTIONS) {
        const applies = a.ok(n) && (!a.supervisor || !!hello.supervisor) && !pending.has(n.id + ':' + a.action);
        setDisabled(r.buttons[a.action], !applies);
      }
      if (pbft && r.byzSelect) {
        setDisabled(r.byzBtn, !n.alive || pending.has(n.id + ':byzantine'));
        // follow the replica's behaviour, unless someone is choosing one right now
        if (r.shownByz !== n.byzantine && document.activeElement !== r.byzSelect) {
          r.byzSelect.value = n.byzantine || 'none';
          r.shownByz = n.byzantine;
        }
      }
    }
  }

  function renderLinkControls() {
    const byKey = new Map(state.links.map((l) => [l.a + '|' + l.b, l]));
    for (const opt of E.linkSelect.options) {
      const l = byKey.get(opt.value);
      if (l) setText(opt, `${l.a} \u2194 ${l.b}${l.cut ? ' (cut)' : ''}`);
    }
    const l = selectedLink ? byKey.get(selectedLink) : null;
    setDisabled(E.cutLink, !l || l.cut || pending.has(selectedLink + ':cut'));
    setDisabled(E.healLink, !l || !l.cut || pending.has(selectedLink + ':heal'));
    if (l) {
      let total = 0;
      for (const k in l.rate) total += l.rate[k];
      setText(E.linkInfo, linkDescription(l, total, ' \u00b7 '));
    } else setText(E.linkInfo, 'click a link in the picture or choose one');
  }

  let lastDetailHtml = '';
  function renderDetail() {
    const n = state.nodes.find((x) => x.id === selectedNode);
    if (E.nodeSelect.value !== (selectedNode || '')) E.nodeSelect.value = selectedNode || '';
    const html = n ? detailHtml(n) : '<p class="muted">no replica selected</p>';
    if (html !== lastDetailHtml) {
      E.nodeDetail.innerHTML = html;
      lastDetailHtml = html;
    }
  }

  function detailHtml(n) {
    const pbft = isPbft();
    const dl = (pairs) => '<dl>' + pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('') + '</dl>';
    let h = dl([
      ['role', n.role],
      ['membership', n.membership],
      ['alive', n.alive ? 'yes' : 'no'],
      ['isolated', n.isolated ? 'yes' : 'no'],
      ...(pbft ? [['byzantine', n.byzantine || 'none']] : []),
      [termWord(), n.term],
      ['last seen', n.lastSeenMs == null ? 'never' : `${(n.lastSeenMs / 1000).toFixed(1)} s ago`],
      ['log', `last ${n.log.last} \u00b7 commit ${n.log.commit} \u00b7 applied ${n.log.applied}`],
      [pbft ? 'stable checkpoint' : 'snapshot', n.log.snapshot],
    ]);
    if (n.raft) {
      h +=
        '<h3>Raft</h3>' +
        dl([
          ['voted for', n.raft.votedFor || '\u2014'],
          ['votes', n.raft.votes && n.raft.votes.length ? n.raft.votes.join(', ') : '\u2014'],
        ]);
      const ids = Object.keys(n.raft.progress || {});
      if (ids.length) {
        h += '<h3>Progress (leader\u2019s view)</h3><table><thead><tr><th>follower</th><th>match</th><th>next</th><th>state</th></tr></thead><tbody>';
        for (const id of ids) {
          const p = n.raft.progress[id];
          h += `<tr><td>${esc(id)}</td><td class="num">${p.match}</td><td class="num">${p.next}</td><td>${esc(p.state)}</td></tr>`;
        }
        h += '</tbody></table>';
      }
    }
    if (n.pbft) {
      const b = n.pbft;
      h +=
        '<h3>PBFT</h3>' +
        dl([
          ['primary', b.primary || '\u2014'],
          ['view', n.term],
          ['view-changing', b.viewChanging ? 'yes' : 'no'],
          ['water marks', `low ${b.low} \u00b7 high ${b.high}`],
          ['stable checkpoint', n.log.snapshot],
          ...(b.viewChange ? [['view change', `to view ${b.viewChange.to}, VIEW-CHANGE from ${b.viewChange.from.join(', ') || 'none'}`]] : []),
        ]);
      if (b.slots && b.slots.length) {
        h += '<h3>Slots</h3><div class="slots"><table><thead><tr><th>seq</th><th>prepares</th><th>commits</th><th>committed-local</th></tr></thead><tbody>';
        for (const [seq, prep, comm, local] of b.slots) {
          h += `<tr><td class="num">${seq}</td><td class="num">${prep}</td><td class="num">${comm}</td><td>${local ? '\u2713' : ''}</td></tr>`;
        }
        h += '</tbody></table></div>';
      }
    }
    const reasons = Object.keys(n.dropped || {}).sort((x, y) => n.dropped[y] - n.dropped[x]);
    h += `<h3>Drops: ${Math.round(n.droppedTotal || 0)} total${n.dropRate > 0 ? `, ${esc(fmtRate(n.dropRate))}/s now` : ''}</h3>`;
    if (reasons.length) {
      h += '<table><thead><tr><th>reason</th><th>count</th></tr></thead><tbody>';
      for (const k of reasons) h += `<tr><td>${esc(k)}</td><td class="num">${n.dropped[k]}</td></tr>`;
      h += '</tbody></table>';
    }
    return h;
  }

  // ---- selection (synchronous, so that a click right after a selection sees the right buttons)
  function selectNode(id) {
    selectedNode = id;
    if (state && hello) {
      renderTopology();
      renderReplicas();
      renderDetail();
    }
  }
  function selectLink(key) {
    selectedLink = key || null;
    if (E.linkSelect.value !== (key || '')) E.linkSelect.value = key || '';
    if (state && hello) {
      renderLinkControls();
      renderTopology();
    }
  }
  E.linkSelect.addEventListener('change', () => selectLink(E.linkSelect.value));
  E.linkSelect.addEventListener('input', () => selectLink(E.linkSelect.value));
  E.nodeSelect.addEventListener('change', () => selectNode(E.nodeSelect.value));

  // ---- timeline rendering: new rows are prepended; the DOM keeps at most `domLimit` rows
  let domLimit = DOM_ROWS;
  const matches = (e) => E.timelineFilter.value === 'all' || groupOf(e.kind) === E.timelineFilter.value;

  function eventRow(e) {
    const g = groupOf(e.kind);
    const li = document.createElement('li');
    li.className = 'g-' + g;
    li.dataset.kind = e.kind;
    li.dataset.seq = String(e.seq);
    if (e.node) li.dataset.node = e.node;
    const t = document.createElement('span');
    t.className = 't';
    t.textContent = fmtTime(e.at);
    const k = document.createElement('span');
    k.className = 'k';
    k.textContent = e.kind;
    const n = document.createElement('span');
    n.className = 'n';
    n.textContent = e.node || '';
    const x = document.createElement('span');
    x.className = 'x';
    x.textContent = e.text;
    if (e.data) {
      const d = JSON.stringify(e.data);
      li.title = d.length > 400 ? d.slice(0, 400) + '\u2026' : d;
    }
    li.append(t, k, n, x);
    return li;
  }

  let lastTimelineAt = -Infinity;
  let timelineTimer = 0;
  const timelineWait = () => TIMELINE_EVERY_MS - (performance.now() - lastTimelineAt);
  /** The timeline has something new: a render now, or when TIMELINE_EVERY_MS has passed since the last. */
  function timelineChanged() {
    const wait = timelineWait();
    if (wait <= 0) schedule();
    else if (!timelineTimer)
      timelineTimer = setTimeout(() => {
        timelineTimer = 0;
        schedule();
      }, wait);
  }
  function maybeRenderTimeline() {
    if (!timelineRebuild && !pendingOverflow && !pendingEvents.length) return;
    if (!timelineRebuild && timelineWait() > 0) return timelineChanged();
    renderTimeline();
  }

  function renderTimeline() {
    lastTimelineAt = performance.now();
    const ol = E.timeline;
    // Someone scrolled back to read older rows: leave the DOM alone so nothing moves under them,
    // and say how much is waiting (a filter change or "show older" still rebuilds).
    if (!timelineRebuild && ol.scrollTop > 2) {
      if (pendingEvents.length || pendingOverflow) {
        let waiting = 0;
        for (const e of pendingEvents) if (matches(e)) waiting++;
        E.timelineNewer.hidden = waiting === 0 && !pendingOverflow;
        setText(E.timelineNewer, `${pendingOverflow ? 'many' : waiting} newer event${waiting === 1 ? '' : 's'}: back to the newest`);
      }
      return;
    }
    if (timelineRebuild || pendingOverflow) {
      timelineRebuild = false;
      pendingOverflow = false;
      pendingEvents = [];
      const frag = document.createDocumentFragment();
      let shown = 0;
      for (let i = events.length - 1; i >= 0 && shown < domLimit; i--) {
        if (!matches(events[i])) continue;
        frag.appendChild(eventRow(events[i]));
        shown++;
      }
      ol.textContent = '';
      ol.appendChild(frag);
    } else if (pendingEvents.length) {
      const fresh = pendingEvents;
      pendingEvents = [];
      const frag = document.createDocumentFragment();
      let added = 0;
      for (let i = fresh.length - 1; i >= 0 && added < domLimit; i--) {
        if (!matches(fresh[i])) continue;
        frag.appendChild(eventRow(fresh[i]));
        added++;
      }
      if (added) {
        ol.insertBefore(frag, ol.firstChild);
        while (ol.childElementCount > domLimit) ol.removeChild(ol.lastChild);
      }
    } else return;
    E.timelineNewer.hidden = true;
    const f = E.timelineFilter.value;
    const total = f === 'all' ? events.length : groupCounts[f] || 0;
    E.timelineOlder.hidden = total <= ol.childElementCount || ol.childElementCount >= TIMELINE_MAX;
    setText(E.timelineCount, `${total} event${total === 1 ? '' : 's'}${total > ol.childElementCount ? `, newest ${ol.childElementCount} shown` : ''}`);
  }
  E.timeline.addEventListener(
    'scroll',
    () => {
      if (E.timeline.scrollTop <= 2 && (pendingEvents.length || pendingOverflow)) timelineChanged();
    },
    { passive: true },
  );
  E.timelineNewer.addEventListener('click', () => {
    E.timeline.scrollTop = 0;
    renderTimeline();
    E.timeline.focus();
  });
  E.timelineFilter.addEventListener('change', () => {
    domLimit = DOM_ROWS;
    timelineRebuild = true;
    E.timeline.scrollTop = 0;
    renderTimeline();
  });
  E.timelineOlder.addEventListener('click', () => {
    domLimit = Math.min(TIMELINE_MAX, E.timeline.childElementCount + DOM_ROWS);
    const top = E.timeline.scrollTop;
    timelineRebuild = true;
    renderTimeline();
    E.timeline.scrollTop = top;
  });

  // ---- charts: hand-drawn on canvas, at most once a second
  let lastChartAt = 0;
  let chartTimer = 0;
  function maybeDrawCharts() {
    if (!seriesDirty) return;
    const now = performance.now();
    const wait = CHART_EVERY_MS - (now - lastChartAt);
    if (wait > 0) {
      if (!chartTimer)
        chartTimer = setTimeout(() => {
          chartTimer = 0;
          schedule();
        }, wait);
      return;
    }
    lastChartAt = now;
    seriesDirty = false;
    drawChart(
      E.chartThroughput,
      [
        { key: 'commits', color: '#0969da' },
        { key: 'requests', color: '#1a7f37' },
      ],
      '/s',
    );
    drawChart(
      E.chartLatency,
      [
        { key: 'p50Ms', color: '#8250df' },
        { key: 'p99Ms', color: '#cf222e' },
      ],
      ' ms',
    );
  }
  window.addEventListener('resize', () => {
    if (state && E.svg.clientWidth > 0 && E.svg.clientWidth < 520 !== narrowLayout) structureDirty = true;
    stateDirty = true;
    seriesDirty = true;
    lastChartAt = 0;
    schedule();
  });

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function drawChart(canvas, lines, unit) {
    const cssW = Math.max(200, canvas.clientWidth || 300);
    const cssH = canvas.clientHeight || 150;
    const dpr = window.devicePixelRatio || 1;
    const W = Math.round(cssW * dpr);
    const H = Math.round(cssH * dpr);
    if (canvas.width !== W) canvas.width = W;
    if (canvas.height !== H) canvas.height = H;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.font = '11px system-ui, sans-serif';
    const L = 44;
    const Rm = 8;
    const T = 8;
    const B = 18;
    const pw = cssW - L - Rm;
    const ph = cssH - T - B;
    const end = series.length ? series[series.length - 1].at : Date.now();
    const start = end - SERIES_SECONDS * 1000;
    let max = 0;
    for (const s of series) {
      if (s.at < start) continue;
      for (const ln of lines) {
        const v = s[ln.key];
        if (typeof v === 'number' && v > max) max = v;
      }
    }
    const ymax = niceMax(max);
    // grid and axes
    ctx.strokeStyle = '#d0d7de';
    ctx.fillStyle = '#57606a';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const y = T + ph - (ph * i) / 4;
      ctx.beginPath();
      ctx.moveTo(L, Math.round(y) + 0.5);
      ctx.lineTo(L + pw, Math.round(y) + 0.5);
      ctx.stroke();
      const v = (ymax * i) / 4;
      ctx.fillText(v >= 1000 ? (v / 1000).toFixed(v % 1000 ? 1 : 0) + 'k' : String(+v.toFixed(2)), L - 4, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    for (let m = 0; m <= 5; m++) {
      const x = L + (pw * (SERIES_SECONDS - m * 60)) / SERIES_SECONDS;
      ctx.fillText(m === 0 ? 'now' : `-${m}m`, Math.min(x, L + pw - 10), cssH - 4);
    }
    if (!series.length) {
      ctx.fillText('no samples yet', L + pw / 2, T + ph / 2);
      return;
    }
    const xOf = (at) => L + ((at - start) / (SERIES_SECONDS * 1000)) * pw;
    const yOf = (v) => T + ph - (Math.min(v, ymax) / ymax) * ph;
    ctx.lineWidth = 1.6;
    ctx.lineJoin = 'round';
    for (const ln of lines) {
      ctx.strokeStyle = ln.color;
      ctx.beginPath();
      let open = false;
      let prevAt = 0;
      for (const s of series) {
        if (s.at < start) continue;
        const v = s[ln.key];
        // no value (no requests for a latency) or a gap in the samples: lift the pen
        if (typeof v !== 'number' || (open && s.at - prevAt > 10000)) {
          open = false;
          if (typeof v !== 'number') continue;
        }
        const x = xOf(s.at);
        const y = yOf(v);
        if (open) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        open = true;
        prevAt = s.at;
      }
      ctx.stroke();
    }
    // newest values, top left
    const last = series[series.length - 1];
    ctx.textAlign = 'left';
    let x = L + 6;
    for (const ln of lines) {
      const v = last[ln.key];
      const s = `${ln.key} ${typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '\u2014'}${unit}`;
      ctx.fillStyle = ln.color;
      ctx.fillText(s, x, T + 12);
      x += ctx.measureText(s).width + 12;
    }
  }

  // ---- admin calls
  E.token.value = sessionStorage.getItem('synodToken') || '';
  const saveToken = () => sessionStorage.setItem('synodToken', E.token.value);
  E.token.addEventListener('change', saveToken);
  E.token.addEventListener('input', saveToken);
  $('#token-form').addEventListener('submit', (ev) => ev.preventDefault()); // Enter in the token field

  let statusTimer = 0;
  function showStatus(text, kind) {
    E.status.textContent = text;
    E.status.className = 'status' + (kind ? ' ' + kind : '');
    clearTimeout(statusTimer);
    if (kind === 'ok')
      statusTimer = setTimeout(() => {
        if (E.status.textContent === text) E.status.textContent = '';
      }, 8000);
  }

  /** One admin request; shows its outcome; returns the JSON body on 2xx, else null. */
  async function request(method, url, body, label) {
    const headers = { Accept: 'application/json' };
    const token = E.token.value.trim();
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { method, headers };
    if (method === 'POST' || method === 'PUT') {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body || {});
    }
    showStatus(`${label}\u2026`);
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      showStatus(`${label}: the gateway did not answer (${err.message})`, 'err');
      return null;
    }
    const json = await res.json().catch(() => null);
    // problem details (RFC 9457) on failure; on success a word about the new state, when there is one
    const obj = json && typeof json === 'object' ? json : {};
    const detail = res.ok ? (typeof obj.state === 'string' ? `ok (${obj.state})` : 'ok') : obj.detail || obj.title || obj.message || '';
    if (res.status === 401 || res.status === 403) {
      showStatus(`${label}: ${res.status} ${detail || 'unauthorized'} \u2014 enter the admin token above`, 'err');
      E.token.focus();
      return null;
    }
    showStatus(`${label}: ${res.status}${detail ? ' ' + detail : ''}`, res.ok ? 'ok' : 'err');
    return res.ok ? json || {} : null;
  }

  async function nodeAction(a, id) {
    if (a.confirm && !(await confirmDialog(a.confirm(id)))) {
      showStatus(`${a.label} ${id}: not done`);
      return;
    }
    const key = id + ':' + a.action;
    pending.add(key);
    stateDirty = true;
    schedule();
    await request('POST', `/v1/admin/nodes/${encodeURIComponent(id)}/${a.path}`, {}, `${a.label} ${id}`);
    pending.delete(key);
    stateDirty = true;
    schedule();
  }

  async function byzantineAction(id, behavior) {
    const key = id + ':byzantine';
    pending.add(key);
    await request('POST', `/v1/admin/nodes/${encodeURIComponent(id)}/byzantine`, { behavior }, `byzantine ${behavior} on ${id}`);
    pending.delete(key);
    stateDirty = true;
    schedule();
  }

  async function linkAction(verb) {
    if (!selectedLink) return;
    const key = selectedLink;
    const [a, b] = key.split('|');
    pending.add(key + ':' + verb);
    stateDirty = true;
    schedule();
    await request('POST', `/v1/admin/links/${encodeURIComponent(a)}/${encodeURIComponent(b)}/${verb}`, {}, `${verb} link ${a}\u2194${b}`);
    pending.delete(key + ':' + verb);
    stateDirty = true;
    schedule();
  }
  E.cutLink.addEventListener('click', () => linkAction('cut'));
  E.healLink.addEventListener('click', () => linkAction('heal'));

  // <dialog id="confirm">: resolves true only for the "yes" button
  let confirmResolve = null;
  function confirmDialog(text) {
    if (typeof E.confirm.showModal !== 'function') return Promise.resolve(window.confirm(text));
    E.confirmText.textContent = text;
    E.confirm.returnValue = '';
    return new Promise((resolve) => {
      confirmResolve = resolve;
      E.confirm.showModal();
    });
  }
  for (const b of E.confirm.querySelectorAll('[data-confirm]')) b.addEventListener('click', () => E.confirm.close(b.dataset.confirm));
  E.confirm.addEventListener('close', () => {
    const r = confirmResolve;
    confirmResolve = null;
    if (r) r(E.confirm.returnValue === 'yes');
  });

  // ---- scenarios
  function noteScenario(e) {
    const d = e.data || {};
    if (d.run == null) return;
    const run = String(d.run);
    const prev = runs.get(run);
    // A step's event carries the step's own state (done/failed): only events without `step` say
    // how the run stands (started: running; ended: done/failed/cancelled).
    const st = typeof d.step === 'number' ? (prev ? prev.state : 'running') : typeof d.state === 'string' ? d.state : 'running';
    runs.set(run, { state: st, text: e.text, name: d.scenario || d.name || (prev && prev.name) || '' });
    lastRun = run;
    if (st === 'running') {
      if (!activeRun) activeRun = run;
    } else if (activeRun === run) activeRun = null;
    if (runs.size > 200) runs.delete(runs.keys().next().value);
  }
  function renderScenarioControls() {
    const any = !!(hello && E.scenarioSelect.value);
    setDisabled(E.runScenario, !any);
    setDisabled(E.cancelScenario, !activeRun || cancelling);
    const shown = activeRun || lastRun;
    const r = shown && runs.get(shown);
    setText(E.scenarioRun, r ? `run ${shown.slice(0, 8)}: ${r.state} \u2014 ${r.text || ''}` : '');
  }
  E.scenarioSelect.addEventListener('change', showScenarioDesc);
  E.runScenario.addEventListener('click', async () => {
    const name = E.scenarioSelect.value;
    if (!name) return;
    const res = await request('POST', `/v1/admin/scenarios/${encodeURIComponent(name)}/runs`, {}, `run scenario ${name}`);
    if (res && res.id != null) {
      const id = String(res.id);
      if (!runs.has(id)) runs.set(id, { state: 'running', text: 'started', name });
      if (runs.get(id).state === 'running') activeRun = id;
      lastRun = id;
      showStatus(`scenario ${name}: run ${id} started`, 'ok');
    }
    renderScenarioControls();
  });
  E.cancelScenario.addEventListener('click', async () => {
    const id = activeRun;
    if (!id || cancelling) return;
    cancelling = true;
    renderScenarioControls();
    const res = await request('DELETE', `/v1/admin/scenarios/runs/${encodeURIComponent(id)}`, undefined, `cancel scenario run ${id}`);
    if (res) {
      const r = runs.get(id);
      if (r && r.state === 'running') r.state = typeof res.state === 'string' ? res.state : 'cancelling';
      if (activeRun === id) activeRun = null;
    }
    cancelling = false;
    renderScenarioControls();
  });

  // ---- key space browser
  let kvPage = { prefix: '', next: null };
  async function kvList(prefix, after) {
    let url = `/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=50`;
    if (after) url += `&after=${encodeURIComponent(after)}`;
    let res;
    let json;
    try {
      res = await fetch(url, { headers: { Accept: 'application/json' } });
      json = await res.json().catch(() => null);
    } catch (err) {
      E.kvResults.textContent = `the gateway did not answer (${err.message})`;
      return;
    }
    if (!res.ok || !json || !Array.isArray(json.items)) {
      const detail = (json && (json.detail || json.title)) || '';
      E.kvResults.textContent = `list failed: ${res.status} ${detail}`;
      showStatus(`key list: ${res.status} ${detail}`, 'err');
      return;
    }
    kvPage = { prefix, next: json.next == null ? null : json.next };
    setDisabled(E.kvNext, kvPage.next === null);
    const frag = document.createDocumentFragment();
    frag.appendChild(
      el(
        'p',
        { class: 'muted' },
        `${json.items.length} key${json.items.length === 1 ? '' : 's'}${prefix ? ` starting with \u201c${prefix}\u201d` : ''}` +
          `${after ? ` after \u201c${after}\u201d` : ''}${json.revision != null ? `, read at revision ${json.revision}` : ''}` +
          `${kvPage.next !== null ? ' \u2014 more on the next page' : ''}`,
      ),
    );
    if (json.items.length) {
      const table = el('table');
      const head = el('tr');
      for (const h of ['key', 'value', 'created', 'modified', 'version', 'lease']) head.appendChild(el('th', { scope: 'col' }, h));
      table.appendChild(el('thead')).appendChild(head);
      const body = el('tbody');
      for (const it of json.items) {
        const tr = el('tr');
        const full = typeof it.value === 'string' ? it.value : (JSON.stringify(it.value) ?? '');
        const shown = full.length > 120 ? full.slice(0, 120) + '\u2026' : full;
        const v = el('td', { class: 'v' }, shown);
        if (shown !== full) v.title = full.slice(0, 2000);
        tr.append(
          el('td', { class: 'k' }, it.key),
          v,
          el('td', { class: 'num' }, it.createRevision ?? ''),
          el('td', { class: 'num' }, it.modRevision ?? it.revision ?? ''),
          el('td', { class: 'num' }, it.version ?? ''),
          el('td', null, it.lease || ''),
        );
        body.appendChild(tr);
      }
      table.appendChild(body);
      frag.appendChild(table);
    }
    E.kvResults.textContent = '';
    E.kvResults.appendChild(frag);
  }
  E.kvForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    kvList(E.kvPrefix.value, null);
  });
  E.kvNext.addEventListener('click', () => {
    if (kvPage.next !== null) kvList(kvPage.prefix, kvPage.next);
  });

  // the scenario list also lives at GET /v1/admin/scenarios; hello carries it, so no extra call
  renderScenarioControls();
  drawChart(E.chartThroughput, [{ key: 'commits', color: '#0969da' }], '/s');
  drawChart(E.chartLatency, [{ key: 'p50Ms', color: '#8250df' }], ' ms');
  connect();
})();
