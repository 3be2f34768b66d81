// `${{ expression }}` templates in step arguments, conditions and concurrency
// keys. A string that is exactly one template keeps the value's type (a number
// stays a number); otherwise values are interpolated as text. Pure code: it is
// also used inside the workflow sandbox.
import { evaluateExpression, parseExpression, type Expression, type ExpressionScope } from './expression.js';

const TEMPLATE_PATTERN = /\$\{\{([\s\S]*?)\}\}/g;
const WHOLE_TEMPLATE_PATTERN = /^\$\{\{([\s\S]*?)\}\}$/;

/** Every expression source inside a string, in order. */
export function templateExpressions(text: string): string[] {
  return [...text.matchAll(TEMPLATE_PATTERN)].map((match) => (match[1] ?? '').trim());
}

export function isTemplate(value: unknown): value is string {
  return typeof value === 'string' && templateExpressions(value).length > 0;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function renderString(text: string, scope: ExpressionScope, cache = new Map<string, Expression>()): unknown {
  const evaluate = (source: string): unknown => {
    let parsed = cache.get(source);
    if (!parsed) {
      parsed = parseExpression(source);
      cache.set(source, parsed);
    }
    return evaluateExpression(parsed, scope);
  };
  const whole = WHOLE_TEMPLATE_PATTERN.exec(text);
  if (whole && templateExpressions(text).length === 1) return evaluate((whole[1] ?? '').trim());
  return text.replace(TEMPLATE_PATTERN, (_match, source: string) => stringify(evaluate(source.trim())));
}

/** Renders every template in a JSON-like value (objects, arrays, strings). */
export function renderValue(value: unknown, scope: ExpressionScope): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, scope)]));
  }
  return value;
}

/** A `when` condition may be written with or without the `${{ }}` wrapper. */
export function conditionSource(condition: string): string {
  return (WHOLE_TEMPLATE_PATTERN.exec(condition.trim())?.[1] ?? condition).trim();
}

export function evaluateCondition(condition: string, scope: ExpressionScope): boolean {
  return Boolean(evaluateExpression(parseExpression(conditionSource(condition)), scope));
}
