// The inspector page's script, run by the browser as a module (inlined into
// the page by ../page.ts; plain ES2020, no framework, no build step of its
// own). Type-checked against the feed's message types and the DOM by
// ./tsconfig.json (part of `npm run build`). The page arrives with the diagram
// the server drew (Graphviz) and the welcome message inside it (#tl-welcome),
// so it shows the last known state at once; then it applies the server's
// pushed messages in order: highlight the active states, append to the event
// log, refresh context / timers / stats. (A page served without them fetches
// diagram.svg and waits for the stream's welcome.)
// window.__inspector exposes what it highlighted, for the browser test and
// for anyone debugging the page.

/** @typedef {import('../feed.js').WelcomeMessage} WelcomeMessage */
/** @typedef {import('../feed.js').SnapshotMessage} SnapshotMessage */
/** @typedef {import('../feed.js').StatsMessage} StatsMessage */
/** @typedef {import('../feed.js').EventMessage | import('../feed.js').AlertMessage | import('../feed.js').ReconfigureMessage} LogMessage */
/** @typedef {import('../feed.js').FeedMessage | WelcomeMessage} PageMessage */
/** @typedef {import('../feed.js').PendingTimer} PendingTimer */
/**
 * What the page shows the outside (window.__inspector).
 * @typedef {{ rendered: boolean, messages: number, highlights: string[], current: string[] | null, error: string | null,
 *   stateIds?: Record<string, string>, indexed?: string[], fromPage?: boolean }} Probe
 */
/** @typedef {{ at: number, kind: string, text: string, cls?: string, source?: string, detail?: string }} LogRow */
/** An error as the feed sends it (json-safe.ts): its fields, and its cause chain. */
/** @typedef {{ name?: string, code?: string, message?: string, cause?: ErrorLike }} ErrorLike */
/**
 * The machine's context as the feed sends it (JSON-safe; only what the page shows).
 * @typedef {{ interfaceName?: string, ifindex?: number | null, attempt?: number, consecutiveFailures?: number,
 *   lastError?: ErrorLike, errorFrom?: string, cleanupRequested?: boolean,
 *   policy?: Partial<import('../../../machines/types.js').LifecyclePolicy> }} PageContext
 */
/**
 * The adapter's stats() as the feed sends it (counters; bigints become strings or numbers).
 * @typedef {{ rxPackets: unknown, txPackets: unknown, rxBytes: unknown, txBytes: unknown }} PacketCounts
 * @typedef {Record<string, unknown> & { kernel?: PacketCounts & { rxDropped: unknown, txDropped: unknown },
 *   queues?: PacketCounts[], error?: { message: string } }} PageStats
 */

const page = /** @type {Window & typeof globalThis & { __inspector: Probe }} */ (window);

/** @param {string} id */
var $ = function (id) {
  var el = document.getElementById(id);
  if (!el) throw new Error('the page has no #' + id);
  return el;
};
/** @type {Probe} */
var probe = page.__inspector = { rendered: false, messages: 0, highlights: [], current: null, error: null };
/** @type {Record<string, Element>} */
var nodes = {};          // state id (the Mermaid text's) -> svg element
/** @type {number | null} */
var startedAt = null;   // the first logged event: 'since' times count from it
/** @type {string | null} */
var lastState = null;
/** @type {PendingTimer[]} */
var timers = [];
var queue = Promise.resolve();

