import { describe, expect, it } from 'vitest';
import { runbookInText } from './incident-fields.js';
import { parseCsv, parseIncidents } from './incident-import.js';
import { expandRunbook, stepsOfResolution } from './resolution-plans.js';

describe('reading incidents from what teams have', () => {
  it('reads a postmortem in the usual template, its metadata lines, code blocks and the runbook in its resolution', () => {
    const { incidents, errors } = parseIncidents(
      'markdown',
      [
        '# Incident report: API 502s after the certificate expired',
        '',
        '| Field | Value |',
        '| Date | 2026-05-04T08:00:00Z |',
        '- Services: edge, api',
        '',
        '## Impact',
        'Every HTTPS call failed for 40 minutes.',
        '```',
        'x509: certificate has expired or is not yet valid',
        '```',
        '## Root Causes',
        'The renewal job ran in a stopped container.',
        '## Mitigation',
        'Renewed by hand: `jarvis run start renew-certificate -i domain=api.example.org`',
        '## Action items',
        '- alert 14 days before expiry',
        '## References',
        '- https://tickets.example.org/OPS-1',
      ].join('\n'),
      'prod',
    );
    expect(errors).toEqual([]);
    expect(incidents[0]).toMatchObject({
      title: 'API 502s after the certificate expired',
      environment: 'prod',
      services: ['edge', 'api'],
      cause: 'The renewal job ran in a stopped container.',
      resolutionRunbook: { name: 'renew-certificate', inputs: { domain: 'api.example.org' } },
      links: ['https://tickets.example.org/OPS-1'],
    });
    expect(incidents[0]!.occurredAt?.toISOString()).toBe('2026-05-04T08:00:00.000Z');
    expect(incidents[0]!.symptoms).toContain('x509: certificate has expired');
    expect(incidents[0]!.notes).toContain('alert 14 days before expiry');
  });

  it('reads JSON and CSV exports, and reports a bad record without dropping the others', () => {
    const json = parseIncidents(
      'json',
      JSON.stringify([
        { name: 'Disk full on db-1', error: 'No space left on device', rootCause: 'WAL', resolution: { text: 'pruned', runbook: 'free-disk-space', inputs: { endpoint: 'docker-prod' } } },
        'nonsense',
      ]),
      'prod',
    );
    expect(json.incidents[0]).toMatchObject({
      title: 'Disk full on db-1',
      symptoms: 'No space left on device',
      cause: 'WAL',
      resolution: 'pruned',
      resolutionRunbook: { name: 'free-disk-space', inputs: { endpoint: 'docker-prod' } },
    });
    expect(json.errors).toEqual([{ record: 2, message: 'an incident is an object' }]);
    expect(parseIncidents('json', '{', 'prod').errors[0]!.message).toMatch(/^not JSON/);
    expect(parseIncidents('json', JSON.stringify({ incidents: [{ title: 'x', environment: 'dev' }] }), 'prod').errors[0]!.message).toContain('import it there');
    expect(parseCsv('a,b\n"one, two","say ""hi""\nagain"\n')).toEqual([
      ['a', 'b'],
      ['one, two', 'say "hi"\nagain'],
    ]);
  });

  it('finds the runbook a resolution names in its words', () => {
    expect(runbookInText('Runbook: restart-container container=web')).toEqual({ name: 'restart-container', inputs: { container: 'web' } });
    expect(runbookInText('we ran the free-disk-space runbook')).toEqual({ name: 'free-disk-space', inputs: {} });
    expect(runbookInText('restarted it by hand')).toBeUndefined();
  });
});

describe('offline plan steps from a resolution', () => {
  const runbook = {
    inputs: { properties: { endpoint: { default: 'docker-prod' }, container: {} } },
    steps: [
      { id: 'ask', approval: { role: 'approver' } },
      { id: 'restart', action: 'docker.container.restart', with: { endpoint: '${{ inputs.endpoint }}', container: '${{ inputs.container }}' }, compensate: [{ id: 'x', action: 'core.noop' }] },
      { id: 'report', action: 'core.noop', with: { message: '${{ steps.restart.output }}' } },
    ],
  };

  it('expands a named runbook with its inputs written out, the diagnosed run target first, leaving other templates to the validator', () => {
    expect(expandRunbook(runbook, { container: 'billing-api' }, { container: 'orders-api' })).toEqual([
      { id: 'restart', action: 'docker.container.restart', with: { endpoint: 'docker-prod', container: 'orders-api' } },
      { id: 'report', action: 'core.noop', with: { message: '${{ steps.restart.output }}' } },
    ]);
  });

  it('takes recorded steps, a named runbook or a catalog action, in that order', () => {
    const source = (name: string) => (name === 'restart-container' ? runbook : undefined);
    const recorded = stepsOfResolution({ title: 'r', body: '', metadata: { manifest: { steps: [{ id: 'a', action: 'core.noop', with: { container: 'old' } }] } } }, source, { container: 'new' });
    expect(recorded?.steps).toEqual([{ id: 'a', action: 'core.noop', with: { container: 'new' } }]);
    expect(stepsOfResolution({ title: 'Restart', body: 'Runbook: restart-container container=web', metadata: {} }, source, {})?.how).toBe('the runbook restart-container');
    const action = stepsOfResolution({ title: 'Prune', body: 'ran docker.image.prune endpoint=docker-prod to free space', metadata: {} }, source, {});
    expect(action?.steps).toEqual([{ id: 'prune', title: expect.any(String), action: 'docker.image.prune', with: { endpoint: 'docker-prod' } }]);
    expect(stepsOfResolution({ title: 'Waited', body: 'it recovered by itself', metadata: {} }, source, {})).toBeUndefined();
  });
});
