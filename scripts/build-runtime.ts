/**
 * Builds the sign's release runtime for this machine once: Node.js from the npm
 * registry and the native modules compiled for it, cached in var/bundle-cache
 * under a key of their inputs. Run by scripts/setup.sh; running it again is a
 * cache hit that takes seconds.
 *
 *   npx tsx scripts/build-runtime.ts [--cache-dir var/bundle-cache] [--node 22.23.3]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_NODE_VERSION } from './bundle/buildBundle';
import { hostRuntime } from './bundle/hostRuntime';

const { values } = parseArgs({
  options: {
    'cache-dir': { type: 'string', default: 'var/bundle-cache' },
    node: { type: 'string', default: DEFAULT_NODE_VERSION },
  },
});

const root = path.resolve(import.meta.dirname, '..');
const started = performance.now();
const runtime = await hostRuntime({
  projectRoot: root,
  cacheDir: path.resolve(root, values['cache-dir']),
  nodeVersion: values.node,
  onBuild: (dir) =>
    console.log(
      `building the sign runtime into ${path.relative(root, dir)} ` +
        '(Node.js from the npm registry, native modules compiled for it; minutes)',
    ),
  log: (line) => console.log(`  ${line}`),
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `sign runtime: Node.js ${runtime.nodeVersion} (${runtime.arch}) with ` +
    `${runtime.staged.nativeModules.join(', ') || 'no native modules'}, ` +
    `${runtime.built ? 'built' : 'already built'} in ${seconds} s: ` +
    path.relative(root, runtime.staged.dir),
);
