// The inspector page's script (runs in the browser; plain ES2020, no
// framework). It renders the machine's Mermaid text with the locally served
// Mermaid, finds each state's node in the SVG, then applies the server's
// pushed messages in order: highlight the active states, append to the event
// log, refresh context / timers / stats. window.__inspector exposes what it
// highlighted, for the browser test and for anyone debugging the page.

export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var probe = window.__inspector = { rendered: false, messages: 0, highlights: [], current: null, error: null };
  var nodes = {};          // mermaid state id -> svg element
  var startedAt = null;   // the first logged event: 'since' times count from it
  var lastState = null;
  var timers = [];
  var queue = Promise.resolve();

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; });
  }
  function clock(ms) {
    var d = new Date(ms);
    return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }
  function since(ms) {
    if (startedAt === null) startedAt = ms;
    return '+' + ((ms - startedAt) / 1000).toFixed(3) + ' s';
  }
  function short(v) {
    if (v === undefined || v === null) return '';
    var s = typeof v === 'string' ? v : JSON.stringify(v);
    return s === '{}' ? '' : (s.length > 160 ? s.slice(0, 157) + '…' : s);
  }
  function eventName(type) {
    var m;
    if ((m = /^xstate\.done\.actor\.(.+)$/.exec(type))) return 'done(' + m[1] + ')';
    if ((m = /^xstate\.error\.actor\.(.+)$/.exec(type))) return 'error(' + m[1] + ')';
    if ((m = /^xstate\.after\.([^.]+)\./.exec(type))) return 'after(' + m[1] + ')';
    return type;
  }

  // Mermaid's state diagram names a leaf node "<prefix>state-<id>-<n>" and a
  // composite state's cluster "<id>" (its label sits inside it).
  function indexNodes(svg) {
    nodes = {};
    var ids = Object.values(probe.stateIds);
    svg.querySelectorAll('g.node[id], g.cluster[id], g[id]').forEach(function (el) {
      var m = /state-(.+)-\d+$/.exec(el.id);
      var key = m ? m[1] : el.id;
      if (ids.indexOf(key) >= 0 && !nodes[key]) {
        nodes[key] = el;
        el.setAttribute('data-tl-state', key);
      }
    });
  }

  function dl(target, rows) {
    target.innerHTML = rows.length ? rows.map(function (r) {
      return '<dt>' + esc(r[0]) + '</dt><dd' + (r[2] ? ' class="' + r[2] + '"' : '') + '>' + r[1] + '</dd>';
    }).join('') : '<dd class="none">nothing</dd>';
  }

  function showError(e) {
    if (!e) return '<span class="none">none</span>';
    var text = esc((e.name || 'Error') + (e.code ? ' [' + e.code + ']' : '') + ': ' + e.message);
    var c = e.cause;
    while (c && typeof c === 'object') {
      text += '<br>  caused by ' + esc((c.code ? c.code + ': ' : '') + (c.message || JSON.stringify(c)));
      c = c.cause;
    }
    return text;
  }

  function applySnapshot(s) {
    var top = s.state;
    document.body.setAttribute('data-state', top);
    var badge = $('state');
    var leaf = s.paths[s.paths.length - 1] || top;
    badge.textContent = leaf.split('.').join(' › ');
    badge.className = 'badge ' + top;
    $('diagram').classList.toggle('error-state', top === 'error');
    Object.keys(nodes).forEach(function (k) { nodes[k].classList.remove('tl-active', 'tl-current'); });
    var highlighted = [];
    s.active.forEach(function (id, i) {
      var el = nodes[id];
      if (!el) return;
      el.classList.add('tl-active');
      if (i === s.active.length - 1) el.classList.add('tl-current');
      highlighted.push(el.getAttribute('data-tl-state'));
    });
    probe.current = highlighted;
    if (highlighted[0] !== undefined && highlighted[0] !== probe.highlights[probe.highlights.length - 1]) {
      probe.highlights.push(highlighted[0]);
    }
    if (lastState !== null && top !== lastState) addRow({ at: s.at, kind: 'state', text: lastState + ' → ' + leaf, cls: top });
    lastState = top;

    var c = s.context || {};
    var p = c.policy || {};
    dl($('context'), [
      ['interface', esc(c.interfaceName) + (c.ifindex !== undefined && c.ifindex !== null ? ' (ifindex ' + c.ifindex + ')' : '')],
      ['state', esc(JSON.stringify(s.value))],
      ['attempt', esc(c.attempt) + ' of ' + esc((p.retryAttempts || 0) + 1)],
      ['consecutive failures', esc(c.consecutiveFailures)],
      ['last error', showError(c.lastError), c.lastError ? 'err' : ''],
      ['error from', c.errorFrom ? esc(c.errorFrom) : '<span class="none">—</span>'],
      ['cleanup requested', esc(!!c.cleanupRequested)],
      ['policy', esc('retryAttempts ' + p.retryAttempts + ', retryDelay ' + p.retryDelay + ' ms (max ' + p.retryDelayMax +
        '), cleanupTimeout ' + p.cleanupTimeout + ' ms, alertThreshold ' + p.alertThreshold)],
    ]);
    timers = s.timers || [];
    drawTimers();
  }

  function drawTimers() {
    var now = Date.now();
    $('timers').innerHTML = timers.length ? timers.map(function (t) {
      return '<div class="timer" data-timer="' + esc(t.label) + '"><span>' + esc(t.label) + ' <span class="none">(' + t.delay +
        ' ms)</span></span><span class="left">in ' + Math.max(0, (t.dueAt - now) / 1000).toFixed(1) + ' s</span></div>';
    }).join('') : '<span class="none">no pending timers</span>';
  }

  function applyStats(m) {
    var s = m.stats || {};
    var rows = [];
    ['attempts', 'retries', 'failures', 'faults', 'recoveries', 'cleanups', 'alerts'].forEach(function (k) {
      if (s[k] !== undefined) rows.push([k, esc(s[k])]);
    });
    if (s.kernel) rows.push(['kernel rx / tx', esc(s.kernel.rxPackets + ' / ' + s.kernel.txPackets + ' packets, ' + s.kernel.rxBytes + ' / ' +
      s.kernel.txBytes + ' bytes, dropped ' + s.kernel.rxDropped + ' / ' + s.kernel.txDropped)]);
    (s.queues || []).forEach(function (q, i) {
      rows.push(['queue ' + i + ' read / wrote', esc(q.rxPackets + ' / ' + q.txPackets + ' packets, ' + q.rxBytes + ' / ' + q.txBytes + ' bytes')]);
    });
    if (s.error) rows.push(['stats error', esc(s.error.message), 'err']);
    dl($('stats'), rows);
  }

  function addRow(r) {
    var tr = document.createElement('tr');
    tr.className = r.kind + (r.cls ? ' ' + r.cls : '');
    tr.innerHTML = '<td>' + clock(r.at) + '</td><td>' + since(r.at) + '</td><td>' + esc(r.text) + '</td><td>' + esc(r.source || '') +
      '</td><td>' + esc(r.detail || '') + '</td>';
    var body = $('log');
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 400) body.removeChild(body.lastChild);
  }

  function applyLogEntry(m) {
    if (m.kind === 'alert') addRow({ at: m.at, kind: 'alert', text: 'alert', detail: short(m.detail) });
    else addRow({ at: m.at, kind: 'event', text: eventName(m.type), source: m.source, detail: short(m.detail) });
  }

  async function welcome(w) {
    startedAt = null;
    probe.stateIds = w.stateIds;
    document.title = w.title + ' — inspector';
    $('title').textContent = w.title;
    if (!probe.rendered) {
      var out = await window.mermaid.render('tl-diagram-svg', w.diagram);
      $('diagram').innerHTML = out.svg;
      indexNodes($('diagram').querySelector('svg'));
      probe.rendered = true;
      probe.indexed = Object.keys(nodes);
    }
    var d = w.details || {};
    dl($('details'), Object.keys(d).map(function (k) { return [k, esc(typeof d[k] === 'string' ? d[k] : JSON.stringify(d[k]))]; }));
    $('log').innerHTML = '';
    lastState = null;
    w.log.forEach(applyLogEntry);
    applySnapshot(w.snapshot);
    if (w.stats) applyStats(w.stats);
  }

  function handle(m) {
    probe.messages++;
    if (m.kind === 'welcome') return welcome(m);
    if (m.kind === 'snapshot') applySnapshot(m);
    else if (m.kind === 'stats') applyStats(m);
    else applyLogEntry(m);
  }

  window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', state: { useMaxWidth: true } });
  var source = new EventSource('events');
  source.onopen = function () { $('conn').textContent = 'live'; $('conn').className = 'conn live'; };
  source.onerror = function () { $('conn').textContent = 'disconnected'; $('conn').className = 'conn lost'; };
  source.onmessage = function (e) {
    var m = JSON.parse(e.data);
    queue = queue.then(function () { return handle(m); }).catch(function (err) { probe.error = String(err && err.stack || err); });
  };
  setInterval(drawTimers, 100);
})();
`;
