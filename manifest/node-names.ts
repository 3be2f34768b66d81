// How nodes are named and which task queue a node's agent polls. Pure code:
// the runbook interpreter uses it inside the workflow sandbox too.

/** Lowercase letters, digits and "-": a node name is part of its task queue's name and of DNS-like labels. */
export const NODE_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
const NODE_NAME = new RegExp(NODE_NAME_PATTERN);

export function isNodeName(value: unknown): value is string {
  return typeof value === 'string' && NODE_NAME.test(value);
}

/** The one task queue a node's agent polls: `jarvis-node-<environment>-<name>`. */
export function nodeTaskQueue(environment: string, name: string): string {
  return `jarvis-node-${environment}-${name}`;
}
