/**
 * Measures the functions of a TypeScript source: every function declaration or expression, method, getter,
 * constructor and arrow function, with the number of lines its body spans (opening brace to closing brace, or the
 * whole expression of an arrow without braces). Nested functions count inside their parents too: a factory is as
 * long as everything it holds.
 *
 * A tokenizer that knows strings, template literals (with `${}` nested to any depth), regular-expression literals
 * and comments, then a matcher of brackets over the tokens: a brace that opens a body is one after `=>`, or one
 * after a parameter list (and an optional return type) that follows a function or method name. Braces of types,
 * objects and blocks are matched but not measured.
 */

export interface FunctionSpan {
  /** The name it is known by: `name`, `Class.method` is not tracked; arrows take the name they are bound to. */
  name: string;
  /** 1-based line where the function starts (its name or its first token). */
  line: number;
  /** Lines its body spans, first and last included. */
  lines: number;
}

type Kind = 'name' | 'punct' | 'string' | 'number' | 'regex';

interface Token {
  kind: Kind;
  value: string;
  line: number;
  endLine: number;
  /** A line break stands between this token and the one before. */
  newlineBefore: boolean;
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const BEFORE_EXPRESSION = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
/** Names that take a parenthesised clause before a block: `if (…) {` is no function. */
const CLAUSE_KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'await', 'case', 'return', 'typeof', 'void', 'async', 'extends', 'implements']);
/** Modifiers before a declared name: `const name: () => void` and `private name: () => void` are types, not arrows. */
const DECLARES = new Set(['const', 'let', 'var', 'readonly', 'private', 'public', 'protected', 'static', 'declare']);
/** Tokens a walk back from a body brace over a return type never crosses: they end the statement before it. */
const STATEMENT_EDGE = new Set([';', '=', 'const', 'let', 'var', 'class', 'interface', 'enum', 'namespace', 'return', 'if', 'else', 'export', 'import']);
/** Starts of a statement: a line break before one ends an arrow's expression body even without a semicolon. */
const STATEMENT_START = new Set(['const', 'let', 'var', 'function', 'class', 'export', 'import', 'return', 'if', 'for', 'while', 'interface']);

function isNameStart(char: string): boolean {
  return /[A-Za-z_$#\u0080-\uffff]/.test(char);
}

function isNamePart(char: string): boolean {
  return /[\w$\u0080-\uffff]/.test(char);
}

/** Whether a `/` after this token starts a regular expression (the token does not end an expression). */
function regexMayFollow(previous: Token | undefined): boolean {
  if (previous === undefined) return true;
  if (previous.kind === 'punct') return ![')', ']', '}', '++', '--'].includes(previous.value);
  if (previous.kind === 'name') return BEFORE_EXPRESSION.has(previous.value);
  return false;
}

/** Splits a source into tokens; comments and white space are dropped, line numbers kept. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  /** One entry per open `{` (false) or open `${` of a template literal (true), innermost last. */
  const braces: boolean[] = [];
  let at = source.startsWith('#!') ? source.indexOf('\n') : 0;
  if (at < 0) at = source.length;
  let line = 1;
  let newlineBefore = false;

  const push = (kind: Kind, value: string, startLine: number): void => {
    tokens.push({ kind, value, line: startLine, endLine: line, newlineBefore });
    newlineBefore = false;
  };
  const advanceTo = (end: number): void => {
    for (let index = at; index < end; index += 1) if (source[index] === '\n') line += 1;
    at = end;
  };
  /** Reads template text from `at` (just past a backtick or a closing `}`) to the closing backtick or the next `${`. */
  const templateChunk = (): void => {
    const startLine = line;
    let index = at;
    while (index < source.length) {
      const char = source[index];
      if (char === '\\') index += 2;
      else if (char === '`') {
        advanceTo(index + 1);
        push('string', '`', startLine);
        return;
      } else if (char === '$' && source[index + 1] === '{') {
        advanceTo(index + 2);
        push('punct', '${', startLine);
        braces.push(true);
        return;
      } else index += 1;
    }
    advanceTo(source.length);
    push('string', '`', startLine);
  };
  /** The end of a regular-expression literal starting at `at`, or -1 when none closes on this line (then a division). */
  const regexEnd = (): number => {
    let index = at + 1;
    let inClass = false;
    while (index < source.length) {
      const char = source[index]!;
      if (char === '\n') return -1;
      if (char === '\\') index += 2;
      else {
        if (char === '[') inClass = true;
        else if (char === ']') inClass = false;
        else if (char === '/' && !inClass) {
          index += 1;
          while (index < source.length && isNamePart(source[index]!)) index += 1;
          return index;
        }
        index += 1;
      }
    }
    return -1;
  };

  while (at < source.length) {
    const char = source[at]!;
    const next = source[at + 1];
    if (char === '\n') {
      line += 1;
      at += 1;
      newlineBefore = true;
    } else if (/\s/.test(char)) at += 1;
    else if (char === '/' && next === '/') {
      const end = source.indexOf('\n', at);
      at = end < 0 ? source.length : end;
    } else if (char === '/' && next === '*') {
      const end = source.indexOf('*/', at + 2);
      const before = line;
      advanceTo(end < 0 ? source.length : end + 2);
      if (line > before) newlineBefore = true;
    } else if (char === '"' || char === "'") {
      const startLine = line;
      let index = at + 1;
      while (index < source.length && source[index] !== char && source[index] !== '\n') index += source[index] === '\\' ? 2 : 1;
      advanceTo(Math.min(index + 1, source.length));
      push('string', char, startLine);
    } else if (char === '`') {
      at += 1;
      templateChunk();
    } else if (char === '/' && regexMayFollow(tokens.at(-1)) && regexEnd() > 0) {
      const startLine = line;
      advanceTo(regexEnd());
      push('regex', '/', startLine);
    } else if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(next ?? ''))) {
      let index = at + 1;
      while (index < source.length && /[\w.]/.test(source[index]!)) index += 1;
      push('number', source.slice(at, index), line);
      at = index;
    } else if (isNameStart(char)) {
      let index = at + 1;
      while (index < source.length && isNamePart(source[index]!)) index += 1;
      push('name', source.slice(at, index), line);
      at = index;
    } else if (char === '}' && braces.at(-1) === true) {
      braces.pop();
      at += 1;
      templateChunk();
    } else {
      const two = source.slice(at, at + 2);
      const value = two === '=>' || two === '++' || two === '--' || two === '?.' ? two : char;
      if (value === '{') braces.push(false);
      if (value === '}') braces.pop();
      push('punct', value, line);
      at += value.length;
    }
  }
  return tokens;
}

