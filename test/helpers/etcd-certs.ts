// Throwaway PKI for TLS tests, made with the openssl CLI: a CA, a server certificate for
// 127.0.0.1, a client certificate, and a second CA that signed neither (the "wrong CA").
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdServerTls } from './etcd-cluster.js';

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A CA certificate that signed nothing here. */
  readonly wrongCaFile: string;
  /** Remove the directory. */
  remove(): void;
}

const openssl = (dir: string, args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

/** A self-signed CA: `<name>.pem` and `<name>-key.pem` in `dir`. */
function makeCa(dir: string, name: string): void {
  // prettier-ignore
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A leaf certificate signed by CA `ca`, with the given extensions file. */
function makeLeaf(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  // prettier-ignore
  openssl(dir, [
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`,
  ]);
  // prettier-ignore
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`,
    '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`,
  ]);
}

/** Generate the certificates in a new temporary directory. */
export function generateTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'cidrpool-etcd-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'wrong-ca');
  makeLeaf(
    dir,
    'server',
    'ca',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  makeLeaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server-key.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
    wrongCaFile: join(dir, 'wrong-ca.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The server side of a mutual-TLS etcd made from `certs` (the harness checks it with the client pair). */
export const mutualTls = (certs: TestCertificates): EtcdServerTls => ({
  caFile: certs.caFile,
  certFile: certs.serverCertFile,
  keyFile: certs.serverKeyFile,
  clientCertFile: certs.clientCertFile,
  clientKeyFile: certs.clientKeyFile,
});
