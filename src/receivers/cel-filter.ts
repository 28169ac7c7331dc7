/**
 * A Receiver's `resourceFilter` (and each resource's `filter`): a CEL expression over the resource (`res`: its
 * apiVersion, kind and metadata), the webhook body (`req`) and, for `generic-oidc`, the verified token's claims
 * (`claims`), which must return a bool — the variables and result type notification-controller declares.
 * Evaluated by @marcbachmann/cel-js with optional types on (`.?field`, `orValue`, `value()`), plus the `first()` and
 * `last()` of lists that Flux's CEL environment has and the library lacks. A generic-oidc Receiver's
 * `oidcProviders[].variables` and `validations` are compiled here too, over `claims` and `vars`.
 *
 * This file compiles (here, on the main thread, so a Receiver is refused at once with the reason) and runs a
 * prepared expression (in the evaluator's worker, cel-evaluator.ts, never on the main thread).
 *
 * Bounded cost: neither CEL library for JavaScript meters evaluation, so an expression is compiled only when its
 * cost is provably linear in its input, and refused (with the reason) otherwise:
 * - at most 200 syntax nodes, nesting depth 24, 8 concatenations (`+`): the whole expression is small;
 * - no `matches()`: JavaScript regular expressions backtrack, so `(a+)+$` on a long string takes exponential time;
 * - no comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) inside another, and none whose body reads
 *   `req` or `claims` other than through its iteration variable: each element is visited once, by a small body;
 * - an expression with a comprehension is not evaluated (an error, so nothing is patched) when its body size times
 *   the largest list or map of the request exceeds 250,000 steps (a 2048-commit push with a 120-node body fits;
 *   measured here, 600,000 such steps took about 0.3 s), nor once one delivery's evaluations over all the
 *   objects its selectors found reach 1,000,000 (`DELIVERY_STEPS`, counted by the worker with `stepsOf`).
 * What these rules cannot see — `join()` multiplies its list by its separator, `split('')` makes a list as long
 * as its string, a comprehension over such a list — is bounded where it runs: the worker refuses to build a
 * string or list past its size bound (cel-bounds.ts) and is stopped at the delivery's time limit.
 */
import { Environment, Optional } from '@marcbachmann/cel-js';

/** What an expression sees: the resource, the request body and, for generic-oidc, the token's claims. */
export interface FilterVariables {
  res: Readonly<Record<string, unknown>>;
  req: Readonly<Record<string, unknown>>;
  claims?: Readonly<Record<string, unknown>>;
}

/** An expression that passed the rules: what the evaluator needs to run it (it prepares it again in its worker). */
export interface CompiledFilter {
  readonly expression: string;
  /** Whether `claims` is a variable (generic-oidc). */
  readonly claims: boolean;
}

/** The steps one delivery's filter evaluations may take together, over every object its selectors found. */
export const DELIVERY_STEPS = 1_000_000;

/** An OIDC provider's variable (`result: 'any'`) or validation (`'bool'`): any value over `claims` and `vars`. */
export interface CompiledClaimRule {
  readonly expression: string;
  readonly result: 'any' | 'bool';
}

export interface FilterCompiler {
  /** Compiles once (per Receiver generation); a problem names why the expression is refused. */
  compile(expression: string, scope: { claims: boolean }): CompiledFilter | { problem: string };
  /** A generic-oidc variable (`result: 'any'`) or validation (`'bool'`), with the same cost rules. */
  compileClaimRule(expression: string, result: 'any' | 'bool'): CompiledClaimRule | { problem: string };
}

const LIMITS = { maxAstNodes: 200, maxDepth: 24, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 };
const MAX_CONCATENATIONS = 8;
const MAX_STEPS = 250_000;
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter', 'transformList', 'transformMap', 'transformMapEntry']);
/** Variables whose size the sender chooses: a comprehension body reads them only through its iteration variable. */
const REQUEST_VARIABLES = new Set(['req', 'claims', 'vars']);

interface AstNode {
  op: string;
  args: unknown;
}

const isNode = (value: unknown): value is AstNode => typeof value === 'object' && value !== null && typeof (value as AstNode).op === 'string';

/** The syntax nodes directly below `node`. */
function children(node: AstNode): AstNode[] {
  const { args } = node;
  if (isNode(args)) return [args];
  if (!Array.isArray(args)) return [];
  return args.flatMap((arg) => (isNode(arg) ? [arg] : Array.isArray(arg) ? arg.filter(isNode) : []));
}

