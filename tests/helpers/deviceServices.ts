/**
 * Stands in for systemd on a test sign disk, running its two units:
 *  - stopsign-sign: before every start the boot guard (ExecStartPre), then the
 *    sign from whatever slot "current" points at, under that slot's own Node.js;
 *    restarted when it exits (Restart=always) and on SIGHUP (systemctl restart).
 *  - stopsign-update: the agent from the "committed" slot, restarted whenever it
 *    exits or is killed; started when the test sends "start-agent".
 * Both units are stopped, and this process exits, when the test process goes
 * away (IPC disconnect), so a crashed test leaves nothing running.
 *   SUP_ROOT  install root   SUP_STATE  update state dir   SUP_LOG  log file
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = process.env.SUP_ROOT ?? '';
const stateDir = process.env.SUP_STATE ?? '';
const logFile = process.env.SUP_LOG ?? '';
const guard = path.resolve(import.meta.dirname, '../../images/boot-guard.sh');
const log = (line: string) => fs.appendFileSync(logFile, `${Date.now()} ${line}\n`);

interface Unit {
  name: 'sign' | 'agent';
  child: ChildProcess | null;
  wanted: boolean;
  restartNow: boolean;
}
const units: Record<Unit['name'], Unit> = {
  sign: { name: 'sign', child: null, wanted: true, restartNow: false },
  agent: { name: 'agent', child: null, wanted: false, restartNow: false },
};
let stopping = false;

function start(unit: Unit): void {
  if (stopping || !unit.wanted || unit.child) return;
  let slot: string;
  let script: string;
  if (unit.name === 'sign') {
    const guarded = spawnSync(guard, [root, stateDir], { encoding: 'utf8' });
    if (guarded.stderr) log(`guard ${guarded.stderr.trim()}`);
    slot = fs.realpathSync(path.join(root, 'current'));
    script = 'dist/sign.mjs';
  } else {
    slot = fs.realpathSync(path.join(root, 'committed'));
    script = 'dist/update-agent.mjs';
  }
  const out = fs.openSync(`${logFile}.${unit.name}`, 'a');
  const child = spawn(path.join(slot, 'runtime', 'bin', 'node'), ['--enable-source-maps', script], {
    cwd: path.join(slot, 'app'),
    stdio: ['ignore', out, out],
    // "systemctl restart stopsign-sign" is a SIGHUP to this process here.
    env: { ...process.env, STOPSIGN_UPDATE_RESTART_COMMAND: `kill -HUP ${process.pid}` },
  });
  fs.closeSync(out);
  unit.child = child;
  fs.writeFileSync(`${logFile}.${unit.name}.pid`, String(child.pid));
  log(`start ${unit.name} ${path.basename(slot)} ${child.pid}`);
  child.once('exit', (code, signal) => {
    log(`exit ${unit.name} ${code ?? signal}`);
    unit.child = null;
    const delay = unit.restartNow ? 0 : 300;
    unit.restartNow = false;
    setTimeout(() => start(unit), delay);
  });
}

function shutdown(): void {
  if (stopping) return;
  stopping = true;
  const running = Object.values(units).filter((u) => u.child);
  if (running.length === 0) process.exit(0);
  let left = running.length;
  for (const unit of running) {
    unit.child?.once('exit', () => {
      left -= 1;
      if (left === 0) process.exit(0);
    });
    unit.child?.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const unit of running) unit.child?.kill('SIGKILL');
    process.exit(0);
  }, 12_000).unref();
}

process.on('SIGHUP', () => {
  log('restart sign requested');
  if (!units.sign.child) return;
  units.sign.restartNow = true;
  units.sign.child.kill('SIGTERM');
});
process.on('SIGTERM', shutdown);
process.on('disconnect', shutdown);
process.on('message', (message) => {
  if (message === 'start-agent') {
    units.agent.wanted = true;
    start(units.agent);
  }
});

start(units.sign);
