/**
 * A real MQTT broker (aedes) on a local TCP port, which tests can stop, start
 * again on the same port, and use to cut one client's connection.
 */
import { Aedes, type Client } from 'aedes';
import net from 'node:net';

export interface TestBroker {
  port: number;
  url: string;
  broker: Aedes;
  /** Client ids the broker currently refuses, e.g. to keep a sign away after cutting it off. */
  refused: Set<string>;
  /** Destroys the client's socket without a DISCONNECT, as a crash or cable pull would. */
  cut(clientId: string): boolean;
  close(): Promise<void>;
}

export async function startBroker(port = 0): Promise<TestBroker> {
  const refused = new Set<string>();
  const clients = new Map<string, Client>();
  const broker = await Aedes.createBroker({
    authenticate: (client, _user, _pass, done) => {
      if (refused.has(client.id)) {
        const err = Object.assign(new Error('refused by test'), { returnCode: 5 as const });
        done(err, false);
        return;
      }
      done(null, true);
    },
  });
  broker.on('client', (client) => clients.set(client.id, client));
  broker.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    broker,
    refused,
    cut(clientId) {
      const client = clients.get(clientId);
      if (!client) return false;
      client.conn.destroy();
      return true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on, for a sign that must boot without any broker. */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}
