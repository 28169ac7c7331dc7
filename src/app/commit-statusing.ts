/**
 * The commit statuses of following (`feedback.commitStatus`), as the composition root wires them: the writer's
 * queues (counted in metrics), and the routes to each host — the providers' `register` credentials, resolved from
 * the config served, again on each reload (a rotated token is used from then on).
 */
import { dirname, resolve } from 'node:path';
import { readSecretFile } from '../config/index.ts';
import type { Clock, Logger } from '../core/index.ts';
import type { FeedbackOptions, StatusRoutes } from '../feedback/index.ts';
import type { Metrics } from '../observe/index.ts';
import type { LoadedConfig } from './load-config.ts';

export interface CommitStatusing {
  statuses: NonNullable<FeedbackOptions['statuses']>;
  /** Routes from the config now served (a reload). */
  reload(next: LoadedConfig): void;
  /** Providers whose statuses cannot be sent (the status page lists them). */
  problems(): readonly string[];
}

/**
 * @example
 * const statusing = await commitStatusing({ loaded, configPath, env, metrics, log, clock });
 * startClusters({ …, statuses: statusing?.statuses });
 */
export async function commitStatusing(start: { loaded: LoadedConfig; configPath: string; env: Record<string, string | undefined>; metrics: Metrics; log: Logger; clock: Clock; random?: () => number }): Promise<CommitStatusing | undefined> {
  const { loaded, metrics, log, clock } = start;
  const { feedback, server } = loaded.config;
  if (!feedback.enabled || !feedback.commitStatus) return undefined;
  // Loaded only when statuses are on: the writer and the hosts' clients.
  const { createStatusWriter, statusRoutes } = await import('../feedback/index.ts');
  const baseDir = dirname(resolve(start.configPath));
  const routesOf = (next: LoadedConfig): StatusRoutes => {
    const routes = statusRoutes(next.config, next.catalog, { env: start.env, readFile: (file) => readSecretFile(resolve(baseDir, file)) });
    for (const problem of routes.problems) log.error(problem);
    return routes;
  };
  let routes = routesOf(loaded);
  // The delivery's page is on the admin listener: detailsUrl says where people reach it.
  const linkBase = feedback.detailsUrl ?? server.publicUrl;
  const writer = createStatusWriter({ clock, log, ...(start.random ? { random: start.random } : {}), reporter: { outcome: (type, outcome) => metrics.commitStatuses.inc({ type, outcome }) } });
  return {
    statuses: {
      settings: { context: feedback.context, ...(linkBase ? { publicUrl: linkBase } : {}), route: (cause) => routes.route(cause) },
      writer,
    },
    reload(next) {
      routes = routesOf(next);
    },
    problems: () => routes.problems,
  };
}
