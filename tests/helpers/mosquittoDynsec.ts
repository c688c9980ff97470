/**
 * A dynamic-security file for a Mosquitto started by the tests: one admin
 * account (the manager's), as `mosquitto_ctrl dynsec init` writes it. The
 * password is PBKDF2-SHA512, base64, with its salt and iterations beside it.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';

export function dynsecConfig(username: string, password: string): string {
  const salt = randomBytes(12);
  const iterations = 101;
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  const control = '$CONTROL/dynamic-security/#';
  return JSON.stringify(
    {
      clients: [
        {
          username,
          textName: 'stopsign manager',
          password: hash.toString('base64'),
          salt: salt.toString('base64'),
          iterations,
          roles: [{ rolename: 'dynsec-admin' }],
        },
      ],
      roles: [
        {
          rolename: 'dynsec-admin',
          acls: [
            { acltype: 'publishClientSend', topic: control, allow: true },
            { acltype: 'publishClientReceive', topic: control, allow: true },
            { acltype: 'subscribePattern', topic: control, allow: true },
          ],
        },
      ],
      defaultACLAccess: {
        publishClientSend: false,
        publishClientReceive: true,
        subscribe: false,
        unsubscribe: true,
      },
    },
    null,
    2,
  );
}
