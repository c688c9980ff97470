/** Log in; on a manager's first start, create the admin with the printed setup token. */
import { api } from '../api.js';
import { el, field, formValues } from '../dom.js';
import { t } from '../i18n.js';

export function loginPage({ onLoggedIn }) {
  const result = el('div', { className: 'result', role: 'status', id: 'login-result' });
  const login = el(
    'form',
    { id: 'login' },
    el('strong', {}, t('login.heading')),
    field(
      t('login.username'),
      el('input', { name: 'username', autocomplete: 'username', required: true }),
    ),
    field(
      t('login.password'),
      el('input', {
        name: 'password',
        type: 'password',
        autocomplete: 'current-password',
        required: true,
      }),
    ),
    el('button', { type: 'submit' }, t('login.submit')),
    result,
  );
  login.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await onLoggedIn(await api('POST', '/api/session', formValues(login)));
    } catch (err) {
      result.textContent = t('login.failed', { error: err.message });
    }
  });

  const setupResult = el('div', { className: 'result', role: 'status' });
  const setup = el(
    'form',
    { id: 'setup' },
    el('strong', {}, t('setup.heading')),
    field(t('setup.token'), el('input', { name: 'setupToken', required: true })),
    field(t('login.username'), el('input', { name: 'username', required: true })),
    field(
      t('users.password'),
      el('input', { name: 'password', type: 'password', minlength: 12, required: true }),
    ),
    el('button', { type: 'submit' }, t('setup.submit')),
    setupResult,
  );
  setup.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/api/setup', formValues(setup));
      setupResult.textContent = t('setup.done');
    } catch (err) {
      setupResult.textContent = t('prov.failed', { error: err.message });
    }
  });
  return el('div', {}, login, el('details', {}, el('summary', {}, t('setup.heading')), setup));
}
