/**
 * For a broker whose access control the manager does not drive (EMQX with
 * its own authentication backend, say): claims still issue secrets, and it is
 * up to that broker's configuration to know them. See docs/broker-access.md.
 */
import type { Logger } from 'pino';
import type { BrokerAccess } from './brokerAccess';

export class UnmanagedBrokerAccess implements BrokerAccess {
  constructor(private readonly logger: Logger) {}

  async signClaimed(deviceId: string): Promise<void> {
    this.logger.warn(
      { deviceId },
      'sign claimed; the broker must be told its credentials by other means',
    );
  }

  async signMoved(): Promise<void> {}

  async signRevoked(deviceId: string): Promise<void> {
    this.logger.warn(
      { deviceId },
      'sign revoked; the broker must be told to refuse it by other means',
    );
  }

  refusals(): null {
    return null;
  }

  refusalsFor(): null {
    return null;
  }
}
