import { describe, expect, it } from 'vitest';
import { evaluateExpression, parseExpression } from './expression.js';
import { evaluateCondition, renderValue } from './template.js';

const scope = {
  inputs: { env: 'prod', replicas: 3, hosts: ['a', 'b'] },
  steps: { fetch: { status: 'succeeded', output: { code: 200, body: { ok: true } } } },
};

describe('expressions and templates', () => {
  it('evaluates comparisons, logic, paths and indexes', () => {
    expect(evaluateExpression(parseExpression("inputs.env == 'prod' && inputs.replicas >= 3"), scope)).toBe(true);
    expect(evaluateExpression(parseExpression('!(steps.fetch.output.code != 200) || false'), scope)).toBe(true);
    expect(evaluateExpression(parseExpression('inputs.hosts[1]'), scope)).toBe('b');
    expect(evaluateExpression(parseExpression('steps.missing.output.x'), scope)).toBeUndefined();
  });

  it('keeps the type of a whole-string template and interpolates the rest as text', () => {
    expect(renderValue({ count: '${{ inputs.replicas }}', label: 'x${{ inputs.replicas }}', body: '${{ steps.fetch.output.body }}' }, scope)).toEqual({
      count: 3,
      label: 'x3',
      body: { ok: true },
    });
  });

  it('accepts conditions with or without the ${{ }} wrapper', () => {
    expect(evaluateCondition("${{ inputs.env == 'dev' }}", scope)).toBe(false);
    expect(evaluateCondition("steps.fetch.status == 'succeeded'", scope)).toBe(true);
  });

  it('rejects what is not an expression, with the column', () => {
    expect(() => parseExpression("inputs.env = 'prod'")).toThrow(/unexpected character "=" at column 12/);
    expect(() => parseExpression('process.exit(1)')).toThrow(/unexpected "\(" at column 13/);
  });
});
