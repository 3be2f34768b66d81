// What a node's health check reports (the agent's node.health action), kept as
// the node's last health in the inventory.
import { z } from 'zod';

export const nodeHealthSchema = z.object({
  /** 1, 5 and 15 minute load averages. */
  load: z.array(z.number()).length(3),
  cpus: z.number().int().nonnegative(),
  memoryFreeBytes: z.number().nonnegative(),
  memoryTotalBytes: z.number().nonnegative(),
  disks: z.array(z.object({ mount: z.string(), usedPercent: z.number().min(0).max(100), freeBytes: z.number().nonnegative() })),
  uptimeSeconds: z.number().nonnegative(),
  collectedAt: z.string(),
});

export type NodeHealth = z.infer<typeof nodeHealthSchema>;
