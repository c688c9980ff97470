/** Rollouts: the list, one rollout's progress per stage and per sign, steering, and a new rollout. */
import { api } from '../api.js';
import { el, field, formValues, time } from '../dom.js';
import { t } from '../i18n.js';

const MiB = 1024 * 1024;

function rolloutRow(r, selected, onSelect) {
  return el(
    'tr',
    {
      'data-rollout-id': r.rolloutId,
      className: r.rolloutId === selected ? 'selected' : undefined,
      onclick: () => onSelect(r.rolloutId),
    },
    el('td', {}, r.version),
    el('td', { className: r.state }, r.state),
    el('td', {}, `${r.stage + 1} / ${r.spec.stages.length}`),
    el('td', {}, r.reason ?? ''),
    el('td', {}, time(r.createdAt)),
  );
}

function stageRow(s) {
  const c = s.counts;
  return el(
    'tr',
    { 'data-stage': String(s.stage + 1) },
    el('td', {}, String(s.stage + 1)),
    el('td', {}, `${s.percent}%`),
    el('td', {}, String(s.signs)),
    el('td', {}, String(c.pending)),
    el('td', {}, String(c.offered + c.downloading + c.installing + c.trial)),
    el('td', { className: 'succeeded' }, String(c.succeeded)),
    el('td', { className: c.failed > 0 ? 'failed' : undefined }, String(c.failed)),
  );
}

function signRow(s) {
  return el(
    'tr',
    { 'data-device-id': s.deviceId },
    el('td', {}, s.deviceId),
    el('td', {}, String(s.stage + 1)),
    el('td', { className: s.state }, s.state),
    el('td', {}, s.bootedVersion ?? '—'),
    el('td', {}, s.reason ? `${s.reason}${s.detail ? `: ${s.detail}` : ''}` : ''),
    el('td', {}, String(s.attempts)),
  );
}

const table = (headings, tbody) =>
  el('table', {}, el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', {}, t(h))))), tbody);

/** The request a filled-in form stands for: every sign, stages as cumulative percentages. */
function rolloutRequest(values) {
  const body = {
    bundleId: values.bundleId,
    target: { all: true },
    stages: String(values.stages).split(',').map(Number),
    successPercent: Number(values.successPercent),
    failureLimit: { percent: Number(values.failurePercent) },
    deadlineSeconds: Math.round(Number(values.deadlineHours) * 3600),
    maxConcurrentDownloads: Number(values.maxDownloads),
  };
  const window = String(values.window ?? '').trim();
  if (window) {
    const [start, end] = window.split('-').map((s) => s.trim());
    body.maintenanceWindow = { start, end };
  }
  return body;
}

export function rolloutsPage() {
  let selected = null;
  const rollouts = el('tbody', { id: 'rollouts' });
  const stages = el('tbody', { id: 'stages' });
  const signs = el('tbody', { id: 'signs' });
  const detailTitle = el('span', { id: 'detail-id' });
  const actionResult = el('span', { id: 'action-result', role: 'status' });
  const createResult = el('div', { id: 'create-result', className: 'result', role: 'status' });
  const bundles = el('select', { name: 'bundleId', id: 'bundles' });

  const steer = (action) =>
    el(
      'button',
      {
        type: 'button',
        'data-action': action,
        onclick: async () => {
          try {
            const answer = await api('POST', `/api/rollouts/${selected}/${action}`);
            actionResult.textContent = `${t('rollouts.done')}: ${answer.state}`;
          } catch (err) {
            actionResult.textContent = t('refused', { error: err.message });
          }
          void refresh();
        },
      },
      t(`rollouts.${action}`),
    );
  const detail = el(
    'section',
    { id: 'detail', hidden: true },
    el('h2', {}, t('rollouts.rollout'), ' ', detailTitle),
    el(
      'p',
      {},
      steer('pause'),
      steer('resume'),
      steer('retry-failed'),
      steer('cancel'),
      actionResult,
    ),
    table(
      [
        'rollouts.stage',
        'rollouts.share',
        'rollouts.signs',
        'rollouts.waiting',
        'rollouts.inProgress',
        'rollouts.succeeded',
        'rollouts.failed',
      ],
      stages,
    ),
    el('h3', {}, t('rollouts.signs')),
    table(
      [
        'rollouts.sign',
        'rollouts.stage',
        'rollouts.state',
        'rollouts.booted',
        'rollouts.reason',
        'rollouts.attempts',
      ],
      signs,
    ),
  );

  const number = (name, value, attrs = {}) =>
    el('input', { name, type: 'number', value, ...attrs });
  const form = el(
    'form',
    { id: 'create' },
    field(t('rollouts.bundle'), bundles),
    field(t('rollouts.stagesField'), el('input', { name: 'stages', value: '1, 10, 50, 100' })),
    field(t('rollouts.successPercent'), number('successPercent', 95, { min: 0, max: 100 })),
    field(
      t('rollouts.failurePercent'),
      number('failurePercent', 10, { min: 0.1, max: 100, step: 0.1 }),
    ),
    field(t('rollouts.deadlineHours'), number('deadlineHours', 6, { min: 0.01, step: 0.01 })),
    field(t('rollouts.window'), el('input', { name: 'window', placeholder: '01:00-04:00' })),
    field(t('rollouts.maxDownloads'), number('maxDownloads', 50, { min: 1 })),
    el('button', { type: 'submit' }, t('rollouts.start')),
    createResult,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await api('POST', '/api/rollouts', rolloutRequest(formValues(form)));
      createResult.textContent = `${t('rollouts.done')}: ${answer.rolloutId}`;
      selected = answer.rolloutId;
    } catch (err) {
      createResult.textContent = t('refused', { error: err.message });
    }
    void refresh();
  });

  async function showDetail(id) {
    const p = await api('GET', `/api/rollouts/${id}`);
    detail.hidden = false;
    detailTitle.textContent = `${p.rollout.version} · ${p.rollout.state}`;
    stages.replaceChildren(...p.stages.map(stageRow));
    signs.replaceChildren(...p.signs.map(signRow));
  }

  async function refresh() {
    try {
      const list = await api('GET', '/api/rollouts');
      const select = (id) => {
        selected = id;
        void refresh();
      };
      rollouts.replaceChildren(
        ...(list.length
          ? list.map((r) => rolloutRow(r, selected, select))
          : [el('tr', {}, el('td', { colspan: 5 }, t('rollouts.none')))]),
      );
      if (selected) await showDetail(selected);
    } catch (err) {
      createResult.textContent = t('refused', { error: err.message });
    }
  }

  async function loadBundles() {
    try {
      const list = await api('GET', '/api/bundles');
      bundles.replaceChildren(
        ...list.map((b) =>
          el(
            'option',
            { value: b.bundleId },
            `${b.manifest.version} (${b.manifest.arch}, ${(b.size / MiB).toFixed(1)} MiB)`,
          ),
        ),
      );
    } catch (err) {
      createResult.textContent = t('refused', { error: err.message });
    }
  }

  void loadBundles();
  void refresh();
  const timer = setInterval(refresh, 3000);
  const node = el(
    'section',
    {},
    el('h2', {}, t('rollouts.heading')),
    table(
      [
        'rollouts.version',
        'rollouts.state',
        'rollouts.stage',
        'rollouts.reason',
        'rollouts.created',
      ],
      rollouts,
    ),
    detail,
    el('h2', {}, t('rollouts.newRollout')),
    form,
  );
  return { node, stop: () => clearInterval(timer) };
}
