/** Every sign with its state and last frame, broker refusals, and the announcement form. */
import { api } from '../api.js';
import { el, field } from '../dom.js';
import { t } from '../i18n.js';

const ago = (s) =>
  s === null
    ? t('fleet.never')
    : t('fleet.ago', { n: Math.max(0, Math.round(Date.now() / 1000 - s)) });

function signRow(sign) {
  const state = el(
    'td',
    { className: sign.online ? 'online' : 'offline' },
    t(sign.online ? 'fleet.online' : 'fleet.offline'),
  );
  const panel = el(
    'td',
    { className: sign.panelOk === false ? 'offline' : undefined },
    sign.panelOk === null ? '—' : sign.panelOk ? 'ok' : sign.panelError,
  );
  // The glass the manager has on record, and what the sign says it drives when that differs.
  const glass = el(
    'td',
    { className: sign.panelProfileReported ? 'error' : undefined },
    sign.panelProfileReported
      ? t('fleet.profileReported', { id: sign.panelProfile, reported: sign.panelProfileReported })
      : sign.panelProfile,
  );
  const cabinet = el(
    'td',
    { className: sign.doorOpenSince !== null ? 'error' : undefined },
    sign.doorOpenSince !== null ? t('fleet.doorOpen', { since: ago(sign.doorOpenSince) }) : '—',
  );
  const frame = sign.frameUrl
    ? el('img', {
        className: 'frame',
        alt: t('fleet.frameOf', { id: sign.deviceId }),
        src: sign.frameUrl,
      })
    : t('fleet.noFrame');
  return el(
    'tr',
    { 'data-device-id': sign.deviceId },
    el('td', {}, sign.label ? `${sign.deviceId} (${sign.label})` : sign.deviceId),
    el('td', {}, sign.stopId),
    state,
    el('td', {}, sign.mode ?? '—'),
    glass,
    panel,
    cabinet,
    el('td', {}, ago(sign.lastSeenAt)),
    el(
      'td',
      { className: sign.refusedByBroker ? 'error' : undefined },
      sign.refusedByBroker ?? '—',
    ),
    el('td', {}, frame),
  );
}

/** The API's target for the chosen kind; a list of stops is split at commas and spaces. */
function targetOf(kind, id) {
  if (kind === 'city') return { city: true };
  if (kind === 'stopIds') return { stopIds: id.split(/[\s,]+/).filter((s) => s !== '') };
  return { [kind]: id.trim() };
}

function announcementForm(onSent) {
  const result = el('div', { className: 'result', id: 'result', role: 'status' });
  const form = el(
    'form',
    { id: 'announce' },
    el('strong', {}, t('announce.heading')),
    field(
      t('announce.target'),
      el(
        'select',
        { name: 'targetKind' },
        el('option', { value: 'stopId' }, t('announce.stop')),
        el('option', { value: 'stopIds' }, t('announce.stops')),
        el('option', { value: 'routeId' }, t('announce.route')),
        el('option', { value: 'city' }, t('announce.city')),
        el('option', { value: 'deviceId' }, t('announce.sign')),
      ),
    ),
    field(t('announce.targetId'), el('input', { name: 'targetId' })),
    field(t('announce.en'), el('input', { name: 'en', maxlength: 200 })),
    field(t('announce.zh'), el('input', { name: 'zh', maxlength: 200 })),
    field(
      t('announce.priority'),
      el(
        'select',
        { name: 'priority' },
        el('option', {}, 'info'),
        el('option', {}, 'warning'),
        el('option', {}, 'emergency'),
      ),
    ),
    field(
      t('announce.minutes'),
      el('input', { name: 'minutes', type: 'number', min: 1, value: 60 }),
    ),
    el('button', { type: 'submit' }, t('announce.send')),
    result,
  );
  // The whole city needs no id: the field is off while it is chosen.
  const kind = form.querySelector('select[name="targetKind"]');
  kind.addEventListener('change', () => {
    form.querySelector('input[name="targetId"]').disabled = kind.value === 'city';
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const text = { en: f.get('en') };
    if (f.get('zh')) text.zh = f.get('zh');
    try {
      const answer = await api('POST', '/api/announcements', {
        target: targetOf(f.get('targetKind'), f.get('targetId') ?? ''),
        text,
        priority: f.get('priority'),
        durationSeconds: Number(f.get('minutes')) * 60,
      });
      const sent = t('announce.sent', {
        time: new Date(answer.expiresAt * 1000).toLocaleTimeString(),
      });
      // Characters some targeted glass cannot draw: shown replaced, and the operator is told now.
      const gaps = (answer.warnings ?? []).map((w) =>
        t('announce.glyphWarning', { profile: w.profile, characters: w.characters.join(' ') }),
      );
      result.textContent = [sent, ...gaps].join(' ');
    } catch (err) {
      result.textContent = t('announce.notSent', { error: err.message });
    }
    onSent();
  });
  return form;
}

export function fleetPage() {
  const headings = [
    'sign',
    'stop',
    'state',
    'showing',
    'profile',
    'panel',
    'cabinet',
    'lastSeen',
    'refused',
    'lastFrame',
  ];
  const tbody = el(
    'tbody',
    { id: 'signs' },
    el('tr', {}, el('td', { colspan: headings.length }, t('fleet.loading'))),
  );
  const refusals = el('p', { className: 'refusals', id: 'broker-refusals' });
  const warnings = el('ul', {
    id: 'warnings',
    className: 'offline',
    'aria-label': t('fleet.warnings'),
  });
  async function refresh() {
    try {
      const [signs, health] = await Promise.all([
        api('GET', '/api/signs'),
        api('GET', '/api/health'),
      ]);
      tbody.replaceChildren(
        ...(signs.length
          ? signs.map(signRow)
          : [el('tr', {}, el('td', { colspan: headings.length }, t('fleet.none')))]),
      );
      warnings.replaceChildren(
        ...(health.timetableWarnings ?? []).map((w) =>
          el('li', {}, t('fleet.timetableWarning', { warning: w })),
        ),
      );
      const broker = health.brokerRefusals;
      refusals.textContent = broker
        ? t('fleet.brokerRefusals', {
            total: broker.total,
            reasons:
              Object.entries(broker.byReason)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ') || '—',
          })
        : t('fleet.brokerRefusalsExternal');
    } catch (err) {
      tbody.replaceChildren(
        el(
          'tr',
          {},
          el('td', { colspan: headings.length }, t('unreachable', { error: err.message })),
        ),
      );
    }
  }
  const node = el(
    'section',
    {},
    warnings,
    refusals,
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          headings.map((h) => el('th', {}, t(`fleet.${h}`))),
        ),
      ),
      tbody,
    ),
    announcementForm(refresh),
  );
  void refresh();
  const timer = setInterval(refresh, 3000);
  return { node, stop: () => clearInterval(timer) };
}
