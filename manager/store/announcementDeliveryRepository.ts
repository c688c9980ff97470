/**
 * Which announcement each retained announcement topic was last sent, shared by
 * every manager: whoever records a change first sends it, so a post, a
 * withdrawal or an expiry goes out once however many managers notice it.
 */
export interface AnnouncementDeliveryRepository {
  /**
   * Records that `topic` carries `announcementId` ('' once cleared). True when
   * this call changed the record (the caller sends); false when it carried it already.
   */
  record(topic: string, announcementId: string): Promise<boolean>;
  /** Records it whatever was recorded: after a reconnect the broker may have lost it. */
  overwrite(topic: string, announcementId: string): Promise<void>;
  /** Every topic recorded as carrying an announcement, with its id. */
  carrying(): Promise<Map<string, string>>;
}