/** For each bracket token, the index of its partner (or -1 when unbalanced); -1 for other tokens. */
function matchBrackets(tokens: Token[]): number[] {
  const partner = tokens.map(() => -1);
  const open: number[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  tokens.forEach((token, index) => {
    if (token.kind !== 'punct') return;
    if (token.value === '(' || token.value === '[' || token.value === '{') open.push(index);
    else if (token.value in pairs) {
      // Pop to the nearest opener of the same kind, so one stray bracket cannot unbalance the rest of the file.
      let found = open.length - 1;
      while (found >= 0 && tokens[open[found]!]!.value !== pairs[token.value]) found -= 1;
      if (found < 0) return;
      const start = open[found]!;
      open.length = found;
      partner[start] = index;
      partner[index] = start;
    }
  });
  return partner;
}

class Reader {
  constructor(
    readonly tokens: Token[],
    readonly partner: number[],
  ) {}

  value(index: number): string | undefined {
    return this.tokens[index]?.value;
  }

  isPunct(index: number, value: string): boolean {
    const token = this.tokens[index];
    return token?.kind === 'punct' && token.value === value;
  }

  /** Index of the `<` that opens the type parameters ending at the `>` at `index`, or -1. */
  openAngle(index: number): number {
    let depth = 0;
    for (let at = index; at >= 0 && at > index - 200; at -= 1) {
      if (this.isPunct(at, '>')) depth += 1;
      else if (this.isPunct(at, '<')) {
        depth -= 1;
        if (depth === 0) return at;
      } else if (this.isPunct(at, ')') || this.isPunct(at, ']') || this.isPunct(at, '}')) at = this.partner[at]! < 0 ? at : this.partner[at]!;
      else if (this.isPunct(at, ';') || this.isPunct(at, '{')) return -1;
    }
    return -1;
  }

  /**
   * The `(` of a parameter list that ends right before `end` (exclusive), allowing a return type annotation
   * `): Type` between them; candidates are tried from the nearest back until `accept` takes one.
   */
  parameters(end: number, accept: (open: number) => boolean): number {
    if (this.isPunct(end - 1, ')')) {
      const open = this.partner[end - 1]!;
      return open >= 0 && accept(open) ? open : -1;
    }
    // A body follows a complete type: after `:`, `<`, `|`, `extends`… a brace opens a type literal (and `): {` is a
    // ternary's object).
    if (!this.endsType(end - 1)) return -1;
    for (let at = end - 1; at > 0 && at > end - 400; at -= 1) {
      const token = this.tokens[at]!;
      if (token.kind === 'punct' && (token.value === ')' || token.value === ']' || token.value === '}')) {
        if (this.partner[at]! < 0) return -1;
        at = this.partner[at]!;
        // A brace group inside a return type is a type literal; any other ends the statement before this one.
        if (token.value === '}' && this.endsType(at - 1)) return -1;
        continue;
      }
      if (token.kind === 'punct' && (token.value === '(' || token.value === '[' || token.value === '{')) return -1;
      if ((token.kind === 'punct' || token.kind === 'name') && STATEMENT_EDGE.has(token.value)) return -1;
      if (token.kind === 'punct' && token.value === ':' && this.isPunct(at - 1, ')')) {
        const open = this.partner[at - 1]!;
        if (open >= 0 && accept(open)) return open;
      }
    }
    return -1;
  }

  /** Whether the token at `index` can end a type (a name, a literal, a closing bracket), so a brace after it is a body. */
  endsType(index: number): boolean {
    const token = this.tokens[index];
    if (token === undefined) return false;
    if (token.kind === 'punct') return [')', ']', '}', '>'].includes(token.value);
    return token.kind !== 'name' || !['extends', 'keyof', 'typeof', 'is', 'in', 'as', 'satisfies'].includes(token.value);
  }

  /**
   * Whether the arrow whose head starts at `head` is a function type rather than a function: `<(a) => b>`,
   * `name?: () => T`, `const name: () => T`, a parameter's `(name: () => T)`. Ambiguous places (`a ? b : () => c`,
   * an object's `name: () => c`) count as functions.
   */
  isFunctionType(head: number): boolean {
    if (this.isPunct(head - 1, '<')) return true;
    if (!this.isPunct(head - 1, ':')) return false;
    if (this.isPunct(head - 2, '?')) return true;
    const name = this.tokens[head - 2];
    if (name?.kind !== 'name') return false;
    const before = this.tokens[head - 3];
    if (before?.kind === 'name' && DECLARES.has(before.value)) return true;
    if (!this.isPunct(head - 3, '(') && !this.isPunct(head - 3, ',')) return false;
    // `(name: …` or `, name: …` inside parentheses is a parameter's annotation; inside braces, an object's property.
    for (let at = head - 3; at >= 0; at -= 1) {
      const token = this.tokens[at]!;
      if (token.kind !== 'punct') continue;
      if ((token.value === ')' || token.value === ']' || token.value === '}') && this.partner[at]! >= 0) at = this.partner[at]!;
      else if (token.value === '(') return true;
      else if (token.value === '{' || token.value === '[' || token.value === '?') return false;
    }
    return false;
  }

  /** The name of a function or method whose parameter list opens at `open`, or undefined when it is none. */
  declaredName(open: number): { name: string; start: number } | undefined {
    let before = open - 1;
    if (this.isPunct(before, '>')) before = this.openAngle(before) - 1;
    if (before < 0) return undefined;
    const token = this.tokens[before]!;
    if (token.kind === 'name' && token.value === 'function') return { name: '(anonymous function)', start: before };
    if (this.isPunct(before, ']')) {
      const start = this.partner[before]!;
      if (start < 0) return undefined;
      const inner = this.tokens.slice(start + 1, before).map((part) => part.value).join('');
      return { name: `[${inner}]`, start };
    }
    if (token.kind !== 'name' && token.kind !== 'string' && token.kind !== 'number') return undefined;
    if (token.kind === 'name' && CLAUSE_KEYWORDS.has(token.value)) return undefined;
    // `class A extends mixin(b) {` and `implements` name a class, not a method.
    const previous = this.tokens[before - 1];
    if (previous?.kind === 'name' && (previous.value === 'extends' || previous.value === 'implements')) return undefined;
    // A call in an expression (`a.b(c) {` cannot be written): a dot before the name rules it out.
    if (this.isPunct(before - 1, '.') || this.isPunct(before - 1, '?.')) return undefined;
    return { name: token.value, start: before };
  }

  /** Where the head of an arrow function ending before `arrow` (the `=>`) starts. */
  arrowHead(arrow: number): number {
    // `(a): T =>` has a parameter list before its return type; `a =>` has a single name.
    const open = this.parameters(arrow, () => true);
    if (open < 0) return this.value(arrow - 2) === 'async' ? arrow - 2 : arrow - 1;
    let start = open;
    if (this.isPunct(start - 1, '>')) {
      const angle = this.openAngle(start - 1);
      if (angle >= 0) start = angle;
    }
    if (this.value(start - 1) === 'async') start -= 1;
    return start;
  }

  /** The name an arrow function starting at `head` is bound to: a variable, a property, or the call it is passed to. */
  arrowName(head: number): string {
    const before = this.tokens[head - 1];
    if (before === undefined) return '(arrow)';
    if (before.kind === 'punct' && before.value === '=') {
      // `const name = `, `const name: Type = `, `this.name = `, `name = ` (a class field).
      for (let at = head - 2; at >= 0 && at > head - 60; at -= 1) {
        const token = this.tokens[at]!;
        if (token.kind === 'name' && ['const', 'let', 'var', 'readonly', 'private', 'public', 'protected', 'static'].includes(token.value)) return this.value(at + 1) ?? '(arrow)';
        if (token.kind === 'punct' && (token.value === ';' || token.value === '{' || token.value === '}')) break;
        if (token.kind === 'punct' && (token.value === ')' || token.value === ']') && this.partner[at]! >= 0) at = this.partner[at]!;
      }
      return this.value(head - 2) ?? '(arrow)';
    }
    if (before.kind === 'punct' && before.value === ':') {
      // `name: () =>` or `name?: () =>`; `a ? b : () =>` binds it to nothing.
      const key = this.tokens[this.isPunct(head - 2, '?') ? head - 3 : head - 2];
      return key !== undefined && key.kind !== 'punct' ? key.value : '(arrow)';
    }
    // An argument: name it after the callee, `(arrow in describe)`.
    for (let at = head - 1; at >= 0; at -= 1) {
      const token = this.tokens[at]!;
      if (token.kind === 'punct' && (token.value === ')' || token.value === ']' || token.value === '}') && this.partner[at]! >= 0) {
        at = this.partner[at]!;
        continue;
      }
      if (token.kind === 'punct' && token.value === '(') {
        const callee = this.tokens[at - 1];
        return callee?.kind === 'name' ? `(arrow in ${callee.value})` : '(arrow)';
      }
      if (token.kind === 'punct' && (token.value === '{' || token.value === '[' || token.value === ';')) return '(arrow)';
    }
    return '(arrow)';
  }

  /** `name`, `number` or `string` for such a token, else `punct:` and its value: what a token before a brace is. */
  typeEnd(index: number): string {
    const token = this.tokens[index]!;
    return token.kind === 'punct' ? `punct:${token.value}` : token.kind;
  }

  /** The last token of an arrow's expression body starting at `start`, or -1 when the arrow was a type. */
  expressionEnd(start: number): number {
    let last = start;
    for (let at = start; at < this.tokens.length; at += 1) {
      const token = this.tokens[at]!;
      if (at > start && token.newlineBefore && token.kind === 'name' && STATEMENT_START.has(token.value)) return last;
      if (token.kind === 'punct') {
        if (token.value === ',' || token.value === ';') return last;
        // `=> Type {`: the arrow was a function type in a return annotation, and the brace opens the body.
        if (token.value === '{' && at > start && /^(name|number|string)$|^punct:[)\]>]$/.test(this.typeEnd(at - 1))) return -1;
        if (token.value === '(' || token.value === '[' || token.value === '{') {
          const close = this.partner[at]!;
          if (close < 0) return last;
          last = close;
          at = close;
          continue;
        }
        if (token.value === ')' || token.value === ']' || token.value === '}') return last;
      }
      last = at;
    }
    return last;
  }
}

