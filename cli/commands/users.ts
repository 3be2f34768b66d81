// `jarvis users create|list|grant|disable|enable|reset-password`: administration
// of identities, straight against the database (this is how the first admin is
// made without the API, and how an admin locked out of it gets back in). API
// processes notice a disabled user or a reset within their 5-second cache.
import type { Command } from 'commander';
import { UserService } from '../../api/services/user-service.js';
import type { JarvisEnv } from '../../config/env.js';
import { openDatabase } from '../../db/database.js';
import { ROLES } from '../../manifest/types.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { CliContext } from '../context.js';
import { outputOption, parseRole } from '../options.js';
import { printData, type OutputFormat } from '../output.js';
import { readStdin } from '../stdin.js';

async function withUsers<T>(env: JarvisEnv, work: (users: UserService, db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const database = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  try {
    return await work(new UserService(database.prisma), database);
  } finally {
    await database.close();
  }
}

export function registerUserCommands(program: Command, { env }: CliContext): void {
  const users = program.command('users').description('users and their roles per environment');
  users
    .command('create')
    .description('create a user; the password is read from standard input')
    .argument('<email>')
    .option('--name <name>', 'display name')
    .option('--admin-in <environments>', 'grant admin in these comma-separated environments')
    .action(async (email: string, options: { name?: string; adminIn?: string }) => {
      if (process.stdin.isTTY) throw new JarvisProblem('pipe the password on standard input, e.g. `read -s P; echo "$P" | npx jarvis users create ...`', 'invalid');
      const password = await readStdin();
      await withUsers(env, async (service) => {
        const created = await service.createUser({ email, name: options.name ?? email.split('@')[0] ?? email, password });
        for (const environment of options.adminIn?.split(',').map((name) => name.trim()).filter(Boolean) ?? []) {
          await service.grant(created.id, environment, 'admin');
        }
        console.log(`Created user ${created.email}`);
      });
    });

  users
    .command('grant')
    .description('grant a role in an environment')
    .argument('<email>')
    .argument('<role>', ROLES.join(', '))
    .requiredOption('-e, --env <environment>')
    .action(async (email: string, role: string, options: { env: string }) => {
      const granted = parseRole(role);
      await withUsers(env, async (service, database) => {
        const user = await database.prisma.user.findUnique({ where: { email: email.toLowerCase() } });
        if (!user) throw new JarvisProblem(`no user ${email}`, 'not-found');
        await service.grant(user.id, options.env, granted);
        console.log(`${user.email} is ${role} in ${options.env}`);
      });
    });

  const findUser = async (database: Awaited<ReturnType<typeof openDatabase>>, email: string) => {
    const user = await database.prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
    if (!user) throw new JarvisProblem(`no user ${email}`, 'not-found');
    return user;
  };

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(verb)
      .description(disabled ? 'refuse a user’s sign-ins, sessions and API tokens' : 'let a disabled user in again')
      .argument('<email>')
      .action(async (email: string) => {
        await withUsers(env, async (service, database) => {
          const user = await findUser(database, email);
          await service.setDisabled(user.id, disabled);
          console.log(`${user.email} is ${disabled ? 'disabled' : 'enabled'}`);
        });
      });
  }

  users
    .command('reset-password')
    .description('set a user’s password, read from standard input; all their sessions and API tokens are revoked')
    .argument('<email>')
    .action(async (email: string) => {
      if (process.stdin.isTTY) throw new JarvisProblem('pipe the password on standard input, e.g. `read -s P; echo "$P" | npx jarvis users reset-password ...`', 'invalid');
      const password = await readStdin();
      await withUsers(env, async (service, database) => {
        const user = await findUser(database, email);
        await service.resetPassword(user.id, password);
        console.log(`The password of ${user.email} is reset; their sessions and API tokens are revoked`);
      });
    });

  users
    .command('list')
    .description('users and their grants')
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => {
      const rows = await withUsers(env, async (_service, database) =>
        (await database.prisma.user.findMany({ include: { grants: { include: { environment: true } } }, orderBy: { email: 'asc' } })).map((user) => ({
          email: user.email,
          name: user.name,
          disabled: user.disabled,
          grants: user.grants.map((grant) => `${grant.environment.name}:${grant.role}`),
        })),
      );
      printData(options.output, rows, [
        { header: 'email', value: (row) => row.email },
        { header: 'name', value: (row) => row.name },
        { header: 'grants', value: (row) => row.grants },
        { header: 'disabled', value: (row) => (row.disabled ? 'yes' : '') },
      ]);
    });
}
