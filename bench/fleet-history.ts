// How big a workflow's history is, as Temporal counts it against its limits
// (51,200 events, 50 MB per history, 2 MB per payload): its events, its encoded
// size, and its largest event (which bounds its largest payload).
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { History, HistoryEvent } = proto.temporal.api.history.v1;

export interface HistorySize {
  workflowId: string;
  events: number;
  bytes: number;
  largestEventBytes: number;
}

export async function historySize(client: Client, workflowId: string, runId?: string): Promise<HistorySize> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const largestEventBytes = events.reduce((largest, event) => Math.max(largest, HistoryEvent.encode(event).finish().byteLength), 0);
  return { workflowId, events: events.length, bytes: History.encode(history).finish().byteLength, largestEventBytes };
}
