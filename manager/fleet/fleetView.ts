/** What an operator sees of one sign: derived from its record and the clock, never stored. */
import type { SignRecord } from '../store/signRepository';

export interface SignSummary {
  deviceId: string;
  stopId: string;
  label: string | null;
  panelProfile: string;
  /** The profile the sign reports running, when it differs from the registered one. */
  panelProfileReported: string | null;
  online: boolean;
  lastSeenAt: number | null;
  mode: 'live' | 'scheduled' | 'none' | null;
  firmware: string | null;
  panelOk: boolean | null;
  panelError: string | null;
  /** Open cabinet door since (epoch seconds); null when closed or the sign has no switch. */
  doorOpenSince: number | null;
  rejectedMessages: number;
  lastFrameAt: number | null;
  frameUrl: string | null;
}

export function summarizeSign(
  sign: SignRecord,
  now: number,
  offlineAfterSeconds: number,
): SignSummary {
  const status = sign.lastStatus;
  const recent = sign.lastSeenAt !== null && now - sign.lastSeenAt <= offlineAfterSeconds;
  return {
    deviceId: sign.deviceId,
    stopId: sign.stopId,
    label: sign.label,
    panelProfile: sign.panelProfile,
    panelProfileReported:
      status?.panelProfile !== undefined && status.panelProfile !== sign.panelProfile
        ? status.panelProfile
        : null,
    // The last will says offline at once; silence says it after offlineAfterSeconds.
    online: status?.state === 'online' && recent,
    lastSeenAt: sign.lastSeenAt,
    mode: status?.mode ?? null,
    firmware: status?.firmware ?? null,
    panelOk: status?.panel?.ok ?? null,
    panelError: status?.panel?.ok === false ? (status.panel.lastError ?? 'failing') : null,
    doorOpenSince: status?.cabinet?.doorOpen ? status.cabinet.changedAt : null,
    rejectedMessages: Object.values(status?.rejected ?? {}).reduce((a, b) => a + b, 0),
    lastFrameAt: sign.lastFrameAt,
    frameUrl:
      sign.lastFrameAt === null
        ? null
        : `/api/signs/${encodeURIComponent(sign.deviceId)}/frame.png?t=${sign.lastFrameAt}`,
  };
}
