/**
 * A dynamic-security file for a Mosquitto started on loopback, as
 * `mosquitto_ctrl dynsec init` writes it: admin accounts (the managers'),
 * and, for a fleet provisioned in bulk beforehand, each sign's account with a
 * role of exactly its topics. Passwords are PBKDF2-SHA512, base64, with their
 * salt and iterations beside them.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { signRoleAcls, signRoleName, type DynsecAcl } from '../../manager/broker/mosquittoDynsec';
import { TOPIC_ROOT } from '../../shared';

export interface BrokerAccount {
  username: string;
  password: string;
}

export interface ProvisionedSign extends BrokerAccount {
  stopId: string;
}

/** Few iterations: these accounts live as long as one test or benchmark. */
const ITERATIONS = 101;

function hashed(password: string): { password: string; salt: string; iterations: number } {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
  return {
    password: hash.toString('base64'),
    salt: salt.toString('base64'),
    iterations: ITERATIONS,
  };
}

/**
 * `admins` may drive dynamic security (the managers); `readers` may publish
 * and subscribe every protocol topic (a benchmark's watcher and bare publisher).
 */
export function dynsecConfig(
  admins: readonly BrokerAccount[],
  options: { readers?: readonly BrokerAccount[]; signs?: readonly ProvisionedSign[] } = {},
): string {
  const control = '$CONTROL/dynamic-security/#';
  const root = `${TOPIC_ROOT}/#`;
  const roles: { rolename: string; acls: DynsecAcl[] }[] = [
    {
      rolename: 'dynsec-admin',
      acls: [
        { acltype: 'publishClientSend', topic: control, allow: true },
        { acltype: 'publishClientReceive', topic: control, allow: true },
        { acltype: 'subscribePattern', topic: control, allow: true },
      ],
    },
    {
      rolename: 'stopsign-reader',
      acls: [
        { acltype: 'publishClientSend', topic: root, allow: true },
        { acltype: 'subscribePattern', topic: root, allow: true },
      ],
    },
  ];
  const clients: Record<string, unknown>[] = [
    ...admins.map((a) => ({
      username: a.username,
      textName: 'stopsign manager',
      ...hashed(a.password),
      roles: [{ rolename: 'dynsec-admin' }],
    })),
    ...(options.readers ?? []).map((r) => ({
      username: r.username,
      ...hashed(r.password),
      roles: [{ rolename: 'stopsign-reader' }],
    })),
  ];
  for (const sign of options.signs ?? []) {
    roles.push({
      rolename: signRoleName(sign.username),
      acls: signRoleAcls(sign.username, sign.stopId),
    });
    clients.push({
      username: sign.username,
      clientid: sign.username,
      textName: 'stopsign sign',
      ...hashed(sign.password),
      roles: [{ rolename: signRoleName(sign.username) }],
    });
  }
  return JSON.stringify({
    clients,
    roles,
    defaultACLAccess: {
      publishClientSend: false,
      publishClientReceive: true,
      subscribe: false,
      unsubscribe: true,
    },
  });
}
