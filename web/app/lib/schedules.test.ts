import { describe, expect, it } from 'vitest';
import { translate } from '../i18n/index.js';
import { placeErrors, readScheduleForm, whenSummary } from './schedules.js';

const formOf = (fields: Record<string, string>) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return form;
};

describe('the schedule form', () => {
  it('reads an interval with its offset, leaving empty optional fields to the API defaults', () => {
    const body = readScheduleForm(
      formOf({
        name: 'hourly',
        runbook: 'nightly',
        environment: 'dev',
        when: 'interval',
        every: '1h',
        offset: '5m',
        cron: '0 2 * * *',
        timezone: '',
        jitter: '',
        overlap: 'skip',
        catchupWindow: '',
        note: '',
      }),
    );
    expect(body).toEqual({ name: 'hourly', runbook: 'nightly', environment: 'dev', spec: { intervals: [{ every: '1h', offset: '5m' }] }, policies: { overlap: 'skip' } });
  });

  it('reads cron lines, a time zone, UTC start and end times, the policies and a paused start with its note', () => {
    const body = readScheduleForm(
      formOf({
        name: 'nightly',
        runbook: 'nightly',
        environment: 'dev',
        when: 'cron',
        cron: ' 0 2 * * *\n\n30 4 * * 1 \n',
        timezone: 'America/Sao_Paulo',
        jitter: '30s',
        startAt: '2026-12-24T02:00',
        endAt: '',
        overlap: 'buffer-all',
        catchupWindow: '5m',
        pauseOnFailure: 'on',
        paused: 'on',
        note: 'until the freeze ends',
      }),
    );
    expect(body.spec).toEqual({ cron: ['0 2 * * *', '30 4 * * 1'], timezone: 'America/Sao_Paulo', jitter: '30s', startAt: '2026-12-24T02:00:00Z' });
    expect(body.policies).toEqual({ overlap: 'buffer-all', catchupWindow: '5m', pauseOnFailure: true });
    expect(body).toMatchObject({ paused: true, note: 'until the freeze ends' });
  });

  it('places the API’s errors next to their fields, the inputs’ in the generated form, and the rest above', () => {
    const placed = placeErrors([
      { path: 'spec.timezone', message: 'not a time zone' },
      { path: 'spec.intervals[0].offset', message: 'too long' },
      { path: 'body.spec.intervals.0.every', message: 'must NOT have fewer than 1 characters' },
      { path: 'spec', message: 'needs cron or intervals' },
      { path: 'body.name', message: 'must match pattern' },
      { path: 'inputs.label', message: 'must be a string' },
      { path: 'body', message: 'must have required property runbook' },
    ]);
    expect(placed.fields).toEqual({
      timezone: ['not a time zone'],
      offset: ['too long'],
      every: ['must NOT have fewer than 1 characters'],
      when: ['needs cron or intervals'],
      name: ['must match pattern'],
    });
    expect(placed.inputs).toEqual([{ path: 'label', code: 'server', message: 'must be a string' }]);
    expect(placed.general).toEqual(['must have required property runbook']);
  });

  it('says when a schedule fires in the reader’s language', () => {
    const definition = { spec: { cron: ['0 2 * * *'], timezone: 'America/Sao_Paulo' }, policies: {} };
    expect(whenSummary(definition, (key, values) => translate('en', key, values))).toBe('cron 0 2 * * * · in America/Sao_Paulo');
    expect(whenSummary({ spec: { intervals: [{ every: '1h', offset: '5m' }], timezone: 'Europe/Lisbon' }, policies: {} }, (key, values) => translate('pt-BR', key, values))).toBe(
      'a cada 1h (deslocamento 5m)',
    );
  });
});
