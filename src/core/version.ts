/**
 * What this build of fluxgate is: the package version and, in a compiled binary, the commit it was built
 * from. `scripts/build.ts` defines FLUXGATE_BUILD_COMMIT at compile time; run from source it is undefined.
 * The commit rides in the version as semver build metadata (`0.1.0+3f9c2a1b7d4e`), so `fluxgate version`,
 * the status page and `fluxgate_build_info{version}` all carry it without a second field to thread through.
 */
import packageJson from '../../package.json' with { type: 'json' };

declare const FLUXGATE_BUILD_COMMIT: string | undefined;

/**
 * The version string of this build.
 *
 * @example
 * buildVersion('0.1.0', '3f9c2a1b7d4e') // '0.1.0+3f9c2a1b7d4e'
 * buildVersion('0.1.0', undefined)      // '0.1.0' (run from source)
 */
export function buildVersion(version: string, commit: string | undefined): string {
  return commit ? `${version}+${commit}` : version;
}

/** This build's version: `0.1.0+<commit>` in a binary built by scripts/build.ts, `0.1.0` from source. */
export const fluxgateVersion = buildVersion(packageJson.version, typeof FLUXGATE_BUILD_COMMIT === 'string' ? FLUXGATE_BUILD_COMMIT : undefined);
