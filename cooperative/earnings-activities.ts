// The earnings job's activity, on the API process's control worker: it needs
// the database and Temporal (to read what ran on each node).
import { Context } from '@temporalio/activity';
import type { Earning, Earnings } from './earnings.js';

export interface EarningsActivities {
  computeCooperativeEarnings(input: { periodStart: string; periodEnd: string }): Promise<Earning[]>;
}

export function createEarningsActivities(earnings: Earnings): EarningsActivities {
  return {
    async computeCooperativeEarnings({ periodStart, periodEnd }) {
      return earnings.computePeriod({ start: new Date(periodStart), end: new Date(periodEnd) }, () => Context.current().heartbeat());
    },
  };
}
