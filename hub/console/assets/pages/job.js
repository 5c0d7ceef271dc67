// One job: its fields, attempts, error, and the result — test_connection as
// fields, metadata as a schema tree, a profile as a table per column, a
// query as a table paged from /rows (job_results.js draws the others).
import {api} from '../api.js';
import {badge, cellText, confirmButton, empty, errorBox, fill, h, table, when} from '../dom.js';
import {fieldList, profileTable, schemaTree} from './job_results.js';

const PAGE = 50;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

// A source or pool by its name, with its id after it (the id alone when the
// name is unknown, e.g. a source deleted since).
function named(id, names) {
  const name = names.get(id);
  return name === undefined ? id : [name, ' ', h('code', {class: 'muted'}, id)];
}

function fields(job, sourceNames, poolNames) {
  const kv = [['Type', job.type], ['Status', badge(job.status)],
    ['Source', job.source_id ? named(job.source_id, sourceNames) : '(by name)'],
    ['Pool', named(job.pool_id, poolNames)], ['Attempt', String(job.attempt ?? '')], ['Agent instance', job.agent_instance || '—'],
    ['Created', when(job.created_at)], ['Started', when(job.started_at)], ['Finished', when(job.finished_at)],
    ['Timeout', `${job.timeout_ms} ms`]];
  return h('dl', {class: 'kv', id: 'job-fields'}, kv.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function attempts(job) {
  if (!Array.isArray(job.attempts) || job.attempts.length === 0) return null;
  return h('section', {}, h('h2', {}, 'Attempts'),
    table(['#', 'Agent instance', 'Started', 'Finished', 'Status', 'Error'], job.attempts.map((a) => [
      String(a.attempt), a.agent_instance || '', when(a.started_at), when(a.finished_at), a.status || '',
      a.error ? `${a.error.code || ''}: ${a.error.message || ''}` : '']), {id: 'attempts-table'}));
}

function rowsPager(job) {
  const columns = (job.result && Array.isArray(job.result.columns)) ? job.result.columns : [];
  const total = job.result && Number.isInteger(job.result.row_count) ? job.result.row_count : null;
  const body = h('div', {id: 'rows'});
  const info = h('span', {id: 'rows-info', 'aria-live': 'polite'});
  const prev = h('button', {type: 'button', class: 'quiet', id: 'rows-prev'}, '← Previous');
  const next = h('button', {type: 'button', class: 'quiet', id: 'rows-next'}, 'Next →');
  let offset = 0;
  const load = async () => {
    const rows = await api.jobs.rows(job.id, offset, PAGE);
    fill(body, rows.length === 0 && offset === 0 ? empty('No rows.', 'The query returned nothing.')
      : table(columns.map((c) => `${c.name}`), rows.map((r) => (Array.isArray(r) ? r : [r]).map((v) =>
        h('span', {class: v === null ? 'null' : undefined}, cellText(v)))), {id: 'rows-table'}));
    const last = offset + rows.length;
    info.textContent = rows.length ? `Rows ${offset + 1}–${last}${total !== null ? ` of ${total}` : ''}` : '';
    prev.disabled = offset === 0;
    next.disabled = rows.length < PAGE || (total !== null && last >= total);
  };
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
  next.addEventListener('click', () => { offset += PAGE; load(); });
  const head = columns.length ? h('p', {class: 'muted'}, 'Columns: ', columns.map((c, i) =>
    [i ? ', ' : '', h('span', {class: 'column-name'}, c.name), ` ${c.type || ''}`])) : null;
  const truncated = job.result && job.result.truncated ? h('p', {class: 'notice'}, 'The result was cut at the row or size limit.') : null;
  return {node: h('section', {}, h('h2', {}, 'Result'), head, truncated,
    h('div', {class: 'pager'}, prev, info, next), body), load};
}

function result(job) {
  const r = job.result;
  if (!r || job.status !== 'succeeded') return {node: null};
  if (job.type === 'metadata') return {node: schemaTree(r)};
  if (job.type === 'query') return rowsPager(job);
  if (job.type === 'profile') return {node: profileTable(r)};
  return {node: fieldList(r)};
}

export async function render(main, ctx) {
  const id = ctx.args[0] || '';
  const view = h('div', {id: 'job-view'});
  fill(main, h('p', {}, h('a', {href: '#/jobs'}, '← Jobs')), h('h1', {}, 'Job ', h('code', {}, id)), view);
  const [sources, pools] = await Promise.all([api.sources.list(), api.pools.list()]);
  const sourceNames = new Map(sources.map((s) => [s.id, s.name]));
  const poolNames = new Map(pools.map((p) => [p.id, p.name]));
  let shown = null;
  const draw = async () => {
    const job = await api.jobs.get(id);
    if (shown === job.status && FINISHED.has(job.status)) return;
    shown = job.status;
    const res = result(job);
    fill(view, fields(job, sourceNames, poolNames),
      FINISHED.has(job.status) ? null : h('p', {}, confirmButton('Cancel job', 'Click again to cancel', async () => {
        await api.jobs.cancel(id);
        await draw();
      }), ' ', h('span', {class: 'muted'}, 'Refreshing until the job ends…')),
      job.error ? errorBox(job.error.code, job.error.message) : null, attempts(job), res.node);
    if (res.load) await res.load();
  };
  await ctx.every(1000, draw);
}
