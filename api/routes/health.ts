import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/database.js';

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) });
const Readiness = Type.Object({ status: Type.String(), checks: Type.Object({ database: Check, temporal: Check }) });

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  try {
    await probe();
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: (error as Error).message.split('\n')[0] };
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Database; temporal: Client }> = async (app, { db, temporal }) => {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['health'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    { config: { public: true }, schema: { tags: ['health'], summary: 'The database and Temporal answer', response: { 200: Readiness, 503: Readiness } } },
    async (_request, reply) => {
      const [database, temporalCheck] = await Promise.all([
        check(() => db.$queryRawUnsafe('SELECT 1')),
        check(() => temporal.workflowService.getSystemInfo({})),
      ]);
      const ready = database.ok && temporalCheck.ok;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: { database, temporal: temporalCheck } });
    },
  );
};
