// Sources: create per connector type, list, details (masked config), Test
// connection, run metadata, run a query.
import {api} from '../api.js';
import {connectors, configFrom, isSecretRef} from '../connectors.js';
import {empty, errorBox, fill, h, table} from '../dom.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls a job until it ends or `timeoutMs` passes; null on timeout. */
export async function waitForJob(id, timeoutMs, onTick) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const job = await api.jobs.get(id);
    if (FINISHED.has(job.status)) return job;
    if (onTick) onTick(job);
    await new Promise((r) => setTimeout(r, 400));
  }
  return null;
}

function fieldInput(type, f) {
  const id = `src-${type}-${f.key}`;
  let input;
  if (f.kind === 'select') {
    input = h('select', {id, name: f.key}, h('option', {value: ''}, '(default)'),
      f.options.map((o) => h('option', {value: o}, o)));
  } else {
    input = h('input', {id, name: f.key, autocomplete: 'off', spellcheck: 'false',
      type: f.kind === 'number' ? 'number' : 'text', min: f.kind === 'number' ? '0' : undefined,
      placeholder: f.placeholder, required: f.required});
  }
  const hints = [];
  if (f.hint) hints.push(h('small', {}, f.hint));
  if (f.kind === 'secret') {
    const warn = h('small', {class: 'warn', hidden: true},
      'This is a literal secret: the hub stores it and sends it to the agent. Prefer a reference.');
    input.addEventListener('input', () => { warn.hidden = !input.value || isSecretRef(input.value.trim()); });
    hints.push(h('small', {}, 'Use a secret reference such as ', h('code', {}, '${env:NAME}'), ' or ',
      h('code', {}, '${file:/run/secrets/name}'), ": the agent resolves it on its own host and the hub never sees the value."), warn);
  }
  return h('div', {class: 'field'}, h('label', {for: id}, f.key + (f.required ? ' *' : '')), input, hints);
}

function createForm(ctx, onCreated) {
  const name = h('input', {id: 'source-name', name: 'name', required: true, autocomplete: 'off',
                           placeholder: 'warehouse'});
  const type = h('select', {id: 'source-type', name: 'type'},
    Object.entries(connectors).map(([k, c]) => h('option', {value: k}, c.label)));
  const pool = h('input', {id: 'source-pool', name: 'pool', placeholder: 'pool_default', autocomplete: 'off'});
  const fields = h('div', {class: 'fields', id: 'source-fields'});
  const showFields = () => fill(fields, connectors[type.value].fields.map((f) => fieldInput(type.value, f)));
  type.addEventListener('change', showFields);
  showFields();
  const status = h('div', {role: 'status'});
  const form = h('form', {class: 'card', id: 'source-form'},
    h('h2', {}, 'New source'),
    h('div', {class: 'row'},
      h('div', {class: 'field'}, h('label', {for: 'source-name'}, 'Name *'), name),
      h('div', {class: 'field'}, h('label', {for: 'source-type'}, 'Connector'), type),
      h('div', {class: 'field'}, h('label', {for: 'source-pool'}, 'Pool'), pool)),
    fields, h('button', {type: 'submit', id: 'source-create'}, 'Create source'), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status);
    const values = {};
    for (const el of fields.querySelectorAll('input, select')) values[el.name] = el.value;
    try {
      const body = {name: name.value.trim(), type: type.value, config: configFrom(type.value, values)};
      if (pool.value.trim()) body.pool_id = pool.value.trim();
      const created = await api.sources.create(body);
      form.reset();
      showFields();
      ctx.toast(`Source ${body.name} created.`);
      await onCreated(created.id);
    } catch (e) {
      fill(status, errorBox(e.code || 'invalid', e.message));
    }
  });
  return form;
}

async function testConnection(source, out) {
  fill(out, h('p', {class: 'muted'}, 'Testing ', h('strong', {}, source.name), '… waiting for an agent of pool ',
    h('code', {}, source.pool_id || 'pool_default'), '.'));
  const {id} = await api.jobs.create({source_id: source.id, type: 'test_connection', timeout_ms: 30000});
  const job = await waitForJob(id, 60000);
  const link = h('a', {href: `#/job/${encodeURIComponent(id)}`}, id);
  if (!job) {
    fill(out, errorBox('no_agent', `No agent of pool ${source.pool_id || 'pool_default'} took the test within 60 s. Is one online?`), h('p', {}, 'Job ', link));
  } else if (job.status === 'succeeded') {
    const r = job.result || {};
    fill(out, h('div', {class: 'ok-box', role: 'status', id: 'test-ok'},
      h('strong', {}, 'Connected to ', source.name), ' — ', r.server_version || 'server', ', ',
      r.latency_ms ?? '?', ' ms round trip', r.connect_ms !== undefined ? ` (connect ${r.connect_ms} ms)` : '', '. Job ', link));
  } else {
    const e = job.error || {};
    fill(out, h('div', {id: 'test-failed'}, errorBox(e.code || job.status, e.message || 'the test did not succeed'), h('p', {}, 'Job ', link)));
  }
}

function details(source, out) {
  return async () => {
    const s = await api.sources.get(source.id);
    fill(out, h('section', {class: 'card', id: 'source-details'},
      h('h2', {}, s.name), h('p', {class: 'muted'}, `${s.type} · ${s.pool_id} · ${s.id}`),
      h('dl', {class: 'kv'}, Object.entries(s.config || {}).map(([k, v]) =>
        [h('dt', {}, k), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))])),
      h('p', {class: 'muted'}, 'Literal secrets are shown masked; references as written.')));
  };
}

function queryForm(ctx, sourcesList) {
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

export async function render(main, ctx) {
  const list = h('div', {id: 'source-list'});
  const out = h('div', {id: 'source-output', 'aria-live': 'polite'});
  const queries = h('div');
  async function refresh() {
    const sources = await api.sources.list();
    if (sources.length === 0) {
      fill(list, empty('No source yet.', 'Create one below. Its agent must be able to reach the database.'));
      fill(queries);
      return;
    }
    fill(list, table(['Name', 'Type', 'Pool', 'Id', 'Actions'], sources.map((s) => [
      s.name, s.type, s.pool_id || 'pool_default', h('code', {}, s.id),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'test-connection', on: {click: () => testConnection(s, out).catch((e) => fill(out, errorBox(e.code, e.message)))}}, 'Test connection'),
        h('button', {type: 'button', class: 'run-metadata quiet', on: {click: async () => {
          try {
            const {id} = await api.jobs.create({source_id: s.id, type: 'metadata'});
            ctx.go(`#/job/${encodeURIComponent(id)}`);
          } catch (e) { ctx.toast(e.message); }
        }}}, 'Run metadata'),
        h('button', {type: 'button', class: 'quiet details', on: {click: () => details(s, out)().catch((e) => ctx.toast(e.message))}}, 'Details'))]),
      {id: 'sources-table'}));
    fill(queries, queryForm(ctx, sources));
  }
  fill(main, h('h1', {}, 'Sources'), list, out, queries, createForm(ctx, refresh));
  await refresh();
}
