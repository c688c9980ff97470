/**
 * The rollouts page of the console in a real browser (Debian chromium driven by
 * playwright-core), logged in as an admin, over simulated agents signed in as their signs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { SimulatedFleet } from './helpers/simulatedFleet';
import { claimFor, createSign, startTestManager, type RunningManager } from './helpers/system';
import { smallBundle, testKeys } from './helpers/updateFixtures';

const CHROMIUM = process.env.STOPSIGN_CHROMIUM ?? '/usr/bin/chromium';
const keys = testKeys();

describe('rollouts console', () => {
  let dir: string;
  let manager: RunningManager;
  let browser: Browser;
  let fleet: SimulatedFleet;
  let bundleId: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-console-rollout-'));
    const keysFile = path.join(dir, 'keys.json');
    fs.writeFileSync(keysFile, JSON.stringify({ keys: [keys.release.entry] }));
    manager = await startTestManager(dir, {
      bundleTrustedKeysFile: keysFile,
      rolloutTickSeconds: 0.2,
    });
    const agents = [];
    for (let i = 0; i < 5; i += 1) {
      const claim = await createSign(manager, { deviceId: `pole-${i}`, stopId: STOP_CENTRAL });
      const credentials = await claimFor(manager, claim);
      agents.push({
        deviceId: credentials.deviceId,
        password: credentials.mqtt.password,
        caPem: credentials.mqtt.caPem,
      });
    }
    const bundle = await smallBundle({ dir, version: '2.0.0', key: keys.release });
    const res = await manager.api.request('POST', '/api/bundles', fs.readFileSync(bundle.path), {
      'content-type': 'application/octet-stream',
    });
    bundleId = ((await res.json()) as { bundleId: string }).bundleId;
    // The fourth sign offered never answers, so the rollout stays open in its last stage.
    fleet = new SimulatedFleet(manager.brokerUrl, agents, (_offer, index) =>
      index === 3 ? 'silent' : 'succeed',
    );
    await fleet.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts a rollout from the form, shows progress per stage and per sign, and pauses it', async () => {
    const page = await browser.newPage({ locale: 'en-GB', ignoreHTTPSErrors: true });
    await page.goto(`${manager.httpUrl}/`);
    await page.fill('#login input[name="username"]', 'test-admin');
    await page.fill('#login input[name="password"]', 'admin password 1234');
    await page.click('#login button[type="submit"]');
    await page.locator('#who', { hasText: 'test-admin' }).waitFor({ timeout: 10_000 });
    await page.locator('#nav a[data-page="rollouts"]').click();
    await page.locator(`#bundles option[value="${bundleId}"]`).waitFor({ state: 'attached' });
    await page.fill('input[name=stages]', '20, 100');
    await page.fill('input[name=failurePercent]', '50');
    await page.click('#create button[type=submit]');
    await page.locator('#create-result', { hasText: 'Done' }).waitFor();

    // Stage 1 is the canary of one sign; stage 2 the other four, one of which stays silent.
    const stage2 = page.locator('#stages tr[data-stage="2"]');
    await stage2.locator('td.succeeded', { hasText: '3' }).waitFor({ timeout: 15_000 });
    const cells = await page.locator('#stages tr[data-stage="1"] td').allTextContents();
    expect(cells).toEqual(['1', '20%', '1', '0', '0', '1', '0']);
    expect(await stage2.locator('td').allTextContents()).toEqual([
      '2',
      '100%',
      '4',
      '0',
      '1',
      '3',
      '0',
    ]);
    const silent = fleet.offers[3]?.deviceId ?? '';
    expect(await page.locator(`#signs tr[data-device-id="${silent}"]`).textContent()).toContain(
      'offered',
    );
    const done = fleet.offers[0]?.deviceId ?? '';
    expect(await page.locator(`#signs tr[data-device-id="${done}"]`).textContent()).toContain(
      'succeeded2.0.0',
    );

    await page.click('button[data-action=pause]');
    await page.locator('#action-result', { hasText: 'Done: paused' }).waitFor();
    await page.locator('#rollouts td.paused').waitFor();
    await page.close();
  }, 60_000);
});
