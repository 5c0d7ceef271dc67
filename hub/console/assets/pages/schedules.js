// Schedules: jobs the hub creates on its own, every N or by a cron
// expression in a time zone; list with next run and last job, create, delete.
import {api} from '../api.js';
import {badge, confirmButton, empty, errorBox, fill, h, table, when} from '../dom.js';

const UNITS = [['s', 1000, 'seconds'], ['min', 60000, 'minutes'], ['h', 3600000, 'hours']];

function describeWhen(s) {
  if (s.every_ms != null) {
    const [unit, ms] = [...UNITS].reverse().find(([, f]) => s.every_ms % f === 0) ?? ['ms', 1];
    return `every ${s.every_ms / ms} ${unit}`;
  }
  return [h('code', {}, s.cron), ` (${s.timezone})`];
}

/** The params of the job: SQL for a query, schemas for metadata, nothing for a test. */
function paramsFrom(type, sql, schemas) {
  if (type === 'query') {
    if (!sql.trim()) throw new Error('SQL is required for a query schedule');
    return {sql};
  }
  const list = schemas.split(',').map((x) => x.trim()).filter(Boolean);
  return type === 'metadata' && list.length ? {schemas: list} : {};
}

function whenFrom(mode, every, unit, cron, tz) {
  if (mode === 'every') {
    const n = Number(every);
    if (!every || !Number.isInteger(n) || n <= 0) throw new Error('every must be a whole number above 0');
    return {every_ms: n * UNITS.find(([u]) => u === unit)[1]};
  }
  if (!cron.trim()) throw new Error('cron is required (5 fields, e.g. 0 3 * * *)');
  return {cron: cron.trim(), timezone: tz.trim() || 'UTC'};
}

function createForm(ctx, sources, onCreated) {
  const field = (label, input, ...hint) =>
    h('div', {class: 'field'}, h('label', {for: input.id}, label), input, hint.length ? h('small', {}, ...hint) : null);
  const source = h('select', {id: 'sched-source'}, sources.map((s) => h('option', {value: s.id}, `${s.name} (${s.type})`)));
  const type = h('select', {id: 'sched-type'}, ['metadata', 'query', 'test_connection'].map((t) => h('option', {value: t}, t)));
  const mode = h('select', {id: 'sched-mode'}, h('option', {value: 'every'}, 'every …'), h('option', {value: 'cron'}, 'cron expression'));
  const every = h('input', {id: 'sched-every', type: 'number', min: '1', value: '60'});
  const unit = h('select', {id: 'sched-unit'}, UNITS.map(([u, , label]) => h('option', {value: u, selected: u === 'min'}, label)));
  const cron = h('input', {id: 'sched-cron', autocomplete: 'off', spellcheck: 'false', placeholder: '0 3 * * *'});
  const tz = h('input', {id: 'sched-tz', autocomplete: 'off', spellcheck: 'false', value: 'UTC', placeholder: 'Europe/Paris'});
  const sql = h('textarea', {id: 'sched-sql', rows: '2', spellcheck: 'false', placeholder: 'SELECT count(*) FROM orders'});
  const schemas = h('input', {id: 'sched-schemas', autocomplete: 'off', placeholder: 'public, sales'});
  const everyRow = h('div', {class: 'row'}, field('Every', every), field('Unit', unit));
  const cronRow = h('div', {class: 'row'}, field('Cron (minute hour day month weekday)', cron),
    field('Time zone', tz, 'A tz database name: UTC, Europe/Paris, America/New_York.'));
  const sqlRow = field('SQL (one read-only statement)', sql);
  const schemaRow = field('Schemas (optional, comma separated)', schemas);
  const sync = () => {
    everyRow.hidden = mode.value !== 'every';
    cronRow.hidden = mode.value !== 'cron';
    sqlRow.hidden = type.value !== 'query';
    schemaRow.hidden = type.value !== 'metadata';
  };
  mode.addEventListener('change', sync);
  type.addEventListener('change', sync);
  sync();
  const status = h('div', {id: 'sched-status', role: 'status'});
  const form = h('form', {class: 'card', id: 'schedule-form'}, h('h2', {}, 'New schedule'),
    h('div', {class: 'row'}, field('Source', source), field('Job type', type), field('Runs', mode)),
    everyRow, cronRow, sqlRow, schemaRow, h('button', {type: 'submit', id: 'sched-create'}, 'Create schedule'), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status);
    try {
      const body = {source_id: source.value, type: type.value, params: paramsFrom(type.value, sql.value, schemas.value),
                    ...whenFrom(mode.value, every.value, unit.value, cron.value, tz.value)};
      await api.schedules.create(body);
      ctx.toast('Schedule created.');
      await onCreated();
    } catch (e) {
      fill(status, errorBox(e.code || 'invalid', e.message));
    }
  });
  return form;
}

export async function render(main, ctx) {
  const list = h('div', {id: 'schedule-list', 'aria-live': 'polite'});
  const sources = await api.sources.list();
  const names = new Map(sources.map((s) => [s.id, s.name]));
  let drawn = null;
  const draw = async () => {
    const schedules = await api.schedules.list();
    // Unchanged: keep the table (and the focus or a half-confirmed Delete in it).
    const key = JSON.stringify(schedules);
    if (key === drawn) return;
    drawn = key;
    if (schedules.length === 0) {
      fill(list, empty('No schedule yet.', 'Create one below: the hub then creates the job at each due time.'));
      return;
    }
    fill(list, table(['Source', 'Type', 'When', 'Next run', 'Last job', 'Status', 'Id', ''], schedules.map((s) => [
      names.get(s.source_id) ?? s.source_id, s.type, describeWhen(s), when(s.next_run_at),
      s.last_job_id ? h('a', {href: `#/job/${encodeURIComponent(s.last_job_id)}`}, s.last_job_id) : '—',
      badge(s.status || 'active'), h('code', {}, s.id),
      confirmButton('Delete', 'Click again to delete', async () => {
        try {
          await api.schedules.remove(s.id);
          ctx.toast('Schedule deleted.');
          await draw();
        } catch (e) { ctx.toast(e.message); }
      })]), {id: 'schedules-table'}));
  };
  const form = sources.length ? createForm(ctx, sources, draw)
    : empty('No source yet.', 'A schedule runs jobs on a source: create one on the ', h('a', {href: '#/sources'}, 'Sources'), ' page.');
  fill(main, h('h1', {}, 'Schedules'),
    h('p', {class: 'muted'}, 'Times are shown in this browser\'s time zone. Refreshed every 10 seconds.'), list, form);
  await ctx.every(10000, draw);
}
