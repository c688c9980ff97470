/** A dynamic-security file for a Mosquitto started by the tests: one admin account (the manager's). */
import { dynsecConfig as fileWith } from '../../scripts/lib/dynsecFile';

export function dynsecConfig(username: string, password: string): string {
  return fileWith([{ username, password }]);
}
