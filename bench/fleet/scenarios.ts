/**
 * The fleet scenarios, each measured against its floor in the same run: a
 * connect storm against bare clients connecting to the same broker, a fan-out
 * (one realtime update changing every board) and a city-wide emergency against a bare publisher pushing the same
 * messages through the same broker, and a broker restart (all back with their
 * retained state) against all merely reconnected.
 */
import bindings from 'gtfs-realtime-bindings';
import { encodeMessage, topics } from '../../shared';
import type { SimulatedIdentity } from '../../scripts/fleet/feedStops';
import { peakRssMiB, processCpuMs } from '../../scripts/fleet/managerProcess';
import type { FleetRig } from '../../scripts/fleet/rig';
import {
  quantile,
  received,
  sleep,
  timeToShare,
  until,
  wallNow,
  type FleetFigure,
} from './measure';
import { openOnlineCounter } from './onlineCounter';
import type { SimWorkers } from './simWorkers';
import { barePublish, type Watcher } from './watcher';

export interface ScenarioContext {
  mode: string;
  rig: FleetRig;
  sim: SimWorkers;
  /** Makes a fresh set of simulator processes (the floor's bare clients use their own). */
  newWorkers: () => SimWorkers;
  identities: readonly SimulatedIdentity[];
  /** Every stop with at least one sign. */
  stopIds: readonly string[];
  watcher: Watcher;
  publishIntervalSeconds: number;
  rampPerSecond: number;
  /** Longest any one wait may take before the scenario reports how far it got. */
  deadlineMs: number;
  figures: FleetFigure[];
  log: (line: string) => void;
}

/** Why an embedded figure stands without its bare-publisher floor. */
const NO_FLOOR =
  'no floor: on the embedded broker only the manager may publish to stop and city topics';

const figure = (ctx: ScenarioContext, f: Omit<FleetFigure, 'mode'>): void => {
  const full = { ...f, mode: ctx.mode };
  ctx.figures.push(full);
  const floor = f.floor ? `   (floor ${f.floor.name}: ${f.floor.value.toFixed(0)} ${f.unit})` : '';
  ctx.log(
    `  ${f.scenario}: ${f.name} = ${f.value.toFixed(0)} ${f.unit}${floor}${f.note ? ` [${f.note}]` : ''}`,
  );
};

/** N signs connecting at once: until all are online in the manager's store. */
export async function connectStorm(ctx: ScenarioContext): Promise<void> {
  const { rig, identities, rampPerSecond } = ctx;
  const total = identities.length;
  const scenario = 'connect storm';

  // Floor: as many bare clients, at the same rate, to the same broker process.
  const bare = ctx.newWorkers();
  const floorStart = wallNow();
  await bare.start('bare', rig.simTarget, identities, rampPerSecond, {});
  const floorDone = await until(() => bare.counts().connected >= total, ctx.deadlineMs, 100);
  const floorMs = wallNow() - floorStart;
  const floorReached = bare.counts().connected;
  await bare.stop();
  ctx.log(
    `  floor: ${floorReached}/${total} bare clients connected in ${floorMs.toFixed(0)} ms` +
      (floorDone ? '' : ' (deadline)'),
  );
  await sleep(3_000);

  const counter = await openOnlineCounter(rig.storeLocation);
  try {
    const managerPid = rig.managers[0]?.pid ?? -1;
    const mosquittoPid = rig.mosquittoPid;
    const cpu0 = processCpuMs(managerPid);
    const brokerCpu0 = mosquittoPid ? processCpuMs(mosquittoPid) : 0;
    const t0 = wallNow();
    // The store records times on the managers' clock.
    const since = Math.floor(ctx.rig.now() / 1000);
    await ctx.sim.start('signs', rig.simTarget, identities, rampPerSecond, {});
    let online = 0;
    const allOnline = await until(
      async () => (online = await counter.onlineSince(since)) >= total,
      ctx.deadlineMs,
      250,
    );
    const onlineMs = wallNow() - t0;
    const cpuMs = processCpuMs(managerPid) - cpu0;
    const brokerCpuMs = mosquittoPid ? processCpuMs(mosquittoPid) - brokerCpu0 : 0;
    const note = allOnline ? undefined : `only ${online} of ${total} online at the deadline`;
    figure(ctx, {
      scenario,
      name: `all ${total} online in the manager`,
      value: onlineMs,
      unit: 'ms',
      floor: { name: 'bare clients all connected', value: floorMs },
      ...(note ? { note } : {}),
    });
    figure(ctx, {
      scenario,
      name: 'manager CPU during the storm',
      value: cpuMs,
      unit: 'ms',
      floor: { name: 'wall time of the storm', value: onlineMs },
    });
    figure(ctx, {
      scenario,
      name: 'manager peak RSS',
      value: peakRssMiB(managerPid),
      unit: 'MiB',
    });
    if (mosquittoPid) {
      figure(ctx, {
        scenario,
        name: 'Mosquitto CPU during the storm',
        value: brokerCpuMs,
        unit: 'ms',
        floor: { name: 'wall time of the storm', value: onlineMs },
      });
      figure(ctx, {
        scenario,
        name: 'Mosquitto peak RSS',
        value: peakRssMiB(mosquittoPid),
        unit: 'MiB',
      });
    }
    const allLive = await until(() => ctx.sim.counts().live >= total, ctx.deadlineMs, 250);
    figure(ctx, {
      scenario,
      name: 'all live (config, slice, arrivals, manager online)',
      value: wallNow() - t0,
      unit: 'ms',
      floor: { name: 'all online in the manager', value: onlineMs },
      ...(allLive ? {} : { note: `only ${ctx.sim.counts().live} live at the deadline` }),
    });
    const simRss = ctx.sim.rssMiB();
    figure(ctx, {
      scenario,
      name: 'simulator RSS per sign',
      value: (simRss.reduce((a, b) => a + b, 0) * 1024) / total,
      unit: 'kB',
    });
  } finally {
    await counter.close();
  }
}

