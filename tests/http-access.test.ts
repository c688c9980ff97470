/**
 * Who may call what over HTTP: every registered route, as nobody and as each
 * role, against the real server. A route added without a line in EXPECTED
 * fails here; one added without an access rule stops the server from starting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, roleAtLeast, type Role } from '../shared';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { startTestManager, type RunningManager } from './helpers/system';

/** "METHOD url" → who may call it. Public routes are the console's files, login, setup, claim and the CA. */
const EXPECTED: Record<string, 'public' | Role> = {
  'GET /': 'public',
  'GET /console/*': 'public',
  'GET /api/health': 'viewer',
  'GET /api/signs': 'viewer',
  'POST /api/signs': 'maintenance',
  'GET /api/signs/:deviceId/frame.png': 'viewer',
  'GET /api/announcements': 'viewer',
  'POST /api/announcements': 'operator',
  'DELETE /api/announcements/:id': 'operator',
  'GET /api/gtfs': 'viewer',
  'POST /api/gtfs': 'admin',
  'POST /api/session': 'public',
  'GET /api/session': 'viewer',
  'DELETE /api/session': 'viewer',
  'POST /api/session/password': 'viewer',
  'POST /api/setup': 'public',
  'GET /api/operators': 'admin',
  'POST /api/operators': 'admin',
  'PATCH /api/operators/:username': 'admin',
  'GET /api/tokens': 'viewer',
  'POST /api/tokens': 'viewer',
  'DELETE /api/tokens/:tokenId': 'viewer',
  'POST /api/signs/batch': 'maintenance',
  'POST /api/signs/:deviceId/reprovision': 'maintenance',
  'POST /api/signs/:deviceId/revoke': 'maintenance',
  'DELETE /api/signs/:deviceId': 'maintenance',
  'POST /api/claim': 'public',
  'GET /api/ca.pem': 'public',
  'GET /api/audit': 'admin',
  'GET /api/audit.csv': 'admin',
  'POST /api/realtime': 'admin',
  'GET /api/realtime': 'viewer',
  'GET /api/stops/:stopId/arrivals': 'viewer',
};

/** A harmless value for each path parameter: nothing it names exists, so nothing changes. */
function concrete(url: string): string {
  return url
    .replace(':deviceId', 'matrix-nobody')
    .replace(':id', 'no-such-announcement')
    .replace(':username', 'nobody-here')
    .replace(':tokenId', '000000000000')
    .replace(':stopId', 'NOPE')
    .replace('*', 'app.js');
}

