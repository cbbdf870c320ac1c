import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { MAX_KUBECONFIG_BYTES, readBoundedFile } from './bounded-file.js';

export interface KubeconfigSummary {
  context?: string;
  server?: string;
  namespace?: string;
  problem?: string;
}

/**
 * Reads just enough of the kubeconfig for the header (context, server) without loading the
 * Kubernetes client: the first frame must not wait for it.
 */
export async function summarizeKubeconfig(
  path: string | undefined,
  context: string | undefined,
): Promise<KubeconfigSummary> {
  const files = path
    ? [path]
    : (process.env.KUBECONFIG?.split(delimiter).filter(Boolean) ?? [join(homedir(), '.kube', 'config')]);
  type Named<T> = { name?: string } & T;
  type Config = {
    'current-context'?: string;
    contexts?: Named<{ context?: { cluster?: string; namespace?: string } }>[];
    clusters?: Named<{ cluster?: { server?: string } }>[];
  };
  const configs: Config[] = [];
  for (const file of files) {
    try {
      // bounded: a FIFO or /dev/zero named as the kubeconfig must not hang the first frame
      configs.push((parse(readBoundedFile(file, 'kubeconfig', MAX_KUBECONFIG_BYTES)) ?? {}) as Config);
    } catch (error) {
      if (path)
        return {
          problem:
            error instanceof Error && error.name === 'FileInputError'
              ? error.message
              : `cannot read kubeconfig ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        };
    }
  }
  if (configs.length === 0) return { problem: 'no kubeconfig found (KUBECONFIG, ~/.kube/config)' };
  const current = context ?? configs.find((config) => config['current-context'])?.['current-context'];
  if (!current) return { problem: 'the kubeconfig has no current context; pass --context' };
  const ctx = configs.flatMap((config) => config.contexts ?? []).find((entry) => entry.name === current);
  if (!ctx) return { context: current, problem: `the kubeconfig has no context "${current}"` };
  const cluster = configs
    .flatMap((config) => config.clusters ?? [])
    .find((entry) => entry.name === ctx.context?.cluster);
  return { context: current, server: cluster?.cluster?.server, namespace: ctx.context?.namespace };
}
