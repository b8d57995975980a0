// The authenticated API: the session cookie (same-origin, with the CSRF header on changes), or in development
// a bearer token kept in sessionStorage. Never a token in a URL.

const TOKEN_KEY = "camgate.token";
let csrf = null;

export function devToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setDevToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders() {
  const token = devToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }

  // What the person should do next, in words.
  advice() {
    if (this.status === 401) return "Your sign-in has ended: sign in again.";
    if (this.status === 403) return "You are not allowed to do this; ask a supervisor or your agency's administrator.";
    if (this.status === 404) return "It no longer exists: reload the page.";
    if (this.status === 409) return "It changed meanwhile: reload the page and try again.";
    if (this.status === 422) return `Correct ${this.body.field || "the form"} and try again.`;
    if (this.status >= 500) return "The broker cannot record this right now: try again in a moment, then call IT.";
    return "Try again.";
  }
}

// ``yaml``: a text body sent as application/yaml (an MOU draft, POST /api/v1/mous), not JSON.
export async function api(path, { method = "GET", body, raw = false, yaml } = {}) {
  const headers = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (yaml !== undefined) headers["Content-Type"] = "application/yaml";
  if (method !== "GET" && csrf && !devToken()) headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    // priority (Fetch standard, RequestInit.priority): over HTTP/1.1 a browser opens six connections per host,
    // and a wall of players keeps them busy; the console's own calls (an emergency's cameras) go first.
    res = await fetch(path, {
      method, headers, credentials: "same-origin", cache: "no-store", priority: "high",
      body: yaml !== undefined ? yaml : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "The broker cannot be reached: check the network, then reload the page." });
  }
  if (raw && res.ok) return res;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

// Who is signed in: the server's session, else (development) the bearer token's claims, for display only:
// the broker decides every request itself.
export async function whoAmI() {
  if (devToken()) {
    const c = claims(devToken());
    if (c) return { sub: c.sub, agency: c.agency, roles: c.roles || [] };
  }
  try {
    const session = await api("/api/v1/session");
    csrf = session.csrf_token; // GET /api/v1/session: echoed as X-CSRF-Token on every write
    return session.principal;
  } catch {
    return null;
  }
}
