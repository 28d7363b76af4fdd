// The public REST API, called with the browser's session cookie (and its CSRF token on writes).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";
const listeners = [];

export function setCsrfToken(token) {
  csrfToken = token || "";
}

export function onAuthError(listener) {
  listeners.push(listener);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function workflowPath(id, rest = "") {
  return `/api/workflows/${encodeURIComponent(id)}${rest}`;
}

export function filePath(id, name) {
  return workflowPath(id, `/workspace/${name.split("/").map(encodeURIComponent).join("/")}`);
}

async function messageOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.message === "string") return body.message;
    if (body && body.errors) return JSON.stringify(body.errors);
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 500) || `${response.status} ${response.statusText}`;
}

export async function request(method, path, { params, body, raw = false, quiet = false } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path + query(params), {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, `The server could not be reached (${error.message}).`);
  }
  if (!response.ok) {
    const error = new ApiError(response.status, await messageOf(response));
    if (!quiet && (response.status === 401 || /token (revoked|not valid)/i.test(error.message))) {
      listeners.forEach((listener) => listener(error));
    }
    throw error;
  }
  if (raw) return response;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, params, options = {}) => request("GET", path, { params, ...options });
export const post = (path, body, options = {}) => request("POST", path, { body, ...options });
export const put = (path, body, params) => request("PUT", path, { body, params });
