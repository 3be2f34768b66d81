// Schedules: a runbook, its inputs and its environment on a Temporal Schedule.
// The row (owner, sealed inputs, the definition as written) is written before
// the Temporal Schedule and removed before it, so a crash in between leaves a
// row whose schedule `reconcile` creates again, or a schedule whose fires find
// no row and delete it (schedule-fire-activities.ts): never a schedule that
// runs with nobody answerable for it.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import { JarvisProblem } from '../manifest/errors.js';
import type { RunService } from '../runs/run-service.js';
import type { PlannedStart } from '../runs/run-starts.js';
import type { CredentialsCipher } from '../security/credentials-cipher.js';
import { mayStartRunbook, startRefusal, type Principal } from '../api/rbac.js';
import { SCHEDULE_ATTRIBUTE } from '../workflows/search-attributes.js';
import type { ScheduledRunInput } from '../workflows/scheduled-run.js';
import { temporalOverlap, temporalScheduleOf, type OverlapPolicyName, type ScheduleDefinition } from './schedule-definition.js';

export interface CreateScheduleRequest extends ScheduleDefinition {
  name: string;
  description?: string;
  runbook: string;
  environment: string;
  inputs: Record<string, unknown>;
  /** Created paused, with this note. */
  paused?: boolean;
  note?: string;
}

export interface ScheduleFireRecord {
  scheduledAt: string;
  firedAt: string;
  outcome: string;
  runId: string | null;
  reason: string | null;
}

export interface ScheduleView {
  id: string;
  name: string;
  description: string;
  runbook: string;
  environment: string;
  owner: string;
  definition: ScheduleDefinition;
  /** `missing`: the Temporal Schedule is gone (reconcile brings it back). */
  state: 'active' | 'paused' | 'missing';
  note: string;
  nextFires: string[];
  fires: ScheduleFireRecord[];
  createdAt: string;
}

const INPUTS_CONTEXT = 'schedule-inputs';
const NEXT_FIRES_SHOWN = 5;
const FIRES_SHOWN = 20;

export function temporalScheduleId(scheduleId: string): string {
  return `jarvis-schedule.${scheduleId}`;
}

/** One token per fire (its workflow execution): the fire's run id, whichever attempt of its activity starts it. */
export function fireToken(scheduleId: string, fireId: string): string {
  return createHash('sha256').update(`schedule\n${scheduleId}\n${fireId}`).digest('hex').slice(0, 32);
}

/** Temporal refused the spec: the SDK turns its "Invalid schedule spec" answer into a TypeError. */
function isInvalidArgument(error: unknown): boolean {
  return error instanceof TypeError;
}

type ScheduleRow = NonNullable<Awaited<ReturnType<Database['schedule']['findUnique']>>>;

