/**
 * Wall-clock jobs (brightness, housekeeping) behind a small seam, so the sign
 * does not care whether node-cron or a test drives them.
 */
import cron from 'node-cron';

export interface ScheduledJob {
  stop(): void;
}

export interface Scheduler {
  /** Runs task on a cron expression until the returned job is stopped. */
  schedule(expression: string, task: () => void, name: string): ScheduledJob;
}

export const cronScheduler: Scheduler = {
  schedule(expression, task, name) {
    const job = cron.schedule(expression, () => task(), { name, noOverlap: true });
    return {
      stop: () => {
        void job.destroy();
      },
    };
  },
};
