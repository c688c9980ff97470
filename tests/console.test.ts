/**
 * The fleet console in a real browser (Debian chromium driven by playwright-core),
 * over HTTPS with security on: log in, provision a sign, post an announcement as
 * an operator, be refused an admin page as that operator, read the audit log.
 */
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import {
  startSystem,
  type RunningManager,
  type RunningSign,
  type RunningSystem,
} from './helpers/system';

const DEVICE = 'console-sign-1';
const CHROMIUM = process.env.STOPSIGN_CHROMIUM ?? '/usr/bin/chromium';

describe('fleet console', () => {
  let system: RunningSystem;
  let manager: RunningManager;
  let sign: RunningSign;
  let browser: Browser;

  /** A fresh browser page logged in as `username` through the login form. */
  const logIn = async (username: string, password: string): Promise<Page> => {
    // The manager's certificate comes from its own CA, which this browser does not know.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${manager.httpUrl}/`);
    await page.fill('#login input[name="username"]', username);
    await page.fill('#login input[name="password"]', password);
    await page.click('#login button[type="submit"]');
    await page.locator('#who', { hasText: username }).waitFor({ timeout: 10_000 });
    return page;
  };

  beforeAll(async () => {
    system = await startSystem({ deviceId: DEVICE, stopId: STOP_CENTRAL, label: 'platform A' });
    ({ manager, sign } = system);
    await manager.tokenFor('operator');
    await waitFor('live mode', () => sign.sign.state().mode === 'live', 15_000);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  it('asks for a login first and refuses a wrong password', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${manager.httpUrl}/`);
    expect(await page.locator('#signs').count()).toBe(0);
    await page.fill('#login input[name="username"]', 'test-admin');
    await page.fill('#login input[name="password"]', 'not the password at all');
    await page.click('#login button[type="submit"]');
    await page.locator('#login-result', { hasText: 'Not logged in' }).waitFor({ timeout: 5000 });
    await context.close();
  });

  it('shows an admin the fleet with the last frame, and provisions a new sign with its claim code and QR', async () => {
    const page = await logIn('test-admin', 'admin password 1234');
    const row = page.locator(`tr[data-device-id="${DEVICE}"]`);
    await row.locator('td.online').waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('platform A');
    // Each cell sits under its own heading.
    const headings = await page.locator('thead th').allTextContents();
    const cells = await row.locator('td').allTextContents();
    expect(headings).toHaveLength(cells.length);
    expect(cells[headings.indexOf('Panel')]).toBe('ok');
    expect(cells[headings.indexOf('Panel profile')]).toBe('led-192x64-tricolour');
    expect(cells[headings.indexOf('Cabinet')]).toBe('—');
    expect(cells[headings.indexOf('Showing')]).toBe('live');
    await page.waitForFunction(
      `(() => {
        const img = document.querySelector('tr[data-device-id="${DEVICE}"] img.frame');
        return img !== null && img.complete && img.naturalWidth === 192 && img.naturalHeight === 64;
      })()`,
      undefined,
      { timeout: 15_000 },
    );

    await page.click('a[data-page="provisioning"]');
    await page.fill('#create-sign input[name="deviceId"]', 'console-new-1');
    await page.fill('#create-sign input[name="stopId"]', STOP_CENTRAL);
    await page.fill('#create-sign input[name="label"]', 'bay 9');
    await page.click('#create-sign button[type="submit"]');
    const code = await page.locator('#claim-code').textContent({ timeout: 10_000 });
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    await page.waitForFunction(
      `(() => { const img = document.getElementById('claim-qr'); return img && img.complete && img.naturalWidth > 100; })()`,
      undefined,
      { timeout: 5000 },
    );
    const state = page.locator('tr[data-device-id="console-new-1"] .provisioning-state');
    await state.filter({ hasText: 'awaiting claim' }).waitFor({ timeout: 5000 });
    await page.screenshot({ path: path.join(system.dir, 'console-provisioning.png') });
    await page.context().close();
  });

  it('lets an operator send an announcement from the form, and refuses them the users page', async () => {
    const page = await logIn('test-operator', 'operator password 1234');
    await page.locator(`tr[data-device-id="${DEVICE}"] td.online`).waitFor({ timeout: 15_000 });
    await page.selectOption('select[name="targetKind"]', 'deviceId');
    await page.fill('input[name="targetId"]', DEVICE);
    await page.fill('input[name="en"]', 'Stop closed');
    await page.fill('input[name="zh"]', '本站暂停');
    await page.selectOption('select[name="priority"]', 'warning');
    await page.click('#announce button[type="submit"]');
    await page.locator('#result', { hasText: 'Sent' }).waitFor({ timeout: 5000 });
    await waitFor(
      'announcement on the sign',
      () => sign.sign.state().view?.announcement?.text.en === 'Stop closed',
      10_000,
    );
    // A character the sign's fonts lack: sent, and the operator is told it shows replaced.
    await page.fill('input[name="en"]', 'Lift closed 🚧');
    await page.click('#announce button[type="submit"]');
    await page.locator('#result', { hasText: 'cannot draw' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#result').textContent()).toContain(
      'led-192x64-tricolour cannot draw 🚧',
    );
    await page.fill('input[name="targetId"]', 'no-such-sign');
    await page.click('#announce button[type="submit"]');
    await page.locator('#result', { hasText: 'Not sent' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#result').textContent()).toContain('no-such-sign');
    // A route the timetable lacks is refused with its id; the whole city needs no id at all.
    await page.selectOption('select[name="targetKind"]', 'routeId');
    await page.fill('input[name="targetId"]', 'NO-SUCH-ROUTE');
    await page.click('#announce button[type="submit"]');
    await page.locator('#result', { hasText: 'NO-SUCH-ROUTE' }).waitFor({ timeout: 5000 });
    await page.selectOption('select[name="targetKind"]', 'city');
    expect(await page.locator('input[name="targetId"]').isDisabled()).toBe(true);
    await page.fill('input[name="en"]', 'Storm: all service suspended');
    await page.selectOption('select[name="priority"]', 'emergency');
    await page.click('#announce button[type="submit"]');
    await waitFor(
      'the city-wide emergency on the sign',
      () => sign.sign.state().view?.announcement?.text.en === 'Storm: all service suspended',
      10_000,
    );

    await page.click('a[data-page="users"]');
    const refusal = page.locator('#users-result', { hasText: 'Not allowed' });
    await refusal.waitFor({ timeout: 5000 });
    expect(await refusal.textContent()).toMatch(/admin/);
    expect(await page.locator('#operators tr').count()).toBe(0);
    await page.context().close();
  });

  it('shows an admin the audit log of what happened, in Chinese too', async () => {
    const page = await logIn('test-admin', 'admin password 1234');
    await page.click('a[data-page="audit"]');
    const posted = page.locator('tr[data-action="announcement.post"]');
    await posted.first().waitFor({ timeout: 5000 });
    expect(await posted.first().textContent()).toContain('test-operator');
    expect(await page.locator('tr[data-action="sign.create"]').count()).toBeGreaterThan(0);
    await page.fill('#audit-filter input[name="action"]', 'sign.');
    await page.click('#audit-filter button[type="submit"]');
    await page.waitForFunction(
      `document.querySelectorAll('tr[data-action="announcement.post"]').length === 0`,
    );
    await page.click('#language');
    await page.locator('#title', { hasText: '车队控制台' }).waitFor({ timeout: 5000 });
    expect(await page.locator('a[data-page="audit"]').textContent()).toBe('审计日志');
    await page.screenshot({ path: path.join(system.dir, 'console-audit-zh.png') });
    await page.context().close();
  });
});
