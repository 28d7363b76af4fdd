// /status: how busy the cluster is.

import { get } from "../api.js";
import { setTitle } from "../app.js";
import { append, h } from "../dom.js";

const TITLES = { node: "Nodes", job: "Jobs", workflow: "Workflow slots", session: "Interactive sessions" };

export async function render(main) {
  setTitle("Cluster health");
  const status = await get("/api/status");
  const cards = Object.entries(status).sort((a, b) => (a[1].sort || 0) - (b[1].sort || 0)).map(([key, entry]) => {
    const facts = Object.entries(entry).filter(([name]) => !["sort", "health", "percentage"].includes(name));
    return h("div", { class: `card health-card health-${entry.health || "healthy"}` },
      h("h2", {}, TITLES[key] || key),
      entry.percentage !== undefined && h("p", { class: "big" }, `${entry.percentage}% busy`),
      entry.health && h("p", {}, `Health: ${entry.health}`),
      h("dl", { class: "facts" }, facts.map(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))])));
  });
  append(main, h("h1", {}, "Cluster health"), h("div", { class: "cards" }, cards));
}