/** @type {Record<string, string>} */
var ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
/** @param {unknown} s */
function esc(s) {
  return String(s).replace(/[&<>"]/g, function (c) { return /** @type {string} */ (ENTITIES[c]); });
}
/** @param {number} ms */
function clock(ms) {
  var d = new Date(ms);
  return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}
/** @param {number} ms */
function since(ms) {
  if (startedAt === null) startedAt = ms;
  return '+' + ((ms - startedAt) / 1000).toFixed(3) + ' s';
}
/** @param {unknown} v */
function short(v) {
  if (v === undefined || v === null) return '';
  var s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === '{}' ? '' : (s.length > 160 ? s.slice(0, 157) + '…' : s);
}
/** @param {string} type */
function eventName(type) {
  var m;
  if ((m = /^xstate\.done\.actor\.(.+)$/.exec(type))) return 'done(' + m[1] + ')';
  if ((m = /^xstate\.error\.actor\.(.+)$/.exec(type))) return 'error(' + m[1] + ')';
  if ((m = /^xstate\.after\.([^.]+)\./.exec(type))) return 'after(' + m[1] + ')';
  return type;
}

// The server's drawing gives a leaf state's node and a composite state's
// cluster the state's id as their element id.
/** @param {Element} svg */
function indexNodes(svg) {
  nodes = {};
  var ids = Object.values(probe.stateIds || {});
  svg.querySelectorAll('g.node[id], g.cluster[id]').forEach(function (el) {
    var key = el.id;
    if (ids.indexOf(key) >= 0 && !nodes[key]) {
      nodes[key] = el;
      el.setAttribute('data-tl-state', key);
    }
  });
}

/**
 * @param {HTMLElement} target
 * @param {Array<[string, string] | [string, string, string]>} rows label, HTML, class
 */
function dl(target, rows) {
  target.innerHTML = rows.length ? rows.map(function (r) {
    return '<dt>' + esc(r[0]) + '</dt><dd' + (r[2] ? ' class="' + r[2] + '"' : '') + '>' + r[1] + '</dd>';
  }).join('') : '<dd class="none">nothing</dd>';
}

/** @param {ErrorLike | undefined} e */
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

/** @param {SnapshotMessage} s */
function applySnapshot(s) {
  var top = s.state;
  document.body.setAttribute('data-state', top);
  var badge = $('state');
  var leaf = s.paths[s.paths.length - 1] || top;
  badge.textContent = leaf.split('.').join(' › ');
  badge.className = 'badge ' + top;
  $('diagram').classList.toggle('error-state', top === 'error');
  Object.keys(nodes).forEach(function (k) { nodes[k].classList.remove('tl-active', 'tl-current'); });
  /** @type {string[]} */
  var highlighted = [];
  s.active.forEach(function (id, i) {
    var el = nodes[id];
    if (!el) return;
    el.classList.add('tl-active');
    if (i === s.active.length - 1) el.classList.add('tl-current');
    highlighted.push(/** @type {string} */ (el.getAttribute('data-tl-state')));
  });
  probe.current = highlighted;
  if (highlighted[0] !== undefined && highlighted[0] !== probe.highlights[probe.highlights.length - 1]) {
    probe.highlights.push(highlighted[0]);
  }
  if (lastState !== null && top !== lastState) addRow({ at: s.at, kind: 'state', text: lastState + ' → ' + leaf, cls: top });
  lastState = top;

  var c = /** @type {PageContext} */ (s.context || {});
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

/** @param {StatsMessage} m */
function applyStats(m) {
  var s = /** @type {PageStats} */ (m.stats || {});
  /** @type {Array<[string, string] | [string, string, string]>} */
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

/** @param {LogRow} r */
function addRow(r) {
  var tr = document.createElement('tr');
  tr.className = r.kind + (r.cls ? ' ' + r.cls : '');
  tr.innerHTML = '<td>' + clock(r.at) + '</td><td>' + since(r.at) + '</td><td>' + esc(r.text) + '</td><td>' + esc(r.source || '') +
    '</td><td>' + esc(r.detail || '') + '</td>';
  var body = $('log');
  body.insertBefore(tr, body.firstChild);
  while (body.lastChild && body.children.length > 400) body.removeChild(body.lastChild);
}

/** @param {LogMessage} m */
function applyLogEntry(m) {
  if (m.kind === 'alert') addRow({ at: m.at, kind: 'alert', text: 'alert', detail: short(m.detail) });
  else if (m.kind === 'reconfigure') addRow({ at: m.at, kind: 'reconfigure', text: 'reconfigure: ' + m.phase, detail: short(m.diff) });
  else addRow({ at: m.at, kind: 'event', text: eventName(m.type), source: m.source, detail: short(m.detail) });
}

/** @param {WelcomeMessage} w */
async function welcome(w) {
  startedAt = null;
  probe.stateIds = w.stateIds;
  document.title = w.title + ' — inspector';
  $('title').textContent = w.title;
  if (!probe.rendered && $('diagram').querySelector('svg')) {
    indexNodes(/** @type {SVGSVGElement} */ ($('diagram').querySelector('svg')));
    probe.rendered = true;
    probe.indexed = Object.keys(nodes);
  }
  if (!probe.rendered) {
    var response = await fetch('diagram.svg');
    if (!response.ok) throw new Error('diagram.svg: ' + response.status + ' ' + (await response.text()));
    $('diagram').innerHTML = await response.text();
    indexNodes(/** @type {SVGSVGElement} */ ($('diagram').querySelector('svg')));
    probe.rendered = true;
    probe.indexed = Object.keys(nodes);
  }
  var d = /** @type {Record<string, unknown>} */ (w.details || {});
  dl($('details'), Object.keys(d).map(function (k) { return [k, esc(typeof d[k] === 'string' ? d[k] : JSON.stringify(d[k]))]; }));
  $('log').innerHTML = '';
  lastState = null;
  w.log.forEach(applyLogEntry);
  applySnapshot(w.snapshot);
  if (w.stats) applyStats(w.stats);
}

/** @param {PageMessage} m */
function handle(m) {
  probe.messages++;
  if (m.kind === 'welcome') return welcome(m);
  if (m.kind === 'snapshot') applySnapshot(m);
  else if (m.kind === 'stats') applyStats(m);
  else applyLogEntry(m);
}

// The welcome the page was served with: applied before the stream connects.
var served = document.getElementById('tl-welcome');
if (served && served.textContent) {
  var first = /** @type {WelcomeMessage} */ (JSON.parse(served.textContent));
  probe.fromPage = true;
  queue = queue.then(function () { return welcome(first); }).catch(function (err) { probe.error = String(err && err.stack || err); });
}

var source = new EventSource('events');
source.onopen = function () { $('conn').textContent = 'live'; $('conn').className = 'conn live'; };
source.onerror = function () { $('conn').textContent = 'disconnected'; $('conn').className = 'conn lost'; };
source.onmessage = /** @param {MessageEvent<string>} e */ function (e) {
  var m = /** @type {PageMessage} */ (JSON.parse(e.data));
  queue = queue.then(function () { return handle(m); }).catch(function (err) { probe.error = String(err && err.stack || err); });
};
setInterval(drawTimers, 100);
