// Agents: every connected instance, online while its heartbeats are due.
import {api} from '../api.js';
import {ago, badge, empty, fill, h, table} from '../dom.js';
import {poolNames} from './pools.js';

export async function render(main, ctx) {
  const list = h('div', {id: 'agent-list', 'aria-live': 'polite'});
  fill(main, h('h1', {}, 'Agents'),
    h('p', {class: 'muted'}, 'Refreshed every 3 seconds. An agent counts as offline after three missed heartbeats.'),
    list);
  const offlineAfter = 3 * (ctx.session.heartbeatMs || 10000);
  await ctx.every(3000, async () => {
    const [agents, pools] = await Promise.all([api.agents.list(), api.pools.list()]);
    const names = poolNames(pools);
    if (agents.length === 0) {
      fill(list, empty('No agent yet.', 'Create a token on the ', h('a', {href: '#/tokens'}, 'Tokens'),
        ' page (in the pool of the network the agent runs in: see ', h('a', {href: '#/pools'}, 'Pools'),
        ') and start an agent with the docker run line shown there.'));
      return;
    }
    const now = ctx.hubNow();
    fill(list, table(['Agent', 'Instance', 'Pool', 'Status', 'Version', 'Host', 'Running / capacity', 'Last seen'],
      agents.map((a) => {
        const seen = new Date(a.last_seen).getTime();
        const online = !a.revoked && now - seen < offlineAfter;
        return [a.name || a.agent_id, h('code', {}, a.instance_id), names.get(a.pool_id) ?? a.pool_id ?? '',
          badge(a.revoked ? 'revoked' : online ? 'online' : 'offline'), a.version || '',
          a.hostname || '', `${a.running ?? 0} / ${a.capacity ?? '?'}`, ago(now - seen)];
      }), {id: 'agents-table'}));
  });
}
