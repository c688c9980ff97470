/**
 * The JavaScript half of a slot: the sign firmware and the update agent, each
 * one esbuild bundle, plus the package.json that names the release. The
 * packages they import stay external and are returned, so the slot's
 * node_modules holds exactly those (and what they need), nothing the manager uses.
 */
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

export const ENTRY_POINTS = {
  'sign.mjs': 'device/main.ts',
  'update-agent.mjs': 'device/update/main.ts',
} as const;

export interface AppBuild {
  /** Runtime packages imported by the bundles, with the ranges package.json declares. */
  packages: Record<string, string>;
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Packages the sign requires by name at run time, which no import statement shows. */
const LOADED_BY_NAME = ['onoff', 'spi-device'];

export async function buildApp(options: {
  projectRoot: string;
  appDir: string;
  version: string;
  nodeMajor: number;
}): Promise<AppBuild> {
  const { projectRoot, appDir } = options;
  const distDir = path.join(appDir, 'dist');
  fs.mkdirSync(distDir, { recursive: true });
  const rootPackage = JSON.parse(
    fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8'),
  ) as { dependencies?: Record<string, string> };
  const declared = rootPackage.dependencies ?? {};
  const packages: Record<string, string> = {};
  for (const [out, entry] of Object.entries(ENTRY_POINTS)) {
    const result = await build({
      entryPoints: [path.join(projectRoot, entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      target: `node${options.nodeMajor}`,
      sourcemap: true,
      metafile: true,
      logLevel: 'silent',
      outfile: path.join(distDir, out),
    });
    for (const output of Object.values(result.metafile.outputs)) {
      for (const imported of output.imports) {
        if (!imported.external || isBuiltin(imported.path)) continue;
        const name = packageNameOf(imported.path);
        const range = declared[name];
        if (range === undefined) {
          throw new Error(`${entry} imports ${name}, which package.json does not declare`);
        }
        packages[name] = range;
      }
    }
  }
  // The GPIO and SPI drivers load these by name at run time (createRequire), out of esbuild's sight.
  for (const name of LOADED_BY_NAME) {
    const range = declared[name];
    if (range !== undefined) packages[name] = range;
  }
  fs.writeFileSync(
    path.join(appDir, 'package.json'),
    `${JSON.stringify(
      { name: 'stopsign-sign', version: options.version, private: true, type: 'module' },
      null,
      2,
    )}\n`,
  );
  const images = path.join(projectRoot, 'images');
  fs.cpSync(path.join(images, 'systemd'), path.join(appDir, 'images', 'systemd'), {
    recursive: true,
  });
  fs.copyFileSync(path.join(images, 'boot-guard.sh'), path.join(appDir, 'images', 'boot-guard.sh'));
  fs.chmodSync(path.join(appDir, 'images', 'boot-guard.sh'), 0o755);
  // Panel profiles and fonts ship with the release when the project keeps them as files.
  for (const dir of ['panels/profiles', 'assets/fonts']) {
    const from = path.join(projectRoot, dir);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(appDir, dir), { recursive: true });
  }
  return { packages };
}
