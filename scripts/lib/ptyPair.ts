/**
 * Two connected pseudo-terminals made by socat: whatever is written to one
 * comes out of the other, like a null-modem cable between sign and panel.
 */
import { spawn } from 'node:child_process';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface PtyPair {
  /** The sign's end (the driver opens this). */
  devicePath: string;
  /** The panel's end (the simulator opens this). */
  panelPath: string;
  /** Resolves with the signal or exit code when socat ends, whoever ended it. */
  exited: Promise<string>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 5000;

export async function openPtyPair(dir: string): Promise<PtyPair> {
  await mkdir(dir, { recursive: true });
  const devicePath = join(dir, 'sign-tty');
  const panelPath = join(dir, 'panel-tty');
  // A stale link would look ready before socat made the new one.
  await Promise.all([rm(devicePath, { force: true }), rm(panelPath, { force: true })]);

  const socat = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${panelPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  let transferring = false;
  socat.stderr.setEncoding('utf8');
  socat.stderr.on('data', (text: string) => {
    stderr += text;
    // socat -d -d says this once both ptys exist and it relays bytes.
    if (text.includes('starting data transfer loop')) transferring = true;
  });
  const exited = new Promise<string>((resolve) =>
    socat.once('close', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  let failure: Error | undefined;
  socat.once('error', (err: NodeJS.ErrnoException) => {
    failure =
      err.code === 'ENOENT'
        ? new Error('socat not found: install it with apt-get install socat')
        : new Error(`could not start socat: ${err.message}`);
  });
  socat.once('exit', (code, signal) => {
    failure ??= new Error(
      `socat exited (${signal ?? code}) before the ptys were ready: ${stderr.trim()}`,
    );
  });

  const close = async (): Promise<void> => {
    if (socat.exitCode === null && socat.signalCode === null && socat.pid !== undefined) {
      socat.kill('SIGTERM');
      await exited;
    }
    await Promise.all([rm(devicePath, { force: true }), rm(panelPath, { force: true })]);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (failure) {
      await close();
      throw failure;
    }
    if (transferring && (await exists(devicePath)) && (await exists(panelPath))) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(
        `socat did not create ${devicePath} and ${panelPath} within ${READY_TIMEOUT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { devicePath, panelPath, exited, close };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
