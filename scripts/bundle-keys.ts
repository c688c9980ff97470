/**
 * Release signing keys and the statements that rotate them.
 *
 *   npx tsx scripts/bundle-keys.ts generate --out release-2026.pem --name release-2026
 *   npx tsx scripts/bundle-keys.ts trust-file --key release-2026.pem > trusted-keys.json
 *   npx tsx scripts/bundle-keys.ts add --chain trust-chain.json --signer old.pem --new new.pem
 *   npx tsx scripts/bundle-keys.ts revoke --chain trust-chain.json --signer new.pem \
 *       --key-id <id> --reason "laptop stolen"
 *
 * trusted-keys.json is what signs are provisioned with (and the manager checks
 * uploads against); trust-chain.json goes into every bundle (build-bundle --trust),
 * so signs of any age catch up on the key changes in order.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { keyStatementBody, trustChain, type KeyStatement } from '../shared';
import { exportPrivateKey, generateSigningKey, loadSigningKey } from '../shared/bundle/signing';
import { makeStatement } from '../shared/bundle/trust';

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    key: { type: 'string', multiple: true },
    chain: { type: 'string' },
    signer: { type: 'string' },
    new: { type: 'string' },
    'key-id': { type: 'string' },
    reason: { type: 'string', default: '' },
  },
});

function need(value: string | undefined, flag: string): string {
  if (!value) {
    console.error(`${command}: ${flag} is required`);
    process.exit(2);
  }
  return value;
}

const readKey = (file: string) => loadSigningKey(fs.readFileSync(file, 'utf8'));

function readChain(file: string): KeyStatement[] {
  return fs.existsSync(file) ? trustChain.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) : [];
}

function nextSeq(chain: KeyStatement[]): number {
  const seqs = chain.map(
    (s) => keyStatementBody.parse(JSON.parse(Buffer.from(s.body, 'base64').toString())).seq,
  );
  return Math.max(0, ...seqs) + 1;
}

const now = Math.floor(Date.now() / 1000);
switch (command) {
  case 'generate': {
    const out = need(values.out, '--out');
    const key = generateSigningKey(values.name);
    fs.writeFileSync(out, exportPrivateKey(key), { mode: 0o600, flag: 'wx' });
    console.log(JSON.stringify(key.entry, null, 2));
    break;
  }
  case 'trust-file': {
    const files = values.key ?? [];
    if (files.length === 0) need(undefined, '--key');
    console.log(JSON.stringify({ keys: files.map((f) => readKey(f).entry) }, null, 2));
    break;
  }
  case 'add': {
    const file = need(values.chain, '--chain');
    const chain = readChain(file);
    const signer = readKey(need(values.signer, '--signer'));
    const added = readKey(need(values.new, '--new'));
    const statement = makeStatement(
      { seq: nextSeq(chain), action: 'add', key: added.entry, issuedAt: now },
      [signer, added],
    );
    fs.writeFileSync(file, `${JSON.stringify([...chain, statement], null, 2)}\n`);
    console.log(`statement ${nextSeq(chain)}: add ${added.entry.keyId}`);
    break;
  }
  case 'revoke': {
    const file = need(values.chain, '--chain');
    const chain = readChain(file);
    const signer = readKey(need(values.signer, '--signer'));
    const keyId = need(values['key-id'], '--key-id');
    const statement = makeStatement(
      { seq: nextSeq(chain), action: 'revoke', keyId, reason: values.reason, issuedAt: now },
      [signer],
    );
    fs.writeFileSync(file, `${JSON.stringify([...chain, statement], null, 2)}\n`);
    console.log(`statement ${nextSeq(chain)}: revoke ${keyId}`);
    break;
  }
  default:
    console.error('usage: bundle-keys generate | trust-file | add | revoke (see the file header)');
    process.exit(2);
}
