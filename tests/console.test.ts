/** The fleet console in a real browser (Debian chromium driven by playwright-core). */
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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

  beforeAll(async () => {
    system = await startSystem({ deviceId: DEVICE, stopId: STOP_CENTRAL, label: 'platform A' });
    ({ manager, sign } = system);
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

  it('lists the sign online with its last frame, and sends an announcement from the form', async () => {
    const page = await browser.newPage();
    await page.goto(`${manager.httpUrl}/`);
    const row = page.locator(`tr[data-device-id="${DEVICE}"]`);
    await row.locator('td.online').waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('platform A');
    expect(await row.textContent()).toContain('live');
    // Each cell sits under its own heading.
    const headings = await page.locator('thead th').allTextContents();
    const cells = await row.locator('td').allTextContents();
    expect(headings).toHaveLength(cells.length);
    expect(cells[headings.indexOf('Panel')]).toBe('ok');
    expect(cells[headings.indexOf('Showing')]).toBe('live');

    const frame = row.locator('img.frame');
    await frame.waitFor({ timeout: 15_000 });
    // Evaluated in the page; kept as text so the project needs no DOM typings.
    await page.waitForFunction(
      `(() => {
        const img = document.querySelector('tr[data-device-id="${DEVICE}"] img.frame');
        return img !== null && img.complete && img.naturalWidth === 192 && img.naturalHeight === 64;
      })()`,
      undefined,
      { timeout: 15_000 },
    );

    await page.selectOption('select[name="targetKind"]', 'deviceId');
    await page.fill('input[name="targetId"]', DEVICE);
    await page.fill('input[name="en"]', 'Stop closed');
    await page.fill('input[name="zh"]', '本站暂停');
    await page.selectOption('select[name="priority"]', 'warning');
    await page.click('button[type="submit"]');
    await page.locator('#result', { hasText: 'Sent' }).waitFor({ timeout: 5000 });
    await waitFor(
      'announcement on the sign',
      () => sign.sign.state().view?.announcement?.text.en === 'Stop closed',
      10_000,
    );
    await page.screenshot({ path: path.join(system.dir, 'console.png') });

    await page.fill('input[name="targetId"]', 'no-such-sign');
    await page.click('button[type="submit"]');
    await page.locator('#result', { hasText: 'Not sent' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#result').textContent()).toContain('no-such-sign');
  });
});