export class ScheduleService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly runs: RunService,
    private readonly cipher: CredentialsCipher,
    private readonly taskQueue: string,
  ) {}

  sealInputs(scheduleId: string, inputs: Record<string, unknown>): string {
    return this.cipher.seal(JSON.stringify(inputs), `${INPUTS_CONTEXT}:${scheduleId}`).ciphertext;
  }

  openInputs(row: Pick<ScheduleRow, 'id' | 'inputsCiphertext'>): Record<string, unknown> {
    return JSON.parse(this.cipher.open(row.inputsCiphertext, `${INPUTS_CONTEXT}:${row.id}`)) as Record<string, unknown>;
  }

  /**
   * The start of a fire, signed, after the checks of a start made now by
   * `owner`: the same as POST /runbooks/:name/execute (their role, the
   * runbook's required role), and the inputs against the runbook's schema.
   */
  planFire(owner: Principal, schedule: { id?: string; runbook: string; environment: string }, inputs: Record<string, unknown>, token: string): PlannedStart {
    const compiled = this.runs.compileRunbook(schedule.runbook);
    if (!mayStartRunbook(owner, compiled.runbook, schedule.environment)) throw new JarvisProblem(startRefusal(compiled.runbook, schedule.environment), 'forbidden');
    return this.runs.planStart({ runbook: compiled, inputs, environment: schedule.environment, startedBy: owner.email, idempotency: token, ...(schedule.id ? { scheduleId: schedule.id } : {}) });
  }

  async create(owner: Principal, request: CreateScheduleRequest): Promise<ScheduleView> {
    const temporalShape = temporalScheduleOf(request);
    this.planFire(owner, request, request.inputs, 'check');
    if (await this.db.schedule.findUnique({ where: { name: request.name } })) throw new JarvisProblem(`a schedule named "${request.name}" exists already`, 'conflict');
    const id = crypto.randomUUID();
    const definition: ScheduleDefinition = { spec: request.spec, policies: request.policies };
    const row = await this.db.schedule.create({
      data: {
        id,
        name: request.name,
        description: request.description ?? '',
        runbook: request.runbook,
        environment: request.environment,
        ownerId: owner.id,
        inputsCiphertext: this.sealInputs(id, request.inputs),
        definition: definition as object,
      },
    });
    try {
      await this.createTemporalSchedule(row, request.paused ? (request.note ?? 'created paused') : undefined, temporalShape);
    } catch (error) {
      await this.db.schedule.delete({ where: { id } });
      if (isInvalidArgument(error)) throw new JarvisProblem(`the schedule is not valid: ${(error as Error).message}`, 'invalid');
      throw error;
    }
    return this.show(id);
  }

  private async createTemporalSchedule(row: ScheduleRow, pausedNote?: string, shape = temporalScheduleOf(row.definition as unknown as ScheduleDefinition)): Promise<void> {
    const input: ScheduledRunInput = { scheduleId: row.id };
    await this.temporal.schedule.create({
      scheduleId: temporalScheduleId(row.id),
      spec: shape.spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledRun',
        // Names the environment, so the fire's payloads (its signed run input) are sealed with that environment's key.
        workflowId: `${row.runbook}@${row.environment}.schedule.${row.id}`,
        taskQueue: this.taskQueue,
        args: [input],
        typedSearchAttributes: [{ key: SCHEDULE_ATTRIBUTE, value: row.id }],
      },
      policies: { overlap: shape.overlap, catchupWindow: shape.catchupWindowMs, pauseOnFailure: shape.pauseOnFailure },
      state: pausedNote ? { paused: true, note: pausedNote } : { note: `Jarvis schedule ${row.name}` },
    });
  }

  /** Creates the Temporal Schedule of every row that lost it (a crash between the row and the schedule, a wiped Temporal). */
  async reconcile(): Promise<string[]> {
    const recreated: string[] = [];
    for (const row of await this.db.schedule.findMany()) {
      try {
        await this.createTemporalSchedule(row);
        recreated.push(row.name);
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      }
    }
    return recreated;
  }

  async list(environments: readonly string[]): Promise<ScheduleView[]> {
    const rows = await this.db.schedule.findMany({ where: { environment: { in: [...environments] } }, orderBy: { name: 'asc' } });
    return Promise.all(rows.map((row) => this.viewOf(row, false)));
  }

  async find(id: string): Promise<ScheduleRow> {
    const row = await this.db.schedule.findUnique({ where: { id } });
    if (!row) throw new JarvisProblem(`no schedule ${id}`, 'not-found');
    return row;
  }

  async show(id: string): Promise<ScheduleView> {
    return this.viewOf(await this.find(id), true);
  }

  private async describe(row: ScheduleRow): Promise<ScheduleDescription | undefined> {
    try {
      return await this.temporal.schedule.getHandle(temporalScheduleId(row.id)).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
  }

  private async viewOf(row: ScheduleRow, withFires: boolean): Promise<ScheduleView> {
    const [description, owner, fires] = await Promise.all([
      this.describe(row),
      this.db.user.findUnique({ where: { id: row.ownerId }, select: { email: true } }),
      this.db.scheduleFire.findMany({ where: { scheduleId: row.id }, orderBy: { scheduledAt: 'desc' }, take: withFires ? FIRES_SHOWN : 1 }),
    ]);
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      runbook: row.runbook,
      environment: row.environment,
      owner: owner?.email ?? '(deleted user)',
      definition: row.definition as unknown as ScheduleDefinition,
      state: !description ? 'missing' : description.state.paused ? 'paused' : 'active',
      note: description?.state.note ?? '',
      nextFires: (description?.info.nextActionTimes ?? []).slice(0, NEXT_FIRES_SHOWN).map((time) => time.toISOString()),
      fires: fires.map((fire) => ({ scheduledAt: fire.scheduledAt.toISOString(), firedAt: fire.firedAt.toISOString(), outcome: fire.outcome, runId: fire.runId, reason: fire.reason })),
      createdAt: row.createdAt.toISOString(),
    };
  }

  private handle(row: ScheduleRow) {
    return this.temporal.schedule.getHandle(temporalScheduleId(row.id));
  }

  private async onSchedule<T>(row: ScheduleRow, act: () => Promise<T>): Promise<T> {
    try {
      return await act();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) throw new JarvisProblem(`schedule ${row.name} has no Temporal Schedule right now; it is created again when the API starts`, 'unavailable');
      if (isInvalidArgument(error)) throw new JarvisProblem((error as Error).message, 'invalid');
      throw error;
    }
  }

  async pause(id: string, note: string): Promise<ScheduleView> {
    const row = await this.find(id);
    await this.onSchedule(row, () => this.handle(row).pause(note));
    return this.viewOf(row, true);
  }

  async unpause(id: string, note: string): Promise<ScheduleView> {
    const row = await this.find(id);
    await this.onSchedule(row, () => this.handle(row).unpause(note));
    return this.viewOf(row, true);
  }

  /**
   * Fires now, as a due time would (the owner's right is checked by the fire,
   * as always). "Run now" runs even while an earlier fire still runs, unless
   * asked otherwise: the schedule's own overlap policy is for its due times.
   */
  async trigger(id: string, overlap: OverlapPolicyName = 'allow-all'): Promise<void> {
    const row = await this.find(id);
    await this.onSchedule(row, () => this.handle(row).trigger(temporalOverlap(overlap)));
  }

  /** Fires once for every time the spec names in [start, end), as if the schedule had been running then. */
  async backfill(id: string, start: Date, end: Date, overlap: OverlapPolicyName): Promise<void> {
    if (!(start.getTime() < end.getTime())) throw new JarvisProblem('a backfill needs a start before its end', 'invalid');
    const row = await this.find(id);
    await this.onSchedule(row, () => this.handle(row).backfill([{ start, end, overlap: temporalOverlap(overlap) }]));
  }

  /** The row goes first: a fire that finds no row deletes its Temporal Schedule itself. */
  async delete(id: string): Promise<void> {
    const row = await this.find(id);
    await this.db.schedule.delete({ where: { id } });
    await this.deleteTemporalSchedule(row.id);
  }

  async deleteTemporalSchedule(scheduleId: string): Promise<void> {
    try {
      await this.temporal.schedule.getHandle(temporalScheduleId(scheduleId)).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
}
