// How a finished job's result is shown, by job type: metadata as a schema
// tree (with the jobs-v1.1 keys, indexes, comments and sizes when the agent
// sent them), a profile as one row per column, anything else as fields.
// Every value is text (dom.js never parses HTML).
import {cellText, empty, h, table} from '../dom.js';

function columnItem(c) {
  const notes = [];
  if (c.nullable === false) notes.push('not null');
  if (c.generated) notes.push(`generated as ${c.default ?? '?'}`);
  else if (c.default != null) notes.push(`default ${c.default}`);
  if (Array.isArray(c.enum_values)) notes.push(`one of ${c.enum_values.join(', ')}`);
  return h('li', {}, h('span', {class: 'column-name'}, c.name), ' ',
    h('span', {class: 'muted'}, c.type || ''), notes.length ? ` ${notes.join('; ')}` : '',
    c.comment ? h('span', {class: 'comment'}, ` — ${c.comment}`) : null);
}

function bytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function tableFacts(t) {
  const facts = [];
  const list = (cols) => (Array.isArray(cols) ? cols.join(', ') : '');
  if (Array.isArray(t.primary_key) && t.primary_key.length) facts.push(`primary key (${list(t.primary_key)})`);
  for (const u of Array.isArray(t.unique) ? t.unique : []) facts.push(`unique (${list(u)})`);
  for (const fk of Array.isArray(t.foreign_keys) ? t.foreign_keys : []) {
    const target = [fk.ref_schema, fk.ref_table].filter(Boolean).join('.');
    facts.push(`foreign key (${list(fk.columns)}) → ${target} (${list(fk.ref_columns)})`);
  }
  for (const ix of Array.isArray(t.indexes) ? t.indexes : []) {
    facts.push(`index ${ix.name || ''} (${list(ix.columns)})${ix.unique ? ' unique' : ''}`);
  }
  if (t.partition_of) facts.push(`partition of ${t.partition_of}`);
  if (Array.isArray(t.partitions) && t.partitions.length) facts.push(`partitions: ${t.partitions.join(', ')}`);
  if (t.last_modified) facts.push(`last modified ${t.last_modified}`);
  const st = t.stats && typeof t.stats === 'object' ? t.stats : null;
  if (st) {  // PostgreSQL's activity counters (include_stats)
    const n = (k) => (st[k] != null ? `${k.replace('n_tup_', '').replace('n_', '')} ${st[k]}` : null);
    const counts = ['n_tup_ins', 'n_tup_upd', 'n_tup_del', 'n_live_tup', 'n_dead_tup'].map(n).filter(Boolean);
    if (counts.length) facts.push(`rows since stats reset: ${counts.join(', ')}`);
    for (const k of ['last_vacuum', 'last_autovacuum', 'last_analyze', 'last_autoanalyze']) {
      if (st[k]) facts.push(`${k.replace(/_/g, ' ')} ${st[k]}`);
    }
  }
  if (t.fingerprint) facts.push(`fingerprint ${t.fingerprint}`);
  return facts;
}

function tableItem(t) {
  const summary = h('summary', {}, h('span', {class: 'table-name'}, t.name), ` ${t.kind || 'table'}`,
    t.row_estimate != null ? `, ~${t.row_estimate} rows` : '',
    t.size_bytes != null ? `, ${bytes(t.size_bytes)}` : '',
    t.comment ? h('span', {class: 'comment'}, ` — ${t.comment}`) : null);
  const facts = tableFacts(t);
  return h('li', {}, h('details', {}, summary,
    facts.length ? h('ul', {class: 'facts'}, facts.map((f) => h('li', {class: 'muted'}, f))) : null,
    h('ul', {class: 'columns'}, (t.columns || []).map(columnItem)),
    t.definition ? h('pre', {class: 'definition'}, t.definition) : null));
}

function schemaItem(s) {
  const tables = Array.isArray(s.tables) ? s.tables : [];
  return h('li', {}, h('details', {open: true},
    h('summary', {}, h('span', {class: 'schema-name'}, s.name || '(default)'), ` — ${tables.length} tables`),
    h('ul', {}, tables.map(tableItem))));
}

export function schemaTree(result) {
  const schemas = Array.isArray(result.schemas) ? result.schemas : [];
  const count = schemas.reduce((n, s) => n + (Array.isArray(s.tables) ? s.tables.length : 0), 0);
  if (count === 0) return empty('No tables.', 'The agent found no table the login may read.');
  const db = result.database ? ` of ${result.database}` : '';
  return h('section', {id: 'schema-tree'}, h('h2', {}, `Schema${db} (${count} tables)`),
    h('ul', {class: 'tree'}, schemas.map(schemaItem)));
}

function number(v) {
  if (typeof v !== 'number') return cellText(v ?? null);
  return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
}

function topValues(c) {
  if (!Array.isArray(c.top_k) || c.top_k.length === 0) return '';
  return c.top_k.map((t) => `${cellText(t.value)} (${t.count})`).join(', ');
}

export function profileTable(result) {
  const columns = Array.isArray(result.columns) ? result.columns : [];
  const total = result.row_count != null
    ? `${result.row_count}${result.row_count_exact === false ? ' (estimate)' : ''} rows` : '';
  const sample = result.sample ? `, sample ${result.sample} (${result.sampled_rows ?? '?'} rows read)` : '';
  return h('section', {id: 'profile'}, h('h2', {}, 'Profile'), h('p', {class: 'muted'}, total, sample),
    table(['Column', 'Type', 'Nulls', 'Distinct', 'Min', 'Max', 'Mean', 'Std dev', 'Length min/avg/max', 'Top values'],
      columns.map((c) => [h('span', {class: 'column-name'}, c.name), c.type || '', number(c.null_count),
        `${number(c.distinct_count)}${c.distinct_exact === false ? ' ≈' : ''}`,
        cellText(c.min ?? null), cellText(c.max ?? null), number(c.mean), number(c.stddev),
        c.min_length != null ? `${c.min_length} / ${number(c.avg_length)} / ${c.max_length}` : '',
        topValues(c)]), {id: 'profile-table'}));
}

export function fieldList(result) {
  return h('section', {}, h('h2', {}, 'Result'), h('dl', {class: 'kv', id: 'job-result'},
    Object.entries(result).map(([k, v]) => [h('dt', {}, k), h('dd', {}, cellText(v))])));
}
