// Sources: list with Test connection, Run metadata, Details, Edit and
// Delete; the query form; a new source per connector type, in a pool.
import {api} from '../api.js';
import {confirmButton, empty, errorBox, fill, h, table} from '../dom.js';
import {poolNames} from './pools.js';
import {queryForm, showDetails, testConnection} from './source_actions.js';
import {sourceForm} from './source_form.js';

export async function render(main, ctx) {
  const list = h('div', {id: 'source-list'});
  const out = h('div', {id: 'source-output', 'aria-live': 'polite'});
  const queries = h('div');
  const createSlot = h('div');
  let pools = [];
  let names = new Map();

  const edit = (s) => async () => {
    const stored = await api.sources.get(s.id);
    fill(out, sourceForm(ctx, pools, async (id) => {
      fill(out);
      if (id) await refresh();
    }, stored));
    out.querySelector('#edit-name').focus();
  };
  const run = (s) => async () => {
    const {id} = await api.jobs.create({source_id: s.id, type: 'metadata'});
    ctx.go(`#/job/${encodeURIComponent(id)}`);
  };
  const remove = (s) => async () => {
    await api.sources.remove(s.id);
    fill(out);
    ctx.toast(`Source ${s.name} deleted; its queued jobs and schedules are cancelled.`);
    await refresh();
  };
  // A button whose failure shows in the output box, not as an unhandled rejection.
  const action = (label, cls, fn) => h('button', {type: 'button', class: cls, on: {click: () =>
    fn().catch((e) => fill(out, errorBox(e.code, e.message)))}}, label);

  async function refresh() {
    pools = await api.pools.list();
    names = poolNames(pools);
    const sources = await api.sources.list();
    fill(createSlot, sourceForm(ctx, pools, refresh));
    if (sources.length === 0) {
      fill(list, empty('No source yet.', 'Create one below. An agent of its pool must be able to reach the database.'));
      fill(queries);
      return;
    }
    fill(list, table(['Name', 'Type', 'Pool', 'Id', 'Actions'], sources.map((s) => {
      const pool = names.get(s.pool_id) ?? s.pool_id;
      return [s.name, s.type, pool, h('code', {}, s.id), h('div', {class: 'actions'},
        action('Test connection', 'test-connection', () => testConnection(s, pool, out)),
        action('Run metadata', 'run-metadata quiet', run(s)),
        action('Details', 'quiet details', () => showDetails(s, pool, out)),
        action('Edit', 'quiet edit', edit(s)),
        confirmButton('Delete', 'Click again to delete', () =>
          remove(s)().catch((e) => fill(out, errorBox(e.code, e.message)))))];
    }), {id: 'sources-table'}));
    fill(queries, queryForm(ctx, sources));
  }
  fill(main, h('h1', {}, 'Sources'), list, out, queries, createSlot);
  await refresh();
}
