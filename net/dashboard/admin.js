// The operator's side of the dashboard: the credential (admin secret or an
// admin JWT, kept for this browser tab only) and the /admin/ routes it opens.
// The node decides: without a valid credential every route answers 401/403
// and the page shows the node's words.

const storageKey = 'tickgate.admin';

export const credential = {
  get() {
    return sessionStorage.getItem(storageKey) || null;
  },
  set(value) {
    sessionStorage.setItem(storageKey, value);
  },
  clear() {
    sessionStorage.removeItem(storageKey);
  },
};

// Resolves { ok: true, status, body } or { ok: false, status, code, message }
// (status 0 when the node could not be reached); never rejects.
export async function adminRequest(method, route, { query = {}, body } = {}) {
  const token = credential.get();
  const headers = {};
  if (token)
    headers.Authorization = `Bearer ${token}`;
  if (body !== undefined)
    headers['Content-Type'] = 'application/json';
  // Percent-encoded (a space is %20): the node does not read '+' as a space.
  const search = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  let res;
  try {
    res = await fetch(`/admin/${route}${search ? `?${search}` : ''}`, { method, headers, body });
  } catch (err) {
    return { ok: false, status: 0, code: 'unreachable', message: `node unreachable (${err.message})` };
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    // a body that is not JSON: the status line says enough
  }
  if (res.ok && json?.ok !== false)
    return { ok: true, status: res.status, body: json };
  return {
    ok: false,
    status: res.status,
    code: json?.code ?? null,
    message: json?.error ?? json?.message ?? (res.statusText || `HTTP ${res.status}`),
  };
}

// The connections with the most messages, at most `limit` of them (a node may
// hold tens of thousands; the page lists the busiest).
export const connectionListLimit = 200;
export const listConnections = async () => {
  const result = await adminRequest('GET', 'actors',
    { query: { kind: 'connection', sort: 'msgs', limit: connectionListLimit } });
  if (result.ok)
    result.body.connections = result.body.actors ?? [];
  return result;
};
export const kick = (id) => adminRequest('POST', 'kick', { query: { id } });
export const restartTopic = (topic) => adminRequest('POST', 'restart', { query: { topic } });
// `json` is the text of one JSON value, sent as typed (the node checks it).
export const broadcast = (json) => adminRequest('POST', 'broadcast', { body: json });
export const maintenance = (on, message) =>
  adminRequest('POST', 'maintenance', { query: on && message ? { state: 'on', message } : { state: on ? 'on' : 'off' } });

// One line for a person: what was refused, and why in the node's words.
export function describeRefusal(result) {
  if (result.status === 401 || result.status === 403)
    return `refused (${result.status}): ${result.message}`;
  return result.status ? `failed (${result.status}): ${result.message}` : `failed: ${result.message}`;
}
