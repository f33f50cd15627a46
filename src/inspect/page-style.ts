// The inspector page's stylesheet (kept apart from the markup and the script).

export const PAGE_STYLE = String.raw`
:root { --bg:#0f1419; --panel:#171d24; --line:#2a333d; --text:#d8dee6; --dim:#8b96a3; --accent:#3fb68b;
  --warn:#e0a339; --bad:#e5534b; --info:#539bf5; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font-size:13px; }
header { display:flex; align-items:center; gap:14px; padding:10px 16px; border-bottom:1px solid var(--line); background:var(--panel); }
header h1 { font-size:15px; margin:0; font-weight:600; }
.badge { padding:3px 10px; border-radius:12px; font-weight:600; background:#2d333b; text-transform:uppercase; letter-spacing:.04em; font-size:12px; }
.badge.ready { background:#1f4d3a; color:#7ee2b8; } .badge.error { background:#5a1e1e; color:#ffaba8; }
.badge.initializing, .badge.stopping { background:#4d3b12; color:#f2cc60; } .badge.stopped { background:#2d333b; color:var(--dim); }
.conn { margin-left:auto; color:var(--dim); font-size:12px; } .conn.live::before { content:"● "; color:var(--accent); }
.conn.lost::before { content:"● "; color:var(--bad); }
main { display:grid; grid-template-columns: minmax(420px, 1.35fr) minmax(340px, 1fr); gap:12px; padding:12px; align-items:start; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; min-width:0; }
section h2 { margin:0 0 8px; font-size:12px; color:var(--dim); text-transform:uppercase; letter-spacing:.06em; font-weight:600; }
.side { display:flex; flex-direction:column; gap:12px; min-width:0; }
#diagram { background:#fff; border-radius:6px; padding:8px; overflow:auto; }
#diagram svg { max-width:100%; height:auto; }
#diagram .cluster.tl-active > path { stroke:#0d8a5f !important; stroke-width:3px !important; fill:#e8f7f0 !important; }
#diagram .node.tl-active > path { stroke:#0d8a5f !important; stroke-width:3px !important; }
#diagram .node.tl-current > path { fill:#3fb68b !important; stroke:#0b6b49 !important; stroke-width:3px !important; }
#diagram .node.tl-current text { fill:#fff !important; font-weight:700; }
#diagram.error-state .node.tl-current > path { fill:#e5534b !important; stroke:#8e1b16 !important; }
dl { display:grid; grid-template-columns:max-content 1fr; gap:3px 12px; margin:0; }
dt { color:var(--dim); } dd { margin:0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break:break-word; }
.err { color:#ffaba8; } .none { color:var(--dim); font-style:italic; }
table { width:100%; border-collapse:collapse; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
th { text-align:left; color:var(--dim); font-weight:500; border-bottom:1px solid var(--line); padding:3px 6px; }
td { padding:3px 6px; border-bottom:1px solid #20272f; vertical-align:top; }
tr.state td { color:#7ee2b8; } tr.state.error td { color:#ffaba8; } tr.alert td { color:var(--warn); }
#log-panel { grid-column: 1 / -1; } #log-wrap { max-height:320px; overflow:auto; }
.timer { display:flex; justify-content:space-between; font-family: ui-monospace, monospace; padding:2px 0; }
.timer .left { color:var(--warn); }
footer { color:var(--dim); padding:0 16px 12px; font-size:11px; }
`;
