// /details/<run>: overview, step graph, live logs, workspace, specification, provenance and
// actions.

import { ApiError, get, post, put, workflowPath } from "../api.js";
import { navigate, notice, setTitle } from "../app.js";
import { append, clear, errorBox, h, progressBar, statusBadge } from "../dom.js";
import { duration, formatTime, runDuration, splitName, steps } from "../format.js";
import { drawGraph } from "../graph.js";
import { renderProvenance } from "./provenance.js";
import { renderWorkspace } from "./workspace.js";

const ENDED = ["finished", "failed", "stopped", "deleted"];
const ALIVE = ["queued", "pending", "running"];

function notFoundPage(main, id, text) {
  setTitle("Run not found");
  clear(main, h("section", { class: "notfound" },
    h("h1", {}, "Run not found"),
    h("p", {}, text || `There is no run “${id}” among your runs.`),
    h("p", {}, h("a", { href: "/" }, "Back to your runs"))));
}

async function readRun(id) {
  const body = await get("/api/workflows", { type: "batch", workflow_id_or_name: id, include_progress: "true", include_workspace_size: "true", verbose: "true" });
  return (body.items || [])[0] || null;
}

function dialog(title, body, confirmText, onConfirm) {
  const error = h("div", { class: "error", role: "alert", hidden: true });
  const box = h("dialog", { "aria-label": title },
    h("form", { method: "dialog" },
      h("h2", {}, title), body, error,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => box.close() }, "Cancel"),
        h("button", { type: "submit", class: "danger", value: "confirm" }, confirmText))));
  box.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await onConfirm(box);
      box.close();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  box.addEventListener("close", () => box.remove());
  document.body.append(box);
  box.showModal();
}

function parameterForm(spec) {
  const declared = ((spec.specification || {}).inputs || {}).parameters || {};
  const values = { ...declared, ...(spec.parameters || {}) };
  const names = Object.keys(values);
  const shown = (value) => (typeof value === "string" ? value : JSON.stringify(value));
  const node = h("div", {},
    names.length ? names.map((name) => h("div", { class: "field" },
      h("label", { for: `param-${name}` }, name),
      h("input", { id: `param-${name}`, name, value: shown(values[name]) })))
      : h("p", {}, "This run declares no parameters."),
    h("p", { class: "muted" }, "The new run starts from this run's workspace with these parameters."));
  const collect = () => Object.fromEntries(names.map((name) => {
    const text = node.querySelector(`[id="param-${name}"]`).value;
    if (typeof declared[name] === "string") return [name, text];
    try {
      return [name, JSON.parse(text)];
    } catch {
      return [name, text];
    }
  }));
  return { node, collect };
}

function restartDialog(run, spec) {
  const { node, collect } = parameterForm(spec);
  dialog(`Restart ${run.name}`, node, "Restart", async () => {
    const answer = await post(workflowPath(run.id, "/start"), { restart: true, input_parameters: collect(), operational_options: {} });
    notice(`${answer.workflow_name || "The run"} has been restarted.`);
    navigate(`/details/${answer.workflow_id}`);
  });
}

function deleteDialog(run) {
  const all = h("input", { type: "checkbox", id: "delete-all-runs" });
  dialog(`Delete ${run.name}`, h("div", {},
    h("p", {}, "The run and its workspace files will be deleted."),
    h("label", { class: "check" }, all, ` Also delete every other run of ${splitName(run.name)[0]}`)),
  "Delete", async () => {
    await put(workflowPath(run.id, "/status"), { workspace: true, all_runs: all.checked }, { status: "deleted" });
    notice(`${run.name} has been deleted.`);
    navigate("/");
  });
}

function stopDialog(run) {
  dialog(`Stop ${run.name}`, h("p", {}, "Its running jobs will be ended."), "Stop", async () => {
    await put(workflowPath(run.id, "/status"), {}, { status: "stop" });
    notice(`Stopping ${run.name}…`);
  });
}

function overview(run, jobs) {
  const { total, finished } = steps(run);
  const progress = run.progress || {};
  const current = jobs.find((job) => job.status === "running");
  return h("dl", { class: "facts" },
    h("dt", {}, "Status"), h("dd", {}, statusBadge(run.status)),
    h("dt", {}, "Progress"), h("dd", {}, progressBar(finished, total, "Run progress"), ` step ${finished} of ${total}`),
    h("dt", {}, "Current step"), h("dd", {}, progress.current_step_name || (current && current.job_name) || "–"),
    h("dt", {}, "Created"), h("dd", {}, formatTime(run.created)),
    h("dt", {}, "Started"), h("dd", {}, formatTime(progress.run_started_at)),
    h("dt", {}, "Ended"), h("dd", {}, formatTime(progress.run_finished_at || progress.run_stopped_at)),
    h("dt", {}, "Duration"), h("dd", {}, duration(runDuration(run))),
    h("dt", {}, "Workspace size"), h("dd", {}, (run.size || {}).human_readable || "–"));
}

