// Pools: one per private network; agents online and queue depth of each,
// refreshed while shown; create a pool, then a token in it.
import {api} from '../api.js';
import {fill, h, table, when} from '../dom.js';

/**
 * A <select> of pools ("name (id)") with `selected` chosen (pool_default
 * when not given), or with a first "any" option when `any` is set.
 */
export function poolSelect(id, pools, selected, any = false) {
  const want = any ? selected || '' : selected || 'pool_default';
  return h('select', {id, name: 'pool_id'}, any ? h('option', {value: ''}, 'any') : null,
    pools.map((p) => h('option', {value: p.id, selected: p.id === want},
      p.name === p.id ? p.name : `${p.name} (${p.id})`)));
}

/** id → name of every pool, for tables that show a job's or source's pool. */
export function poolNames(pools) {
  return new Map(pools.map((p) => [p.id, p.name]));
}

function createForm(ctx, onCreated) {
  const name = h('input', {id: 'pool-name', name: 'name', required: true, maxlength: '200',
                           autocomplete: 'off', placeholder: 'eu-vpc'});
  const form = h('form', {class: 'card inline-form', id: 'pool-form'},
    h('h2', {}, 'New pool'),
    h('div', {class: 'field'}, h('label', {for: 'pool-name'}, 'Name'), name,
      h('small', {}, 'One pool per network: its agents run the jobs of its sources, and only those.')),
    h('button', {type: 'submit', id: 'pool-create'}, 'Create pool'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const p = await api.pools.create(name.value.trim());
      name.value = '';
      ctx.toast(`Pool ${p.name} created. Create a token in it next.`);
      await onCreated(p);
    } catch (e) {
      ctx.toast(e.message);
    }
  });
  return form;
}

export async function render(main, ctx) {
  const list = h('div', {id: 'pool-list', 'aria-live': 'polite'});
  const draw = async () => {
    const pools = await api.pools.list();
    fill(list, table(['Name', 'Id', 'Agents online', 'Queue depth', 'Created', ''], pools.map((p) => [
      h('span', {class: 'pool-name'}, p.name), h('code', {}, p.id), String(p.agents_online),
      String(p.queue_depth), when(p.created_at),
      h('a', {href: `#/tokens/${encodeURIComponent(p.id)}`, class: 'pool-token'}, 'New token in this pool')]),
    {id: 'pools-table'}));
  };
  fill(main, h('h1', {}, 'Pools'),
    h('p', {class: 'muted'}, 'A pool is a set of agents that reach the same sources. A job goes only to an ' +
      'agent whose token belongs to its source\'s pool. Refreshed every 3 seconds.'),
    createForm(ctx, draw), list);
  await ctx.every(3000, draw);
}
