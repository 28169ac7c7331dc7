/**
 * What the evaluator's worker (cel-worker.ts) runs: one delivery's filters over every object its selectors
 * found, or one generic-oidc issuer's variables and validations over a token's claims. Jobs and answers are
 * plain data: they cross to the worker and back by structured clone.
 *
 * A job stops at the first evaluation that went past a size bound (cel-bounds.ts) and answers `{ failed }`:
 * nothing of it is decided, so nothing is patched for that delivery. Other evaluation errors (a missing key, a
 * comprehension too costly for the request) stay per object, as in Flux.
 */
import type { ValueBounds } from './cel-bounds.ts';
import { celEnvironments, DELIVERY_STEPS, largestCollection, prepareClaimRule, prepareFilter, runPrepared, stepsOf, type CompiledFilter, type Prepared } from './cel-filter.ts';

/** True: the filters accept the object; false: one refuses it; `{ error }`: one could not decide. */
export type FilterVerdict = boolean | { error: string };

export interface FilterJob {
  kind: 'filter';
  req: Readonly<Record<string, unknown>>;
  claims?: Readonly<Record<string, unknown>>;
  /** Per selector: its filters (all must accept an object, as Flux stacks them) and its objects. */
  lists: { filters: CompiledFilter[]; objects: Readonly<Record<string, unknown>>[] }[];
  /** Steps this delivery's earlier jobs took: DELIVERY_STEPS is for the whole delivery. */
  stepsSpent: number;
}

/** Per list, per object, in order; or why the whole delivery was not decided. */
export type FilterAnswer = { verdicts: FilterVerdict[][]; stepsSpent: number } | { failed: string };

export interface ClaimsJob {
  kind: 'claims';
  claims: Readonly<Record<string, unknown>>;
  /** Evaluated in order, each seeing the ones before it as `vars.<name>`. */
  variables: { name: string; expression: string }[];
  validations: { expression: string; message: string }[];
}

/** `rejected`: why the token is refused (a validation false, or one that could not be evaluated); none: accepted. */
export type ClaimsAnswer = { rejected?: string } | { failed: string };

export type CelJob = FilterJob | ClaimsJob;
export type CelAnswer = FilterAnswer | ClaimsAnswer;

/** Prepared expressions a worker keeps; past this many it forgets them all (preparing again is cheap). */
const CACHED_PROGRAMS = 1000;

/**
 * @example
 * const runner = createJobRunner(installValueBounds());
 * runner.run({ kind: 'claims', claims: { sub: 'ci' }, variables: [], validations: [{ expression: "claims.sub == 'ci'", message: 'not ci' }] }); // {}
 */
export function createJobRunner(bounds: ValueBounds): { run(job: CelJob): CelAnswer } {
  const environments = celEnvironments();
  const programs = new Map<string, Prepared | { problem: string }>();

  function program(key: string, make: () => Prepared | { problem: string }): Prepared | { problem: string } {
    let prepared = programs.get(key);
    if (prepared === undefined) {
      if (programs.size >= CACHED_PROGRAMS) programs.clear();
      programs.set(key, (prepared = make()));
    }
    return prepared;
  }

  const evaluate = (prepared: Prepared | { problem: string }, variables: object, requestSize: number) =>
    'problem' in prepared ? { error: prepared.problem } : runPrepared(prepared, variables, requestSize);

  /** One object through its list's filters; `undefined` once a size bound was passed (the job fails). */
  function decide(filters: readonly CompiledFilter[], object: Readonly<Record<string, unknown>>, job: FilterJob, budget: { spent: number; requestSize: number }): FilterVerdict | undefined {
    for (const filter of filters) {
      const prepared = program(`filter|${filter.claims}|${filter.expression}`, () => prepareFilter(environments, filter.expression, filter.claims));
      const steps = 'problem' in prepared ? 0 : stepsOf(prepared, budget.requestSize);
      if (budget.spent + steps > DELIVERY_STEPS) return { error: `the request is too large to filter this many objects (over ${DELIVERY_STEPS} steps for one delivery)` };
      budget.spent += steps;
      const result = evaluate(prepared, { res: object, req: job.req, ...(job.claims ? { claims: job.claims } : {}) }, budget.requestSize);
      if (bounds.exceeded() !== undefined) return undefined;
      if ('error' in result) return result;
      if (typeof result.value !== 'boolean') return { error: 'the expression did not return a bool' };
      if (!result.value) return false;
    }
    return true;
  }

  function runFilters(job: FilterJob): FilterAnswer {
    const budget = { spent: job.stepsSpent, requestSize: largestCollection(job.req, job.claims) };
    const verdicts: FilterVerdict[][] = [];
    for (const list of job.lists) {
      const decided: FilterVerdict[] = [];
      for (const object of list.objects) {
        const verdict = decide(list.filters, object, job, budget);
        if (verdict === undefined) return { failed: bounds.exceeded()! };
        decided.push(verdict);
      }
      verdicts.push(decided);
    }
    return { verdicts, stepsSpent: budget.spent };
  }

  function runClaims(job: ClaimsJob): ClaimsAnswer {
    const requestSize = largestCollection(job.claims);
    const vars: Record<string, unknown> = {};
    const run = (expression: string, result: 'any' | 'bool') =>
      evaluate(program(`rule|${result}|${expression}`, () => prepareClaimRule(environments, expression, result)), { claims: job.claims, vars }, requestSize);
    for (const { name, expression } of job.variables) {
      const result = run(expression, 'any');
      if (bounds.exceeded() !== undefined) return { failed: bounds.exceeded()! };
      if ('error' in result) return { rejected: `variable ${name} could not be evaluated: ${result.error}` };
      vars[name] = result.value;
    }
    const failures: string[] = [];
    for (const { expression, message } of job.validations) {
      const result = run(expression, 'bool');
      if (bounds.exceeded() !== undefined) return { failed: bounds.exceeded()! };
      if ('error' in result) return { rejected: `a validation could not be evaluated: ${result.error}` };
      if (result.value !== true) failures.push(message);
    }
    return failures.length > 0 ? { rejected: `token validation failed: ${failures.join('; ')}` } : {};
  }

  return {
    run(job) {
      bounds.reset();
      return job.kind === 'filter' ? runFilters(job) : runClaims(job);
    },
  };
}
