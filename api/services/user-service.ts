import type { Database } from '../../db/database.js';
import type { Role } from '../../manifest/types.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { hashPassword } from '../../security/passwords.js';

export const MIN_PASSWORD_LENGTH = 12;

function checkPasswordLength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new JarvisProblem(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`, 'invalid');
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  disabled: boolean;
  totpEnabled: boolean;
  grants: Array<{ id: string; environment: string; role: string }>;
}

export class UserService {
  constructor(private readonly db: Database) {}

  /** Users with their role grants, by email; `id` narrows it to that user. */
  async listUsers(where: { id?: string } = {}): Promise<UserView[]> {
    const users = await this.db.user.findMany({ where, include: { grants: { include: { environment: true } } }, orderBy: { email: 'asc' } });
    return users.map((user) => ({
      id: user.id,
      email: user.email,
      name: user.name,
      disabled: user.disabled,
      totpEnabled: user.totpEnabled,
      grants: user.grants.map((grant) => ({ id: grant.id, environment: grant.environment.name, role: grant.role })),
    }));
  }

  async createUser(input: { email: string; name: string; password: string }): Promise<{ id: string; email: string }> {
    checkPasswordLength(input.password);
    const email = input.email.trim().toLowerCase();
    if (await this.db.user.findUnique({ where: { email } })) throw new JarvisProblem(`a user with email ${email} already exists`, 'conflict');
    const user = await this.db.user.create({ data: { email, name: input.name, passwordHash: await hashPassword(input.password) } });
    return { id: user.id, email: user.email };
  }

  /**
   * The user's own change (the caller has checked the current password): every
   * other session of theirs ends; the one they changed it from goes on. API
   * tokens stay: automation keeps working.
   */
  async changePassword(userId: string, password: string, currentSessionId: string | undefined): Promise<void> {
    checkPasswordLength(password);
    const passwordHash = await hashPassword(password);
    await this.db.$transaction([
      this.db.user.update({ where: { id: userId }, data: { passwordHash } }),
      this.db.refreshToken.updateMany({ where: { userId, revokedAt: null, ...(currentSessionId ? { NOT: { familyId: currentSessionId } } : {}) }, data: { revokedAt: new Date() } }),
    ]);
  }

  /** An administrator's reset: whoever held the account's sessions or API tokens loses them all. */
  async resetPassword(userId: string, password: string): Promise<void> {
    checkPasswordLength(password);
    await this.requireUser(userId);
    const passwordHash = await hashPassword(password);
    const now = new Date();
    await this.db.$transaction([
      this.db.user.update({ where: { id: userId }, data: { passwordHash } }),
      this.db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } }),
      this.db.apiToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } }),
    ]);
  }

  /**
   * A disabled user's sign-ins, sessions and API tokens are all refused (the
   * API checks on every lookup); enabling them again restores what has not expired.
   */
  async setDisabled(userId: string, disabled: boolean): Promise<void> {
    await this.requireUser(userId);
    await this.db.user.update({ where: { id: userId }, data: { disabled } });
  }

  /** The user and the environments they hold a role in (who may manage them depends on it). */
  async withEnvironments(userId: string): Promise<{ id: string; email: string; environments: string[] }> {
    const user = await this.db.user.findUnique({ where: { id: userId }, include: { grants: { include: { environment: true } } } });
    if (!user) throw new JarvisProblem(`no user ${userId}`, 'not-found');
    return { id: user.id, email: user.email, environments: [...new Set(user.grants.map((grant) => grant.environment.name))] };
  }

  async requireUser(userId: string): Promise<{ id: string; email: string }> {
    const user = await this.db.user.findUnique({ where: { id: userId } });
    if (!user) throw new JarvisProblem(`no user ${userId}`, 'not-found');
    return user;
  }

  async grant(userId: string, environment: string, role: Role): Promise<void> {
    const target = await this.db.environment.upsert({ where: { name: environment }, create: { name: environment }, update: {} });
    await this.db.roleGrant.upsert({
      where: { userId_environmentId_role: { userId, environmentId: target.id, role } },
      create: { userId, environmentId: target.id, role },
      update: {},
    });
  }

  /** One of the user's grants and the environment it is in (withdrawing it needs the admin role there). */
  async findGrant(userId: string, grantId: string): Promise<{ id: string; environment: string }> {
    const grant = await this.db.roleGrant.findFirst({ where: { id: grantId, userId }, include: { environment: true } });
    if (!grant) throw new JarvisProblem(`no grant ${grantId} for that user`, 'not-found');
    return { id: grant.id, environment: grant.environment.name };
  }

  async withdrawGrant(grantId: string): Promise<void> {
    await this.db.roleGrant.delete({ where: { id: grantId } });
  }

  /** The first admin, from JARVIS_ADMIN_EMAIL and JARVIS_ADMIN_PASSWORD, only while no user exists. */
  async bootstrapAdmin(admin: { email: string; password: string } | undefined, environments: string[]): Promise<string | undefined> {
    if (!admin || (await this.db.user.count()) > 0) return undefined;
    const created = await this.createUser({ email: admin.email, name: 'Administrator', password: admin.password });
    for (const environment of environments) await this.grant(created.id, environment, 'admin');
    return created.email;
  }
}
