// Reading a run's Temporal history: the input it was started with, its step
// timeline, and the point a failed run can be resumed from.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { temporal as protoTypes } from '@temporalio/proto';
import { JarvisProblem } from '../manifest/errors.js';
import { maskSecretInputs, redact, secretInputValues } from '../manifest/redact.js';
import type { RunInput } from '../manifest/types.js';
import type { RunInputs } from './run-contract.js';
import type { RunQueries } from './run-queries.js';
import { buildTimeline, type TimelineEntry } from './timeline.js';

const { temporal } = proto;

/** Step arguments and outputs shown in the timeline are cut at this many characters. */
const TIMELINE_PAYLOAD_CHARS = 4_000;

/** Where a failed run can be reset to, and the compensations that already ran (which forbid it). */
export interface ResumePoint {
  failedStep?: { stepId: string; workflowTaskCompletedEventId: number };
  compensated: string[];
}

/** The first failed action step (resetting to the workflow task that scheduled it) and the compensations completed. */
export function findResumePoint(events: protoTypes.api.history.v1.IHistoryEvent[]): ResumePoint {
  const EventType = temporal.api.enums.v1.EventType;
  const scheduled = new Map<number, { activityId: string; workflowTaskCompletedEventId: number }>();
  let failedStep: ResumePoint['failedStep'];
  const compensated: string[] = [];
  for (const event of events) {
    const eventId = Number(event.eventId);
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const attributes = event.activityTaskScheduledEventAttributes!;
      scheduled.set(eventId, { activityId: attributes.activityId ?? '', workflowTaskCompletedEventId: Number(attributes.workflowTaskCompletedEventId) });
    }
    const failedScheduledId =
      event.activityTaskFailedEventAttributes?.scheduledEventId ?? event.activityTaskTimedOutEventAttributes?.scheduledEventId;
    if (failedScheduledId != null) {
      const origin = scheduled.get(Number(failedScheduledId));
      if (origin?.activityId.startsWith('step:') && !failedStep) {
        failedStep = { stepId: origin.activityId.slice('step:'.length), workflowTaskCompletedEventId: origin.workflowTaskCompletedEventId };
      }
    }
    const completedScheduledId = event.activityTaskCompletedEventAttributes?.scheduledEventId;
    if (completedScheduledId != null) {
      const origin = scheduled.get(Number(completedScheduledId));
      if (origin?.activityId.startsWith('compensate:')) compensated.push(origin.activityId.split(':')[2] ?? origin.activityId);
    }
  }
  return { failedStep, compensated };
}

export class RunHistory {
  constructor(
    private readonly client: Client,
    private readonly queries: RunQueries,
  ) {}

  async fetchHistory(id: string, executionId?: string): Promise<protoTypes.api.history.v1.IHistory> {
    const { handle } = await this.queries.describe(id, executionId);
    return handle.fetchHistory();
  }

  /** The workflow input a run was started with: the exact manifest version and inputs. */
  async originalInput(id: string, executionId?: string): Promise<RunInput> {
    const history = await this.fetchHistory(id, executionId);
    // Histories hold payloads as the codecs left them (encrypted).
    const input = await this.decodePayload<RunInput>(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
    if (!input) throw new JarvisProblem(`run ${id} has no recorded input`, 'invalid');
    return input;
  }

  /** The run's step timeline, built from its history, with each step's arguments and output (secrets masked). */
  async timeline(id: string, executionId?: string): Promise<TimelineEntry[]> {
    const history = await this.fetchHistory(id, executionId);
    const input = await this.decodePayload<RunInput>(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
    const secrets = input ? secretInputValues(input.runbook, input.inputs) : [];
    const shown = async (payload: Payload | undefined, pick: (value: unknown) => unknown) => {
      const value = await this.decodePayload(payload).catch(() => undefined);
      if (value === undefined) return undefined;
      const text = redact(JSON.stringify(pick(value)) ?? 'null', secrets);
      return text.length > TIMELINE_PAYLOAD_CHARS ? `${text.slice(0, TIMELINE_PAYLOAD_CHARS)}…` : text;
    };
    return Promise.all(
      buildTimeline(history, id).map(async ({ entry, input: given, result }) => {
        const [args, output] = await Promise.all([shown(given as Payload | undefined, (value) => value), shown(result as Payload | undefined, (value) => (value as { output?: unknown }).output)]);
        return { ...entry, ...(args !== undefined ? { input: args } : {}), ...(output !== undefined ? { output } : {}) };
      }),
    );
  }

  /** A run's inputs as it was started (secret ones masked) and its runbook's name and version. */
  async runInputs(id: string, executionId?: string): Promise<RunInputs> {
    const input = await this.originalInput(id, executionId);
    return { runbook: input.runbook.name, version: input.runbook.version, inputs: maskSecretInputs(input.runbook, input.inputs) };
  }

  /** Undoes the payload codecs (last first) and converts a history payload back to its value. */
  private async decodePayload<T>(payload: Payload | null | undefined): Promise<T | undefined> {
    if (!payload) return undefined;
    let decoded = [payload];
    for (const codec of [...(this.client.options.dataConverter.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
    return defaultPayloadConverter.fromPayload<T>(decoded[0]!);
  }
}
