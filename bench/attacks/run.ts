/**
 * The attacks of issue 10, measured against a manager started from any
 * checkout: `tsx bench/attacks/run.ts --root <checkout> [--big]`. Every feed
 * and bomb is generated here, in a temporary folder, and deleted after.
 * Prints one line per attack: status, seconds, peak manager RSS, worst API
 * answer time, whether the manager survived.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { Response } from 'undici';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tinyGtfsZip } from '../../tests/helpers/gtfsFixture';
import {
  SYNTHETIC_HUB,
  writeSyntheticCity,
  writeZipBomb,
} from '../../tests/helpers/syntheticFeeds';
import {
  OBSERVER_PASSWORD,
  startManagerProcess,
  watch,
  type ManagerProcess,
} from './managerProcess';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    big: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const root = path.resolve(values.root);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-attacks-'));
const MiB = 1024 * 1024;

interface Outcome {
  attack: string;
  result: string;
  seconds: number;
  peakRssMiB: number;
  worstAnswerMs: number;
  survived: boolean;
}
const outcomes: Outcome[] = [];

function report(o: Outcome): void {
  outcomes.push(o);
  console.log(
    `| ${o.attack} | ${o.result} | ${o.seconds.toFixed(1)} s | ${o.peakRssMiB.toFixed(0)} MiB | ${o.worstAnswerMs.toFixed(0)} ms | ${o.survived ? 'yes' : 'NO'} |`,
  );
}

async function withManager(
  name: string,
  env: Record<string, string>,
  attack: (m: ManagerProcess) => Promise<string>,
): Promise<void> {
  if (values.only && !name.includes(values.only)) return;
  const dir = fs.mkdtempSync(path.join(work, 'm-'));
  const tiny = path.join(dir, 'tiny.zip');
  fs.writeFileSync(tiny, tinyGtfsZip());
  const manager = await startManagerProcess(root, path.join(dir, 'data'), tiny, env);
  const w = watch(manager);
  const started = performance.now();
  let result: string;
  try {
    result = await attack(manager);
  } catch (err) {
    result = `error: ${(err as Error).message.slice(0, 80)}`;
  }
  const seconds = (performance.now() - started) / 1000;
  // Still answering a moment later?
  await new Promise((r) => setTimeout(r, 500));
  const seen = w.stop();
  let survived = manager.alive();
  if (survived) {
    try {
      survived = (await manager.fetch('/api/health', { signal: AbortSignal.timeout(10_000) })).ok;
    } catch {
      survived = false;
    }
  }
  report({
    attack: name,
    result,
    seconds,
    peakRssMiB: seen.peakRss,
    worstAnswerMs: seen.worstAnswerMs,
    survived,
  });
  await manager.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** POSTs a zip with node:https, which, unlike fetch, waits as long as the manager takes. */
