/**
 * Drives an external Mosquitto 2's access control through its dynamic
 * security plugin ($CONTROL/dynamic-security/v1), so signs are let in, moved
 * and cut off the moment the manager decides, without editing files or
 * restarting the broker. Each sign is a dynsec client whose username and
 * client id are its device id, with one role holding exactly the literal
 * topics of shared/topicAccess.ts (Mosquitto 2.0's dynsec does not expand %u
 * in ACLs). Deleting or disabling a client makes Mosquitto disconnect it.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  signTopicGrant,
  TOPIC_ROOT,
  topics,
  updateAgentTopicGrant,
  updateAgentUsername,
  type SignTopicGrant,
} from '../../shared';
import type { BrokerAccess } from './brokerAccess';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
export const MANAGER_ROLE = 'stopsign-manager';

interface Command {
  command: string;
  [field: string]: unknown;
  /** Errors that mean "already so" for this command. */
  ignore?: string[];
}

interface DynsecResponse {
  command: string;
  error?: string;
  correlationData?: string;
  data?: { client?: { roles?: { rolename: string }[] } };
}

export const signRoleName = (deviceId: string): string => `stopsign-sign-${deviceId}`;

/**
 * A role holding nothing, whose presence says every sign role already has the
 * city-wide announcement topic (roles made before that topic existed lack it).
 */
export const CITY_GRANT_MARKER = 'stopsign-sign-roles-have-city';

/** How many dynsec commands go in one control message when every sign is touched. */
const COMMANDS_PER_MESSAGE = 200;

export interface DynsecAcl {
  acltype: string;
  topic: string;
  allow: boolean;
}

/**
 * Every topic of the protocol; and the same through a shared subscription
 * (`$share/<group>/...`), which Mosquitto checks as written, so managers
 * sharing one broker can split what the signs send.
 */
export function managerRoleAcls(): DynsecAcl[] {
  const root = `${TOPIC_ROOT}/#`;
  const shared = `$share/+/${TOPIC_ROOT}/#`;
  return [
    { acltype: 'publishClientSend', topic: root, allow: true },
    { acltype: 'publishClientReceive', topic: root, allow: true },
    { acltype: 'subscribePattern', topic: root, allow: true },
    { acltype: 'unsubscribePattern', topic: root, allow: true },
    { acltype: 'subscribePattern', topic: shared, allow: true },
    { acltype: 'unsubscribePattern', topic: shared, allow: true },
  ];
}

/** Exactly the literal topics of shared/topicAccess.ts for one sign at one stop. */
export function signRoleAcls(deviceId: string, stopId: string | null): DynsecAcl[] {
  return grantAcls(signTopicGrant(deviceId, stopId));
}

/** Literal ACLs for exactly the topics of a grant: no wildcards, no %u. */
function grantAcls(grant: SignTopicGrant): DynsecAcl[] {
  return [
    ...grant.publish.map((topic) => ({ acltype: 'publishClientSend', topic, allow: true })),
    ...grant.subscribe.map((topic) => ({ acltype: 'subscribeLiteral', topic, allow: true })),
    ...grant.subscribe.map((topic) => ({ acltype: 'unsubscribeLiteral', topic, allow: true })),
  ];
}

export interface DynsecOptions {
  url: string;
  username: string;
  password: string;
  caPem?: string | undefined;
  logger: Logger;
  timeoutMs?: number;
}

