/** The kubeconfig clients use to reach the stand-in: one cluster, one token user, context `sandbox`. */

import { writeFile } from 'node:fs/promises';

import { stringify } from 'yaml';

export interface KubeconfigSpec {
  server: string;
  token: string;
  contextName: string;
  namespace: string;
  user: string;
  /** PEM certificate of the server (written as certificate-authority-data). */
  caCertificate?: string;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      {
        name: spec.contextName,
        cluster: spec.caCertificate
          ? {
              server: spec.server,
              'certificate-authority-data': Buffer.from(spec.caCertificate).toString('base64'),
            }
          : { server: spec.server },
      },
    ],
    users: [{ name: spec.user, user: { token: spec.token } }],
    contexts: [
      {
        name: spec.contextName,
        context: { cluster: spec.contextName, user: spec.user, namespace: spec.namespace },
      },
    ],
    'current-context': spec.contextName,
  });
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
}
