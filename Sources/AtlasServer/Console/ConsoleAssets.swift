/// The console's stylesheet and its one script (the live tail), served by the app itself:
/// no build step, no CDN.
enum ConsoleAssets {
    static let css = #"""
:root { --fg: #1b1f24; --muted: #4a5360; --bg: #ffffff; --panel: #f3f5f8; --line: #c9d0d9; --link: #0b57b3;
  --ok: #1d6b34; --ok-bg: #e3f4e8; --warn: #7a4b00; --warn-bg: #fff1d6; --bad: #a1161c; --bad-bg: #fde4e4;
  --unk: #444c57; --unk-bg: #e8eaee; --focus: #ffbf47; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
a:focus, button:focus, input:focus, select:focus, main:focus { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: #fff; padding: .5em 1em; }
.skip:focus { left: 0; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1em; padding: .6em 1.2em; background: #102a43; color: #fff; }
header.top a { color: #fff; }
.brand { font-weight: 700; font-size: 1.2em; text-decoration: none; }
nav ul { display: flex; flex-wrap: wrap; gap: .2em 1em; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.signout { margin-left: auto; display: flex; align-items: center; gap: .6em; }
main { padding: 1em 1.2em 2em; max-width: 80em; }
h1 { font-size: 1.6em; margin: .2em 0 .6em; }
h2 { font-size: 1.25em; margin: 1.4em 0 .5em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
caption { text-align: left; font-weight: 600; padding: .3em 0; color: var(--muted); }
th, td { border-bottom: 1px solid var(--line); padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: var(--panel); }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .92em; }
form.filters, form.choose { display: flex; flex-wrap: wrap; gap: .8em; align-items: flex-end; background: var(--panel); padding: .8em; border: 1px solid var(--line); }
form.filters label, form.choose label { display: flex; flex-direction: column; font-weight: 600; gap: .2em; }
input, select, button { font: inherit; padding: .35em .5em; border: 1px solid #6b7785; border-radius: 3px; background: #fff; color: var(--fg); }
button { background: #0b57b3; color: #fff; border-color: #0b57b3; cursor: pointer; }
.signout button { background: #fff; color: #102a43; }
.badge { display: inline-block; padding: .05em .5em; border-radius: 3px; font-weight: 600; border: 1px solid currentColor; }
.badge-success, .badge-high, .badge-observed, .badge-unchanged, .badge-first_seen, .badge-reappeared, .badge-added { color: var(--ok); background: var(--ok-bg); }
.badge-partial, .badge-changed, .badge-running, .badge-skipped { color: var(--warn); background: var(--warn-bg); }
.badge-failed, .badge-low, .badge-missing, .badge-disappeared, .badge-removed, .badge-absent, .badge-not_seen { color: var(--bad); background: var(--bad-bg); }
.badge-unknown { color: var(--unk); background: var(--unk-bg); }
.rule { border-left: 5px solid #0b57b3; background: var(--panel); padding: .6em 1em; margin: 1em 0; }
.confidence-low { border-left-color: var(--bad); }
.strip { display: flex; flex-wrap: wrap; gap: 3px; list-style: none; padding: 0; margin: .6em 0 1.2em; }
.strip li { min-width: 7.5em; padding: .3em .4em; border: 1px solid var(--line); border-top-width: 8px; font-size: .85em; }
.strip li.s-observed { border-top-color: #2e8b57; }
.strip li.s-changed { border-top-color: #d08700; }
.strip li.s-absent { border-top-color: #c62828; }
.strip li.s-unknown { border-top-color: #7b8794; border-top-style: dashed; }
.legend { font-size: .9em; color: var(--muted); }
.error { color: var(--bad); background: var(--bad-bg); padding: .5em .8em; border: 1px solid var(--bad); }
.empty { color: var(--muted); font-style: italic; }
.pager { display: flex; gap: 1em; }
#tail { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; max-height: 70vh; overflow: auto; padding-left: 4em; }
#tail li { border-bottom: 1px solid var(--line); padding: .15em 0; }
footer { color: var(--muted); font-size: .85em; padding: 1em 1.2em; border-top: 1px solid var(--line); }
@media print {
  header.top, form, .skip, .pager, .signout, #tail-status { display: none !important; }
  body { font-size: 11pt; color: #000; }
  main { max-width: none; padding: 0; }
  a { color: #000; text-decoration: none; }
  table { page-break-inside: auto; }
  tr { page-break-inside: avoid; }
  .badge { border: 1px solid #000; background: none !important; color: #000 !important; }
  .strip li { border-color: #000; }
}
"""#

    /// The live tail: follows `/api/v1/events` with EventSource (the session cookie
    /// authenticates it) and prepends one line per event.
    static let tailScript = #"""
(function () {
  "use strict";
  var list = document.getElementById("tail");
  var status = document.getElementById("tail-status");
  if (!list || !window.EventSource) { return; }
  var source = new EventSource(list.getAttribute("data-stream"));
  var shown = 0;
  source.onopen = function () { status.textContent = "Connected; waiting for events."; };
  source.onerror = function () { status.textContent = "Disconnected; reconnecting…"; };
  source.onmessage = function (message) {
    var line;
    try { line = JSON.parse(message.data); } catch (e) { return; }
    var env = line.envelope || {};
    var item = document.createElement("li");
    var summary = env.type + " · " + env.tenant + " · " + env.recorded_at;
    if (env.data && env.data.display_name) { summary += " · " + env.data.display_name; }
    if (env.data && env.data.status) { summary += " · " + env.data.status; }
    item.textContent = summary;
    item.value = line.position;
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 500) { list.removeChild(list.lastChild); }
    shown += 1;
    status.textContent = shown + " event(s) since this page opened; latest position " + line.position + ".";
  };
})();
"""#
}
