/** The audit log for admins: filtered pages as JSON, or everything that matches as CSV. */
import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance } from 'fastify';
import { auditQuery, type AuditQuery } from '../../../shared';
import type { AuditEvent, AuditFilter } from '../../store/auditRepository';
import type { ManagerServices } from '../../services';
import { requires } from '../access/routeAccess';
import { badRequest } from './replies';

const CSV_ROWS_MAX = 100_000;

function filterOf(query: AuditQuery, limit = query.limit): AuditFilter {
  return {
    actor: query.actor,
    action: query.action,
    targetId: query.target,
    from: query.from,
    to: query.to,
    before: query.before,
    limit,
  };
}

export function registerAuditRoutes(app: FastifyInstance, services: ManagerServices): void {
  app.get('/api/audit', requires('admin', 'audit'), async (request, reply) => {
    const query = auditQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    const events = await services.auditEvents.query(filterOf(query.data));
    const last = events.at(-1);
    return {
      events,
      next: events.length === query.data.limit && last ? last.eventId : null,
    };
  });

  app.get('/api/audit.csv', requires('admin', 'audit'), async (request, reply) => {
    const query = auditQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    const rows: AuditEvent[] = [];
    let before = query.data.before;
    // Pages of a thousand, newest first, up to a cap that keeps one export bounded.
    while (rows.length < CSV_ROWS_MAX) {
      const page = await services.auditEvents.query(filterOf({ ...query.data, before }, 1000));
      rows.push(...page);
      const last = page.at(-1);
      if (page.length < 1000 || !last) break;
      before = last.eventId;
    }
    const csv = stringify(
      rows.map((e) => [
        e.eventId,
        new Date(e.at * 1000).toISOString(),
        e.actorKind,
        e.actor,
        e.address ?? '',
        e.action,
        e.targetKind ?? '',
        e.targetId ?? '',
        e.before === null ? '' : JSON.stringify(e.before),
        e.after === null ? '' : JSON.stringify(e.after),
      ]),
      {
        header: true,
        columns: [
          'id',
          'time',
          'actor kind',
          'actor',
          'address',
          'action',
          'target kind',
          'target',
          'before',
          'after',
        ],
        // A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
        escape_formulas: true,
      },
    );
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="stopsign-audit.csv"')
      .send(csv);
  });
}
