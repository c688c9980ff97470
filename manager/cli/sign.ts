/**
 * Signs from the command line, through the manager's HTTP API (an API token
 * with the maintenance role):
 *   npm run sign -- create --stop CEN [--label "bay 2"] [--device-id kiosk-7] [--panel PROFILE]
 *                          [--qr label.png] [--json]
 *   npm run sign -- batch --stop CEN --count 500 [--prefix sim-] > claims.jsonl
 *   npm run sign -- list | revoke ID | reprovision ID [--qr label.png] | delete ID
 * Env: STOPSIGN_API_URL (https://manager:8080), STOPSIGN_API_TOKEN, STOPSIGN_API_CA_FILE.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SignProvisioning } from '../access/signProvisioning';
import { ManagerApi } from './managerApi';

const usage = `usage:
  npm run sign -- create --stop STOP [--label TEXT] [--device-id ID] [--panel PROFILE]
                          [--qr FILE.png] [--json]
  npm run sign -- batch --stop STOP --count N [--prefix PREFIX]      (JSON lines of claims)
  npm run sign -- list
  npm run sign -- revoke ID | reprovision ID [--qr FILE.png] | delete ID
env: STOPSIGN_API_URL, STOPSIGN_API_TOKEN, STOPSIGN_API_CA_FILE`;

const cliEnv = z.object({
  STOPSIGN_API_URL: z.string().url('STOPSIGN_API_URL: the manager, e.g. https://127.0.0.1:8080'),
  STOPSIGN_API_TOKEN: z
    .string()
    .min(1, 'STOPSIGN_API_TOKEN: an API token with the maintenance role'),
  STOPSIGN_API_CA_FILE: z.string().min(1).optional(),
});

const claimAnswer = z.object({ code: z.string(), expiresAt: z.number(), claim: z.string() });

async function check(res: Awaited<ReturnType<ManagerApi['get']>>, what: string): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

async function writeQr(file: string | undefined, claim: string): Promise<void> {
  if (!file) return;
  fs.writeFileSync(file, await SignProvisioning.qrPng(claim));
  console.error(`QR code written to ${file}`);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      stop: { type: 'string' },
      label: { type: 'string' },
      'device-id': { type: 'string' },
      /** The sign's glass, a panel profile id (panels/profiles/); the default profile otherwise. */
      panel: { type: 'string' },
      qr: { type: 'string' },
      count: { type: 'string' },
      prefix: { type: 'string', default: 'sign-' },
      json: { type: 'boolean', default: false },
    },
  });
  const env = cliEnv.safeParse(process.env);
  if (!env.success) {
    console.error(env.error.issues.map((i) => i.message).join('\n'));
    process.exit(2);
  }
  const caPem = env.data.STOPSIGN_API_CA_FILE
    ? fs.readFileSync(env.data.STOPSIGN_API_CA_FILE, 'utf8')
    : undefined;
  const api = new ManagerApi(env.data.STOPSIGN_API_URL, {
    caPem,
    token: env.data.STOPSIGN_API_TOKEN,
  });
  const [command, id] = positionals;
  try {
    if (command === 'create') {
      const body = z.object({ claim: claimAnswer.nullable(), deviceId: z.string() }).parse(
        await check(
          await api.post('/api/signs', {
            stopId: values.stop,
            ...(values.label ? { label: values.label } : {}),
            ...(values['device-id'] ? { deviceId: values['device-id'] } : {}),
            ...(values.panel ? { panelProfile: values.panel } : {}),
          }),
          'create',
        ),
      );
      if (!body.claim)
        throw new Error(`sign ${body.deviceId} existed already: it was moved, no new claim`);
      await writeQr(values.qr, body.claim.claim);
      if (values.json) console.log(JSON.stringify({ deviceId: body.deviceId, ...body.claim }));
      else {
        console.log(`sign ${body.deviceId} created`);
        console.log(
          `claim code ${body.claim.code}, usable until ${new Date(body.claim.expiresAt * 1000).toISOString()}`,
        );
        console.log(`claim: ${body.claim.claim}`);
      }
    } else if (command === 'batch') {
      const count = z.coerce.number().int().min(1).max(100_000).parse(values.count);
      for (let start = 0; start < count; start += 1000) {
        const signs = Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({
          deviceId: `${values.prefix}${start + i + 1}`,
          stopId: values.stop,
        }));
        const created = z
          .array(z.object({ deviceId: z.string(), claim: claimAnswer.nullable() }))
          .parse(await check(await api.post('/api/signs/batch', { signs }), 'batch'));
        for (const sign of created)
          console.log(
            JSON.stringify({ deviceId: sign.deviceId, claim: sign.claim?.claim ?? null }),
          );
      }
    } else if (command === 'list') {
      const signs = z
        .array(
          z.object({
            deviceId: z.string(),
            stopId: z.string(),
            online: z.boolean(),
            provisioning: z.object({ state: z.string() }).nullable(),
          }),
        )
        .parse(await check(await api.get('/api/signs'), 'list'));
      for (const s of signs)
        console.log(
          `${s.deviceId}\t${s.stopId}\t${s.online ? 'online' : 'offline'}\t${s.provisioning?.state ?? ''}`,
        );
    } else if (command === 'revoke' && id) {
      await check(await api.post(`/api/signs/${encodeURIComponent(id)}/revoke`), 'revoke');
      console.log(`sign ${id} revoked: disconnected and refused from now on`);
    } else if (command === 'reprovision' && id) {
      const body = z
        .object({ claim: claimAnswer })
        .parse(
          await check(
            await api.post(`/api/signs/${encodeURIComponent(id)}/reprovision`),
            'reprovision',
          ),
        );
      await writeQr(values.qr, body.claim.claim);
      console.log(
        values.json ? JSON.stringify(body.claim) : `new claim for ${id}: ${body.claim.claim}`,
      );
    } else if (command === 'delete' && id) {
      await check(await api.delete(`/api/signs/${encodeURIComponent(id)}`), 'delete');
      console.log(`sign ${id} deleted`);
    } else {
      console.error(usage);
      process.exitCode = 2;
    }
  } finally {
    await api.close();
  }
}

main().catch((err: unknown) => {
  console.error(`sign: ${(err as Error).message}`);
  process.exit(1);
});
