/**
 * Which announcement each retained announcement topic was last sent, shared by
 * every manager: whoever records a change first sends it, so a post, a
 * withdrawal or an expiry goes out once however many managers notice it.
 */
export interface AnnouncementDelivery {
  topic: string;
  /** '' once the topic is cleared. */
  announcementId: string;
}

export interface AnnouncementDeliveryRepository {
  /**
   * Records that each topic carries its announcement, a batch at a time (a
   * district is thousands of topics). Gives back the topics this call changed
   * (the caller sends those); the others carried theirs already.
   */
  record(deliveries: readonly AnnouncementDelivery[]): Promise<Set<string>>;
  /** Records them whatever was recorded: after a reconnect the broker may have lost them. */
  overwrite(deliveries: readonly AnnouncementDelivery[]): Promise<void>;
  /** Every topic recorded as carrying an announcement, with its id. */
  carrying(): Promise<Map<string, string>>;
}
