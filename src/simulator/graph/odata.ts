// The OData query options Graph accepts ($filter, $select, $top) and the opaque page tokens it
// hands out. Written by hand: what matters here is exactly which filters Graph accepts and
// what it answers otherwise, which no general OData library models.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Literal = string | number | boolean | null | { date: number; text: string };

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'cmp'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; path: string; value: Literal; quotedDate: boolean }
  | { kind: 'in'; path: string; values: Literal[] }
  | { kind: 'fn'; name: 'startswith' | 'endswith'; path: string; value: string }
  | { kind: 'any'; path: string; variable: string; body: FilterNode | null };

export class FilterSyntaxError extends Error {}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses a $filter expression; throws FilterSyntaxError on anything malformed. */
export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const keyword = (word: string) => peek()?.type === 'word' && peek()!.text.toLowerCase() === word;
  const expect = (type: Token['type'], text?: string) => {
    const t = next();
    if (!t || t.type !== type || (text !== undefined && t.text !== text))
      throw new FilterSyntaxError(`expected ${text ?? type}`);
    return t;
  };

  function orExpr(): FilterNode {
    let left = andExpr();
    while (keyword('or')) {
      next();
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  }
  function andExpr(): FilterNode {
    let left = unary();
    while (keyword('and')) {
      next();
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  }
  function unary(): FilterNode {
    if (keyword('not')) {
      next();
      return { kind: 'not', operand: unary() };
    }
    if (peek()?.type === '(') {
      next();
      const inner = orExpr();
      expect(')');
      return inner;
    }
    const word = expect('word').text;
    const lower = word.toLowerCase();
    if ((lower === 'startswith' || lower === 'endswith') && peek()?.type === '(') {
      next();
      const path = expect('word').text;
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') throw new FilterSyntaxError(`${word} needs a string`);
      return { kind: 'fn', name: lower, path, value };
    }
    // a lambda: path/any(v: body) — the tokenizer keeps "path/any" as one word
    const lambda = /^(.+)\/(any|all)$/i.exec(word);
    if (lambda && peek()?.type === '(') {
      next();
      if (lambda[2]!.toLowerCase() !== 'any') throw new FilterSyntaxError('only any() is supported');
      if (peek()?.type === ')') {
        next();
        return { kind: 'any', path: lambda[1]!, variable: '', body: null };
      }
      const variable = expect('word').text;
      expect(':');
      const body = orExpr();
      expect(')');
      return { kind: 'any', path: lambda[1]!, variable, body };
    }
    const op = expect('word').text.toLowerCase();
    if (op === 'in') {
      expect('(');
      const values: Literal[] = [literal()];
      while (peek()?.type === ',') {
        next();
        values.push(literal());
      }
      expect(')');
      return { kind: 'in', path: word, values };
    }
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op)) throw new FilterSyntaxError(`unknown operator ${op}`);
    const before = peek();
    const value = literal();
    const quotedDate = before?.type === 'string' && ISO_DATE.test(before.text);
    return { kind: 'cmp', op: op as 'eq', path: word, value, quotedDate };
  }
  function literal(): Literal {
    const t = next();
    if (!t) throw new FilterSyntaxError('expected a value');
    if (t.type === 'string') return t.text;
    if (t.type !== 'word') throw new FilterSyntaxError('expected a value');
    const lower = t.text.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    if (lower === 'null') return null;
    if (/^-?\d+(\.\d+)?$/.test(t.text)) return Number(t.text);
    if (ISO_DATE.test(t.text)) {
      const date = Date.parse(t.text);
      if (Number.isFinite(date)) return { date, text: t.text };
    }
    throw new FilterSyntaxError(`not a value: ${t.text}`);
  }

  const tree = orExpr();
  if (pos !== tokens.length) throw new FilterSyntaxError('unexpected text after the expression');
  return tree;
}

interface Token {
  type: 'word' | 'string' | '(' | ')' | ',' | ':';
  text: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',' || c === ':') {
      tokens.push({ type: c, text: c });
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('unterminated string');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i++];
      }
      tokens.push({ type: 'string', text: s });
    } else {
      const start = i;
      while (i < text.length && !" \t(),:'".includes(text[i]!)) i++;
      // an ISO timestamp's time part contains colons: keep 2024-01-13T14:13:32Z as one word
      while (ISO_PREFIX.test(text.slice(start, i)) && text[i] === ':') {
        i++;
        while (i < text.length && !" \t(),:'".includes(text[i]!)) i++;
      }
      tokens.push({ type: 'word', text: text.slice(start, i) });
    }
  }
  return tokens;
}
const ISO_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2})?$/;

