// The environments runs, grants and payload keys belong to.
import type { Database } from '../../db/database.js';
import { JarvisProblem } from '../../manifest/errors.js';

export interface EnvironmentView {
  name: string;
  description: string;
}

export class EnvironmentService {
  constructor(private readonly db: Database) {}

  async listEnvironments(): Promise<EnvironmentView[]> {
    return (await this.db.environment.findMany({ orderBy: { name: 'asc' } })).map(({ name, description }) => ({ name, description }));
  }

  async createEnvironment(name: string, description = ''): Promise<EnvironmentView> {
    if (await this.db.environment.findUnique({ where: { name } })) throw new JarvisProblem(`environment ${name} already exists`, 'conflict');
    const created = await this.db.environment.create({ data: { name, description } });
    return { name: created.name, description: created.description };
  }
}
