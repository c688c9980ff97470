/** The console shell: who is logged in, the language, and which page shows. */
import { api, ApiError, setCsrfToken } from './api.js';
import { language, setLanguage, t } from './i18n.js';
import { auditPage } from './pages/audit.js';
import { fleetPage } from './pages/fleet.js';
import { loginPage } from './pages/login.js';
import { provisioningPage } from './pages/provisioning.js';
import { usersPage } from './pages/users.js';

const pages = {
  fleet: fleetPage,
  provisioning: provisioningPage,
  users: usersPage,
  audit: auditPage,
};
const main = document.getElementById('page');
let me = null;
let stopPage = () => undefined;

function renderChrome() {
  document.getElementById('title').textContent = t('title');
  document.getElementById('language').textContent = t('language');
  document.getElementById('logout').textContent = t('logout');
  document.getElementById('logout').hidden = me === null;
  document.getElementById('nav').hidden = me === null;
  document.getElementById('who').textContent = me
    ? t('signedInAs', { user: me.username, role: t(`role.${me.role}`) })
    : '';
  const current = location.hash.replace('#/', '') || 'fleet';
  for (const link of document.querySelectorAll('#nav a')) {
    link.textContent = t(`nav.${link.dataset.page}`);
    link.classList.toggle('current', link.dataset.page === current);
  }
}

async function show() {
  stopPage();
  stopPage = () => undefined;
  renderChrome();
  if (me === null) {
    main.replaceChildren(loginPage({ onLoggedIn }));
    return;
  }
  const name = location.hash.replace('#/', '') || 'fleet';
  const page = pages[name] ?? fleetPage;
  const mounted = page({ me });
  main.replaceChildren(mounted.node);
  stopPage = mounted.stop ?? (() => undefined);
}

async function onLoggedIn(session) {
  me = { username: session.operator.username, role: session.operator.role };
  setCsrfToken(session.csrfToken);
  await show();
}

async function whoAmI() {
  try {
    const session = await api('GET', '/api/session');
    me = { username: session.username, role: session.role };
    setCsrfToken(session.csrfToken);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    me = null;
  }
}

document.getElementById('language').addEventListener('click', () => {
  setLanguage(language() === 'zh' ? 'en' : 'zh');
  void show();
});
document.getElementById('logout').addEventListener('click', async () => {
  await api('DELETE', '/api/session').catch(() => undefined);
  me = null;
  setCsrfToken('');
  await show();
});
window.addEventListener('hashchange', () => void show());

setLanguage(language());
await whoAmI();
await show();