/** Why the expression's cost would not be linear in its input, or its comprehension body's size (0: none). */
function costProblem(root: AstNode): { problem: string } | { bodyNodes: number } {
  let concatenations = 0;
  let bodyNodes = 0;
  let problem: string | undefined;
  const count = (node: AstNode): number => 1 + children(node).reduce((sum, child) => sum + count(child), 0);
  const visit = (node: AstNode, inBody: boolean): void => {
    if (problem !== undefined) return;
    // `call`: [name, arguments]; `rcall` (a method): [name, receiver, arguments].
    const [name, receiver, callArguments] = Array.isArray(node.args) ? node.args : [];
    if ((node.op === 'call' || node.op === 'rcall') && name === 'matches') {
      problem = 'matches() is not supported: JavaScript regular expressions can take exponential time; use startsWith, endsWith, contains or split';
      return;
    }
    if (node.op === 'rcall' && name === 'bind' && isNode(receiver) && receiver.op === 'id' && receiver.args === 'cel') {
      problem = 'cel.bind() is not in the CEL environment of Flux Receivers';
      return;
    }
    if (node.op === '+') concatenations += 1;
    if (node.op === 'id' && inBody && REQUEST_VARIABLES.has(node.args as string)) {
      problem = `a comprehension body reads ${node.args as string} other than through its iteration variable, which could cost the square of the request's size`;
      return;
    }
    if (node.op === 'rcall' && typeof name === 'string' && COMPREHENSIONS.has(name) && isNode(receiver)) {
      if (inBody) {
        problem = `${name}() inside another comprehension is not supported: nested comprehensions can cost the square of the request's size`;
        return;
      }
      visit(receiver, false);
      // The first argument names the iteration variable; everything after it runs once per element.
      for (const part of (Array.isArray(callArguments) ? callArguments : []).slice(1).filter(isNode)) {
        bodyNodes += count(part);
        visit(part, true);
      }
      return;
    }
    for (const child of children(node)) visit(child, inBody);
  };
  visit(root, false);
  if (problem !== undefined) return { problem };
  if (concatenations > MAX_CONCATENATIONS) return { problem: `more than ${MAX_CONCATENATIONS} concatenations (+)` };
  return { bodyNodes };
}

/**
 * The number of elements of the largest list or map in `values`, in one pass without recursion (a request body
 * may nest deeply).
 * @example largestCollection({ commits: [{ added: ['a', 'b', 'c'] }] }) // 3
 */
export function largestCollection(...values: unknown[]): number {
  let largest = 0;
  const stack = [...values];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    const items = Array.isArray(value) ? value : Object.values(value);
    largest = Math.max(largest, items.length);
    for (const item of items) if (typeof item === 'object' && item !== null) stack.push(item);
  }
  return largest;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.trim();
}

function environment(variables: readonly string[]): Environment {
  const env = new Environment({ enableOptionalTypes: true, limits: LIMITS })
    // Flux's CEL environment (optional types) has these; the library does not.
    .registerFunction('list<A>.first(): optional<A>', (list: unknown[]) => Optional.of(list[0]))
    .registerFunction('list<A>.last(): optional<A>', (list: unknown[]) => Optional.of(list[list.length - 1]));
  for (const name of variables) env.registerVariable(name, 'map');
  return env;
}

type Program = ((variables: object) => unknown) & { ast: AstNode };

/** An expression checked, parsed and bounded, ready to run. */
export interface Prepared {
  program: Program;
  /** The size of its comprehension body (0: none), which a request's largest collection multiplies. */
  bodyNodes: number;
}

/** Checks, parses and bounds one expression; `bool`: it must return a bool, as Flux declares. */
function prepare(env: Environment, expression: string, bool: boolean): Prepared | { problem: string } {
  let program: Program;
  try {
    const checked = env.check(expression);
    if (!checked.valid) return { problem: `invalid CEL expression: ${firstLine(checked.error)}` };
    if (bool && checked.type !== 'bool') return { problem: `the expression returns ${checked.type}, not bool` };
    program = env.parse(expression) as unknown as Program;
  } catch (error) {
    return { problem: `invalid CEL expression: ${firstLine(error)}` };
  }
  const cost = costProblem(program.ast);
  if ('problem' in cost) return { problem: `expression refused: ${cost.problem}` };
  return { program, bodyNodes: cost.bodyNodes };
}

