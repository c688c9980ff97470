/**
 * Stands in for systemd's stopsign-sign.service in tests: before every start it
 * runs the boot guard (ExecStartPre), then runs the sign from whatever slot
 * "current" points at, under that slot's own Node.js; it restarts the sign when
 * it exits (Restart=always) and on SIGHUP (systemctl restart).
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

let child: ChildProcess | null = null;
let stopping = false;
let restartNow = false;

function startSign(): void {
  if (stopping) return;
  const guarded = spawnSync(guard, [root, stateDir], { encoding: 'utf8' });
  if (guarded.stderr) log(`guard ${guarded.stderr.trim()}`);
  const slot = fs.realpathSync(path.join(root, 'current'));
  const out = fs.openSync(`${logFile}.sign`, 'a');
  child = spawn(
    path.join(slot, 'runtime', 'bin', 'node'),
    ['--enable-source-maps', 'dist/sign.mjs'],
    {
      cwd: path.join(slot, 'app'),
      stdio: ['ignore', out, out],
    },
  );
  fs.closeSync(out);
  log(`start ${path.basename(slot)} ${child.pid}`);
  child.once('exit', (code, signal) => {
    log(`exit ${code ?? signal}`);
    child = null;
    const delay = restartNow ? 0 : 300;
    restartNow = false;
    setTimeout(startSign, delay);
  });
}

process.on('SIGHUP', () => {
  log('restart requested');
  if (!child) return;
  restartNow = true;
  child.kill('SIGTERM');
});
process.on('SIGTERM', () => {
  stopping = true;
  if (child) {
    child.once('exit', () => process.exit(0));
    child.kill('SIGTERM');
  } else process.exit(0);
});

startSign();
