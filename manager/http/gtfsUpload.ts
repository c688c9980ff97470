/**
 * POST /api/gtfs: the zip streams to a file on disk, counted as it comes, so an
 * upload costs disk rather than memory and is cut off at the size limit. One
 * import runs at a time; a second upload is refused before its body is read.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ImportBusyError } from '../gtfs/backgroundImport';
import { GtfsImportError } from '../gtfs/errors';
import { StopsDroppedError } from '../gtfs/feedChecks';
import { ImportLimitError, mib } from '../gtfs/importLimits';
import type { ManagerServices } from '../services';
import { FeedTooLargeError } from '../store/feedVersionRepository';
import { requires } from './access/routeAccess';
import { actor } from './routes/replies';

class UploadTooLarge extends Error {}

const uploadQuery = z.object({
  /** Let the feed in even when it drops stops that registered signs use. */
  force: z.enum(['true', '1']).optional(),
  /** What the summary names as the feed's origin, e.g. a file name. */
  source: z.string().min(1).max(300).optional(),
});

/** Nothing of the body is read: the connection closes after the reply. */
function refuse(reply: FastifyReply, code: number, error: string): FastifyReply {
  return reply.code(code).header('connection', 'close').send({ error });
}

export function registerGtfsUpload(app: FastifyInstance, services: ManagerServices): void {
  const { imports } = services;
  // The body reaches the handler as the request stream; the handler bounds it.
  app.addContentTypeParser(
    ['application/zip', 'application/octet-stream'],
    (_request, payload, done) => done(null, payload),
  );

  app.post('/api/gtfs', requires('admin', 'timetable'), async (request, reply) => {
    const body = request.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') {
      return refuse(reply, 415, 'send the GTFS zip as application/zip');
    }
    const query = uploadQuery.safeParse(request.query);
    if (!query.success) {
      return reply
        .code(400)
        .header('connection', 'close')
        .send({ error: 'invalid request', detail: z.prettifyError(query.error) });
    }
    const limit = imports.maxUploadBytes;
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (declared > limit) {
      return refuse(
        reply,
        413,
        `the upload is ${mib(declared)}; at most ${mib(limit)} is accepted`,
      );
    }
    if (!imports.reserve()) {
      return refuse(reply, 409, 'another timetable import is running; try again when it is done');
    }
    fs.mkdirSync(imports.uploadDir, { recursive: true });
    const file = path.join(imports.uploadDir, `${randomUUID()}.zip`);
    const before = services.schedule.summary() ?? null;
    const refused = (reason: string) =>
      services.audit.record(actor(request), {
        action: 'timetable.upload-refused',
        after: { reason: reason.slice(0, 300) },
      });
    try {
      try {
        await receive(body, file, limit);
      } catch (err) {
        if (!(err instanceof UploadTooLarge)) throw err;
        // The rest of the body is let go unread; the connection closes after the reply.
        body.resume();
        const reason = `the upload passed ${mib(limit)}; at most that is accepted`;
        await refused(reason);
        return refuse(reply, 413, reason);
      }
      // A bomb is refused from the zip's directory before the upload is held in memory.
      await imports.check(file);
      // Read off the event loop: a city's feed is tens of megabytes.
      const bytes = await fs.promises.readFile(file);
      const forced = query.data.force !== undefined;
      const summary = await services.importFeed(bytes, query.data.source ?? 'upload', {
        force: forced,
      });
      await services.audit.record(actor(request), {
        action: 'timetable.upload',
        target: { kind: 'timetable', id: summary.source },
        before: before && { stops: before.stops, trips: before.trips, stopTimes: before.stopTimes },
        after: {
          stops: summary.stops,
          trips: summary.trips,
          stopTimes: summary.stopTimes,
          bytes: bytes.length,
          forced,
        },
      });
      await services.publisher.scheduleChanged();
      return reply.code(201).send(summary);
    } catch (err) {
      // The previous timetable stays in place; the operator gets the reason.
      const message = (err as Error).message;
      await refused(message);
      if (err instanceof ImportBusyError) return refuse(reply, 409, message);
      if (err instanceof StopsDroppedError) {
        return reply.code(409).send({ error: message, signs: err.signs });
      }
      if (err instanceof ImportLimitError || err instanceof FeedTooLargeError) {
        return reply.code(413).send({ error: message });
      }
      if (err instanceof GtfsImportError) return reply.code(422).send({ error: message });
      throw err;
    } finally {
      imports.release();
      fs.rmSync(file, { force: true });
    }
  });
}

async function receive(body: Readable, file: string, limit: number): Promise<void> {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(bytes > limit ? new UploadTooLarge() : null, chunk);
    },
  });
  // The request is not handed to pipeline: on a refusal it must stay open for the reply.
  body.pipe(counter);
  body.once('error', (err) => counter.destroy(err));
  try {
    await pipeline(counter, fs.createWriteStream(file));
  } finally {
    body.unpipe(counter);
  }
}
