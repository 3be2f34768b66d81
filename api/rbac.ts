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

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'execute', 'approve', 'administer'],
  operator: ['read', 'execute'],
  approver: ['read', 'approve'],
  viewer: ['read'],
};

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
