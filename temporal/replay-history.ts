// Replays a recorded run history against the current workflow code, so a
// change that would break running workflows fails here (CLI and CI) first.
import type { DataConverter } from '@temporalio/common';
import type { temporal as protoTypes } from '@temporalio/proto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export async function replayHistory(
  history: protoTypes.api.history.v1.IHistory,
  workflowBundle: WorkflowBundleWithSourceMap | { codePath: string },
  dataConverter: DataConverter,
  workflowId = 'replayed-run',
): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle, replayName: 'jarvis-replay', dataConverter }, history, workflowId);
}
