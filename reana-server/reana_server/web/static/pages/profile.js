// /profile: the user's access token (shown on request, copyable) and quota usage.

import { put } from "../api.js";
import { loadYou, setTitle, state } from "../app.js";
import { append, clear, h, svg } from "../dom.js";

function donut(used, limit, label) {
  const share = limit > 0 ? Math.min(used / limit, 1) : 0;
  const radius = 40;
  const circumference = 2 * Math.PI * radius;
  return svg("svg", { viewBox: "0 0 100 100", width: 110, height: 110, role: "img", "aria-label": label, class: "donut" },
    svg("circle", { cx: 50, cy: 50, r: radius, class: "donut-track" }),
    svg("circle", { cx: 50, cy: 50, r: radius, class: `donut-value health-${share >= 1 ? "critical" : share >= 0.8 ? "warning" : "healthy"}`,
      "stroke-dasharray": `${share * circumference} ${circumference}`, transform: "rotate(-90 50 50)" }),
    svg("text", { x: 50, y: 55, "text-anchor": "middle" }, limit > 0 ? `${Math.round(share * 100)}%` : "∞"));
}

function quotaCard(title, entry) {
  const usage = (entry || {}).usage || {};
  const limit = (entry || {}).limit || {};
  const text = limit.raw > 0 ? `${usage.human_readable} of ${limit.human_readable}` : `${usage.human_readable || "0"} used, no limit`;
  return h("div", { class: "card quota" }, h("h3", {}, title), donut(usage.raw || 0, limit.raw || 0, `${title}: ${text}`), h("p", {}, text));
}

export function render(main) {
  setTitle("Profile");
  const you = state.you;
  const token = you.reana_token || {};
  const tokenBox = h("div", { class: "token" });

  function drawToken() {
    if (token.status !== "active") {
      clear(tokenBox,
        h("p", {}, token.status === "requested" ? "You asked for an access token; an administrator has to grant it."
          : token.status === "revoked" ? "Your access token was revoked." : "You have no access token yet."),
        token.status !== "requested" && h("button", { type: "button", class: "primary", onclick: async () => {
          await put("/api/token", {});
          await loadYou();
          Object.assign(token, state.you.reana_token);
          drawToken();
        } }, "Request a token"));
      return;
    }
    const value = h("code", { id: "token-value" }, "••••••••••••••••");
    const show = h("button", { type: "button", "aria-controls": "token-value", "aria-expanded": "false" }, "Show token");
    show.addEventListener("click", () => {
      const shown = show.getAttribute("aria-expanded") === "true";
      value.textContent = shown ? "••••••••••••••••" : token.value;
      show.textContent = shown ? "Show token" : "Hide token";
      show.setAttribute("aria-expanded", String(!shown));
    });
    const copied = h("span", { role: "status", class: "muted" });
    const copy = h("button", { type: "button" }, "Copy token");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(token.value);
        copied.textContent = "Copied.";
      } catch {
        copied.textContent = "The browser refused to copy: show the token and copy it by hand.";
      }
    });
    clear(tokenBox, h("p", {}, value, " ", show, " ", copy, " ", copied),
      h("p", { class: "muted" }, "Use it with reana-client: ", h("code", {}, "export REANA_ACCESS_TOKEN=…")));
  }
  drawToken();
  append(main, h("h1", {}, "Your profile"),
    h("dl", { class: "facts" }, h("dt", {}, "Email"), h("dd", {}, you.email), h("dt", {}, "Name"), h("dd", {}, you.full_name || "–")),
    h("section", { "aria-labelledby": "token-title" }, h("h2", { id: "token-title" }, "Access token"), tokenBox),
    h("section", { "aria-labelledby": "quota-title" }, h("h2", { id: "quota-title" }, "Quota"),
      h("div", { class: "cards" }, quotaCard("CPU", (you.quota || {}).cpu), quotaCard("Disk", (you.quota || {}).disk))));
}
