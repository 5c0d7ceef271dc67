// What the sources page does with one source: Test connection (through
// POST /sources/{id}/test), show its masked config, and the query form.
import {api} from '../api.js';
import {errorBox, fill, h} from '../dom.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls a job until it ends or `timeoutMs` passes; null on timeout. */
export async function waitForJob(id, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const job = await api.jobs.get(id);
    if (FINISHED.has(job.status)) return job;
    await new Promise((r) => setTimeout(r, 400));
  }
  return null;
}

/** Runs Test connection and shows its outcome in `out`. */
export async function testConnection(source, poolName, out) {
  fill(out, h('p', {class: 'muted'}, 'Testing ', h('strong', {}, source.name), '… waiting for an agent of pool ',
    h('strong', {}, poolName), '.'));
  // The hub answers 200 with the finished job (or at once with no_agent when
  // the pool has no agent online), or 202 {id} after wait_ms: then poll.
  const answer = await api.sources.test(source.id, 30000);
  const job = answer.status ? answer : await waitForJob(answer.id, 60000);
  const id = answer.id;
  const link = h('a', {href: `#/job/${encodeURIComponent(id)}`}, id);
  if (!job) {
    fill(out, errorBox('timeout', `No agent of pool ${poolName} finished the test within 90 s.`), h('p', {}, 'Job ', link));
  } else if (job.status === 'succeeded') {
    const r = job.result || {};
    fill(out, h('div', {class: 'ok-box', role: 'status', id: 'test-ok'},
      h('strong', {}, 'Connected to ', source.name), ' — ', r.server_version || 'server', ', ',
      r.latency_ms ?? '?', ' ms round trip', r.connect_ms !== undefined ? ` (connect ${r.connect_ms} ms)` : '', '. Job ', link));
  } else {
    const e = job.error || {};
    const hint = e.code === 'no_agent' ? h('p', {}, 'Start an agent with a token of this pool: see ',
      h('a', {href: '#/pools'}, 'Pools'), '.') : null;
    fill(out, h('div', {id: 'test-failed'}, errorBox(e.code || job.status, e.message || 'the test did not succeed'),
      hint, h('p', {}, 'Job ', link)));
  }
}

/** The source's config as the hub shows it: literal secrets masked, references as written. */
export async function showDetails(source, poolName, out) {
  const s = await api.sources.get(source.id);
  fill(out, h('section', {class: 'card', id: 'source-details'},
    h('h2', {}, s.name), h('p', {class: 'muted'}, `${s.type} · pool ${poolName} · ${s.id}`),
    h('dl', {class: 'kv'}, Object.entries(s.config || {}).map(([k, v]) =>
      [h('dt', {}, k), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))])),
    h('p', {class: 'muted'}, 'Literal secrets are shown masked; references as written.')));
}

export function queryForm(ctx, sourcesList) {
  const select = h('select', {id: 'query-source', name: 'source'},
    sourcesList.map((s) => h('option', {value: s.id}, `${s.name} (${s.type})`)));
  const sql = h('textarea', {id: 'query-sql', name: 'sql', rows: '3', required: true, spellcheck: 'false',
                             placeholder: 'SELECT * FROM orders ORDER BY id'});
  const maxRows = h('input', {id: 'query-max-rows', type: 'number', min: '1', placeholder: '10000'});
  const form = h('form', {class: 'card', id: 'query-form'}, h('h2', {}, 'Run a query'),
    h('div', {class: 'row'}, h('div', {class: 'field'}, h('label', {for: 'query-source'}, 'Source'), select),
      h('div', {class: 'field'}, h('label', {for: 'query-max-rows'}, 'Max rows'), maxRows)),
    h('div', {class: 'field'}, h('label', {for: 'query-sql'}, 'SQL (one read-only statement)'), sql),
    h('button', {type: 'submit', id: 'query-run'}, 'Run query'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const params = {sql: sql.value};
    if (maxRows.value) params.max_rows = Number(maxRows.value);
    try {
      const {id} = await api.jobs.create({source_id: select.value, type: 'query', params});
      ctx.go(`#/job/${encodeURIComponent(id)}`);
    } catch (e) { ctx.toast(e.message); }
  });
  return form;
}
