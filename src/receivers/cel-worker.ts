/**
 * The evaluator's worker (cel-evaluator.ts starts it, scripts/build.ts compiles it in as an entry point): puts
 * the size bound on what CEL builds (cel-bounds.ts), says it is ready, then answers each job in turn. The main
 * thread times each job and terminates this worker at the time limit; it never evaluates CEL itself.
 */
import { installValueBounds } from './cel-bounds.ts';
import { createJobRunner, type CelAnswer, type CelJob } from './cel-jobs.ts';

/** A job from the main thread, numbered so that its answer is matched to it. */
export interface JobMessage {
  id: number;
  job: CelJob;
}

/** What the worker posts: once `{ ready: true }`, then one `{ id, answer }` per job. */
export type WorkerMessage = { ready: true } | { id: number; answer: CelAnswer };

function serve(): void {
  const runner = createJobRunner(installValueBounds());
  addEventListener('message', (event) => {
    const { id, job } = (event as MessageEvent<JobMessage>).data;
    let answer: CelAnswer;
    try {
      answer = runner.run(job);
    } catch (error) {
      // Not an expression's error (those are answers): say so rather than leave the job waiting for its timer.
      answer = { failed: `the evaluator failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    postMessage({ id, answer } satisfies WorkerMessage);
  });
  postMessage({ ready: true } satisfies WorkerMessage);
}

serve();