export class MosquittoDynsecAccess implements BrokerAccess {
  private client: MqttClient | undefined;
  private readonly waiting = new Map<string, (responses: DynsecResponse[]) => void>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DynsecOptions) {}

  /** Connects and gives the manager's own account the protocol's topics. */
  async start(): Promise<void> {
    const { url, username, password, caPem } = this.options;
    const client = await mqtt.connectAsync(url, {
      clientId: `${username}-access-${randomUUID().slice(0, 8)}`,
      username,
      password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      ...(caPem ? { ca: caPem, rejectUnauthorized: true } : {}),
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE) return;
      this.onResponse(payload);
    });
    // clean: true loses the subscription with every reconnect; make it again each time.
    client.on('connect', () => {
      client.subscribe(RESPONSE, { qos: 1 });
    });
    await client.subscribeAsync(RESPONSE, { qos: 1 });
    if (await this.hasManagerRole()) return;
    await this.run([
      {
        command: 'createRole',
        rolename: MANAGER_ROLE,
        textdescription: 'the stopsign fleet manager: every topic of the protocol',
        acls: managerRoleAcls(),
        ignore: ['Role already exists'],
      },
    ]);
    // Mosquitto disconnects every session of a client whose roles change, this one included,
    // before it answers: send, wait for the reconnect, then check it took.
    const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.publishAsync(
      CONTROL,
      JSON.stringify({
        commands: [{ command: 'addClientRole', username, rolename: MANAGER_ROLE }],
      }),
      { qos: 1 },
    );
    await withTimeout(
      reconnected,
      this.options.timeoutMs ?? 10_000,
      'reconnect after taking the manager role',
    );
    await client.subscribeAsync(RESPONSE, { qos: 1 });
    if (!(await this.hasManagerRole())) {
      throw new Error(`Mosquitto account ${username} did not get the ${MANAGER_ROLE} role`);
    }
  }

  /**
   * Gives every sign role made before the city-wide announcement topic
   * existed that topic, once: later starts find the marker and send nothing.
   * Returns how many roles were looked at.
   */
  async grantCityTopic(deviceIds: readonly string[]): Promise<number> {
    const [marker] = await this.run([
      { command: 'getRole', rolename: CITY_GRANT_MARKER, ignore: ['Role not found'] },
    ]);
    if (marker?.error === undefined) return 0;
    const topic = topics.cityAnnouncement();
    const commands: Command[] = deviceIds.flatMap((deviceId) =>
      (['subscribeLiteral', 'unsubscribeLiteral'] as const).map((acltype) => ({
        command: 'addRoleACL',
        rolename: signRoleName(deviceId),
        acltype,
        topic,
        allow: true,
        // A sign never claimed has no role yet; one claimed since the upgrade has the topic.
        ignore: ['Role not found', 'ACL with this topic already exists'],
      })),
    );
    for (let i = 0; i < commands.length; i += COMMANDS_PER_MESSAGE) {
      await this.run(commands.slice(i, i + COMMANDS_PER_MESSAGE));
    }
    await this.run([
      {
        command: 'createRole',
        rolename: CITY_GRANT_MARKER,
        textdescription: 'every stopsign sign role holds the city-wide announcement topic',
        ignore: ['Role already exists'],
      },
    ]);
    this.options.logger.info(
      { signs: deviceIds.length },
      'sign roles given the city-wide announcement topic',
    );
    return deviceIds.length;
  }

  private async hasManagerRole(): Promise<boolean> {
    const [answer] = await this.run([{ command: 'getClient', username: this.options.username }]);
    return (answer?.data?.client?.roles ?? []).some((r) => r.rolename === MANAGER_ROLE);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync();
  }

  async signClaimed(deviceId: string, stopId: string, secret: string): Promise<void> {
    const agent = updateAgentUsername(deviceId);
    await this.run([
      // The old client (if any) goes first: Mosquitto disconnects whoever used it.
      { command: 'deleteClient', username: deviceId, ignore: ['Client not found'] },
      { command: 'deleteRole', rolename: signRoleName(deviceId), ignore: ['Role not found'] },
      this.createRole(deviceId, stopId),
      {
        command: 'createClient',
        username: deviceId,
        password: secret,
        clientid: deviceId,
        textdescription: 'stopsign sign',
        roles: [{ rolename: signRoleName(deviceId) }],
      },
      // Its update agent: its own client and session, the same secret, the update topics only.
      { command: 'deleteClient', username: agent, ignore: ['Client not found'] },
      { command: 'deleteRole', rolename: signRoleName(agent), ignore: ['Role not found'] },
      roleCommand(signRoleName(agent), updateAgentTopicGrant(deviceId)),
      {
        command: 'createClient',
        username: agent,
        password: secret,
        clientid: agent,
        textdescription: 'stopsign update agent',
        roles: [{ rolename: signRoleName(agent) }],
      },
    ]);
  }

  async signMoved(deviceId: string, stopId: string): Promise<void> {
    await this.run([
      { command: 'deleteRole', rolename: signRoleName(deviceId), ignore: ['Role not found'] },
      this.createRole(deviceId, stopId),
      {
        command: 'addClientRole',
        username: deviceId,
        rolename: signRoleName(deviceId),
        ignore: ['Client not found'],
      },
    ]);
  }

  async signRevoked(deviceId: string): Promise<void> {
    const agent = updateAgentUsername(deviceId);
    await this.run([
      { command: 'deleteClient', username: deviceId, ignore: ['Client not found'] },
      { command: 'deleteRole', rolename: signRoleName(deviceId), ignore: ['Role not found'] },
      { command: 'deleteClient', username: agent, ignore: ['Client not found'] },
      { command: 'deleteRole', rolename: signRoleName(agent), ignore: ['Role not found'] },
    ]);
  }

  /** Mosquitto counts refusals in its own log ("Denied PUBLISH from ..."), not here. */
  refusals(): null {
    return null;
  }

  refusalsFor(): null {
    return null;
  }

  private createRole(deviceId: string, stopId: string): Command {
    return {
      command: 'createRole',
      rolename: signRoleName(deviceId),
      acls: signRoleAcls(deviceId, stopId),
    };
  }

  /** Sends the commands in one message, in order, and fails on any unexpected error. */
  private run(commands: Command[]): Promise<DynsecResponse[]> {
    const task = this.queue.then(() => this.send(commands));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async send(commands: Command[]): Promise<DynsecResponse[]> {
    const client = this.client;
    if (!client) throw new Error('the Mosquitto access driver is not started');
    const correlation = randomUUID();
    const body = commands.map(({ ignore: _ignore, ...command }, i) => ({
      ...command,
      correlationData: `${correlation}:${i}`,
    }));
    const answered = new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlation);
        reject(
          new Error(`Mosquitto did not answer ${commands[0]?.command ?? ''} within the timeout`),
        );
      }, this.options.timeoutMs ?? 5000);
      this.waiting.set(correlation, (responses) => {
        clearTimeout(timer);
        resolve(responses);
      });
    });
    await client.publishAsync(CONTROL, JSON.stringify({ commands: body }), { qos: 1 });
    const responses = await answered;
    const problems = responses.flatMap((response) => {
      if (!response.error) return [];
      const index = Number(response.correlationData?.split(':')[1] ?? -1);
      const ignored = commands[index]?.ignore ?? [];
      return ignored.includes(response.error) ? [] : [`${response.command}: ${response.error}`];
    });
    if (problems.length > 0) throw new Error(`Mosquitto refused: ${problems.join('; ')}`);
    return responses;
  }

  private onResponse(payload: Buffer): void {
    let parsed: { responses?: DynsecResponse[] };
    try {
      parsed = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
    } catch {
      return;
    }
    const responses = parsed.responses ?? [];
    const correlation = responses[0]?.correlationData?.split(':')[0];
    if (correlation === undefined) return;
    const resolve = this.waiting.get(correlation);
    if (!resolve) return;
    this.waiting.delete(correlation);
    resolve(responses);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Mosquitto: no ${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function roleCommand(rolename: string, grant: SignTopicGrant): Command {
  return { command: 'createRole', rolename, acls: grantAcls(grant) };
}
