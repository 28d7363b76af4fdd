// /signin: with an access token, or with email and password (local accounts).

import { post, setCsrfToken } from "../api.js";
import { loadYou, navigate, notice, setTitle, state } from "../app.js";
import { append, h } from "../dom.js";

function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

async function signIn(body, form) {
  const button = form.querySelector("button[type=submit]");
  const error = form.querySelector(".error");
  button.disabled = true;
  error.hidden = true;
  try {
    const answer = await post("/api/login", body, { quiet: true });
    setCsrfToken(answer.csrf_token);
    notice("");
    await loadYou();
    navigate(nextPath(), { replace: true });
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    button.disabled = false;
  }
}

function field(label, id, attrs) {
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name: id, required: true, ...attrs }));
}

export function render(main) {
  setTitle("Sign in");
  const tokenForm = h("form", { class: "card narrow", "aria-labelledby": "token-title" },
    h("h2", { id: "token-title" }, "With a token"),
    field("Access token", "access-token", { type: "password", autocomplete: "off" }),
    h("div", { class: "error", role: "alert", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn({ access_token: tokenForm.elements["access-token"].value.trim() }, tokenForm);
  });
  append(main, h("h1", {}, "Sign in to REANA"), tokenForm);
  if (state.config.local_users) {
    const accountForm = h("form", { class: "card narrow", "aria-labelledby": "account-title" },
      h("h2", { id: "account-title" }, "With email and password"),
      field("Email", "email", { type: "email", autocomplete: "username" }),
      field("Password", "password", { type: "password", autocomplete: "current-password" }),
      h("div", { class: "error", role: "alert", hidden: true }),
      h("button", { type: "submit", class: "primary" }, "Sign in with email"),
      !state.config.hide_signup && h("p", {}, "No account yet? ", h("a", { href: "/signup" }, "Sign up")));
    accountForm.addEventListener("submit", (event) => {
      event.preventDefault();
      signIn({ email: accountForm.elements.email.value, password: accountForm.elements.password.value }, accountForm);
    });
    append(main, accountForm);
  }
}
