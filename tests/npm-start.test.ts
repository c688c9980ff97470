/**
 * `npm start` runs the manager, the sign, the panel simulator and socat as
 * child processes. When any one of them dies, whatever the cause (here a
 * SIGKILL, the case that used to hang), every other child is stopped and
 * start exits non-zero naming the one that died.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/deviceFixtures';

const root = path.resolve(import.meta.dirname, '..');

/** Direct children of a process, with their command lines, from /proc. */
function childrenOf(pid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      found.push({ pid: Number(entry), command });
    } catch {
      // gone while we looked
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-start-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops every child and exits non-zero when one is killed by a signal', async () => {
    const start = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/start.ts',
        '--dir',
        dir,
        '--http-port',
        '0',
        '--broker-port',
        '0',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    start.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) =>
      start.once('exit', (code) => resolve(code)),
    );
    try {
      await waitFor('the demo to be running', () => output.includes('stopsign is running'), 60_000);
      const children = childrenOf(start.pid ?? -1);
      const named = (part: string) => children.find((c) => c.command.includes(part));
      const parts = ['manager/main.ts', 'device/main.ts', 'scripts/panel-sim.ts', 'socat '];
      for (const part of parts) expect(named(part), `${part} in\n${output}`).toBeDefined();
      const sign = named('device/main.ts');

      process.kill(sign?.pid ?? -1, 'SIGKILL');
      const code = await exit;
      expect(code).toBe(1);
      expect(output).toContain('sign exited (SIGKILL); stopping everything');
      for (const part of parts) {
        const child = named(part);
        expect(alive(child?.pid ?? -1), part).toBe(false);
      }
    } finally {
      if (start.exitCode === null) start.kill('SIGKILL');
    }
  }, 120_000);
});
