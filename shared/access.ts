/**
 * Who may do what: operator roles and token scopes on the HTTP side. Roles
 * are ordered; each one may do everything the ones before it may.
 */
export const ROLES = ['viewer', 'operator', 'maintenance', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What each role adds to the one before it, for people (console, README). */
export const ROLE_DUTIES: Record<Role, string> = {
  viewer: 'reads the fleet, announcements, timetable summary and health',
  operator: 'posts and withdraws announcements',
  maintenance: 'creates, moves, provisions, revokes and deletes signs',
  admin: 'operators and their tokens, timetable uploads, realtime feeds, the audit log',
};

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/**
 * Groups of routes a token can be limited to. A token with no scopes may use
 * every route its role allows; one with scopes only the routes in them.
 */
export const SCOPES = [
  'account',
  'fleet',
  'announcements',
  /** Announcements to a set of stops, a route or the whole city, on top of `announcements`. */
  'broadcast',
  'signs',
  'timetable',
  'realtime',
  'operators',
  'tokens',
  'audit',
  'updates',
] as const;
export type Scope = (typeof SCOPES)[number];
