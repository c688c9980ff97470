/**
 * Request bodies of the manager's rollout API, shared with the console and
 * operator scripts. The server validates every body against these.
 */
import { z } from 'zod';
import { deviceId, stopId } from './schemas';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

export const rolloutTarget = z.union([
  z.object({ all: z.literal(true) }).strict(),
  z.object({ stopIds: z.array(stopId).min(1).max(100_000) }).strict(),
  /** A group: the signs named, e.g. one depot's or one contract's. */
  z.object({ deviceIds: z.array(deviceId).min(1).max(100_000) }).strict(),
]);
export type RolloutTarget = z.infer<typeof rolloutTarget>;

export const createRolloutRequest = z
  .object({
    bundleId: z.string().min(1).max(64),
    target: rolloutTarget,
    /** Cumulative share of the target reached by the end of each stage, ending at 100. */
    stages: z
      .array(z.number().min(0.1).max(100))
      .min(1)
      .max(10)
      .default([1, 10, 50, 100])
      .refine((s) => s.every((v, i) => i === 0 || v > (s[i - 1] ?? 0)), 'stages must grow')
      .refine((s) => s.at(-1) === 100, 'the last stage must reach 100%'),
    /** Share of a stage's signs that must succeed before the next stage starts. */
    successPercent: z.number().min(0).max(100).default(95),
    /** The rollout halts by itself once failures reach either limit. */
    failureLimit: z
      .object({
        count: z.number().int().min(1).optional(),
        percent: z.number().min(0.1).max(100).optional(),
      })
      .refine((f) => f.count !== undefined || f.percent !== undefined, 'give a count or a percent')
      .default({ percent: 10 }),
    /** A sign that has not reported success or failure this long after its offer counts as failed. */
    deadlineSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 3600)
      .default(6 * 3600),
    /** Offers go out only inside this window, in the local time of each sign's stop. */
    maintenanceWindow: z.object({ start: hhmm, end: hhmm }).optional(),
    maxConcurrentDownloads: z.number().int().min(1).max(100_000).default(50),
  })
  .strict();
export type CreateRolloutRequest = z.input<typeof createRolloutRequest>;
export type RolloutSpec = z.output<typeof createRolloutRequest>;
