/** Reading rendered deploy/ objects as a cluster would use them: one object by kind, a pod's config and secret mounts. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runFluxgate } from './cli.ts';
import { tempDir } from './temp-dir.ts';

export const one = (objects: any[], kind: string, name?: string) => {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
};

export const podSpecOf = (deployment: any) => deployment.spec.template.spec;
export const containerOf = (deployment: any, name: string) => podSpecOf(deployment).containers.find((container: any) => container.name === name);

/** The config the container reads: its --config path inside the mount of the named ConfigMap. */
export function configOf(objects: any[], deployment: any, containerName: string): { path: string; config: any } {
  const container = containerOf(deployment, containerName);
  const path: string = container.args[container.args.indexOf('--config') + 1];
  const mount = container.volumeMounts.find((candidate: any) => path.startsWith(`${candidate.mountPath}/`));
  const volume = podSpecOf(deployment).volumes.find((candidate: any) => candidate.name === mount.name);
  const configMap = one(objects, 'ConfigMap', volume.configMap.name);
  return { path, config: parse(configMap.data[path.slice(mount.mountPath.length + 1)]) };
}

/** The directories where the container sees a Secret volume. */
export function secretMounts(deployment: any, containerName: string): string[] {
  const secretVolumes = new Set(podSpecOf(deployment).volumes.filter((volume: any) => volume.secret).map((volume: any) => volume.name));
  return (containerOf(deployment, containerName).volumeMounts ?? []).filter((mount: any) => secretVolumes.has(mount.name)).map((mount: any) => mount.mountPath);
}

/** `fluxgate validate --file-only` on a config as shipped. */
export async function validateShipped(config: any): Promise<{ code: number; stderr: string }> {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, stringify(config));
    return await runFluxgate(['validate', '--file-only', path]);
  } finally {
    dir.remove();
  }
}
