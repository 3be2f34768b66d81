// A node's hardware profile: what the inventory keeps about a machine. Two
// collectors produce it — the agent on the node itself, and provisioning over
// SSH from Ansible's facts — so both are checked against this one schema.
import { z } from 'zod';

export const swarmMembershipSchema = z.object({
  /** Docker's `Swarm.LocalNodeState`: inactive, pending, active, error, locked. */
  state: z.string(),
  role: z.enum(['manager', 'worker']).optional(),
  nodeId: z.string().optional(),
  clusterId: z.string().optional(),
  /** Addresses of the managers this node knows (host:port). */
  managers: z.array(z.string()).default([]),
});

export const hardwareProfileSchema = z.object({
  hostname: z.string(),
  os: z.object({ name: z.string(), version: z.string(), kernel: z.string(), arch: z.string() }),
  cpu: z.object({ model: z.string(), cores: z.number().int().nonnegative() }),
  memoryBytes: z.number().nonnegative(),
  disks: z.array(z.object({ mount: z.string(), device: z.string(), sizeBytes: z.number().nonnegative(), usedBytes: z.number().nonnegative() })),
  /** Addresses in CIDR form (10.0.0.2/24), loopback left out. */
  interfaces: z.array(z.object({ name: z.string(), mac: z.string().optional(), addresses: z.array(z.string()) })),
  docker: z.object({ version: z.string(), swarm: swarmMembershipSchema.optional() }).nullable(),
  collectedAt: z.string(),
});

export type HardwareProfile = z.infer<typeof hardwareProfileSchema>;
export type SwarmMembership = z.infer<typeof swarmMembershipSchema>;