function jobDuration(job) {
  if (!job.started_at) return "";
  const start = new Date(`${job.started_at.replace(" ", "T")}Z`);
  const end = job.finished_at ? new Date(`${job.finished_at.replace(" ", "T")}Z`) : new Date();
  return duration((end - start) / 1000);
}

export async function render(main, id) {
  let run;
  try {
    run = await readRun(id);
  } catch (error) {
    if (error instanceof ApiError && [400, 403, 404].includes(error.status)) return notFoundPage(main, id);
    throw error;
  }
  if (!run) return notFoundPage(main, id);
  if (run.status === "deleted") return notFoundPage(main, id, `The run ${run.name} was deleted.`);
  const spec = await get(workflowPath(run.id, "/specification"));
  setTitle(run.name);
  const [name, number] = splitName(run.name);
  const logs = { engine: "" };
  let jobs = [];
  let graph = { nodes: [], edges: [] };
  let selected = null; // a job id, or "engine"
  let userChoseLog = false;
  let source = null;

  const head = h("div", { class: "page-head" });
  const overviewBox = h("section", { "aria-labelledby": "overview-title" });
  const graphBox = h("div", { class: "graph-box" });
  const logList = h("div", { class: "log-list", role: "listbox", "aria-label": "Logs to show" });
  const logTitle = h("h3", { id: "log-title" });
  const logText = h("pre", { class: "log", tabindex: "0", "aria-labelledby": "log-title", "aria-live": "off" });
  const liveNote = h("span", { class: "muted live-note" });

  function drawHead() {
    clear(head,
      h("h1", {}, name, h("span", { class: "number" }, ` #${number}`), " ", statusBadge(run.status)),
      h("div", { class: "actions" },
        ALIVE.includes(run.status) && h("button", { type: "button", class: "danger", onclick: () => stopDialog(run) }, "Stop"),
        ENDED.includes(run.status) && h("button", { type: "button", onclick: () => restartDialog(run, spec) }, "Restart"),
        !ALIVE.includes(run.status) && h("button", { type: "button", class: "danger", onclick: () => deleteDialog(run) }, "Delete")));
  }

  function chooseDefault() {
    if (userChoseLog && selected) return;
    const failed = jobs.find((job) => job.status === "failed");
    const running = jobs.find((job) => job.status === "running");
    const pick = failed || running || jobs[jobs.length - 1];
    selected = pick ? pick.id : "engine";
  }

  // Live updates redraw the graph and the log list: a keyboard user keeps the focus on the same
  // step (by its data attribute) instead of losing it to a node that was replaced.
  function keepingFocus(box, attribute, redraw) {
    const focused = box.contains(document.activeElement) ? document.activeElement.getAttribute(attribute) : null;
    redraw();
    if (focused === null) return;
    const again = [...box.querySelectorAll(`[${attribute}]`)].find((node) => node.getAttribute(attribute) === focused);
    if (again) again.focus();
  }

  function drawLogList() {
    const entries = [{ id: "engine", job_name: "Engine log", status: run.status }, ...jobs];
    keepingFocus(logList, "data-log", () => clear(logList, entries.map((job) => h("button", {
      type: "button", role: "option", "aria-selected": String(selected === job.id), class: "log-choice", "data-log": job.id,
      onclick: () => { selected = job.id; userChoseLog = true; drawLogList(); drawLog(true); },
    }, h("span", { class: `dot state-${job.status}`, "aria-hidden": "true" }), job.job_name || job.id.slice(0, 8),
    job.id !== "engine" && h("span", { class: "muted" }, ` ${job.status} ${jobDuration(job)}`)))));
  }

  function drawLog(jump) {
    const job = jobs.find((item) => item.id === selected);
    logTitle.textContent = job ? `Log of step ${job.job_name} (${job.status}${job.compute_backend ? `, ${job.compute_backend}` : ""})` : "Engine log";
    const atBottom = logText.scrollHeight - logText.scrollTop - logText.clientHeight < 40;
    logText.textContent = logs[selected] || (job ? "(no output yet)" : "(the engine has not logged anything yet)");
    if (jump || atBottom) logText.scrollTop = logText.scrollHeight;
  }

  function drawGraphBox() {
    const node = graph.nodes.find((item) => item.jobs.includes(selected));
    keepingFocus(graphBox, "data-step", () => clear(graphBox, drawGraph(graph, (picked) => {
      if (picked.jobs.length) {
        selected = picked.jobs[picked.jobs.length - 1];
        userChoseLog = true;
        drawLogList();
        drawLog(true);
        drawGraphBox();
        document.getElementById("logs-title").scrollIntoView({ block: "start" });
      }
    }, node && node.name)));
  }

  function drawOverview() {
    clear(overviewBox, h("h2", { id: "overview-title" }, "Overview"), overview(run, jobs));
  }

  function applyState(state) {
    run = { ...run, status: state.status, progress: state.progress || run.progress };
    jobs = state.jobs || [];
    graph = state.graph || graph;
    chooseDefault();
    drawHead();
    drawOverview();
    drawGraphBox();
    drawLogList();
    drawLog(false);
  }

  function connect() {
    source = new EventSource(workflowPath(run.id, "/events"));
    liveNote.textContent = "live";
    source.addEventListener("state", (event) => applyState(JSON.parse(event.data)));
    source.addEventListener("log", (event) => {
      const change = JSON.parse(event.data);
      logs[change.job] = change.text !== undefined ? change.text : (logs[change.job] || "") + change.append;
      if (change.job === selected) drawLog(false);
    });
    source.addEventListener("end", () => {
      source.close();
      liveNote.textContent = "";
      readRun(run.id).then((fresh) => { if (fresh) { run = fresh; drawHead(); drawOverview(); } }).catch(() => {});
    });
    source.onerror = () => {
      liveNote.textContent = "reconnecting…";
      // EventSource reconnects by itself; a run that vanished shows as not found
      readRun(run.id).then((fresh) => {
        if (!fresh) { source.close(); notFoundPage(main, id, "This run no longer exists."); }
      }).catch((error) => { if (error.status === 401 || error.status === 403) source.close(); });
    };
  }

  const paramRows = Object.entries(spec.parameters || {});
  const tabs = [
    ["logs", "Logs"], ["workspace", "Workspace"], ["specification", "Specification"],
    ["provenance", "Provenance"],
  ];
  const panels = {
    logs: h("section", { id: "panel-logs", class: "panel", "aria-labelledby": "logs-title" },
      h("h2", { id: "logs-title" }, "Logs ", liveNote), h("div", { class: "logs" }, logList, h("div", { class: "log-view" }, logTitle, logText))),
    workspace: h("section", { id: "panel-workspace", class: "panel", "aria-label": "Workspace", hidden: true }),
    specification: h("section", { id: "panel-specification", class: "panel", "aria-labelledby": "spec-title", hidden: true },
      h("h2", { id: "spec-title" }, "Parameters"),
      paramRows.length ? h("table", { class: "kv" }, h("tbody", {}, paramRows.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, JSON.stringify(v))))))
        : h("p", { class: "muted" }, "No parameters were given to this run."),
      h("h2", {}, "Specification"),
      h("pre", { class: "json", tabindex: "0" }, JSON.stringify(spec.specification, null, 2))),
    provenance: h("section", { id: "panel-provenance", class: "panel", "aria-label": "Provenance", hidden: true }),
  };
  let workspaceLoaded = false;
  const tabButtons = tabs.map(([key, text]) => h("button", {
    type: "button", role: "tab", id: `tab-${key}`, "aria-controls": `panel-${key}`, "aria-selected": String(key === "logs"),
    onclick: () => showTab(key),
  }, text));
  function showTab(key) {
    tabButtons.forEach((button) => button.setAttribute("aria-selected", String(button.id === `tab-${key}`)));
    Object.entries(panels).forEach(([name, panel]) => { panel.hidden = name !== key; });
    if (key === "workspace" && !workspaceLoaded) {
      workspaceLoaded = true;
      renderWorkspace(panels.workspace, run).catch((error) => panels.workspace.append(errorBox(error)));
    }
    if (key === "provenance") { // read again each time: jobs end while the page is open
      renderProvenance(panels.provenance, run).catch((error) => panels.provenance.replaceChildren(errorBox(error)));
    }
  }

  drawHead();
  drawOverview();
  append(main, head,
    h("div", { class: "columns" }, overviewBox,
      h("section", { "aria-labelledby": "graph-title" }, h("h2", { id: "graph-title" }, "Steps"), graphBox)),
    h("div", { class: "tabs", role: "tablist", "aria-label": "Run details" }, tabButtons),
    Object.values(panels));
  try {
    const first = await get(workflowPath(run.id, "/graph"));
    graph = first;
  } catch {
    // drawn from the live stream
  }
  chooseDefault();
  drawGraphBox();
  drawLogList();
  drawLog(false);
  connect();
  return () => { if (source) source.close(); document.querySelectorAll("dialog").forEach((box) => box.remove()); };
}