/** Waits until no arrivals reached the watcher for `quietMs`: a publishing pass has ended. */
async function afterPass(ctx: ScenarioContext, quietMs = 3_000): Promise<void> {
  await until(
    () => ctx.watcher.lastArrivalAt > 0 && wallNow() - ctx.watcher.lastArrivalAt > quietMs,
    ctx.publishIntervalSeconds * 3_000,
    200,
  );
}

/** Per sign, ms from t0 to its first `kind` after the mark; waits until all have it. */
async function latencies(
  ctx: ScenarioContext,
  kind: 'arrivals' | 'announcement' | 'announcementCleared',
  t0: () => number | undefined,
): Promise<{ times: number[]; start: number }> {
  const total = ctx.identities.length;
  let times: number[] = [];
  await until(
    async () => received((times = await ctx.sim.collect(kind))) >= total,
    ctx.deadlineMs,
    1_000,
  );
  const start = t0() ?? Number.NaN;
  return { times, start };
}

/**
 * A TripUpdates feed with only its header, fresh: every board turns from
 * scheduled to live, so it is one update for every stop with a sign.
 */
function freshHeaderOnlyFeed(nowMs: number): Uint8Array {
  return bindings.transit_realtime.FeedMessage.encode(
    bindings.transit_realtime.FeedMessage.fromObject({
      header: {
        gtfsRealtimeVersion: '2.0',
        incrementality: 'FULL_DATASET',
        timestamp: Math.floor(nowMs / 1000),
      },
      entity: [],
    }),
  ).finish();
}

/**
 * One realtime update that changes every stop's board, pushed to the manager:
 * from the push until each sign has its stop's new arrivals.
 */
export async function fanOut(ctx: ScenarioContext): Promise<void> {
  const total = ctx.identities.length;
  const scenario = 'fan-out';
  await afterPass(ctx);
  ctx.sim.mark(['arrivals']);
  const t0 = wallNow();
  const res = await ctx.rig.api.request(
    'POST',
    '/api/realtime?kind=tripUpdates',
    Buffer.from(freshHeaderOnlyFeed(ctx.rig.now())),
    { 'content-type': 'application/x-protobuf' },
  );
  if (res.status !== 202) throw new Error(`pushing the feed: ${res.status} ${await res.text()}`);
  const pass = await latencies(ctx, 'arrivals', () => t0);
  await afterPass(ctx);
  const payloads = ctx.watcher.arrivalsPayloads();

  // Floor: the same messages from a bare publisher through the same broker.
  let floor: { times: number[]; start: number } | undefined;
  if (ctx.rig.clientsMayPublish) {
    ctx.sim.mark(['arrivals']);
    const f0 = wallNow();
    await barePublish(
      ctx.rig.brokerUrl,
      ctx.rig.clientOptions('bench-publisher'),
      [...payloads].map(([topic, payload]) => ({ topic, payload })),
    );
    floor = await latencies(ctx, 'arrivals', () => f0);
  }

  const lat = (r: { times: number[]; start: number }) => r.times.map((t) => t - r.start);
  const manager = lat(pass);
  const bare = floor ? lat(floor) : undefined;
  const done = received(pass.times);
  const note = done < total ? `${done} of ${total} signs got it` : undefined;
  ctx.log(`  ${payloads.size} stops, ${total} signs`);
  for (const [name, q] of [
    ['p50', 0.5],
    ['p99', 0.99],
    ['last sign', 1],
  ] as const) {
    figure(ctx, {
      scenario,
      name: `${name} from the feed's push until a sign has its stop's new arrivals`,
      value: quantile(manager, q),
      unit: 'ms',
      ...(bare ? { floor: { name: `bare publisher, ${name}`, value: quantile(bare, q) } } : {}),
      ...(note ? { note } : bare ? {} : { note: NO_FLOOR }),
    });
  }
}

