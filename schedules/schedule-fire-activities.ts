// The activities of a schedule's fire, performed by the API process's control
// worker (api/control-worker.ts): only the API decides who may start what, so
// the owner's right is checked here, at every fire, with the user's grants as
// they are now, and the start is signed here as the API signs any start.
import { JarvisProblem } from '../manifest/errors.js';
import type { AuditRecord } from '../api/services/audit-service.js';
import type { Principal } from '../api/rbac.js';
import type { PlannedStart } from '../runs/run-starts.js';
import type { Database } from '../db/database.js';
import { fireToken, temporalScheduleId, type ScheduleService } from './schedule-service.js';
import { SCHEDULED_START_TIME_ATTRIBUTE } from '../workflows/search-attributes.js';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';

export interface ScheduleFire {
  scheduleId: string;
  /** When the fire was due (ISO 8601), as the fire's workflow read it. */
  scheduledAt: string;
  /** The workflow of this fire, for the audit trail. */
  fireWorkflowId: string;
}

/** A fire as Temporal vouches for it, named by its execution (two "run now" in one second share a due time and a workflow id, not an execution). */
interface AuthenticFire extends ScheduleFire {
  fireId: string;
}

/** Set by Temporal itself on the workflows a schedule starts; clients cannot set Temporal's own attributes. */
const SCHEDULED_BY_ATTRIBUTE = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

export type FireDecision = { kind: 'start'; plan: PlannedStart } | { kind: 'refused'; reason: string };

export interface ScheduleFireActivities {
  prepareScheduledRun(fire: ScheduleFire): Promise<FireDecision>;
  recordScheduleFire(fire: ScheduleFire & { outcome: 'skipped'; runId: string; reason: string }): Promise<void>;
}

export interface ScheduleFireDependencies {
  db: Database;
  temporal: Client;
  schedules: ScheduleService;
  principalOfUser(userId: string): Promise<Principal | undefined>;
  audit: { record(entry: AuditRecord): Promise<void> };
  /** Told of every refused fire (notifications); may be told again when the activity is retried. */
  onRefused?(event: { scheduleId: string; name: string; environment: string; runbook: string; scheduledAt: string; reason: string }): Promise<void>;
}

export function createScheduleFireActivities(dependencies: ScheduleFireDependencies): ScheduleFireActivities {
  const { db, schedules, audit } = dependencies;

  /** Writes the fire once; true when this call wrote it (a retried activity does not audit twice). */
  const recordOnce = async (fire: AuthenticFire, outcome: string, runId: string | null, reason: string | null): Promise<boolean> => {
    const written = await db.scheduleFire.createMany({
      data: [{ scheduleId: fire.scheduleId, fireId: fire.fireId, scheduledAt: new Date(fire.scheduledAt), outcome, runId, reason }],
      skipDuplicates: true,
    });
    return written.count === 1;
  };

  /**
   * The fire as Temporal knows it: started by the schedule it names, due when
   * Temporal says. Anyone who reaches Temporal can start a `scheduledRun`
   * with any schedule's id; only the schedule itself makes a fire.
   */
  const authenticFire = async (claimed: ScheduleFire): Promise<AuthenticFire | undefined> => {
    const execution = Context.current().info.workflowExecution;
    if (!execution) return undefined;
    const { workflowId, runId } = execution;
    const description = await dependencies.temporal.workflow.getHandle(workflowId, runId).describe();
    if (description.typedSearchAttributes.get(SCHEDULED_BY_ATTRIBUTE) !== temporalScheduleId(claimed.scheduleId)) return undefined;
    const due = description.typedSearchAttributes.get(SCHEDULED_START_TIME_ATTRIBUTE) ?? description.startTime;
    return { scheduleId: claimed.scheduleId, scheduledAt: due.toISOString(), fireWorkflowId: workflowId, fireId: runId };
  };

  return {
    async prepareScheduledRun(claimed) {
      const [fire, row] = await Promise.all([authenticFire(claimed), db.schedule.findUnique({ where: { id: claimed.scheduleId } })]);
      if (!fire) {
        await audit.record({
          action: 'schedule.fire.refused',
          targetType: 'schedule',
          targetId: claimed.scheduleId,
          outcome: 'denied',
          details: { reason: 'not started by its schedule', fire: Context.current().info.workflowExecution?.workflowId, via: 'temporal' },
        });
        return { kind: 'refused', reason: 'this workflow was not started by the schedule it names' };
      }
      if (!row) {
        // Deleted between its row and its Temporal Schedule: finish the deletion.
        await schedules.deleteTemporalSchedule(fire.scheduleId);
        return { kind: 'refused', reason: 'the schedule was deleted' };
      }
      const owner = await dependencies.principalOfUser(row.ownerId);
      const refuse = async (reason: string): Promise<FireDecision> => {
        // Told first: the event's own dedup key keeps a retried activity from telling twice, and a crash after the row cannot lose it.
        await dependencies.onRefused?.({ scheduleId: row.id, name: row.name, environment: row.environment, runbook: row.runbook, scheduledAt: fire.scheduledAt, reason });
        if (await recordOnce(fire, 'refused', null, reason)) {
          await audit.record({
            ...(owner ? { actorId: owner.id, actorEmail: owner.email } : { actorId: row.ownerId }),
            action: 'schedule.fire.refused',
            targetType: 'schedule',
            targetId: row.id,
            outcome: 'denied',
            details: { name: row.name, runbook: row.runbook, environment: row.environment, scheduledAt: fire.scheduledAt, reason, fire: fire.fireWorkflowId },
          });
        }
        return { kind: 'refused', reason };
      };
      if (!owner) return refuse("the schedule's owner is disabled or no longer exists");
      let plan: PlannedStart;
      try {
        const inputs = schedules.openInputs(row);
        plan = schedules.planFire(owner, row, inputs, fireToken(row.id, fire.fireId));
      } catch (error) {
        if (error instanceof JarvisProblem) return refuse(`${owner.email}: ${error.message}`);
        throw error;
      }
      if (await recordOnce(fire, 'started', plan.id, null)) {
        await audit.record({
          actorId: owner.id,
          actorEmail: owner.email,
          action: 'schedule.fire',
          targetType: 'run',
          targetId: plan.id,
          outcome: 'success',
          details: { schedule: row.name, scheduleId: row.id, runbook: row.runbook, environment: row.environment, scheduledAt: fire.scheduledAt },
        });
      }
      return { kind: 'start', plan };
    },

    async recordScheduleFire(fire) {
      const execution = Context.current().info.workflowExecution;
      if (!execution) return;
      await db.scheduleFire.updateMany({ where: { scheduleId: fire.scheduleId, fireId: execution.runId }, data: { outcome: fire.outcome, reason: fire.reason } });
    },
  };
}
