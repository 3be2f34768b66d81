// What the layout loads for every page, shared with the pages through useShell().
import { useRouteLoaderData } from 'react-router';

export type Role = 'admin' | 'operator' | 'approver' | 'viewer';

export interface ShellData {
  me: { id: string; email: string; grants: Array<{ environment: string; role: Role }> };
  environments: string[];
  environment: string;
  readiness: { status: string; checks?: Record<string, string> };
  pendingApprovals: number;
  temporalUiUrl: string;
  namespace: string;
}

export function useShell(): ShellData {
  return useRouteLoaderData('routes/shell') as ShellData;
}

export function rolesIn(me: ShellData['me'], environment: string): Role[] {
  return me.grants.filter((grant) => grant.environment === environment).map((grant) => grant.role);
}

export function holdsAnywhere(me: ShellData['me'], roles: Role[]): boolean {
  return me.grants.some((grant) => roles.includes(grant.role));
}
