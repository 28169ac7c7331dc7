import { describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runFluxgate } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const deploy = join(import.meta.dir, '..', '..', 'deploy');

describe('deploy/', () => {
  test('the config shipped in deployment.yaml validates', async () => {
    const documents = parseAllDocuments(readFileSync(join(deploy, 'deployment.yaml'), 'utf8')).map((document) => document.toJS());
    const configMap = documents.find((document) => document.kind === 'ConfigMap');
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, configMap.data['fluxgate.yaml']);
    // Its secrets and service account exist only in the pod: check the file itself.
    const result = await runFluxgate(['validate', '--file-only', path]);
    dir.remove();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('the Deployment runs as the ServiceAccount that rbac.yaml binds', () => {
    const documents = parseAllDocuments(readFileSync(join(deploy, 'deployment.yaml'), 'utf8')).map((document) => document.toJS());
    const rbac = parseAllDocuments(readFileSync(join(deploy, 'rbac.yaml'), 'utf8')).map((document) => document.toJS());
    const deployment = documents.find((document) => document.kind === 'Deployment');
    const binding = rbac.find((document) => document.kind === 'ClusterRoleBinding');
    expect(binding.subjects).toContainEqual(expect.objectContaining({ kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: deployment.metadata.namespace }));
  });
});
