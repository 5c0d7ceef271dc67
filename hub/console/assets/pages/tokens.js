// Agent tokens: create (shown once, with the docker run line and a
// Kubernetes Secret), list, revoke.
import {api} from '../api.js';
import {copyBlock, confirmButton, empty, fill, h, table, when} from '../dom.js';
import {poolNames, poolSelect} from './pools.js';

export function dockerLine(image, token) {
  return `docker run ${image} -u ${location.origin}/api -t ${token}`;
}

export function secretYaml(token) {
  return ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: outpost-agent-token',
          'type: Opaque', 'stringData:', `  token: "${token}"`, ''].join('\n');
}

function createdPanel(ctx, created, pools) {
  const pool = pools.get(created.pool_id) ?? created.pool_id;
  return h('section', {class: 'card created', id: 'new-token', 'aria-labelledby': 'new-token-title'},
    h('h2', {id: 'new-token-title'}, 'Token created — copy it now'),
    h('p', {}, 'This is the only time the token is shown. The hub keeps only its hash. Agents started ',
      'with it belong to pool ', h('strong', {id: 'new-token-pool'}, pool), '.'),
    copyBlock('Token', created.token, 'new-token-value'),
    copyBlock('Start an agent with Docker', dockerLine(ctx.session.agentImage, created.token),
              'docker-line'),
    copyBlock('Or store it as a Kubernetes Secret (deploy/kubernetes reads this name and key)',
              secretYaml(created.token), 'k8s-secret'),
    h('p', {class: 'muted'}, 'The agent then appears on the ', h('a', {href: '#/agents'}, 'Agents'),
      ' page within a few seconds.'));
}

export async function render(main, ctx) {
  const list = h('div', {id: 'token-list'});
  const created = h('div');
  const name = h('input', {id: 'token-name', name: 'name', required: true, placeholder: 'prod-eu-agent',
                           autocomplete: 'off'});
  const poolList = await api.pools.list();
  const names = poolNames(poolList);
  const pool = poolSelect('token-pool', poolList, ctx.args[0]);
  const form = h('form', {class: 'card inline-form', id: 'token-form'},
    h('h2', {}, 'New agent token'),
    h('div', {class: 'field'}, h('label', {for: 'token-name'}, 'Name'), name),
    h('div', {class: 'field'}, h('label', {for: 'token-pool'}, 'Pool'), pool),
    h('button', {type: 'submit', id: 'token-create'}, 'Create token'));

  async function refresh() {
    const tokens = await api.tokens.list();
    if (tokens.length === 0) {
      fill(list, empty('No token yet.', 'Create one above; each agent (or group of replicas) gets its own token.'));
      return;
    }
    fill(list, table(['Name', 'Id', 'Pool', 'Created', 'Last used', 'State', ''],
      tokens.map((t) => [t.name, h('code', {}, t.id), names.get(t.pool_id) ?? t.pool_id, when(t.created_at),
        when(t.last_used_at), t.revoked ? 'revoked' : 'active',
        t.revoked ? '' : confirmButton('Revoke', 'Click again to revoke', async () => {
          await api.tokens.revoke(t.id);
          ctx.toast(`Token ${t.name} revoked: its agents are refused from now on.`);
          await refresh();
        })]), {id: 'tokens-table'}));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const t = await api.tokens.create(name.value.trim(), pool.value);
      name.value = '';
      fill(created, createdPanel(ctx, t, names));
      document.getElementById('new-token-title').focus?.();
      await refresh();
    } catch (e) {
      ctx.toast(e.message);
    }
  });

  fill(main, h('h1', {}, 'Tokens'),
    h('p', {class: 'muted'}, 'An agent authenticates with its token; revoking it stops the agent at its next call.'),
    form, created, list);
  await refresh();
}
