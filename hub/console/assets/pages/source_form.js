// The source form, for a new source (POST) and for editing one (PATCH).
// Editing shows the config as GET returns it: a literal secret reads
// "********", and sending it back unchanged keeps the stored value.
import {api} from '../api.js';
import {connectors, configFrom, isSecretRef} from '../connectors.js';
import {errorBox, fill, h} from '../dom.js';
import {poolSelect} from './pools.js';

const MASK = '********';

function fieldText(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function secretHints(input, editing) {
  const warn = h('small', {class: 'warn', hidden: true},
    'This is a literal secret: the hub stores it and sends it to the agent. Prefer a reference.');
  const check = () => {
    const v = input.value.trim();
    warn.hidden = !v || v === MASK || isSecretRef(v);
  };
  input.addEventListener('input', check);
  return [h('small', {}, 'Use a secret reference such as ', h('code', {}, '${env:NAME}'), ' or ',
    h('code', {}, '${file:/run/secrets/name}'), ': the agent resolves it on its own host and the hub never sees the value.',
    editing ? ` ${MASK} keeps the stored value.` : ''), warn];
}

function fieldInput(prefix, type, f, value, editing) {
  const id = `${prefix}-${type}-${f.key}`;
  let input;
  if (f.kind === 'select') {
    input = h('select', {id, name: f.key}, h('option', {value: ''}, '(default)'),
      f.options.map((o) => h('option', {value: o, selected: o === value}, o)));
  } else {
    input = h('input', {id, name: f.key, autocomplete: 'off', spellcheck: 'false',
      type: f.kind === 'number' ? 'number' : 'text', min: f.kind === 'number' ? '0' : undefined,
      placeholder: f.placeholder, required: f.required, value: fieldText(value)});
  }
  const hints = f.hint ? [h('small', {}, f.hint)] : [];
  if (f.kind === 'secret') hints.push(...secretHints(input, editing));
  return h('div', {class: 'field'}, h('label', {for: id}, f.key + (f.required ? ' *' : '')), input, hints);
}

/** Config keys of a stored source that the form has no field for: kept as they are on edit. */
function otherKeys(type, config) {
  const known = new Set(connectors[type].fields.map((f) => f.key));
  return Object.fromEntries(Object.entries(config || {}).filter(([k]) => !known.has(k)));
}

/**
 * A source form. `source` (as GET returns it) makes it an edit form; `pools`
 * fills the pool select; `onDone(id)` runs after a successful save.
 */
export function sourceForm(ctx, pools, onDone, source = null) {
  const editing = source !== null;
  const prefix = editing ? 'edit' : 'src';
  const name = h('input', {id: editing ? 'edit-name' : 'source-name', name: 'name', required: true, autocomplete: 'off',
                           placeholder: 'warehouse', value: editing ? source.name : undefined});
  const type = editing
    ? h('select', {id: `${prefix}-type`, name: 'type', disabled: true},
      h('option', {value: source.type}, connectors[source.type]?.label ?? source.type))
    : h('select', {id: 'source-type', name: 'type'},
      Object.entries(connectors).map(([k, c]) => h('option', {value: k}, c.label)));
  const pool = poolSelect(editing ? 'edit-pool' : 'source-pool', pools, editing ? source.pool_id : undefined);
  const fields = h('div', {class: 'fields', id: editing ? 'edit-fields' : 'source-fields'});
  const showFields = () => fill(fields, (connectors[type.value]?.fields ?? []).map((f) =>
    fieldInput(prefix, type.value, f, editing ? source.config?.[f.key] : undefined, editing)));
  if (!editing) type.addEventListener('change', showFields);
  showFields();
  const status = h('div', {role: 'status'});
  const submit = h('button', {type: 'submit', id: editing ? 'edit-save' : 'source-create'},
    editing ? 'Save changes' : 'Create source');
  const form = h('form', {class: 'card', id: editing ? 'edit-form' : 'source-form'},
    h('h2', {}, editing ? ['Edit ', h('span', {class: 'source-name'}, source.name)] : 'New source'),
    h('div', {class: 'row'},
      h('div', {class: 'field'}, h('label', {for: name.id}, 'Name *'), name),
      h('div', {class: 'field'}, h('label', {for: type.id}, 'Connector'), type),
      h('div', {class: 'field'}, h('label', {for: pool.id}, 'Pool'), pool)),
    fields, h('div', {class: 'actions'}, submit, editing ? h('button', {type: 'button', class: 'quiet',
      id: 'edit-cancel', on: {click: () => onDone(null)}}, 'Cancel') : null), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status);
    const values = {};
    for (const el of fields.querySelectorAll('input, select')) values[el.name] = el.value;
    try {
      if (!connectors[type.value]) throw new Error(`the console has no form for connector ${type.value}`);
      const config = configFrom(type.value, values);
      const body = {name: name.value.trim(), config, pool_id: pool.value};
      if (editing) {
        body.config = {...otherKeys(source.type, source.config), ...config};
        await api.sources.update(source.id, body);
        ctx.toast(`Source ${body.name} saved.`);
        await onDone(source.id);
      } else {
        const created = await api.sources.create({...body, type: type.value});
        form.reset();
        showFields();
        ctx.toast(`Source ${body.name} created.`);
        await onDone(created.id);
      }
    } catch (e) {
      fill(status, errorBox(e.code || 'invalid', e.message));
    }
  });
  return form;
}
