// A run's workspace: files with sizes, search, pages, download, preview; retention rules.

import { filePath, get, request, workflowPath } from "../api.js";
import { state } from "../app.js";
import { clear, errorBox, h } from "../dom.js";
import { formatTime } from "../format.js";

const PAGE_SIZE = 50;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const PDF = /\.pdf$/i;
const JSON_FILE = /\.(json|ipynb)$/i;
const CSV = /\.(csv|tsv)$/i;
const TEXT = /(\.(txt|log|out|err|py|sh|c|cc|cxx|cpp|h|hpp|yaml|yml|md|cwl|tex|cfg|ini|toml|xml|html?|r|jl|smk|C)|(^|\/)(Snakefile|Makefile|Dockerfile|README)[^/]*)$/;

function previewKind(name) {
  if (IMAGE.test(name)) return "image";
  if (PDF.test(name)) return "pdf";
  if (JSON_FILE.test(name)) return "json";
  if (CSV.test(name)) return "csv";
  if (TEXT.test(name) || !/\.[^/]+$/.test(name)) return "text";
  return null;
}

function csvTable(text, name) {
  const separator = name.toLowerCase().endsWith(".tsv") ? "\t" : ",";
  const lines = text.split(/\r?\n/).filter((line) => line.length).slice(0, 201);
  const cells = (line) => line.split(separator).map((cell) => cell.replace(/^"(.*)"$/, "$1"));
  const [header, ...rows] = lines.map(cells);
  return h("div", { class: "table-scroll", tabindex: "0" },
    h("table", { class: "csv" },
      h("caption", { class: "sr-only" }, name),
      h("thead", {}, h("tr", {}, (header || []).map((cell) => h("th", { scope: "col" }, cell)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell)))))),
    lines.length > 200 && h("p", { class: "muted" }, "Only the first 200 rows are shown."));
}

async function preview(box, run, file) {
  const url = filePath(run.id, file.name);
  const kind = previewKind(file.name);
  const limit = Number(state.config.file_preview_size_limit) || 5 * 1024 * 1024;
  const title = h("h3", { id: "preview-title" }, file.name);
  const download = h("a", { href: url, download: file.name.split("/").pop() }, "Download");
  clear(box, h("div", { class: "preview-head" }, title, download));
  if (!kind) {
    box.append(h("p", {}, "This type of file cannot be previewed: download it."));
    return;
  }
  if (file.size && file.size.raw > limit) {
    box.append(h("p", {}, "This file is too large to preview: download it."));
    return;
  }
  if (kind === "image") {
    box.append(h("img", { src: `${url}?preview=true`, alt: `Preview of ${file.name}`, class: "preview-image" }));
    return;
  }
  if (kind === "pdf") {
    box.append(h("object", { data: `${url}?preview=true`, type: "application/pdf", class: "preview-pdf", "aria-label": `Preview of ${file.name}` },
      h("p", {}, "Your browser cannot show PDF files here: ", h("a", { href: url, download: "" }, "download it"), ".")));
    return;
  }
  const response = await request("GET", url, { raw: true });
  const text = await response.text();
  if (kind === "json") {
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ }
    box.append(h("pre", { class: "preview-text json", tabindex: "0", "aria-labelledby": "preview-title" }, shown));
  } else if (kind === "csv") {
    box.append(csvTable(text, file.name));
  } else {
    box.append(h("pre", { class: "preview-text", tabindex: "0", "aria-labelledby": "preview-title" }, text));
  }
}

async function retention(box, run) {
  let rules = [];
  try {
    rules = (await get(workflowPath(run.id, "/retention_rules"))).retention_rules || [];
  } catch (error) {
    box.append(errorBox(error));
    return;
  }
  if (!rules.length) return;
  box.append(h("h3", {}, "Retention rules"),
    h("table", { class: "kv" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Files"), h("th", { scope: "col" }, "Kept for"), h("th", { scope: "col" }, "Deletion"), h("th", { scope: "col" }, "State"))),
      h("tbody", {}, rules.map((rule) => h("tr", {},
        h("td", {}, rule.workspace_files), h("td", {}, `${rule.retention_days} days`),
        h("td", {}, rule.apply_on ? formatTime(rule.apply_on) : "after the run ends"), h("td", {}, rule.status))))));
}

export async function renderWorkspace(panel, run) {
  let page = 1;
  let term = "";
  const list = h("div", { "aria-live": "polite" });
  const box = h("div", { class: "preview", "aria-label": "File preview" });
  const search = h("input", { type: "search", id: "file-search", placeholder: "Search files" });
  let debounce = null;

  async function load() {
    let body;
    try {
      body = await get(workflowPath(run.id, "/workspace"), { page, size: PAGE_SIZE, search: term ? JSON.stringify({ name: [term] }) : undefined });
    } catch (error) {
      clear(list, errorBox(error.status === 404 ? new Error("The workspace of this run was deleted.") : error));
      return;
    }
    const pages = Math.max(1, Math.ceil((body.total || 0) / PAGE_SIZE));
    if (!body.items.length) {
      clear(list, h("p", { class: "muted" }, term ? "No file matches." : "The workspace is empty."));
      return;
    }
    clear(list,
      h("table", { class: "files" },
        h("caption", { class: "sr-only" }, "Workspace files"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Size"), h("th", { scope: "col", class: "hide-narrow" }, "Modified"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Download")))),
        h("tbody", {}, body.items.map((file) => h("tr", {},
          h("td", {}, h("button", { type: "button", class: "link", onclick: () => preview(box, run, file).catch((error) => box.append(errorBox(error))) }, file.name)),
          h("td", {}, (file.size || {}).human_readable || ""),
          h("td", { class: "hide-narrow" }, formatTime(file["last-modified"])),
          h("td", {}, h("a", { href: filePath(run.id, file.name), download: file.name.split("/").pop(), "aria-label": `Download ${file.name}` }, "Download")))))),
      pages > 1 && h("nav", { class: "pager", "aria-label": "File pages" },
        h("button", { type: "button", disabled: page <= 1, onclick: () => { page -= 1; load(); } }, "Previous page"),
        h("span", {}, `Page ${page} of ${pages}`),
        h("button", { type: "button", disabled: page >= pages, onclick: () => { page += 1; load(); } }, "Next page")));
  }

  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { term = search.value.trim(); page = 1; load(); }, 300);
  });
  const rules = h("div");
  panel.append(h("h2", {}, "Workspace"),
    h("label", { for: "file-search", class: "sr-only" }, "Search files by name"), search,
    h("div", { class: "workspace" }, list, box), rules);
  await load();
  await retention(rules, run);
}
