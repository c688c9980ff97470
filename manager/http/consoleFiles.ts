/**
 * The console's files: one page shell, one script per page or part, one
 * string table per language. Read once at start and served from memory;
 * only names found in the folder are served, so no path reaches elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { isPublic } from './access/routeAccess';

const consoleDir = fileURLToPath(new URL('./console/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export function readConsoleFiles(): Map<string, { type: string; body: string }> {
  const files = new Map<string, { type: string; body: string }>();
  const walk = (dir: string, prefix: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${prefix}${entry.name}/`);
      const type = TYPES[path.extname(entry.name)];
      if (entry.isFile() && type) {
        files.set(`${prefix}${entry.name}`, {
          type,
          body: fs.readFileSync(path.join(dir, entry.name), 'utf8'),
        });
      }
    }
  };
  walk(consoleDir, '');
  return files;
}

export function registerConsoleRoutes(
  app: FastifyInstance,
  files: Map<string, { type: string; body: string }>,
): void {
  const page = files.get('index.html');
  if (!page) throw new Error('the console has no index.html');
  app.get('/', isPublic, async (_request, reply) => reply.type(page.type).send(page.body));
  app.get<{ Params: { '*': string } }>('/console/*', isPublic, async (request, reply) => {
    const file = files.get(request.params['*']);
    if (!file) return reply.code(404).send({ error: 'no such console file' });
    return reply.type(file.type).header('cache-control', 'no-cache').send(file.body);
  });
}
