// The admin API client of the console. Calls go to /api/v1/admin/* with the
// session cookie (sent by the browser, HttpOnly) and the session's CSRF token
// in X-CSRF-Token. The admin token itself is sent once, to sign in, and is
// never kept: not in a variable, not in storage.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Called when a call answers 401: the session ended (idle, signed out elsewhere). */
export function setSignedOutHandler(fn) { onSignedOut = fn; }
export function setCsrf(token) { csrfToken = token || null; }

async function failure(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || 'request failed';
  try {
    const body = await response.json();
    if (body && body.error) {
      code = String(body.error.code || code);
      message = String(body.error.message || message);
    }
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, code, message);
}

async function send(method, url, body, expect = 'json') {
  const headers = {Accept: expect === 'ndjson' ? 'application/x-ndjson' : 'application/json'};
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const init = {method, headers, credentials: 'same-origin', cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The hub did not answer. Is it running?');
  }
  if (!response.ok) {
    const err = await failure(response);
    if (response.status === 401 && url.startsWith('/api/')) {
      csrfToken = null;
      onSignedOut('Your session has ended. Sign in again.');
    }
    throw err;
  }
  if (response.status === 204) return null;
  if (expect === 'ndjson') return response.text();
  return response.json();
}

const admin = (method, path, body, expect) => send(method, `/api/v1/admin${path}`, body, expect);
const enc = encodeURIComponent;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** NDJSON text → array of parsed lines. */
export function parseNdjson(text) {
  return text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));
}

export const api = {
  session: () => send('GET', '/console/session'),
  signIn: (token) => send('POST', '/console/session', {token}),
  signOut: () => send('DELETE', '/console/session'),

  tokens: {
    list: () => admin('GET', '/tokens'),
    create: (name, poolId) => admin('POST', '/tokens', poolId ? {name, pool_id: poolId} : {name}),
    revoke: (id) => admin('DELETE', `/tokens/${enc(id)}`),
  },
  pools: {
    /** → [{id, name, agents_online, queue_depth, created_at}]; pool_default always exists. */
    list: () => admin('GET', '/pools'),
    create: (name) => admin('POST', '/pools', {name}),
  },
  agents: {
    list: () => admin('GET', '/agents'),
  },
  sources: {
    list: () => admin('GET', '/sources'),
    get: (id) => admin('GET', `/sources/${enc(id)}`),
    create: (source) => admin('POST', '/sources', source),
    /** patch: any of {name, config, pool_id}; a config value "********" keeps the stored one. */
    update: (id, patch) => admin('PATCH', `/sources/${enc(id)}`, patch),
    remove: (id) => admin('DELETE', `/sources/${enc(id)}`),
    /** 200 with the finished job, or 202 {id} when it outlasts waitMs. */
    test: (id, waitMs) => admin('POST', `/sources/${enc(id)}/test`, {wait_ms: waitMs}),
  },
  schedules: {
    list: () => admin('GET', '/schedules'),
    create: (schedule) => admin('POST', '/schedules', schedule),
    remove: (id) => admin('DELETE', `/schedules/${enc(id)}`),
  },
  jobs: {
    /** filter: {status, source_id, pool_id, limit, cursor} → {jobs, next_cursor}. */
    list: (filter = {}) => admin('GET', `/jobs${query(filter)}`),
    get: (id) => admin('GET', `/jobs/${enc(id)}`),
    create: (job) => admin('POST', '/jobs', job),
    cancel: (id) => admin('POST', `/jobs/${enc(id)}/cancel`),
    /** One window of a result: rows (query) or table objects (metadata). */
    rows: async (id, offset, limit) =>
      parseNdjson(await admin('GET', `/jobs/${enc(id)}/rows${query({offset, limit})}`, undefined, 'ndjson')),
  },
};
