/**
 * HTTP API for bundles and rollouts, in the `updates` token scope: reading and
 * steering a rollout is maintenance work, uploading bundles and starting
 * rollouts is an admin's. The bundle file itself is public: signs fetch it
 * without an operator's token, and what makes it safe to install is its
 * Ed25519 signature, checked on the sign, not who could read it.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { createRolloutRequest } from '../../shared';
import type { AuditLog } from '../access/auditLog';
import { isPublic, requires } from '../http/access/routeAccess';
import { actor } from '../http/routes/replies';
import { BundleRefused, type BundleIntake } from './bundleIntake';
import { RolloutError, type RolloutEngine } from './rolloutEngine';
import type { BundleRecord } from './rolloutModel';
import type { RolloutRepository } from './rolloutRepository';

export interface RolloutServices {
  repo: RolloutRepository;
  engine: RolloutEngine;
  intake: BundleIntake;
  /** Bytes of bundle files served, per bundle id: what the fleet's downloads cost. */
  bytesServed: Map<string, number>;
  /** Who uploaded which bundle, and who started, paused, resumed, canceled or retried a rollout. */
  audit: AuditLog;
}

function bundleSummary(b: BundleRecord, served: number) {
  const { files, ...manifest } = b.manifest;
  return {
    bundleId: b.bundleId,
    sha256: b.sha256,
    size: b.size,
    uploadedAt: b.uploadedAt,
    files: files.length,
    bytesServed: served,
    manifest,
  };
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof RolloutError) return reply.code(err.status).send({ error: err.message });
  throw err;
}

/** A release bundle is about 55 MiB; this leaves room for growth and refuses anything absurd. */
const BUNDLE_UPLOAD_LIMIT = 256 * 1024 * 1024;

export function registerRolloutRoutes(app: FastifyInstance, s: RolloutServices): void {
  app.post('/api/bundles', requires('admin', 'updates'), async (request, reply) => {
    // application/octet-stream arrives as the request stream (the upload parser is shared with GTFS).
    const body = request.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') {
      return reply.code(415).send({ error: 'send the bundle as application/octet-stream' });
    }
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (declared > BUNDLE_UPLOAD_LIMIT) {
      return reply
        .code(413)
        .header('connection', 'close')
        .send({ error: `a bundle is at most ${BUNDLE_UPLOAD_LIMIT} bytes` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > BUNDLE_UPLOAD_LIMIT) {
        body.destroy();
        return reply
          .code(413)
          .header('connection', 'close')
          .send({ error: `a bundle is at most ${BUNDLE_UPLOAD_LIMIT} bytes` });
      }
      chunks.push(chunk);
    }
    try {
      const bundle = await s.intake.accept(Buffer.concat(chunks));
      const summary = bundleSummary(bundle, 0);
      await s.audit.record(actor(request), {
        action: 'bundle.upload',
        target: { kind: 'bundle', id: bundle.bundleId },
        after: { sha256: bundle.sha256, size: bundle.size, version: bundle.manifest.version },
      });
      return reply.code(201).send(summary);
    } catch (err) {
      if (err instanceof BundleRefused) {
        return reply
          .code(err.reason === 'duplicate' ? 409 : 422)
          .send({ error: `bundle refused: ${err.message}`, reason: err.reason });
      }
      throw err;
    }
  });

  app.get('/api/bundles', requires('maintenance', 'updates'), async () =>
    (await s.repo.bundles()).map((b) => bundleSummary(b, s.bytesServed.get(b.bundleId) ?? 0)),
  );

  // Range requests let a sign resume a download after a reboot or a dropped link.
  app.get<{ Params: { id: string } }>('/api/bundles/:id/file', isPublic, async (request, reply) => {
    const bundle = await s.repo.bundle(request.params.id);
    if (!bundle) return reply.code(404).send({ error: 'no such bundle' });
    const size = bundle.size;
    let start = 0;
    let end = size - 1;
    const range = request.headers.range;
    if (range !== undefined) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (!m || (m[1] === '' && m[2] === ''))
        return reply.code(416).header('content-range', `bytes */${size}`).send();
      if (m[1] === '') start = Math.max(0, size - Number(m[2]));
      else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(size - 1, Number(m[2]));
      }
      if (start >= size || start > end) {
        return reply.code(416).header('content-range', `bytes */${size}`).send();
      }
      reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
    }
    const stream = fs.createReadStream(bundle.path, { start, end });
    stream.on('data', (chunk) => {
      s.bytesServed.set(bundle.bundleId, (s.bytesServed.get(bundle.bundleId) ?? 0) + chunk.length);
    });
    return reply
      .header('accept-ranges', 'bytes')
      .header('content-length', end - start + 1)
      .header('etag', `"${bundle.sha256}"`)
      .type('application/octet-stream')
      .send(stream);
  });

  app.post('/api/rollouts', requires('admin', 'updates'), async (request, reply) => {
    const body = createRolloutRequest.safeParse(request.body);
    if (!body.success) {
      return reply
        .code(400)
        .send({ error: 'invalid request', detail: z.prettifyError(body.error) });
    }
    try {
      const rollout = await s.engine.create(body.data);
      await s.audit.record(actor(request), {
        action: 'rollout.create',
        target: { kind: 'rollout', id: rollout.rolloutId },
        after: { spec: rollout.spec, version: rollout.version, state: rollout.state },
      });
      return reply.code(201).send(rollout);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/rollouts', requires('maintenance', 'updates'), async () => s.repo.rollouts());

  app.get<{ Params: { id: string } }>(
    '/api/rollouts/:id',
    requires('maintenance', 'updates'),
    async (request, reply) => {
      try {
        return await s.engine.progress(request.params.id);
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  const actions = {
    pause: (id: string) => s.engine.pause(id),
    resume: (id: string) => s.engine.resume(id),
    cancel: (id: string) => s.engine.cancel(id),
    'retry-failed': (id: string) => s.engine.retryFailed(id),
  } as const;
  for (const [action, run] of Object.entries(actions)) {
    app.post<{ Params: { id: string } }>(
      `/api/rollouts/:id/${action}`,
      requires('maintenance', 'updates'),
      async (request, reply) => {
        try {
          const rollout = await run(request.params.id);
          await s.audit.record(actor(request), {
            action: `rollout.${action}`,
            target: { kind: 'rollout', id: rollout.rolloutId },
            after: { state: rollout.state, reason: rollout.reason },
          });
          return rollout;
        } catch (err) {
          return fail(reply, err);
        }
      },
    );
  }
}
