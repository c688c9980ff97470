/** Create a sign and hand its claim code and QR code to the installer; revoke, re-claim, delete. */
import { api } from '../api.js';
import { el, field, formValues, time } from '../dom.js';
import { t } from '../i18n.js';

function claimCard(deviceId, claim) {
  return el(
    'div',
    { className: 'claim', id: 'claim' },
    el('strong', {}, t('prov.claimFor', { id: deviceId })),
    el('p', {}, `${t('prov.code')}: `, el('code', { id: 'claim-code' }, claim.code)),
    el('img', { id: 'claim-qr', alt: claim.claim, src: `data:image/png;base64,${claim.qrPng}` }),
    el('p', {}, t('prov.expires', { time: time(claim.expiresAt) })),
  );
}

function actionButton(className, label, onclick) {
  return el('button', { type: 'button', className, onclick }, label);
}

export function provisioningPage() {
  const output = el('div', { id: 'provision-output' });
  const result = el('div', { className: 'result', role: 'status', id: 'provision-result' });
  const tbody = el('tbody', { id: 'provision-signs' });

  async function act(what, deviceId, call) {
    try {
      const answer = await call();
      result.textContent = t('prov.done', { what: t(`prov.${what}`), id: deviceId });
      if (answer?.claim) output.replaceChildren(claimCard(deviceId, answer.claim));
    } catch (err) {
      result.textContent = t('prov.failed', { error: err.message });
    }
    await refresh();
  }

  function row(sign) {
    const id = encodeURIComponent(sign.deviceId);
    const remove = () => {
      if (confirm(t('prov.confirmDelete', { id: sign.deviceId }))) {
        void act('delete', sign.deviceId, () => api('DELETE', `/api/signs/${id}`));
      }
    };
    return el(
      'tr',
      { 'data-device-id': sign.deviceId },
      el('td', {}, sign.deviceId),
      el('td', {}, sign.stopId),
      el(
        'td',
        { className: 'provisioning-state' },
        t(`state.${sign.provisioning?.state ?? 'unprovisioned'}`),
      ),
      el(
        'td',
        {},
        actionButton('revoke', t('prov.revoke'), () =>
          act('revoke', sign.deviceId, () => api('POST', `/api/signs/${id}/revoke`)),
        ),
        ' ',
        actionButton('reprovision', t('prov.reprovision'), () =>
          act('reprovision', sign.deviceId, () => api('POST', `/api/signs/${id}/reprovision`)),
        ),
        ' ',
        actionButton('delete', t('prov.delete'), remove),
      ),
    );
  }

  async function refresh() {
    try {
      tbody.replaceChildren(...(await api('GET', '/api/signs')).map(row));
    } catch (err) {
      result.textContent = t('refused', { error: err.message });
    }
  }

  const form = el(
    'form',
    { id: 'create-sign' },
    el('strong', {}, t('prov.heading')),
    field(t('prov.deviceId'), el('input', { name: 'deviceId' })),
    field(t('prov.stop'), el('input', { name: 'stopId', required: true })),
    field(t('prov.label'), el('input', { name: 'label', maxlength: 100 })),
    el('button', { type: 'submit' }, t('prov.create')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(formValues(form)).filter(([, v]) => v !== ''));
    try {
      const sign = await api('POST', '/api/signs', values);
      output.replaceChildren(sign.claim ? claimCard(sign.deviceId, sign.claim) : '');
      result.textContent = t('prov.done', { what: t('prov.create'), id: sign.deviceId });
      form.reset();
    } catch (err) {
      result.textContent = t('prov.failed', { error: err.message });
    }
    await refresh();
  });

  void refresh();
  const headings = ['fleet.sign', 'fleet.stop', 'prov.state', 'prov.actions'];
  return {
    node: el(
      'section',
      {},
      form,
      output,
      result,
      el('h2', {}, t('prov.signs')),
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
