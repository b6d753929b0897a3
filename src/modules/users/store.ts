import type { Database, Queryable } from '../../db/database.ts';
import { maybeOne, one } from '../../db/database.ts';

export type AccessRole = 'ADMIN' | 'DEPARTMENT_HEAD' | 'SALES_REP';

export interface UserRow {
  id: string;
  organization_id: string;
  email: string;
  password_hash: string;
  full_name: string | null;
  access_role: AccessRole;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, organization_id, email, password_hash, full_name, access_role, created_at, updated_at';

export function insertUser(
  db: Queryable,
  user: { id: string; organizationId: string; email: string; passwordHash: string; fullName: string | null; accessRole: AccessRole },
): Promise<UserRow> {
  return one<UserRow>(
    db,
    `INSERT INTO users (id, organization_id, email, password_hash, full_name, access_role)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [user.id, user.organizationId, user.email, user.passwordHash, user.fullName, user.accessRole],
  );
}

/** Login is the one lookup not scoped by organization: the email is what identifies the tenant. */
export function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  return maybeOne<UserRow>(db, `SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
}

/** Likewise an API key identifies its user, and through it the organization. */
export function findUserByApiKeyHash(db: Queryable, hash: string): Promise<UserRow | undefined> {
  return maybeOne<UserRow>(db, `SELECT ${COLUMNS} FROM users WHERE api_key_hash = $1`, [hash]);
}

export function findUser(db: Queryable, organizationId: string, id: string): Promise<UserRow | undefined> {
  // named: it runs on every authenticated request, so it is planned once per connection
  return maybeOne<UserRow>(
    db,
    { name: 'users.find', text: `SELECT ${COLUMNS} FROM users WHERE organization_id = $1 AND id = $2` },
    [organizationId, id],
  );
}

export function listUsers(db: Queryable, organizationId: string): Promise<UserRow[]> {
  return db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE organization_id = $1 ORDER BY created_at, id`, [organizationId]);
}

export async function setApiKeyHash(db: Queryable, organizationId: string, userId: string, hash: string): Promise<void> {
  await db.query(`UPDATE users SET api_key_hash = $3, updated_at = now() WHERE organization_id = $1 AND id = $2`, [
    organizationId,
    userId,
    hash,
  ]);
}

/** The NOTIFY channel on which a changed or removed user's id is announced (migration 040). */
const USER_CHANGED_CHANNEL = 'openlead_user_changed';

export function listenForUserChanges(db: Database, handlers: { changed(userId: string): void; listening(listening: boolean): void }) {
  return db.listen(USER_CHANGED_CHANNEL, { message: handlers.changed, listening: handlers.listening });
}
