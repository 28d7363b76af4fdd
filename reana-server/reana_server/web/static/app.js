// The UI's entry point: who is signed in, the top bar, and which page a path shows.

import { get, onAuthError, post, setCsrfToken } from "./api.js";
import { clear, h } from "./dom.js";

const main = document.getElementById("main");
const topbar = document.getElementById("topbar");
const banner = document.getElementById("banner");

export const state = { config: {}, you: null };
let cleanup = null;
let navigationId = 0;

const ROUTES = [
  [/^\/$/, () => import("./pages/runs.js"), true],
  [/^\/signin$/, () => import("./pages/signin.js"), false],
  [/^\/signup$/, () => import("./pages/signup.js"), false],
  [/^\/details\/([^/]+)$/, () => import("./pages/run.js"), true],
  [/^\/profile$/, () => import("./pages/profile.js"), true],
  [/^\/status$/, () => import("./pages/status.js"), true],
  [/^\/launch$/, () => import("./pages/launch.js"), true],
];

export function notice(text, kind = "info") {
  banner.hidden = !text;
  banner.className = `banner banner-${kind}`;
  banner.textContent = text || "";
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  render();
}

export function setTitle(title) {
  document.title = title ? `${title} – REANA` : "REANA";
}

function drawTopbar() {
  const signedIn = Boolean(state.you);
  clear(topbar,
    h("a", { href: "/", class: "brand" }, h("img", { src: "/ui/static/logo.svg", alt: "", width: 24, height: 24 }), "REANA"),
    h("nav", { "aria-label": "Main" },
      signedIn && h("a", { href: "/" }, "Runs"),
      signedIn && h("a", { href: "/status" }, "Cluster"),
      signedIn && h("a", { href: "/profile" }, "Profile"),
      signedIn && h("span", { class: "who" }, state.you.email),
      signedIn && h("button", { type: "button", class: "link", onclick: signOut }, "Sign out")));
}

export async function signOut(message) {
  try {
    await post("/api/logout", {}, { quiet: true });
  } catch {
    // already signed out: nothing to end
  }
  state.you = null;
  setCsrfToken("");
  drawTopbar();
  navigate("/signin", { replace: true });
  if (typeof message === "string") notice(message, "error");
}

export async function loadYou() {
  try {
    state.you = await get("/api/you", undefined, { quiet: true });
  } catch (error) {
    state.you = null;
    if (error.status !== 401) {
      notice(error.message, "error");
      if (/revoked/i.test(error.message)) {
        await signOut("Your access token was revoked: you have been signed out. Ask an administrator for a new token.");
      }
    }
  }
  drawTopbar();
  return state.you;
}

onAuthError((error) => {
  if (/revoked/i.test(error.message)) {
    signOut("Your access token was revoked: you have been signed out. Ask an administrator for a new token.");
  } else if (error.status === 401) {
    signOut("Your session has ended. Please sign in again.");
  }
});

function notFound() {
  setTitle("Not found");
  clear(main, h("section", { class: "notfound" },
    h("h1", {}, "Page not found"),
    h("p", {}, "There is nothing at this address."),
    h("p", {}, h("a", { href: "/" }, "Back to your runs"))));
}

async function render() {
  const current = ++navigationId;
  if (cleanup) cleanup();
  cleanup = null;
  const path = location.pathname;
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) return notFound();
  const [pattern, load, needsUser] = route;
  if (needsUser && !state.you) {
    const next = encodeURIComponent(path + location.search);
    navigate(`/signin?next=${next}`, { replace: true });
    return undefined;
  }
  if (!needsUser && state.you && path !== "/signup") {
    navigate("/", { replace: true });
    return undefined;
  }
  const page = await load();
  if (current !== navigationId) return undefined;
  // Each page draws into its own view: a slower, older page never draws over a newer one.
  const view = h("div", { class: "view" });
  clear(main, view);
  const match = path.match(pattern).slice(1).map(decodeURIComponent);
  try {
    const stop = (await page.render(view, ...match)) || null;
    if (current === navigationId) cleanup = stop;
    else if (stop) stop();
  } catch (error) {
    if (current === navigationId) clear(view, h("div", { class: "error", role: "alert" }, error.message || String(error)));
  }
  return undefined;
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download") || event.defaultPrevented) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/ui/")) return;
  event.preventDefault();
  notice("");
  navigate(url.pathname + url.search);
  main.focus({ preventScroll: true });
});

window.addEventListener("popstate", render);

async function start() {
  const config = get("/api/config").catch((error) => {
    notice(`The server's configuration could not be read: ${error.message}`, "error");
    return {};
  });
  const you = loadYou();
  state.config = await config;
  await you;
  await render();
}

start();
