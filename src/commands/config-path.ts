/** Which config file `serve` and `validate` read when the command line names none. */

export const DEFAULT_CONFIG_FILE = 'fluxgate.yaml';

/**
 * The file given on the command line, else `$FLUXGATE_CONFIG`, else `./fluxgate.yaml` when it exists; when
 * none of these applies, `missing` says so. A file that is named but does not exist is returned as is: the
 * loader reports it as a config problem.
 *
 * @example
 * chooseConfigPath(undefined, { FLUXGATE_CONFIG: '/etc/fluxgate/fluxgate.yaml' }, existsSync);
 * // { path: '/etc/fluxgate/fluxgate.yaml' }
 */
export function chooseConfigPath(
  given: string | undefined,
  env: Record<string, string | undefined>,
  exists: (path: string) => boolean,
): { path: string } | { missing: string } {
  if (given) return { path: given };
  if (env.FLUXGATE_CONFIG) return { path: env.FLUXGATE_CONFIG };
  if (exists(DEFAULT_CONFIG_FILE)) return { path: DEFAULT_CONFIG_FILE };
  return { missing: `no config file: none given (--config FILE), $FLUXGATE_CONFIG is not set, and there is no ./${DEFAULT_CONFIG_FILE}` };
}
