import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listProfileIds, loadAllPanelProfiles, loadPanelProfile } from '../panels/catalog';
import { PanelProfileError } from '../shared/panelProfile';

const SHIPPED = path.join(import.meta.dirname, '..', 'panels', 'profiles');
const tmp = mkdtempSync(path.join(tmpdir(), 'stopsign-profiles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof PanelProfileError) return err.problems;
    throw err;
  }
  throw new Error('expected a PanelProfileError');
}

describe('panel profiles', () => {
  it('ships the six panels, each valid against the schema with its fonts installed', () => {
    const profiles = loadAllPanelProfiles(SHIPPED);
    expect([...profiles.keys()]).toEqual([
      'eink-1600x1200-grey16',
      'eink-296x128-bwr',
      'eink-800x480-bw',
      'led-128x32-mono',
      'led-192x64-tricolour',
      'led-256x64-red-green',
    ]);
    const summary = [...profiles.values()].map((p) => [
      p.id,
      `${p.width}x${p.height}`,
      p.colour.model,
      p.driver.type,
    ]);
    expect(summary).toContainEqual([
      'led-256x64-red-green',
      '256x64',
      'red-green-led',
      'led-serial',
    ]);
    expect(summary).toContainEqual(['eink-1600x1200-grey16', '1600x1200', 'grey16-eink', 'it8951']);
    expect(summary).toContainEqual(['eink-296x128-bwr', '296x128', 'bwr-eink', 'uc8179']);
  });

  it('reports every problem of a broken file together', () => {
    const good = JSON.parse(
      readFileSync(path.join(SHIPPED, 'eink-800x480-bw.json'), 'utf8'),
    ) as Record<string, unknown>;
    const broken = {
      ...good,
      id: 'broken',
      width: -5,
      colour: { model: 'plasma' },
      driver: { type: 'uc8179', spi: { device: '/dev/ttyS0', speedHz: 10 }, gpio: { busy: 24 } },
    };
    writeFileSync(path.join(tmp, 'broken.json'), JSON.stringify(broken));
    const problems = problemsOf(() => loadPanelProfile('broken', tmp));
    const joined = problems.join('\n');
    for (const where of [
      'width',
      'colour.model',
      'driver.spi.device',
      'driver.spi.speedHz',
      'driver.gpio.reset',
    ]) {
      expect(joined).toContain(`${where}:`);
    }
  });

  it('checks that the parts fit together: fonts, layout, modules, wiring', () => {
    const good = JSON.parse(
      readFileSync(path.join(SHIPPED, 'led-192x64-tricolour.json'), 'utf8'),
    ) as Record<string, Record<string, unknown>>;
    const misfit = {
      ...good,
      id: 'misfit',
      colour: { model: 'bw-eink' },
      modules: { width: 50, height: 32 },
      layout: { ...good.layout, lineHeight: 24, routeWidth: 120 },
      gpio: { ...good.gpio, button: 19 },
    };
    writeFileSync(path.join(tmp, 'misfit.json'), JSON.stringify(misfit));
    const joined = problemsOf(() => loadPanelProfile('misfit', tmp)).join('\n');
    expect(joined).toContain('bw-eink is not a colour model for led glass');
    expect(joined).toContain('no fonts for the layout');
    expect(joined).toContain('leave no room for a destination');
    expect(joined).toContain('do not tile');
    expect(joined).toContain('line 19 is already doorSwitch');
  });

  it('names a missing profile, the known ones and a missing font package', () => {
    expect(problemsOf(() => loadPanelProfile('plasma-screen', SHIPPED)).join()).toContain(
      'known: eink-1600x1200-grey16',
    );
    const good = JSON.parse(readFileSync(path.join(SHIPPED, 'led-128x32-mono.json'), 'utf8')) as {
      fonts: Record<string, { cjk: { file: string } }>;
    };
    good.fonts['16']!.cjk.file = '/usr/share/fonts/none/missing.ttf';
    writeFileSync(path.join(tmp, 'led-128x32-mono.json'), JSON.stringify(good));
    expect(problemsOf(() => loadPanelProfile('led-128x32-mono', tmp)).join()).toContain(
      'install fonts-wqy-zenhei',
    );
    expect(listProfileIds(path.join(tmp, 'nothing-here'))).toEqual([]);
  });
});