describe('route access matrix', () => {
  let dir: string;
  let manager: RunningManager;
  const tokens = new Map<Role, string>();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-access-'));
    manager = await startTestManager(dir);
    for (const role of ROLES) tokens.set(role, await manager.tokenFor(role));
  });

  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has a rule in this table for every registered route, and the same rule', () => {
    const routes = manager.manager.routes().filter((r) => r.method !== 'HEAD');
    const registered = Object.fromEntries(
      routes.map((r) => [`${r.method} ${r.url}`, r.access === 'public' ? 'public' : r.access.role]),
    );
    expect(registered).toEqual(EXPECTED);
  });

  it('answers every route as its rule says, for nobody and for every role', async () => {
    const wrong: string[] = [];
    for (const route of manager.manager.routes()) {
      if (route.method === 'HEAD') continue;
      const url = concrete(route.url);
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      const callers: (Role | 'nobody')[] = ['nobody', ...ROLES];
      for (const caller of callers) {
        const api = manager.api.as(caller === 'nobody' ? undefined : tokens.get(caller));
        const res = await api.request(route.method, url, body);
        await res.arrayBuffer();
        const rule = route.access;
        let expected: string;
        if (rule === 'public') expected = 'not 401/403';
        else if (caller === 'nobody') expected = '401';
        else if (!roleAtLeast(caller, rule.role)) expected = '403';
        else expected = 'not 401/403';
        const ok =
          expected === 'not 401/403'
            ? res.status !== 401 && res.status !== 403
            : String(res.status) === expected;
        if (!ok)
          wrong.push(
            `${route.method} ${route.url} as ${caller}: ${res.status}, expected ${expected}`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets a scoped token reach only its scope, and a revoked one nothing', async () => {
    const create = await manager.api.post('/api/tokens', {
      name: 'realtime feed',
      role: 'admin',
      scopes: ['announcements'],
    });
    expect(create.status).toBe(201);
    const { token, tokenId } = (await create.json()) as { token: string; tokenId: string };
    const scoped = manager.api.as(token);
    expect((await scoped.get('/api/signs')).status).toBe(403);
    expect((await scoped.get('/api/operators')).status).toBe(403);
    expect((await scoped.post('/api/announcements', {})).status).toBe(400);
    // Nor can it mint a broader one.
    expect((await scoped.post('/api/tokens', { name: 'x', role: 'admin' })).status).toBe(403);
    expect((await manager.api.delete(`/api/tokens/${tokenId}`)).status).toBe(204);
    expect((await scoped.post('/api/announcements', {})).status).toBe(401);
  });

  it("refuses a token a role above its owner, and hides other operators' tokens", async () => {
    const viewer = manager.api.as(tokens.get('viewer'));
    expect((await viewer.post('/api/tokens', { name: 'up', role: 'admin' })).status).toBe(403);
    const admins = (await (await manager.api.get('/api/tokens')).json()) as {
      tokenId: string;
      username: string;
    }[];
    const adminToken = admins.find((t) => t.username === 'test-admin');
    expect(adminToken).toBeDefined();
    const mine = (await (await viewer.get('/api/tokens')).json()) as { username: string }[];
    expect(mine.every((t) => t.username === 'test-viewer')).toBe(true);
    // Someone else's token is "not found", not "forbidden": ids cannot be probed.
    expect((await viewer.delete(`/api/tokens/${adminToken?.tokenId}`)).status).toBe(404);
  });

  it('runs console sessions on an HttpOnly SameSite cookie and wants the CSRF token for changes', async () => {
    const anonymous = manager.api.as(undefined);
    const login = await anonymous.post('/api/session', {
      username: 'test-operator',
      password: 'operator password 1234',
    });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^__Host-stopsign-session=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Secure/i);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const cookie = setCookie.split(';')[0] ?? '';
    const session = manager.api.as(undefined, { cookie });
    expect((await session.get('/api/signs')).status).toBe(200);
    const announcement = {
      target: { stopId: STOP_CENTRAL },
      text: { en: 'from the console' },
    };
    const noCsrf = await session.post('/api/announcements', announcement);
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: string }).error).toMatch(/csrf/i);
    const wrongCsrf = await session.request('POST', '/api/announcements', announcement, {
      'x-csrf-token': 'guess',
    });
    expect(wrongCsrf.status).toBe(403);
    const withCsrf = await session.request('POST', '/api/announcements', announcement, {
      'x-csrf-token': csrfToken,
    });
    // No sign at that stop in this manager: past every access check, refused on its merits.
    expect(withCsrf.status).toBe(404);
    expect((await session.get('/api/operators')).status).toBe(403);
    expect(
      (await session.request('DELETE', '/api/session', undefined, { 'x-csrf-token': csrfToken }))
        .status,
    ).toBe(204);
    expect((await session.get('/api/signs')).status).toBe(401);
  });

  it('slows password guessing: the sixth wrong password in a row waits, even with the right one', async () => {
    const anonymous = manager.api.as(undefined);
    const attempt = (password: string) =>
      anonymous.post('/api/session', { username: 'test-viewer', password });
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong ${i}`)).status).toBe(401);
    const locked = await attempt('viewer password 1234');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // An unknown account answers like a wrong password: accounts cannot be discovered.
    expect(
      (await anonymous.post('/api/session', { username: 'ghost', password: 'x' })).status,
    ).toBe(401);
  });

  it('records who did what in the audit log, filterable, and exports it as CSV', async () => {
    const res = await manager.api.post('/api/signs', {
      deviceId: 'audited-1',
      stopId: STOP_CENTRAL,
      label: '=HYPERLINK("http://evil")',
    });
    expect(res.status).toBe(201);
    const moved = await manager.api.post('/api/signs', { deviceId: 'audited-1', stopId: 'MKT' });
    expect(moved.status).toBe(201);
    const page = (await (await manager.api.get('/api/audit?target=audited-1')).json()) as {
      events: { action: string; actor: string; address: string; before: unknown; after: unknown }[];
    };
    expect(page.events.map((e) => e.action)).toEqual(['sign.update', 'sign.create']);
    expect(page.events[0]).toMatchObject({
      actor: expect.stringContaining('test-admin') as string,
      before: { stopId: STOP_CENTRAL },
      after: { stopId: 'MKT' },
    });
    expect(page.events[0]?.address).toMatch(/127\.0\.0\.1/);
    const failures = (await (await manager.api.get('/api/audit?action=login.failure')).json()) as {
      events: unknown[];
    };
    expect(failures.events.length).toBeGreaterThanOrEqual(5);
    const csv = await manager.api.get('/api/audit.csv?action=sign.');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await csv.text();
    expect(text.split('\n')[0]).toBe(
      'id,time,actor kind,actor,address,action,target kind,target,before,after',
    );
    expect(text).toContain('sign.create');
    // A label that would run as a spreadsheet formula is exported inert.
    expect(text).not.toMatch(/,"?=HYPERLINK/);
    expect((await manager.api.as(tokens.get('maintenance')).get('/api/audit')).status).toBe(403);
  });
});