/** Every function of a source with the lines its body spans, in source order. */
export function functionSpans(source: string): FunctionSpan[] {
  const tokens = tokenize(source);
  const reader = new Reader(tokens, matchBrackets(tokens));
  const spans: FunctionSpan[] = [];
  const measure = (name: string, start: number, first: number, last: number): void => {
    spans.push({ name, line: tokens[start]!.line, lines: tokens[last]!.endLine - tokens[first]!.line + 1 });
  };
  tokens.forEach((token, index) => {
    if (token.kind !== 'punct') return;
    if (token.value === '=>') {
      const head = reader.arrowHead(index);
      if (reader.isFunctionType(head)) return;
      const name = reader.arrowName(head);
      const body = index + 1;
      if (body >= tokens.length) return;
      if (reader.isPunct(body, '{')) {
        const close = reader.partner[body]!;
        if (close >= 0) measure(name, head, body, close);
      } else {
        const end = reader.expressionEnd(body);
        if (end >= 0) measure(name, head, body, end);
      }
      return;
    }
    if (token.value !== '{' || reader.isPunct(index - 1, '=>')) return;
    const close = reader.partner[index]!;
    if (close < 0) return;
    let declared: { name: string; start: number } | undefined;
    const open = reader.parameters(index, (candidate) => {
      declared = reader.declaredName(candidate);
      return declared !== undefined;
    });
    if (open < 0 || declared === undefined) return;
    const { name, start } = declared;
    // `function name(` — the name sits between the keyword (and a `*`) and the parameters.
    const keyword = reader.value(start) === 'function' ? start : reader.value(start - 1) === 'function' ? start - 1 : reader.value(start - 1) === '*' && reader.value(start - 2) === 'function' ? start - 2 : -1;
    measure(name, keyword >= 0 ? keyword : start, index, close);
  });
  return spans;
}
