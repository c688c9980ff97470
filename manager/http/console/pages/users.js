/** Operators and their roles (admins only: the server refuses everyone else). */
import { api } from '../api.js';
import { el, field, formValues } from '../dom.js';
import { t } from '../i18n.js';

const ROLES = ['viewer', 'operator', 'maintenance', 'admin'];

export function usersPage() {
  const result = el('div', { className: 'result', role: 'status', id: 'users-result' });
  const tbody = el('tbody', { id: 'operators' });
  const section = el('section', {}, el('h2', {}, t('users.heading')), result);

  async function change(username, body) {
    try {
      await api('PATCH', `/api/operators/${encodeURIComponent(username)}`, body);
    } catch (err) {
      result.textContent = t('prov.failed', { error: err.message });
    }
    await refresh();
  }

  function row(op) {
    const role = el(
      'select',
      { onchange: (e) => change(op.username, { role: e.target.value }) },
      ROLES.map((r) => el('option', { value: r, selected: r === op.role }, t(`role.${r}`))),
    );
    const toggle = el(
      'button',
      { type: 'button', onclick: () => change(op.username, { disabled: !op.disabled }) },
      t(op.disabled ? 'users.enable' : 'users.disable'),
    );
    return el(
      'tr',
      { 'data-username': op.username },
      el('td', {}, op.username),
      el('td', {}, role),
      el('td', {}, t(op.disabled ? 'users.disabled' : 'users.active')),
      el('td', {}, toggle),
    );
  }

  async function refresh() {
    try {
      tbody.replaceChildren(...(await api('GET', '/api/operators')).map(row));
      return true;
    } catch (err) {
      result.textContent = t('refused', { error: err.message });
      result.classList.add('error');
      return false;
    }
  }

  const form = el(
    'form',
    { id: 'create-operator' },
    el('strong', {}, t('users.create')),
    field(t('users.username'), el('input', { name: 'username', required: true })),
    field(
      t('users.password'),
      el('input', { name: 'password', type: 'password', minlength: 12, required: true }),
    ),
    field(
      t('users.role'),
      el(
        'select',
        { name: 'role' },
        ROLES.map((r) => el('option', { value: r }, t(`role.${r}`))),
      ),
    ),
    el('button', { type: 'submit' }, t('users.create')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const created = await api('POST', '/api/operators', formValues(form));
      result.textContent = t('users.created', { user: created.username });
      form.reset();
    } catch (err) {
      result.textContent = t('prov.failed', { error: err.message });
    }
    await refresh();
  });

  void refresh().then((allowed) => {
    if (!allowed) return;
    const headings = ['users.username', 'users.role', 'users.status', 'prov.actions'];
    section.append(
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            headings.map((h) => el('th', {}, t(h))),
          ),
        ),
        tbody,
      ),
      form,
    );
  });
  return { node: section };
}