async function upload(m: ManagerProcess, file: string | Buffer): Promise<string> {
  const body = typeof file === 'string' ? fs.readFileSync(file) : file;
  const url = new URL('/api/gtfs', m.httpUrl);
  return new Promise((resolve) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca: m.caPem,
        headers: {
          'content-type': 'application/zip',
          'content-length': body.length,
          authorization: `Bearer ${m.token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let reason = '';
          try {
            reason = (JSON.parse(text) as { error?: string }).error ?? '';
          } catch {
            // not JSON
          }
          resolve(`${res.statusCode}${reason ? ` ${reason.slice(0, 70)}` : ''}`);
        });
      },
    );
    req.on('error', (err) => resolve(`connection ${err.message}`));
    req.end(body);
  });
}

async function main(): Promise<void> {
  console.log(`attacks on ${root}`);
  console.log(
    '| attack | result | time | peak manager RSS | worst /api/health answer | manager survived |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');

  const bomb2g = path.join(work, 'bomb-2g.zip');
  writeZipBomb(bomb2g, 2 * 1024 ** 3);
  await withManager('5 MB zip inflating to 2 GiB', {}, (m) => upload(m, bomb2g));
  fs.rmSync(bomb2g);

  const bomb400 = path.join(work, 'bomb-400m.zip');
  writeZipBomb(bomb400, 400 * MiB);
  await withManager('1 MB zip inflating to 400 MB', {}, (m) => upload(m, bomb400));
  fs.rmSync(bomb400);

  await withManager('four 250 MB uploads at once', {}, async (m) => {
    const junk = Buffer.alloc(250 * MiB, 0x50);
    const results = await Promise.all(
      [0, 1, 2, 3].map(() => upload(m, junk).catch((e: Error) => e.message)),
    );
    return results.map((r) => r.slice(0, 3)).join(', ');
  });

  await withManager('one 256 MB MQTT PUBLISH', {}, (m) => hugePublish(m, 256 * MiB));

  await withManager('Host: attacker.example', {}, async (m) => {
    const res = await rawGet(m, '/api/signs', 'attacker.example');
    return `${res.status}`;
  });

  await withManager('security headers on /', {}, async (m) => {
    const res = await m.fetch('/');
    const names = [
      'content-security-policy',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
    ];
    const present = names.filter((n) => res.headers.has(n));
    return present.length === 0 ? 'none' : present.join(', ');
  });

  await withManager('announcement text with U+202E', {}, async (m) => {
    await postJson(m, '/api/signs', { deviceId: 'k1', stopId: 'CEN' });
    const res = await postJson(m, '/api/announcements', {
      target: { stopId: 'CEN' },
      text: { en: 'Lift at \u202Etixe\u202C north' },
    });
    return `${res.status}`;
  });

  if (values.big) {
    const city = path.join(work, 'city-10m.zip');
    const t = performance.now();
    const made = writeSyntheticCity(city, 10_000_000);
    console.log(
      `(10M feed: ${made.stopTimes} stop_times, ${(made.bytes / MiB).toFixed(0)} MiB zip, generated in ${((performance.now() - t) / 1000).toFixed(0)} s)`,
    );
    await withManager(
      '10M stop_times feed: import, then a sign at the busiest stop',
      {},
      async (m) => {
        const t0 = performance.now();
        const imported = await upload(m, city);
        const importSeconds = (performance.now() - t0) / 1000;
        const w = watch(m);
        const t1 = performance.now();
        const res = await postJson(m, '/api/signs', { deviceId: 'hub-1', stopId: SYNTHETIC_HUB });
        const registerMs = performance.now() - t1;
        await new Promise((r) => setTimeout(r, 15_000));
        const seen = w.stop();
        return `import ${imported.slice(0, 3)} in ${importSeconds.toFixed(0)} s; register ${res.status} in ${registerMs.toFixed(0)} ms; worst answer in the 15 s after ${seen.worstAnswerMs.toFixed(0)} ms`;
      },
    );
    fs.rmSync(city);
  }
}

function postJson(m: ManagerProcess, p: string, body: unknown): Promise<Response> {
  return m.fetch(p, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(600_000),
  });
}

/** A GET with a Host header of our choosing, over TLS as the manager speaks, with the admin's token. */
function rawGet(m: ManagerProcess, p: string, host: string): Promise<{ status: number }> {
  const url = new URL(p, m.httpUrl);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port: Number(url.port), host: url.hostname, ca: m.caPem }, () =>
      socket.write(
        `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${m.token}\r\n` +
          'Connection: close\r\n\r\n',
      ),
    );
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve({ status: Number(/HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0) }));
    socket.on('error', reject);
  });
}

/**
 * Connects over TLS as a client the broker lets in (a read-only observer),
 * announces a PUBLISH of `bytes`, streams it until the broker hangs up or all is sent.
 */
async function hugePublish(m: ManagerProcess, bytes: number): Promise<string> {
  const socket = tls.connect({ port: m.brokerPort, host: '127.0.0.1', ca: m.caPem });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  const id = Buffer.from('observer:attacker');
  const password = Buffer.from(OBSERVER_PASSWORD);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  // MQTT 3.1.1 CONNECT: clean session, username and password flags.
  const connect = Buffer.concat([
    Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 60]),
    field(id),
    field(id),
    field(password),
  ]);
  socket.write(Buffer.concat([Buffer.from([0x10, connect.length]), connect]));
  const connack = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  if (connack[3] !== 0) return `CONNECT refused (return code ${connack[3]})`;
  const topic = Buffer.from('stopsign/v1/stop/S1/arrivals');
  let remaining = 2 + topic.length + bytes;
  const length: number[] = [];
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    length.push(byte);
  } while (remaining > 0);
  socket.write(Buffer.concat([Buffer.from([0x31, ...length, 0, topic.length]), topic]));
  let sent = 0;
  const chunk = Buffer.alloc(256 * 1024, 0x41);
  const outcome = await new Promise<string>((resolve) => {
    socket.once('close', () =>
      resolve(`broker hung up after ${(sent / 1024 / 1024).toFixed(1)} MiB`),
    );
    socket.on('error', () => undefined);
    const pump = (): void => {
      while (!socket.destroyed && sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (sent >= bytes) setTimeout(() => resolve('all 256 MiB taken by the broker'), 3000);
    };
    pump();
  });
  socket.destroy();
  return outcome;
}

/** npm start from the checkout; the sign is killed with SIGKILL; does start stop everything? */
async function npmStartAttack(): Promise<void> {
  if (values.only && !'npm start'.includes(values.only)) return;
  const dir = fs.mkdtempSync(path.join(work, 'start-'));
  const start = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/start.ts', '--dir', dir, '--http-port', '0', '--broker-port', '0'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  start.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  start.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('stopsign is running') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  const sign = childPids(start.pid ?? -1).find((c) => c.command.includes('device/main.ts'));
  const t = performance.now();
  if (sign) process.kill(sign.pid, 'SIGKILL');
  const exited = await Promise.race([
    new Promise<string>((r) => start.once('exit', (code) => r(`exited with code ${code}`))),
    new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000)),
  ]);
  const left = childPids(start.pid ?? -1).length;
  report({
    attack: 'npm start, sign killed by SIGKILL',
    result: `${exited}; ${left} children left`,
    seconds: (performance.now() - t) / 1000,
    peakRssMiB: NaN,
    worstAnswerMs: NaN,
    survived: true,
  });
  try {
    process.kill(-(start.pid ?? 0), 'SIGKILL');
  } catch {
    // already gone
  }
  for (const c of childPids(start.pid ?? -1)) process.kill(c.pid, 'SIGKILL');
}

function childPids(pid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue;
      found.push({
        pid: Number(entry),
        command: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '),
      });
    } catch {
      // gone
    }
  }
  return found;
}

try {
  await main();
  await npmStartAttack();
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
