// A run's provenance (issue 19): per job what ran where, and the SHA-256 of what it read and
// wrote; the RO-Crate download. Read from GET /api/workflows/<id>/provenance when shown.

import { get, workflowPath } from "../api.js";
import { clear, h } from "../dom.js";

function shortDigest(digest) {
  return digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "–";
}

function files(items, label, during) {
  if (items === null || items === undefined) return h("span", { class: "muted" }, "unknown");
  if (!items.length && !(during || []).length) return h("span", { class: "muted" }, "none");
  const row = (item, note) => h("li", {},
    h("code", {}, item.path), " ",
    h("span", { class: "muted", title: item.sha256 }, `sha256 ${item.sha256.slice(0, 12)}`),
    note && h("span", { class: "muted", title: `also running: ${(item.jobs || []).join(", ")}` }, note));
  return h("ul", { class: "files", "aria-label": label },
    items.map((item) => row(item)),
    (during || []).map((item) => row(item, " (written while other jobs ran)")));
}

function jobRows(job) {
  const status = job.status + (job.cached ? " (cached)" : "");
  return h("tr", {},
    h("th", { scope: "row" }, job.job_name || job.job_id.slice(0, 8)),
    h("td", {}, status),
    h("td", {}, [job.compute_backend, job.node].filter(Boolean).join(" on ") || "–"),
    h("td", {}, job.runtime || "–"),
    h("td", {}, h("code", {}, job.image || "–"), " ",
      h("span", { class: "muted", title: job.image_digest || "" }, shortDigest(job.image_digest))),
    h("td", {}, job.exit_code === null || job.exit_code === undefined ? "–" : String(job.exit_code)),
    h("td", {}, files(job.inputs, `Inputs of ${job.job_name}`)),
    h("td", {}, files(job.outputs, `Outputs of ${job.job_name}`, job.outputs_during)));
}

export async function renderProvenance(box, run) {
  const document_ = await get(workflowPath(run.id, "/provenance"));
  const jobs = document_.jobs || [];
  clear(box,
    h("h2", { id: "provenance-title" }, "Provenance"),
    h("p", {},
      "What every job ran, where, and the SHA-256 of the declared inputs it read and the files it wrote. ",
      h("a", { href: workflowPath(run.id, "/ro-crate"), download: `${run.name}.crate.zip` },
        "Download the RO-Crate"), " (Workflow Run Crate / Provenance Run Crate 0.5)."),
    jobs.length
      ? h("table", { class: "provenance", "aria-labelledby": "provenance-title" },
        h("thead", {}, h("tr", {}, ["Step", "Status", "Backend and node", "Ran as", "Image", "Exit",
          "Inputs", "Outputs"].map((text) => h("th", { scope: "col" }, text)))),
        h("tbody", {}, jobs.map(jobRows)))
      : h("p", { class: "muted" }, "No job has run yet."));
}