const EMERGENCY_TEXT = { en: 'Severe weather: all service suspended', zh: '恶劣天气：全线停运' };

/**
 * An emergency for every sign, posted through the API two ways in the same
 * run: as it had to be before city-wide targets (one POST per stop with a
 * sign) and as one POST to `{ city: true }` (one retained message on the city
 * topic). Time to 99 % and 100 % of signs for each, beside a bare publisher
 * pushing the same messages through the same broker where the broker lets
 * it; then the city one is withdrawn and the clear timed the same way.
 */
export async function emergency(ctx: ScenarioContext): Promise<void> {
  const total = ctx.identities.length;
  const before = await perStopEmergency(ctx);

  ctx.sim.mark(['announcement']);
  const t0 = wallNow();
  const res = await ctx.rig.api.post('/api/announcements', {
    target: { city: true },
    text: EMERGENCY_TEXT,
    priority: 'emergency',
    durationSeconds: 1800,
  });
  if (res.status !== 201) throw new Error(`posting to the city: ${res.status} ${await res.text()}`);
  const postedMs = wallNow() - t0;
  const { announcementId } = (await res.json()) as { announcementId: string };
  const city = (await latencies(ctx, 'announcement', () => t0)).times;
  ctx.log(`  1 city-wide announcement posted in ${postedMs.toFixed(0)} ms`);

  // Withdrawn: the one retained city message cleared, on every sign.
  ctx.sim.mark(['announcementCleared', 'connected']);
  const w0 = wallNow();
  const gone = await ctx.rig.api.request('DELETE', `/api/announcements/${announcementId}`);
  if (gone.status !== 200) throw new Error(`withdrawing: ${gone.status} ${await gone.text()}`);
  const cleared = (await latencies(ctx, 'announcementCleared', () => w0)).times;
  await explainMissing(ctx, 'the city clear', cleared);

  // The floors last: the manager puts back what a stranger retained on its topics, and that
  // correction must not queue in front of what is measured above. Times on the managers' clock.
  const now = Math.floor(ctx.rig.now() / 1000);
  const floorMessage = (announcementId: string) =>
    encodeMessage('stopAnnouncement', {
      announcementId,
      text: EMERGENCY_TEXT,
      priority: 'emergency',
      expiresAt: now + 1800,
    });
  const stopFloor = ctx.rig.clientsMayPublish
    ? await floorOf(
        ctx,
        ctx.stopIds.map((stopId, i) => ({
          topic: topics.stopAnnouncement(stopId),
          payload: floorMessage(`floor-${now}-${i}`),
        })),
      )
    : undefined;
  const cityFloor = ctx.rig.clientsMayPublish
    ? await floorOf(ctx, [
        { topic: topics.cityAnnouncement(), payload: floorMessage(`floor-city-${now}`) },
      ])
    : undefined;

  for (const [name, share] of [
    ['99 %', 0.99],
    ['100 %', 1],
  ] as const) {
    const of = (times: number[], from: number) => timeToShare(times, from, share, total);
    emergencyFigure(ctx, `${name} of signs have it, one POST per stop (before)`, {
      value: of(before.times, before.t0),
      got: received(before.times),
      floor: stopFloor && { name: `bare publisher per stop, ${name}`, value: of(...stopFloor) },
    });
    emergencyFigure(ctx, `${name} of signs have it, one city-wide POST`, {
      value: of(city, t0),
      got: received(city),
      floor: cityFloor && { name: `bare publisher, city topic, ${name}`, value: of(...cityFloor) },
    });
  }
  emergencyFigure(ctx, '100 % of signs cleared it, one city-wide DELETE', {
    value: timeToShare(cleared, w0, 1, total),
    got: received(cleared),
    floor: cityFloor && {
      name: 'bare publisher, city topic, 100 %',
      value: timeToShare(...cityFloor, 1, total),
    },
  });
}

