import type { Database } from '../../db/database.js';
import type { Role } from '../../manifest/types.js';
import { JarvisProblem } from '../../runs/errors.js';
import { hashPassword } from '../../security/passwords.js';

export const MIN_PASSWORD_LENGTH = 12;

export class UserService {
  constructor(private readonly db: Database) {}

  async createUser(input: { email: string; name: string; password: string }): Promise<{ id: string; email: string }> {
    if (input.password.length < MIN_PASSWORD_LENGTH) throw new JarvisProblem(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`, 'invalid');
    const email = input.email.trim().toLowerCase();
    if (await this.db.user.findUnique({ where: { email } })) throw new JarvisProblem(`a user with email ${email} already exists`, 'conflict');
    const user = await this.db.user.create({ data: { email, name: input.name, passwordHash: await hashPassword(input.password) } });
    return { id: user.id, email: user.email };
  }

  async grant(userId: string, environment: string, role: Role): Promise<void> {
    const target = await this.db.environment.upsert({ where: { name: environment }, create: { name: environment }, update: {} });
    await this.db.roleGrant.upsert({
      where: { userId_environmentId_role: { userId, environmentId: target.id, role } },
      create: { userId, environmentId: target.id, role },
      update: {},
    });
  }

  /** The first admin, from JARVIS_ADMIN_EMAIL and JARVIS_ADMIN_PASSWORD, only while no user exists. */
  async bootstrapAdmin(admin: { email: string; password: string } | undefined, environments: string[]): Promise<string | undefined> {
    if (!admin || (await this.db.user.count()) > 0) return undefined;
    const created = await this.createUser({ email: admin.email, name: 'Administrator', password: admin.password });
    for (const environment of environments) await this.grant(created.id, environment, 'admin');
    return created.email;
  }
}
