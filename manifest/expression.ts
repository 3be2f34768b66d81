// A small, side-effect-free expression language for `when` conditions and
// `${{ ... }}` templates: paths (inputs.host, steps.fetch.output.items[0]),
// string/number/boolean/null literals, comparisons, `&&`, `||`, `!` and
// parentheses. Pure code: it runs inside the workflow sandbox, so it must be
// deterministic and must never execute user-supplied JavaScript.

export type Expression =
  | { type: 'literal'; value: string | number | boolean | null }
  | { type: 'path'; root: string; segments: Array<string | number> }
  | { type: 'not'; operand: Expression }
  | { type: 'binary'; operator: BinaryOperator; left: Expression; right: Expression };

type BinaryOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

type Token =
  | { kind: 'identifier'; text: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'end'; at: number };

export class ExpressionSyntaxError extends Error {
  override name = 'ExpressionSyntaxError';
}

const PUNCTUATION = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '.', '[', ']'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < source.length) {
    const char = source[position] ?? '';
    if (/\s/.test(char)) {
      position += 1;
      continue;
    }
    if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(position));
      const text = match?.[0] ?? char;
      tokens.push({ kind: 'identifier', text, at: position });
      position += text.length;
      continue;
    }
    if (/[0-9]/.test(char) || (char === '-' && /[0-9]/.test(source[position + 1] ?? ''))) {
      const match = /^-?\d+(?:\.\d+)?/.exec(source.slice(position));
      const text = match?.[0] ?? char;
      tokens.push({ kind: 'number', value: Number(text), at: position });
      position += text.length;
      continue;
    }
    if (char === "'" || char === '"') {
      const end = source.indexOf(char, position + 1);
      if (end < 0) throw new ExpressionSyntaxError(`unterminated string starting at column ${position + 1}`);
      tokens.push({ kind: 'string', value: source.slice(position + 1, end), at: position });
      position = end + 1;
      continue;
    }
    const punct = PUNCTUATION.find((candidate) => source.startsWith(candidate, position));
    if (!punct) throw new ExpressionSyntaxError(`unexpected character "${char}" at column ${position + 1}`);
    tokens.push({ kind: 'punct', text: punct, at: position });
    position += punct.length;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

const PRECEDENCE: Record<BinaryOperator, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
};

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expression {
    const expression = this.parseBinary(0);
    const next = this.peek();
    if (next.kind !== 'end') throw new ExpressionSyntaxError(`unexpected ${describe(next)} at column ${next.at + 1}`);
    return expression;
  }

  private peek(): Token {
    return this.tokens[this.index] ?? { kind: 'end', at: 0 };
  }

  private take(): Token {
    const token = this.peek();
    this.index += 1;
    return token;
  }

  private isPunct(text: string): boolean {
    const token = this.peek();
    return token.kind === 'punct' && token.text === text;
  }

  private expectPunct(text: string): void {
    const token = this.take();
    if (token.kind !== 'punct' || token.text !== text) {
      throw new ExpressionSyntaxError(`expected "${text}" but found ${describe(token)} at column ${token.at + 1}`);
    }
  }

  private parseBinary(minimum: number): Expression {
    let left = this.parseUnary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'punct' || !(token.text in PRECEDENCE)) return left;
      const operator = token.text as BinaryOperator;
      const precedence = PRECEDENCE[operator];
      if (precedence <= minimum) return left;
      this.take();
      const right = this.parseBinary(precedence);
      left = { type: 'binary', operator, left, right };
    }
  }

  private parseUnary(): Expression {
    if (this.isPunct('!')) {
      this.take();
      return { type: 'not', operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expression {
    const token = this.take();
    if (token.kind === 'number' || token.kind === 'string') return { type: 'literal', value: token.value };
    if (token.kind === 'punct' && token.text === '(') {
      const inner = this.parseBinary(0);
      this.expectPunct(')');
      return inner;
    }
    if (token.kind === 'identifier') {
      if (token.text === 'true' || token.text === 'false') return { type: 'literal', value: token.text === 'true' };
      if (token.text === 'null') return { type: 'literal', value: null };
      return this.parsePath(token.text);
    }
    throw new ExpressionSyntaxError(`unexpected ${describe(token)} at column ${token.at + 1}`);
  }

  private parsePath(root: string): Expression {
    const segments: Array<string | number> = [];
    for (;;) {
      if (this.isPunct('.')) {
        this.take();
        const name = this.take();
        if (name.kind !== 'identifier') throw new ExpressionSyntaxError(`expected a name after "." at column ${name.at + 1}`);
        segments.push(name.text);
      } else if (this.isPunct('[')) {
        this.take();
        const key = this.take();
        if (key.kind !== 'number' && key.kind !== 'string') {
          throw new ExpressionSyntaxError(`expected an index or a quoted key inside [] at column ${key.at + 1}`);
        }
        segments.push(key.value);
        this.expectPunct(']');
      } else {
        return { type: 'path', root, segments };
      }
    }
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'end of expression';
    case 'identifier':
      return `"${token.text}"`;
    case 'punct':
      return `"${token.text}"`;
    case 'number':
      return `number ${token.value}`;
    case 'string':
      return `string '${token.value}'`;
  }
}

export function parseExpression(source: string): Expression {
  if (!source.trim()) throw new ExpressionSyntaxError('empty expression');
  return new Parser(tokenize(source)).parse();
}

/** Every path an expression reads, for load-time reference checks. */
export function collectPaths(expression: Expression): Array<{ root: string; segments: Array<string | number> }> {
  switch (expression.type) {
    case 'literal':
      return [];
    case 'path':
      return [{ root: expression.root, segments: expression.segments }];
    case 'not':
      return collectPaths(expression.operand);
    case 'binary':
      return [...collectPaths(expression.left), ...collectPaths(expression.right)];
  }
}

export type ExpressionScope = Record<string, unknown>;

function readPath(scope: ExpressionScope, root: string, segments: Array<string | number>): unknown {
  let current: unknown = scope[root];
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export function evaluateExpression(expression: Expression, scope: ExpressionScope): unknown {
  switch (expression.type) {
    case 'literal':
      return expression.value;
    case 'path':
      return readPath(scope, expression.root, expression.segments);
    case 'not':
      return !evaluateExpression(expression.operand, scope);
    case 'binary': {
      const left = evaluateExpression(expression.left, scope);
      if (expression.operator === '&&') return left ? evaluateExpression(expression.right, scope) : left;
      if (expression.operator === '||') return left ? left : evaluateExpression(expression.right, scope);
      const right = evaluateExpression(expression.right, scope);
      return compare(expression.operator, left, right);
    }
  }
}

function compare(operator: BinaryOperator, left: unknown, right: unknown): boolean {
  switch (operator) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return (left as number) < (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>':
      return (left as number) > (right as number);
    case '>=':
      return (left as number) >= (right as number);
    default:
      return false;
  }
}
