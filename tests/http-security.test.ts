/**
 * The manager's HTTP face: only known Host names are answered (DNS rebinding),
 * every response carries the security headers, and a sign's frame is stored
 * and served only when it is a PNG of the size the sign declares.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameToPng } from '../device/render/png';
import { createFrame } from '../device/render/frame';
import { encodeMessage, topics } from '../shared';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import mqtt from 'mqtt';
import { waitFor } from './helpers/deviceFixtures';
import {
  claimFor,
  createSign,
  signMqttOptions,
  startTestManager,
  type RunningManager,
  type SignCredentials,
} from './helpers/system';

let dir: string;
let manager: RunningManager;
let k1: SignCredentials;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-http-'));
  manager = await startTestManager(dir, {
    httpAllowedHosts: 'localhost,127.0.0.1,signs.city.example',
  });
  k1 = await claimFor(manager, await createSign(manager, { deviceId: 'k1', stopId: STOP_CENTRAL }));
});

afterAll(async () => {
  await manager?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * GET with a Host header of our choosing (fetch will not send one), as the
 * admin. The certificate is checked against the CA but not against that name:
 * a rebound name arrives at the right address under the wrong name.
 */
async function getWithHost(
  pathname: string,
  host: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(pathname, manager.httpUrl);
  const token = await manager.tokenFor('admin');
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        headers: { host, authorization: `Bearer ${token}` },
        ca: manager.caPem,
        servername: 'localhost',
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

describe('Host header', () => {
  it('answers the configured names, with or without a port', async () => {
    const port = new URL(manager.httpUrl).port;
    expect((await getWithHost('/api/health', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await getWithHost('/api/health', 'signs.city.example')).status).toBe(200);
  });

  it('refuses any other name with 403, as a rebound DNS name would arrive', async () => {
    const res = await getWithHost('/api/signs', 'attacker.example:8080');
    expect(res.status).toBe(403);
    expect(res.body).toContain('host attacker.example:8080 is not served here');
  });
});

describe('security headers', () => {
  it.each(['/', '/api/health'])('are on %s', async (pathname) => {
    const res = await manager.api.get(pathname);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // The console's own files, and data: images (the claim's QR code); nothing inline.
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("img-src 'self' data:;");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });
});

describe('frames', () => {
  const frame = () => manager.api.get('/api/signs/k1/frame.png');

  /** Published as the sign itself: its own credentials, its own frame topic. */
  async function publishFrame(png: Buffer, width = 192, height = 64): Promise<void> {
    const sign = await mqtt.connectAsync(k1.mqtt.url, signMqttOptions(k1));
    await sign.publishAsync(
      topics.deviceFrame('k1'),
      encodeMessage('deviceFrame', { width, height, renderedAt: 1, png: png.toString('base64') }),
      { qos: 1, retain: true },
    );
    await sign.endAsync();
  }

  const rejected = async () =>
    (await manager.api.json<{ rejectedMessages: Record<string, number> }>('/api/health'))
      .rejectedMessages['deviceFrame:invalid'] ?? 0;

  it('refuses an HTML page and a PNG of another size, and never serves them', async () => {
    await publishFrame(Buffer.from('<html><script>alert(1)</script></html>'));
    await waitFor('the HTML frame refused', async () => (await rejected()) === 1);
    await publishFrame(frameToPng(createFrame(64, 32)));
    await waitFor('the small PNG refused', async () => (await rejected()) === 2);
    expect((await frame()).status).toBe(404);
  });

  it('keeps and serves a PNG of the declared size as image/png, nosniff', async () => {
    const png = frameToPng(createFrame(192, 64));
    await publishFrame(png);
    await waitFor('the frame stored', async () => (await frame()).status === 200);
    const res = await frame();
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
  });
});
