/**
 * A throw-away self-signed certificate for 127.0.0.1, made with the openssl CLI. kubectl (client-go)
 * only sends credentials over TLS, so the stand-in serves HTTPS and the kubeconfig carries this cert
 * as the cluster's certificate authority.
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TlsMaterial {
  key: string;
  cert: string;
}

const run = promisify(execFile);

export async function selfSignedCertificate(dir: string): Promise<TlsMaterial> {
  const keyPath = join(dir, 'apiserver.key');
  const certPath = join(dir, 'apiserver.crt');
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '30',
      '-subj',
      '/CN=kube-apiserver-standin',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyCertSign',
      '-addext',
      'extendedKeyUsage=serverAuth',
    ]);
  } catch (err) {
    throw new Error(
      `the Kubernetes stand-in needs the openssl CLI for its TLS certificate (or tls: false): ${(err as Error).message}`,
    );
  }
  return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
}
