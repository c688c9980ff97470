/**
 * The status message a sign publishes: who it is, what the glass shows and
 * the health figures an operator needs to spot a failing sign from afar.
 */
import type { ClockState } from './board/clockWatch';
import type { DeviceConfig } from './config';
import type { DeviceStatusInput } from './link/managerLink';
import type { PanelStats } from './panel/panel';
import type { BoardView } from './render/boardView';

export interface StatusInputs {
  config: DeviceConfig;
  stopId: string | undefined;
  mode: BoardView['mode'];
  startedAtMs: number;
  rejected: Record<string, number>;
  panel: PanelStats;
  rssBytes?: number;
  cabinet?: { doorOpen: boolean; changedAt: number };
  clock?: ClockState;
  stopInFeed?: boolean | undefined;
}

export function buildStatus(inputs: StatusInputs): DeviceStatusInput {
  const { config, panel } = inputs;
  const status: DeviceStatusInput = {
    deviceId: config.deviceId,
    state: 'online',
    firmware: config.firmwareVersion,
    panelProfile: config.panelProfile,
    mode: inputs.mode,
    startedAt: Math.floor(inputs.startedAtMs / 1000),
    rssBytes: inputs.rssBytes ?? process.memoryUsage.rss(),
    rejected: inputs.rejected,
    panel: {
      ok: panel.ok,
      framesSent: panel.framesSent,
      retries: panel.retries,
      ...(panel.lastError === undefined ? {} : { lastError: panel.lastError.slice(0, 200) }),
    },
  };
  if (inputs.stopId !== undefined) status.stopId = inputs.stopId;
  if (inputs.cabinet) status.cabinet = inputs.cabinet;
  if (inputs.clock) {
    status.clock = { synced: inputs.clock.synced };
    if (inputs.clock.reason !== undefined) status.clock.reason = inputs.clock.reason.slice(0, 200);
  }
  if (inputs.stopInFeed !== undefined) status.stopInFeed = inputs.stopInFeed;
  return status;
}
