/** The audit log, filtered, with a CSV export of what the filter matches (admins only). */
import { api } from '../api.js';
import { el, field, formValues, time } from '../dom.js';
import { t } from '../i18n.js';

const show = (value) => (value === null || value === undefined ? '' : JSON.stringify(value));

function eventRow(e) {
  const change = [show(e.before), e.before || e.after ? ' → ' : '', show(e.after)].join('');
  return el(
    'tr',
    { 'data-action': e.action },
    el('td', {}, time(e.at)),
    el('td', {}, e.actor),
    el('td', {}, e.address ?? ''),
    el('td', {}, e.action),
    el('td', {}, e.targetId ?? ''),
    el('td', {}, change),
  );
}

export function auditPage() {
  const result = el('div', { className: 'result', role: 'status', id: 'audit-result' });
  const tbody = el('tbody', { id: 'audit-events' });
  const csv = el(
    'a',
    { id: 'audit-csv', href: '/api/audit.csv', download: 'stopsign-audit.csv' },
    t('audit.csv'),
  );
  const form = el(
    'form',
    { id: 'audit-filter' },
    field(t('audit.filterActor'), el('input', { name: 'actor' })),
    field(t('audit.filterAction'), el('input', { name: 'action' })),
    field(t('audit.filterTarget'), el('input', { name: 'target' })),
    el('button', { type: 'submit' }, t('audit.apply')),
    csv,
  );

  async function refresh() {
    const query = new URLSearchParams(Object.entries(formValues(form)).filter(([, v]) => v !== ''));
    csv.href = `/api/audit.csv?${query}`;
    try {
      const page = await api('GET', `/api/audit?${query}`);
      const rows = page.events.map(eventRow);
      tbody.replaceChildren(
        ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 6 }, t('audit.empty')))]),
      );
    } catch (err) {
      result.textContent = t('refused', { error: err.message });
      result.classList.add('error');
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh();
  });
  void refresh();
  const headings = [
    'audit.time',
    'audit.actor',
    'audit.from',
    'audit.action',
    'audit.target',
    'audit.change',
  ];
  return {
    node: el(
      'section',
      {},
      el('h2', {}, t('audit.heading')),
      form,
      result,
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
    ),
  };
}
