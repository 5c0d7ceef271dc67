// Jobs: filter by status, source and pool; newest first, older pages by
// cursor; refreshed every 3 s while only the first page is shown.
import {api} from '../api.js';
import {badge, empty, fill, h, table, when} from '../dom.js';
import {poolNames, poolSelect} from './pools.js';

const STATUSES = ['', 'scheduled', 'running', 'succeeded', 'failed', 'cancelled'];

export async function render(main, ctx) {
  const [sources, pools] = await Promise.all([api.sources.list(), api.pools.list()]);
  const names = new Map(sources.map((s) => [s.id, s.name]));
  const pNames = poolNames(pools);
  const status = h('select', {id: 'filter-status'}, STATUSES.map((s) => h('option', {value: s}, s || 'any')));
  const source = h('select', {id: 'filter-source'}, h('option', {value: ''}, 'any'),
    sources.map((s) => h('option', {value: s.id}, s.name)));
  const pool = poolSelect('filter-pool', pools, '', true);
  const list = h('div', {id: 'job-list', 'aria-live': 'polite'});
  const more = h('button', {type: 'button', class: 'quiet', id: 'jobs-older', hidden: true}, 'Older jobs');
  const note = h('p', {class: 'muted', id: 'jobs-note'}, 'Refreshed every 3 seconds.');
  let rows = [];
  let cursor = null;
  let pages = 1;

  const filter = () => ({status: status.value, source_id: source.value, pool_id: pool.value, limit: 50});
  const row = (j) => [h('a', {href: `#/job/${encodeURIComponent(j.id)}`}, j.id), j.type, badge(j.status),
    j.source_id ? (names.get(j.source_id) ?? j.source_id) : '(by name)', pNames.get(j.pool_id) ?? j.pool_id, when(j.created_at),
    when(j.finished_at), j.error ? String(j.error.code || '') : ''];
  const draw = () => {
    if (rows.length === 0) {
      fill(list, empty('No job matches.', 'Jobs appear when you test a source, run metadata or a query from the ',
        h('a', {href: '#/sources'}, 'Sources'), ' page.'));
    } else {
      fill(list, table(['Job', 'Type', 'Status', 'Source', 'Pool', 'Created', 'Finished', 'Error'],
        rows.map(row), {id: 'jobs-table'}));
    }
    more.hidden = !cursor;
    note.textContent = pages > 1 ? 'Auto-refresh pauses while older pages are shown.' : 'Refreshed every 3 seconds.';
  };
  const firstPage = async () => {
    const page = await api.jobs.list(filter());
    rows = page.jobs;
    cursor = page.next_cursor;
    pages = 1;
    draw();
  };
  more.addEventListener('click', async () => {
    try {
      const page = await api.jobs.list({...filter(), cursor});
      rows = rows.concat(page.jobs);
      cursor = page.next_cursor;
      pages += 1;
      draw();
    } catch (e) { ctx.toast(e.message); }
  });
  for (const el of [status, source, pool]) el.addEventListener('change', () => firstPage().catch((e) => ctx.toast(e.message)));

  fill(main, h('h1', {}, 'Jobs'),
    h('form', {class: 'filters', id: 'job-filters', on: {submit: (e) => e.preventDefault()}},
      h('label', {for: 'filter-status'}, 'Status'), status,
      h('label', {for: 'filter-source'}, 'Source'), source,
      h('label', {for: 'filter-pool'}, 'Pool'), pool),
    note, list, more);
  await ctx.every(3000, async () => { if (pages === 1) await firstPage(); });
}