/** The value at a '/'-separated path of a JSON object. */
export function valueAt(record: unknown, path: string): unknown {
  let v: unknown = record;
  for (const part of path.split('/')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

function compareValues(actual: unknown, value: Literal): number | undefined {
  if (value !== null && typeof value === 'object') {
    const t = typeof actual === 'string' ? Date.parse(actual) : NaN;
    return Number.isFinite(t) ? t - value.date : undefined;
  }
  if (typeof actual === 'number' && typeof value === 'number') return actual - value;
  if (typeof actual === 'string' && typeof value === 'string') {
    const a = actual.toLowerCase();
    const b = value.toLowerCase();
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (actual === value) return 0;
  return undefined;
}

/** Evaluates a filter against a record (string comparisons are case-insensitive, as Graph's). */
export function matches(node: FilterNode, record: unknown, scope: Record<string, unknown> = {}): boolean {
  const at = (path: string): unknown => {
    const [head, ...rest] = path.split('/');
    if (head !== undefined && head in scope) return rest.length ? valueAt(scope[head], rest.join('/')) : scope[head];
    return valueAt(record, path);
  };
  switch (node.kind) {
    case 'and':
      return matches(node.left, record, scope) && matches(node.right, record, scope);
    case 'or':
      return matches(node.left, record, scope) || matches(node.right, record, scope);
    case 'not':
      return !matches(node.operand, record, scope);
    case 'in':
      return node.values.some((v) => compareValues(at(node.path), v) === 0);
    case 'fn': {
      const v = at(node.path);
      if (typeof v !== 'string') return false;
      return node.name === 'startswith'
        ? v.toLowerCase().startsWith(node.value.toLowerCase())
        : v.toLowerCase().endsWith(node.value.toLowerCase());
    }
    case 'any': {
      const items = at(node.path);
      if (!Array.isArray(items)) return false;
      if (!node.body) return items.length > 0;
      return items.some((item) => matches(node.body!, record, { ...scope, [node.variable]: item }));
    }
    case 'cmp': {
      const actual = at(node.path);
      if (node.value === null)
        return node.op === 'eq'
          ? actual === null || actual === undefined
          : node.op === 'ne'
            ? actual !== null && actual !== undefined
            : false;
      if (node.op === 'ne') return norm(actual) !== norm(node.value) && compareValues(actual, node.value) !== 0;
      const c = compareValues(actual, node.value);
      if (c === undefined) return false;
      switch (node.op) {
        case 'eq':
          return c === 0;
        case 'gt':
          return c > 0;
        case 'ge':
          return c >= 0;
        case 'lt':
          return c < 0;
        case 'le':
          return c <= 0;
      }
    }
  }
}

/** Every comparison and function in a filter, for checking them against what a resource supports. */
export type Clause = Extract<FilterNode, { kind: 'cmp' | 'in' | 'fn' | 'any' }>;

export function* clauses(node: FilterNode): Generator<Clause> {
  switch (node.kind) {
    case 'and':
    case 'or':
      yield* clauses(node.left);
      yield* clauses(node.right);
      return;
    case 'not':
      yield* clauses(node.operand);
      return;
    default:
      yield node;
  }
}

/**
 * The time window [from, to] (inclusive, ms) a filter confines `path` to, from comparisons
 * joined by `and` at the top level; unbounded sides are ±Infinity.
 */
export function timeBounds(node: FilterNode | undefined, path: string): { from: number; to: number } {
  const b = { from: -Infinity, to: Infinity };
  const visit = (n: FilterNode) => {
    if (n.kind === 'and') {
      visit(n.left);
      visit(n.right);
    } else if (n.kind === 'cmp' && n.path === path && n.value !== null && typeof n.value === 'object') {
      const t = n.value.date;
      if (n.op === 'ge' || n.op === 'eq') b.from = Math.max(b.from, t);
      if (n.op === 'gt') b.from = Math.max(b.from, t + 1);
      if (n.op === 'le' || n.op === 'eq') b.to = Math.min(b.to, t);
      if (n.op === 'lt') b.to = Math.min(b.to, t - 1);
    }
  };
  if (node) visit(node);
  return b;
}

/**
 * Opaque page tokens: the server's paging state, signed so that a client cannot forge or
 * edit one, and stamped with its expiry.
 */
export function createTokenCodec(secret: Buffer) {
  const mac = (body: string) => createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22);
  return {
    encode(state: object, expiresAt: number): string {
      const body = Buffer.from(JSON.stringify({ ...state, x: expiresAt })).toString('base64url');
      return `${body}.${mac(body)}`;
    },
    /** The state, 'expired', or undefined when the token is not one of ours. */
    decode<T>(token: string, now: number): (T & { x: number }) | 'expired' | undefined {
      const [body, sig] = token.split('.');
      if (!body || !sig) return undefined;
      const expected = Buffer.from(mac(body));
      const given = Buffer.from(sig);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      try {
        const state = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T & { x: number };
        return state.x < now ? 'expired' : state;
      } catch {
        return undefined;
      }
    },
  };
}
export type TokenCodec = ReturnType<typeof createTokenCodec>;
