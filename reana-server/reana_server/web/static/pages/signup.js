// /signup: a local account (an administrator then grants its access token).

import { post, setCsrfToken } from "../api.js";
import { loadYou, navigate, setTitle, state } from "../app.js";
import { append, h } from "../dom.js";

function field(label, id, attrs) {
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name: id, ...attrs }));
}

export function render(main) {
  setTitle("Sign up");
  if (!state.config.local_users || state.config.hide_signup) {
    append(main, h("h1", {}, "Sign up"), h("p", {}, "Sign-up is disabled on this server: ask its administrators for an account."));
    return;
  }
  const form = h("form", { class: "card narrow", "aria-labelledby": "signup-title" },
    h("h1", { id: "signup-title" }, "Create an account"),
    field("Full name", "full-name", { autocomplete: "name" }),
    field("Email", "email", { type: "email", required: true, autocomplete: "username" }),
    field("Password", "password", { type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
    h("div", { class: "error", role: "alert", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Sign up"),
    h("p", {}, "Already registered? ", h("a", { href: "/signin" }, "Sign in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector(".error");
    error.hidden = true;
    const body = { email: form.elements.email.value, password: form.elements.password.value };
    if (form.elements["full-name"].value.trim()) body.full_name = form.elements["full-name"].value.trim();
    try {
      const answer = await post("/api/register", body, { quiet: true });
      setCsrfToken(answer.csrf_token);
      await loadYou();
      navigate("/profile", { replace: true });
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  append(main, form);
}