/** What one evaluation may cost on a request of `requestSize` (0 without a comprehension), for a delivery's budget. */
export function stepsOf(prepared: Prepared, requestSize: number): number {
  return prepared.bodyNodes * requestSize;
}

/**
 * Runs a prepared expression, unless its comprehension is too costly for a request of `requestSize`
 * (`largestCollection(req, claims)`, computed once per delivery). fluxgate calls it in the evaluator's worker only.
 */
export function runPrepared(prepared: Prepared, variables: object, requestSize: number): { value: unknown } | { error: string } {
  if (prepared.bodyNodes > 0 && prepared.bodyNodes * requestSize > MAX_STEPS) {
    return { error: `the request is too large for this expression (${requestSize} elements × ${prepared.bodyNodes} nodes in a comprehension > ${MAX_STEPS})` };
  }
  try {
    return { value: prepared.program(variables) };
  } catch (error) {
    return { error: firstLine(error) };
  }
}

/** The three CEL environments: filters with and without `claims`, and OIDC rules over `claims` and `vars`. */
export interface CelEnvironments {
  plain: Environment;
  claims: Environment;
  oidc: Environment;
}

export function celEnvironments(): CelEnvironments {
  return { plain: environment(['res', 'req']), claims: environment(['res', 'req', 'claims']), oidc: environment(['claims', 'vars']) };
}

/** Prepares a filter (`bool`, over `res`, `req` and maybe `claims`) in `environments`. */
export function prepareFilter(environments: CelEnvironments, expression: string, claims: boolean): Prepared | { problem: string } {
  return prepare(claims ? environments.claims : environments.plain, expression, true);
}

/** Prepares an OIDC variable (`any`) or validation (`bool`) in `environments`. */
export function prepareClaimRule(environments: CelEnvironments, expression: string, result: 'any' | 'bool'): Prepared | { problem: string } {
  return prepare(environments.oidc, expression, result === 'bool');
}

/**
 * Makes the CEL environments once; `compile` is then cheap. Compiling checks an expression against the rules
 * above; the evaluator (cel-evaluator.ts) runs it.
 *
 * @example
 * const filters = createFilterCompiler();
 * const filter = filters.compile("req.tag.contains(res.metadata.name)", { claims: false });
 * if ('problem' in filter) throw new Error(filter.problem);
 * await evaluator.filter({ req: { tag: 'ghcr.io/org/app:1.2' }, lists: [{ filters: [filter], objects: [{ metadata: { name: 'app' } }] }], stepsSpent: 0 });
 * // { verdicts: [[true]], stepsSpent: 0 }
 */
export function createFilterCompiler(): FilterCompiler {
  const environments = celEnvironments();
  return {
    compile(expression, scope) {
      const prepared = prepareFilter(environments, expression, scope.claims);
      return 'problem' in prepared ? prepared : { expression, claims: scope.claims };
    },
    compileClaimRule(expression, result) {
      const prepared = prepareClaimRule(environments, expression, result);
      return 'problem' in prepared ? prepared : { expression, result };
    },
  };
}

/**
 * A compiler that compiles each expression once and hands back the same result after: the watcher keeps one per
 * Receiver generation, so a rotated Secret rebuilds the provider without compiling its CEL again.
 *
 * @example
 * const once = compileOnce(filters);
 * once.compile('req.x == 1', { claims: false }) === once.compile('req.x == 1', { claims: false }); // true
 */
export function compileOnce(compiler: FilterCompiler): FilterCompiler {
  const filters = new Map<string, ReturnType<FilterCompiler['compile']>>();
  const rules = new Map<string, ReturnType<FilterCompiler['compileClaimRule']>>();
  return {
    compile(expression, scope) {
      const key = `${scope.claims}|${expression}`;
      let compiled = filters.get(key);
      if (compiled === undefined) filters.set(key, (compiled = compiler.compile(expression, scope)));
      return compiled;
    },
    compileClaimRule(expression, result) {
      const key = `${result}|${expression}`;
      let compiled = rules.get(key);
      if (compiled === undefined) rules.set(key, (compiled = compiler.compileClaimRule(expression, result)));
      return compiled;
    },
  };
}
