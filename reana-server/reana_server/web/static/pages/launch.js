// /launch?url=…&name=…&parameters=…&specification=…: REANA's "Launch on REANA" badge target.

import { post } from "../api.js";
import { navigate, notice, setTitle } from "../app.js";
import { append, h } from "../dom.js";

export function render(main) {
  setTitle("Launch");
  const params = new URLSearchParams(location.search);
  const url = params.get("url") || "";
  const error = h("div", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "card narrow" },
    h("div", { class: "field" }, h("label", { for: "launch-url" }, "Repository or file URL"), h("input", { id: "launch-url", type: "url", required: true, value: url })),
    h("div", { class: "field" }, h("label", { for: "launch-name" }, "Run name"), h("input", { id: "launch-name", value: params.get("name") || "" })),
    h("div", { class: "field" }, h("label", { for: "launch-spec" }, "Specification file"), h("input", { id: "launch-spec", value: params.get("specification") || "", placeholder: "reana.yaml" })),
    h("div", { class: "field" }, h("label", { for: "launch-parameters" }, "Parameters (JSON)"), h("input", { id: "launch-parameters", value: params.get("parameters") || "" })),
    error,
    h("button", { type: "submit", class: "primary" }, "Launch"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = { url: form.elements["launch-url"].value.trim() };
    for (const [key, id] of [["name", "launch-name"], ["specification", "launch-spec"], ["parameters", "launch-parameters"]]) {
      const value = form.elements[id].value.trim();
      if (value) body[key] = value;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Launching…";
    try {
      const answer = await post("/api/launch", body);
      notice(answer.message);
      navigate(`/details/${answer.workflow_id}`);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      button.disabled = false;
      button.textContent = "Launch";
    }
  });
  append(main, h("h1", {}, "Launch on REANA"),
    h("p", {}, "Fetch an analysis from a URL, create a run of it and start it."), form);
}
