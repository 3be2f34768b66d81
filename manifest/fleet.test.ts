import { describe, expect, it } from 'vitest';
import { amountOf, amountProblem, parseSelectorText, selectorProblem, splitBatches } from './fleet.js';

describe('fleet selectors', () => {
  it('reads the text form: all, labels, names and status', () => {
    expect(parseSelectorText('all')).toEqual({ all: true });
    expect(parseSelectorText('site=a, role=edge')).toEqual({ labels: { site: 'a', role: 'edge' } });
    expect(parseSelectorText('name=web-1|web-2,status=online')).toEqual({ names: ['web-1', 'web-2'], status: 'online' });
  });

  it('explains what is wrong with a bad selector', () => {
    expect(parseSelectorText('')).toMatch(/empty selector/);
    expect(parseSelectorText('site')).toMatch(/"site" is not a selector term/);
    expect(parseSelectorText('name=Web_1')).toMatch(/"Web_1" is not a node name/);
    expect(parseSelectorText('status=asleep')).toMatch(/"asleep" is not a node status/);
    expect(selectorProblem({})).toMatch(/selects nothing/);
    expect(selectorProblem({ labels: { site: 'a' }, colour: 'red' })).toMatch(/unknown selector field "colour"/);
    expect(selectorProblem(['web-1'])).toMatch(/a selector is "all"/);
  });
});

describe('rollout amounts', () => {
  it('rounds batches up (never to 0) and budgets down', () => {
    expect(amountOf('20%', 50, 'up')).toBe(10);
    expect(amountOf('10%', 50, 'down')).toBe(5);
    expect(amountOf('10%', 7, 'up')).toBe(1);
    expect(amountOf('10%', 7, 'down')).toBe(0);
    expect(amountOf('33%', 10, 'up')).toBe(4);
    expect(amountOf(3, 50, 'down')).toBe(3);
    expect(amountOf('5', 50, 'down')).toBe(5);
  });

  it('refuses what is not a count or a percentage', () => {
    expect(amountProblem('20%', 1)).toBeUndefined();
    expect(amountProblem(0, 1)).toMatch(/at least 1/);
    expect(amountProblem('0%', 1)).toMatch(/between 1% and 100%/);
    expect(amountProblem('150%', 0)).toMatch(/between 0% and 100%/);
    expect(amountProblem('ten', 0)).toMatch(/not a count/);
    expect(amountProblem(2.5, 0)).toMatch(/whole number/);
  });

  it('splits targets in batches in order', () => {
    expect(splitBatches(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});