/** Of the signs that never got a message, how many lost their connection meanwhile. */
async function explainMissing(ctx: ScenarioContext, what: string, times: number[]): Promise<void> {
  // Not a number (null, once through IPC) where a sign never got it.
  const missing = times.flatMap((t, i) => (Number.isFinite(t) ? [] : [i]));
  if (missing.length === 0) return;
  const reconnected = await ctx.sim.collect('connected');
  const since = missing.filter((i) => Number.isFinite(reconnected[i])).length;
  const ids = missing.flatMap((i) => ctx.identities[i]?.deviceId ?? []);
  const now = await ctx.sim.inspect(ids);
  const connected = now.filter((s) => s.connected).length;
  const holding = now.filter((s) => Object.keys(s.announcements).length > 0);
  ctx.log(
    `  ${missing.length} signs never got ${what}; ${since} of them reconnected meanwhile, ` +
      `${connected} are connected now, ${holding.length} still hold an announcement ` +
      `(e.g. ${holding
        .slice(0, 3)
        .map((s) => `${s.deviceId} at ${s.stopId}: ${JSON.stringify(s.announcements)}`)
        .join('; ')})`,
  );
}

/** Today's way without a city target: one POST per stop with a sign, eight at a time. */
async function perStopEmergency(ctx: ScenarioContext): Promise<{ times: number[]; t0: number }> {
  ctx.sim.mark(['announcement']);
  const t0 = wallNow();
  let next = 0;
  const post = async (): Promise<void> => {
    while (next < ctx.stopIds.length) {
      const stopId = ctx.stopIds[next++] as string;
      const res = await ctx.rig.api.post('/api/announcements', {
        target: { stopId },
        text: EMERGENCY_TEXT,
        priority: 'emergency',
        durationSeconds: 1800,
      });
      if (res.status !== 201)
        throw new Error(`posting to ${stopId}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, post));
  ctx.log(`  ${ctx.stopIds.length} announcements posted in ${(wallNow() - t0).toFixed(0)} ms`);
  return { times: (await latencies(ctx, 'announcement', () => t0)).times, t0 };
}

/** The same retained messages from a bare publisher: when each sign had one, and when it began. */
async function floorOf(
  ctx: ScenarioContext,
  messages: { topic: string; payload: string }[],
): Promise<[number[], number]> {
  ctx.sim.mark(['announcement']);
  const f0 = wallNow();
  await barePublish(ctx.rig.brokerUrl, ctx.rig.clientOptions('bench-publisher'), messages);
  return [(await latencies(ctx, 'announcement', () => f0)).times, f0];
}

function emergencyFigure(
  ctx: ScenarioContext,
  name: string,
  measured: { value: number; got: number; floor?: { name: string; value: number } | undefined },
): void {
  const total = ctx.identities.length;
  const note = measured.got < total ? `${measured.got} of ${total} signs got it` : undefined;
  figure(ctx, {
    scenario: 'emergency',
    name,
    value: measured.value,
    unit: 'ms',
    ...(measured.floor ? { floor: measured.floor } : {}),
    ...(note ? { note } : measured.floor ? {} : { note: NO_FLOOR }),
  });
}

/** The broker restarts, losing everything retained: until every sign is back and resupplied. */
export async function brokerRestart(ctx: ScenarioContext): Promise<void> {
  const total = ctx.identities.length;
  const scenario = 'broker restart';
  const kinds = ['connected', 'config', 'schedule', 'arrivals'] as const;
  ctx.sim.mark([...kinds]);
  const t0 = wallNow();
  await ctx.rig.restartBroker();
  ctx.log(`  broker back after ${(wallNow() - t0).toFixed(0)} ms`);
  let back: number[] = [];
  let connected: number[] = [];
  await until(
    async () => {
      const [c, ...rest] = await Promise.all(kinds.map((k) => ctx.sim.collect(k)));
      connected = c ?? [];
      back = connected.map((_, i) => Math.max(...rest.map((r) => r[i] ?? Number.NaN)));
      return received(back) >= total;
    },
    ctx.deadlineMs,
    2_000,
  );
  const done = received(back);
  const note = done < total ? `${done} of ${total} back with their state` : undefined;
  for (const [name, share] of [
    ['99 %', 0.99],
    ['100 %', 1],
  ] as const) {
    figure(ctx, {
      scenario,
      name: `${name} back with config, slice and arrivals`,
      value: timeToShare(back, t0, share, total),
      unit: 'ms',
      floor: { name: `${name} reconnected`, value: timeToShare(connected, t0, share, total) },
      ...(note ? { note } : {}),
    });
  }
}
