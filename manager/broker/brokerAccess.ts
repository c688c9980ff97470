/**
 * How the manager tells the broker who may connect and what they may touch.
 * The embedded broker asks the shared store on every connect; an external
 * Mosquitto is driven through its dynamic security plugin. Either way a sign
 * gets exactly the topics of shared/topicAccess.ts.
 */
import type { RefusalSnapshot } from './brokerRefusals';

export interface BrokerAccess {
  /** A sign claimed its credentials (or got new ones): let it in with this secret. */
  signClaimed(deviceId: string, stopId: string, secret: string): Promise<void>;
  /** A sign moved: its stop topics change. */
  signMoved(deviceId: string, stopId: string): Promise<void>;
  /** Cut the sign off now and refuse it from here on. */
  signRevoked(deviceId: string): Promise<void>;
  /** What the broker refused; null when the broker keeps its own count (its log). */
  refusals(): RefusalSnapshot | null;
  refusalsFor(deviceId: string): number | null;
}
