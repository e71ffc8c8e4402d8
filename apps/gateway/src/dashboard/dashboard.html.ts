import { BYZANTINE_BEHAVIORS } from '@app/wire';

/**
 * The dashboard: one self-contained page (no external assets) that polls /v1/cluster every second
 * and offers the admin actions. The token is kept in sessionStorage only.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Synod</title>
<style>
  :root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  .muted { color: var(--muted); }
  table { border-collapse: collapse; margin-top: 1rem; min-width: 60rem; }
  th, td { border-bottom: 1px solid var(--line); padding: .35rem .6rem; text-align: left; white-space: nowrap; }
  th { font-weight: 600; background: #f6f8fa; }
  tr.leader td:first-child::after { content: " \\2605"; color: #bf8700; }
  .alive { color: var(--ok); font-weight: 600; } .dead { color: var(--bad); font-weight: 600; }
  button { font: inherit; padding: .15rem .5rem; margin-right: .2rem; cursor: pointer; }
  select { font: inherit; }
  #log { margin-top: 1rem; font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; max-height: 12rem; overflow: auto; }
  .err { color: var(--bad); }
</style>
</head>
<body>
<h1>Synod cluster</h1>
<div class="muted" id="summary">loading...</div>
<div style="margin-top:.75rem">
  <label>Admin token <input id="token" type="password" size="28" autocomplete="off" placeholder="(only if ADMIN_TOKEN is set)"></label>
</div>
<table>
  <thead><tr><th>node</th><th>role</th><th>alive</th><th id="termHead">term</th><th>commit</th><th>applied</th><th>isolated</th><th>byzantine</th><th>last seen</th><th>actions</th></tr></thead>
  <tbody id="nodes"></tbody>
</table>
<div id="log"></div>
<script>
(function () {
  var tokenInput = document.getElementById('token');
  tokenInput.value = sessionStorage.getItem('synodToken') || '';
  tokenInput.addEventListener('change', function () { sessionStorage.setItem('synodToken', tokenInput.value); });
  var protocol = 'raft';
  var behaviors = ${JSON.stringify(['none', ...BYZANTINE_BEHAVIORS.filter((b) => b !== 'none')])};

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }
  function log(line, isErr) {
    var box = document.getElementById('log');
    var el = text('div', new Date().toLocaleTimeString() + '  ' + line, isErr ? 'err' : '');
    box.insertBefore(el, box.firstChild);
  }
  function admin(id, action, query, body) {
    var headers = { 'Content-Type': 'application/json' };
    if (tokenInput.value) headers['Authorization'] = 'Bearer ' + tokenInput.value;
    var url = '/v1/admin/nodes/' + encodeURIComponent(id) + '/' + action + (query || '');
    fetch(url, { method: 'POST', headers: headers, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (x) { log(action + ' ' + id + ' -> ' + x[0] + ' ' + JSON.stringify(x[1]), x[0] >= 400); })
      .catch(function (e) { log(action + ' ' + id + ' failed: ' + e, true); });
  }
  function button(label, fn) {
    var b = text('button', label);
    b.addEventListener('click', fn);
    return b;
  }
  function actions(node) {
    var td = document.createElement('td');
    td.appendChild(button('kill', function () { admin(node.id, 'kill'); }));
    td.appendChild(button('hard kill', function () { admin(node.id, 'kill', '?mode=hard'); }));
    td.appendChild(button('revive', function () { admin(node.id, 'revive'); }));
    td.appendChild(button('isolate', function () { admin(node.id, 'isolate'); }));
    td.appendChild(button('heal', function () { admin(node.id, 'heal'); }));
    if (protocol === 'pbft') {
      var sel = document.createElement('select');
      behaviors.forEach(function (b) { var o = text('option', b); o.value = b; sel.appendChild(o); });
      sel.value = node.byzantine || 'none';
      td.appendChild(sel);
      td.appendChild(button('set', function () { admin(node.id, 'byzantine', '', { behavior: sel.value }); }));
    }
    return td;
  }
  function render(c) {
    protocol = c.protocol;
    var termKey = c.protocol === 'pbft' ? 'view' : 'term';
    document.getElementById('termHead').textContent = termKey;
    document.getElementById('summary').textContent = c.protocol + ' - ' + (c.protocol === 'pbft' ? 'primary ' : 'leader ') +
      (c.leader || 'none') + ' - ' + termKey + ' ' + c[termKey] + ' - ' + c.nodes.filter(function (n) { return n.alive; }).length + '/' + c.nodes.length + ' alive';
    var body = document.getElementById('nodes');
    var rows = document.createDocumentFragment();
    c.nodes.forEach(function (n) {
      var tr = document.createElement('tr');
      if (n.id === c.leader) tr.className = 'leader';
      tr.appendChild(text('td', n.id));
      tr.appendChild(text('td', n.role));
      tr.appendChild(text('td', n.alive ? 'alive' : 'down', n.alive ? 'alive' : 'dead'));
      tr.appendChild(text('td', String(n[termKey])));
      tr.appendChild(text('td', String(n.commitIndex)));
      tr.appendChild(text('td', String(n.appliedIndex)));
      tr.appendChild(text('td', n.isolated ? 'yes' : ''));
      tr.appendChild(text('td', n.byzantine === 'none' ? '' : n.byzantine));
      tr.appendChild(text('td', n.lastSeenMs === null ? 'never' : (n.lastSeenMs / 1000).toFixed(1) + ' s ago'));
      tr.appendChild(actions(n));
      rows.appendChild(tr);
    });
    // Keep the rows (and an open select) while a button is being pressed.
    if (!body.contains(document.activeElement)) { body.textContent = ''; body.appendChild(rows); }
  }
  function poll() {
    fetch('/v1/cluster').then(function (r) { return r.json(); }).then(render)
      .catch(function (e) { document.getElementById('summary').textContent = 'gateway unreachable: ' + e; })
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
</body>
</html>
`;
