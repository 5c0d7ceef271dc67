// Sign-in: the admin token is posted once and exchanged for a session
// cookie; the field is cleared whatever the answer.
import {api} from '../api.js';
import {fill, h} from '../dom.js';

export function render(main, {message, onSignedIn}) {
  const input = h('input', {type: 'password', id: 'admin-token', name: 'admin-token',
                            autocomplete: 'off', required: true, spellcheck: 'false'});
  const status = h('p', {id: 'signin-status', class: message ? 'notice' : 'hidden', role: 'status'},
                   message || '');
  const button = h('button', {type: 'submit', id: 'signin-button'}, 'Sign in');
  const form = h('form', {class: 'card signin', id: 'signin-form'},
    h('h1', {}, 'Outpost hub'),
    h('p', {class: 'muted'}, 'Sign in with the admin token the hub was started with ',
      h('code', {}, '--admin-token'), ' or ', h('code', {}, '--admin-token-file'), '.'),
    h('label', {for: 'admin-token'}, 'Admin token'), input, button, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value;
    input.value = '';
    button.disabled = true;
    try {
      onSignedIn(await api.signIn(token));
    } catch (e) {
      status.className = 'error-box';
      if (e.status === 401) {
        status.textContent = 'That is not the admin token of this hub.';
      } else if (e.status === 429) {
        status.textContent = 'Too many failed attempts from this address. Wait a minute and try again.';
      } else {
        status.textContent = e.message;
      }
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
  input.focus();
}
