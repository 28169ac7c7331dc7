/**
 * Bounds on what the config loader accepts, so a wrong file (a generated 50 MB config, a billion-laughs
 * document) is refused with a clear message instead of taking minutes and gigabytes to start.
 *
 * Measured with the `yaml` package on this project's 2-core machine: a realistic config parses at about
 * 0.9-1.3 s and 100 MB of memory per MB of YAML (10,000 targets are 2.4-3.5 MB); the densest YAML (flow lists
 * of one-character scalars) costs about 3.4 s and 420 MB per MB.
 */

/** Largest config file read; checked before the file is parsed. 10,000 targets fit with room to spare. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/*
 * Largest files read besides the config (src/read-regular-file.ts reads each only if it is a regular file). Each
 * is far above what the file holds in practice and far below what would hurt: a limit keeps a wrong path (a
 * device, a log file) from being read into memory.
 */
/** A secret file (`{ file: … }`, admin.token): webhook secrets and tokens are tens of bytes. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;
/** `server.tls` certificate and key: a certificate chain is a few KB. */
export const MAX_TLS_FILE_BYTES = 1024 * 1024;
/** A kubeconfig: one merged from hundreds of clusters, certificates inline, is about 1 MB. */
export const MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024;
/** The files a kubeconfig or the service account names: CA bundle, client certificate and key, token. */
export const MAX_KUBE_FILE_BYTES = 1024 * 1024;
/** A plugin file in pluginsDir: a provider is 30–80 lines. */
export const MAX_PLUGIN_FILE_BYTES = 1024 * 1024;

/**
 * Most anchors (`&name`) and, separately, most aliases (`*name`) in one config. The `yaml` package resolves
 * each alias by scanning every anchor and alias before it (quadratic: 20,000 aliases took 7 s), and a config
 * needs a handful at most.
 */
export const MAX_YAML_ANCHORS = 1000;

/**
 * Most YAML nodes once aliases are expanded. An alias is cheap to write and costs its target's size each time
 * it is used (99 aliases of a 2 MB mapping took 36 s to check); 10,000 targets are about 350,000 nodes.
 */
export const MAX_YAML_NODES = 1_000_000;

/** Problems listed at most; the rest are counted ("… and N more"). */
export const MAX_REPORTED_PROBLEMS = 100;

/**
 * A config this large (about 1,000 targets) leaves enough garbage behind its parse and compile that a full
 * collection right then is worth its tens of milliseconds: below it, start-up time matters more.
 */
export const LARGE_CONFIG_BYTES = 256 * 1024;
export const LARGE_CONFIG_TARGETS = 1_000;
