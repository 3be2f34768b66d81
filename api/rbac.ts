// Who may do what, per environment. Roles are granted per environment; admin
// may do everything there, operators run things, approvers decide on gates,
// viewers read.
import type { Role } from '../manifest/types.js';

export interface Grant {
  environment: string;
  role: Role;
}

export interface Principal {
  id: string;
  email: string;
  grants: Grant[];
  /** The sign-in session of an access token; absent for API tokens. */
  sessionId?: string;
}

export type Permission = 'read' | 'execute' | 'approve' | 'administer';

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = { admin: ['read', 'execute', 'approve', 'administer'], operator: ['read', 'execute'], approver: ['read', 'approve'], viewer: ['read'] };

export function rolesIn(principal: Principal, environment: string): Role[] {
  return principal.grants.filter((grant) => grant.environment === environment).map((grant) => grant.role);
}

export function can(principal: Principal, permission: Permission, environment: string): boolean {
  return rolesIn(principal, environment).some((role) => ROLE_PERMISSIONS[role].includes(permission));
}

export function environmentsWhere(principal: Principal, permission: Permission): string[] {
  return [...new Set(principal.grants.filter((grant) => ROLE_PERMISSIONS[grant.role].includes(permission)).map((grant) => grant.environment))];
}

/** Whether the roles held satisfy a runbook's `requiredRole` (admin satisfies every role). */
export function satisfiesRole(held: readonly Role[], required: Role): boolean {
  if (held.includes('admin')) return true;
  if (required === 'viewer') return held.length > 0;
  return held.includes(required);
}

/** Whether a principal may start a runbook in an environment: the operator right there, and the runbook's own `requiredRole`. */
export function mayStartRunbook(principal: Principal, runbook: { requiredRole: Role }, environment: string): boolean {
  return can(principal, 'execute', environment) && satisfiesRole(rolesIn(principal, environment), runbook.requiredRole);
}

export function startRefusal(runbook: { name: string; requiredRole: Role }, environment: string): string {
  return `starting ${runbook.name} in ${environment} needs the operator role there (and ${runbook.requiredRole})`;
}
