/**
 * Where Receivers' CEL runs: one Bun Worker (cel-worker.ts), kept warm between deliveries, that takes one job at
 * a time — a delivery's filters over all the objects its selectors found, or an OIDC token's variables and
 * validations — so that neither a slow expression nor a large value it builds ever holds the main thread, which
 * answers webhooks and `/healthz` meanwhile.
 *
 * Each job is timed from the moment it is handed to a ready worker: past `timeLimitMs` (1 s by default) the
 * worker is terminated, the job answers `{ failed }`, and a new worker is started for the next. Termination
 * interrupts JavaScript, including every CEL comprehension; the native string operations that it cannot
 * interrupt are the ones the worker bounds in size before they run (cel-bounds.ts). Bun ignores a Worker's
 * `resourceLimits` (measured in bench/worker-limits.ts, and said in Bun's Node.js compatibility notes), so the
 * bounds on memory are those sizes, not a heap limit. Token checks (on the request path) go before waiting
 * filter jobs.
 */
import { workerUrl } from '../core/index.ts';
import type { Clock } from '../core/index.ts';
import type { CelAnswer, CelJob, ClaimsAnswer, ClaimsJob, FilterAnswer, FilterJob } from './cel-jobs.ts';
import type { JobMessage, WorkerMessage } from './cel-worker.ts';

/** How long one delivery's filters (or one token's rules) may take in the worker. */
export const DELIVERY_TIME_LIMIT_MS = 1000;

/** The worker's script (an entry point of its own in the compiled binary). */
const workerScript = () => workerUrl(import.meta.url, 'receivers/cel-worker.ts');

export interface CelEvaluator {
  /** One delivery's filters, in one round trip; `{ failed }`: stopped at a bound, nothing of it decided. */
  filter(job: Omit<FilterJob, 'kind'>): Promise<FilterAnswer>;
  /** One token's variables and validations; `{ failed }`: stopped at a bound. */
  claims(job: Omit<ClaimsJob, 'kind'>): Promise<ClaimsAnswer>;
  /** Starts the worker now if none runs, so the first delivery does not wait for it. */
  warm(): void;
  /** Terminates the worker; jobs not yet answered answer `{ failed }`. */
  close(): void;
}

interface Waiting {
  job: CelJob;
  resolve(answer: CelAnswer): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
}

/** A worker running cel-worker.ts: `on` hears that it is ready, its answers, and its end (an error or an exit). */
function startThread(on: { ready(): void; answer(id: number, answer: CelAnswer): void; gone(reason: string): void }): Thread {
  const worker = new Worker(workerScript(), { smol: true });
  // The worker never keeps the process alive: shutdown does not wait for it.
  worker.unref();
  worker.addEventListener('message', (event) => {
    const message = event.data as WorkerMessage;
    if ('ready' in message) on.ready();
    else on.answer(message.id, message.answer);
  });
  worker.addEventListener('error', (event) => on.gone(`the evaluator failed: ${event.message}`));
  worker.addEventListener('close', () => on.gone('the evaluator stopped'));
  return { worker, ready: false };
}

/** Queues `waiting`: a token check holds up a webhook's answer, a filter job runs after it, so token checks go first. */
function enqueue(queue: Waiting[], waiting: Waiting): void {
  const at = waiting.job.kind === 'claims' ? queue.findIndex((other) => other.job.kind !== 'claims') : -1;
  queue.splice(at < 0 ? queue.length : at, 0, waiting);
}

/**
 * @example
 * const evaluator = createCelEvaluator({ clock: systemClock });
 * await evaluator.claims({ claims: { sub: 'ci' }, variables: [], validations: [{ expression: "claims.sub == 'ci'", message: 'not ci' }] }); // {}
 * evaluator.close();
 */
export function createCelEvaluator(options: { clock: Clock; timeLimitMs?: number }): CelEvaluator {
  const state: EvaluatorState = { clock: options.clock, limitMs: options.timeLimitMs ?? DELIVERY_TIME_LIMIT_MS, queue: [], thread: undefined, running: undefined, nextId: 1, closed: false };
  const submit = (job: CelJob): Promise<CelAnswer> =>
    state.closed ? Promise.resolve({ failed: 'the evaluator is closed' }) : new Promise((resolve) => (enqueue(state.queue, { job, resolve }), next(state)));
  return {
    filter: (job) => submit({ kind: 'filter', ...job }) as Promise<FilterAnswer>,
    claims: (job) => submit({ kind: 'claims', ...job }) as Promise<ClaimsAnswer>,
    warm() {
      if (!state.closed && state.thread === undefined) start(state);
    },
    close() {
      state.closed = true;
      kill(state);
      finish(state, { failed: 'the evaluator is closed' });
      for (const waiting of state.queue.splice(0)) waiting.resolve({ failed: 'the evaluator is closed' });
    },
  };
}

/** One evaluator's worker, its queue and the job it runs: owned by the evaluator, changed by the functions below. */
interface EvaluatorState {
  clock: Clock;
  limitMs: number;
  queue: Waiting[];
  thread: Thread | undefined;
  running: { id: number; waiting: Waiting; timer: unknown } | undefined;
  nextId: number;
  closed: boolean;
}

/** Starts a worker; answers and its end count only while it is the current one. */
function start(state: EvaluatorState): void {
  const current: Thread = startThread({
    ready() {
      if (state.thread !== current) return;
      current.ready = true;
      next(state);
    },
    answer: (id, answer) => state.thread === current && state.running?.id === id && finish(state, answer),
    gone: (reason) => state.thread === current && fail(state, reason),
  });
  state.thread = current;
}

function kill(state: EvaluatorState): void {
  state.thread?.worker.terminate();
  state.thread = undefined;
}

/** Answers the running job and hands the worker the next. */
function finish(state: EvaluatorState, answer: CelAnswer): void {
  if (state.running === undefined) return;
  const { waiting, timer } = state.running;
  state.running = undefined;
  state.clock.clearTimer(timer);
  waiting.resolve(answer);
  next(state);
}

/** The worker is gone: the running job fails; if it never became ready, so do the waiting ones (no restart loop). */
function fail(state: EvaluatorState, reason: string): void {
  const started = state.thread?.ready === true;
  kill(state);
  if (state.running !== undefined) finish(state, { failed: reason });
  else if (!started) for (const waiting of state.queue.splice(0)) waiting.resolve({ failed: reason });
}

function timedOut(state: EvaluatorState, id: number): void {
  if (state.running?.id !== id) return;
  kill(state);
  start(state); // warm again for the next job
  finish(state, { failed: `the evaluation took longer than ${state.limitMs} ms and was stopped` });
}

/** Hands the worker the next job once it is ready and idle (starting one when none runs). */
function next(state: EvaluatorState): void {
  if (state.closed || state.running !== undefined || state.queue.length === 0) return;
  if (state.thread === undefined) return start(state);
  if (!state.thread.ready) return;
  const waiting = state.queue.shift()!;
  const id = state.nextId++;
  state.running = { id, waiting, timer: state.clock.setTimer(() => timedOut(state, id), state.limitMs) };
  try {
    state.thread.worker.postMessage({ id, job: waiting.job } satisfies JobMessage);
  } catch (error) {
    finish(state, { failed: `the job could not be handed to the evaluator: ${String(error)}` });
  }
}
