import type { FastifyRequest } from 'fastify';
import { JarvisProblem } from '../manifest/errors.js';
import { principalOf } from './plugins/auth.js';
import { can, environmentsWhere, type Permission } from './rbac.js';

const ROLE_FOR: Record<Permission, string> = { read: 'a role', execute: 'the operator role', approve: 'the approver role', administer: 'the admin role' };

/** Refuses with 403 unless the caller may do this in that environment. */
export function requirePermission(request: FastifyRequest, permission: Permission, environment: string): void {
  if (!can(principalOf(request), permission, environment)) throw new JarvisProblem(`this needs ${ROLE_FOR[permission]} in ${environment}`, 'forbidden');
}

/** For what is not bound to one environment (users, environments, the audit log): admin somewhere. */
export function requireAdministrator(request: FastifyRequest): void {
  if (environmentsWhere(principalOf(request), 'administer').length === 0) throw new JarvisProblem('this needs the admin role', 'forbidden');
}
