// Options and argument parsers several commands share, so they read alike everywhere.
import { Option, type Command } from 'commander';
import { ROLES, type Role } from '../manifest/types.js';
import { JarvisProblem } from '../manifest/errors.js';
import { OUTPUT_FORMATS } from './output.js';

export const outputOption = () => new Option('-o, --output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table');

/** For repeatable options: each occurrence adds a value. */
export const collect = (value: string, previous: string[]) => [...previous, value];

export const roleOption = () => new Option('--role <role>', 'a role the acting user holds (repeatable)').argParser(collect).default(['approver']);

/** The Docker endpoint a container or stack command acts on. */
export const endpointOptions = (command: Command) =>
  command.requiredOption('-e, --env <environment>', 'the environment of the connection').requiredOption('--endpoint <connection>', 'the docker connection to use');

export function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new JarvisProblem(`"${value}" is not a role (use ${ROLES.join(', ')})`, 'invalid');
  return value as Role;
}

export const parseRoles = (values: string[]): Role[] => values.map(parseRole);
