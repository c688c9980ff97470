/** Registered signs, their stop, and what they last told us about themselves. */
import type { DeviceStatusData } from '../../shared';

export interface SignRecord {
  deviceId: string;
  stopId: string;
  label: string | null;
  /** Panel profile id of the sign's glass. */
  panelProfile: string;
  registeredAt: number;
  /** Epoch seconds of the last status message, null when never heard from. */
  lastSeenAt: number | null;
  lastStatus: DeviceStatusData | null;
  lastFrameAt: number | null;
}

/** A sign's status and when it was seen (epoch seconds). */
export interface StatusReport {
  status: DeviceStatusData;
  seenAt: number;
}

export interface SignRepository {
  /** Registers or moves a sign; keeps what it last reported and, without a new one, its label. */
  register(
    deviceId: string,
    stopId: string,
    label: string | undefined,
    now: number,
    /** Kept as it was when omitted; a new sign gets the default profile. */
    panelProfile?: string,
  ): Promise<SignRecord>;
  get(deviceId: string): Promise<SignRecord | undefined>;
  /** Every sign, by device id. */
  list(): Promise<SignRecord[]>;
  byStop(stopId: string): Promise<SignRecord[]>;
  /** Every stop with at least one sign, sorted. */
  stopIds(): Promise<string[]>;
  /** Returns false for a sign nobody registered: its status is kept out of the fleet. */
  recordStatus(status: DeviceStatusData, now: number): Promise<boolean>;
  /**
   * Many signs' statuses in one transaction (one commit, not one per sign);
   * the device ids nobody registered come back, their statuses kept out.
   */
  recordStatuses(reports: readonly StatusReport[]): Promise<string[]>;
  recordFrame(deviceId: string, png: Buffer, renderedAt: number): Promise<boolean>;
  lastFrame(deviceId: string): Promise<Buffer | undefined>;
  /** Forgets the sign; false when there was none. */
  remove(deviceId: string): Promise<boolean>;
}
