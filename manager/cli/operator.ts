/**
 * Operator accounts from the manager's host, on its shared store:
 *   npm run operator -- create --username ana --role admin [--password-stdin] [--json]
 *   npm run operator -- token --username ana --name "feed pusher" [--role admin] [--scope realtime] [--days 90] [--json]
 *   npm run operator -- list
 * Reads the manager's configuration (STOPSIGN_MANAGER_DATA_DIR, STOPSIGN_DATABASE_URL, ...).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  role as roleSchema,
  scope as scopeSchema,
  username as usernameSchema,
  password as passwordSchema,
} from '../../shared';
import { ConfigError, loadManagerConfig } from '../config';
import { createOperator, createToken, openAdminTools } from './adminTools';

const usage = `usage:
  npm run operator -- create --username NAME --role viewer|operator|maintenance|admin [--password-stdin] [--json]
  npm run operator -- token --username NAME --name LABEL [--role ROLE] [--scope SCOPE]... [--days N] [--json]
  npm run operator -- list`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      username: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
      days: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  const config = loadManagerConfig(process.env);
  const tools = await openAdminTools(config);
  try {
    if (command === 'create') {
      const username = usernameSchema.parse(values.username);
      const role = roleSchema.parse(values.role);
      const password = values['password-stdin']
        ? passwordSchema.parse(fs.readFileSync(0, 'utf8').trim())
        : undefined;
      const created = await createOperator(tools, { username, role, password });
      if (values.json)
        console.log(
          JSON.stringify({
            ...created.operator,
            password: password ? undefined : created.password,
          }),
        );
      else {
        console.log(`created ${role} ${username}`);
        if (!password) console.log(`password (shown once): ${created.password}`);
      }
    } else if (command === 'token') {
      const username = usernameSchema.parse(values.username);
      const created = await createToken(tools, {
        username,
        name: values.name ?? 'cli',
        ...(values.role ? { role: roleSchema.parse(values.role) } : {}),
        scopes: (values.scope ?? []).map((s) => scopeSchema.parse(s)),
        ...(values.days ? { expiresInDays: Number(values.days) } : {}),
      });
      if (values.json) console.log(JSON.stringify(created));
      else console.log(`token ${created.tokenId} (shown once): ${created.token}`);
    } else if (command === 'list') {
      for (const op of await tools.accounts.list()) {
        console.log(`${op.username}\t${op.role}${op.disabled ? '\tdisabled' : ''}`);
      }
    } else {
      console.error(usage);
      process.exitCode = 2;
    }
  } finally {
    await tools.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`operator: ${(err as Error).message}`);
  process.exit(1);
});
