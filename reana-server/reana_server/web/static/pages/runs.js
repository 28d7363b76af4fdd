// /: the user's runs, filtered, searched, sorted and paginated; it refreshes itself.

import { get } from "../api.js";
import { setTitle, state } from "../app.js";
import { append, clear, errorBox, h, progressBar, statusBadge } from "../dom.js";
import { ago, duration, formatTime, runDuration, runEnd, splitName, steps } from "../format.js";

const STATUSES = ["created", "queued", "pending", "running", "finished", "failed", "stopped"];
const SORTS = [["desc", "Newest first"], ["asc", "Oldest first"], ["disk-desc", "Most disk"], ["cpu-desc", "Most CPU"]];
const PAGE_SIZE = 20;

function readFilters() {
  const params = new URLSearchParams(location.search);
  return {
    status: params.get("status") || "",
    search: params.get("search") || "",
    sort: params.get("sort") || "desc",
    page: Math.max(1, Number(params.get("page")) || 1),
    deleted: params.get("deleted") === "1",
  };
}

function writeFilters(filters) {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.search) params.set("search", filters.search);
  if (filters.sort !== "desc") params.set("sort", filters.sort);
  if (filters.page > 1) params.set("page", filters.page);
  if (filters.deleted) params.set("deleted", "1");
  const text = params.toString();
  history.replaceState({}, "", text ? `/?${text}` : "/");
}

function apiParams(filters) {
  const statuses = filters.status ? [filters.status] : STATUSES.slice();
  if (filters.deleted && !filters.status) statuses.push("deleted");
  return {
    type: "batch",
    verbose: "true",
    include_progress: "true",
    include_workspace_size: "true",
    page: filters.page,
    size: PAGE_SIZE,
    sort: filters.sort,
    status: statuses.join(","),
    search: filters.search ? JSON.stringify({ name: [filters.search] }) : undefined,
  };
}

function row(run) {
  const [name, number] = splitName(run.name);
  const { total, finished } = steps(run);
  const started = (run.progress || {}).run_started_at;
  return h("tr", { class: `run-row${run.status === "deleted" ? " deleted" : ""}`, dataset: { runId: run.id } },
    h("td", { class: "name" }, h("a", { href: `/details/${run.id}` }, name, h("span", { class: "number" }, ` #${number}`))),
    h("td", {}, statusBadge(run.status)),
    h("td", { title: formatTime(run.created) }, h("span", { class: "label" }, "Created "), ago(run.created)),
    h("td", { class: "hide-narrow" }, started ? formatTime(started) : "–"),
    h("td", { class: "hide-narrow" }, runEnd(run) ? formatTime(runEnd(run)) : "–"),
    h("td", {}, h("span", { class: "label" }, "Duration "), duration(runDuration(run))),
    h("td", {}, progressBar(finished, total, `Progress of ${run.name}`), ` ${finished}/${total}`),
    h("td", { class: "hide-narrow" }, (run.size || {}).human_readable || "–"));
}

export function render(main) {
  setTitle("Your runs");
  const filters = readFilters();
  const results = h("div", { class: "results", "aria-live": "polite" });
  const refreshed = h("span", { class: "muted refreshed" });
  const search = h("input", { type: "search", id: "run-search", value: filters.search, placeholder: "Search by name" });
  const status = h("select", { id: "run-status" },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map((value) => h("option", { value, selected: value === filters.status }, value)));
  const sort = h("select", { id: "run-sort" }, SORTS.map(([value, text]) => h("option", { value, selected: value === filters.sort }, text)));
  const deleted = h("input", { type: "checkbox", id: "run-deleted", checked: filters.deleted });
  let timer = null;
  let debounce = null;
  let loading = 0;

  async function load() {
    const current = ++loading;
    writeFilters(filters);
    try {
      const body = await get("/api/workflows", apiParams(filters));
      if (current !== loading) return;
      draw(body);
      refreshed.textContent = `Refreshed at ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (current === loading) clear(results, errorBox(error));
    }
  }

  function draw(body) {
    const pages = Math.max(1, Math.ceil((body.total || 0) / PAGE_SIZE));
    if (!body.items.length) {
      clear(results, h("div", { class: "empty" },
        body.user_has_workflows ? "No run matches these filters." : "You have no runs yet.",
        !body.user_has_workflows && h("p", {}, "Create one with ", h("code", {}, "reana-client run"), " or a ", h("a", { href: "/launch" }, "launch link"), ".")));
      return;
    }
    clear(results,
      h("table", { class: "runs" },
        h("caption", { class: "sr-only" }, "Your runs"),
        h("thead", {}, h("tr", {}, ["Run", "Status", "Created", "Started", "Ended", "Duration", "Progress", "Size"].map(
          (text, i) => h("th", { scope: "col", class: [3, 4, 7].includes(i) ? "hide-narrow" : undefined }, text)))),
        h("tbody", {}, body.items.map(row))),
      h("nav", { class: "pager", "aria-label": "Pages" },
        h("button", { type: "button", disabled: filters.page <= 1, onclick: () => { filters.page -= 1; load(); } }, "Previous page"),
        h("span", {}, `Page ${filters.page} of ${pages} · ${body.total} runs`),
        h("button", { type: "button", disabled: filters.page >= pages, onclick: () => { filters.page += 1; load(); } }, "Next page")));
  }

  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { filters.search = search.value.trim(); filters.page = 1; load(); }, 300);
  });
  status.addEventListener("change", () => { filters.status = status.value; filters.page = 1; load(); });
  sort.addEventListener("change", () => { filters.sort = sort.value; filters.page = 1; load(); });
  deleted.addEventListener("change", () => { filters.deleted = deleted.checked; filters.page = 1; load(); });

  append(main, 
    h("div", { class: "page-head" }, h("h1", {}, "Your runs"), refreshed),
    h("div", { class: "filters", role: "search" },
      h("label", { for: "run-search", class: "sr-only" }, "Search runs by name"), search,
      h("label", { for: "run-status" }, "Status"), status,
      h("label", { for: "run-sort" }, "Sort"), sort,
      h("label", { class: "check" }, deleted, " Show deleted runs")),
    results);
  load();
  const seconds = Math.min(Math.max(Number(state.config.polling_secs) || 15, 2), 15);
  timer = setInterval(() => { if (!document.hidden) load(); }, seconds * 1000);
  return () => { clearInterval(timer); clearTimeout(debounce); };
}
