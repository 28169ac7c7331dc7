/**
 * Reads `server.tls` certificate and key at load time and checks them the way the TLS listener would use
 * them: readable, PEM, parseable, and the key belongs to the certificate. Messages name files, never content.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFailure } from '../core/index.ts';
import type { RuleIssue } from './rule-issue.ts';

export interface TlsPem {
  cert: string;
  key: string;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;

/**
 * The PEM texts of `server.tls`, or the problems at `server.tls.certFile` / `server.tls.keyFile`.
 * `resolvePath` turns a configured path into the one to read (relative to the config file).
 *
 * @example
 * const { pem, problems } = loadTlsFiles({ certFile: 'tls.crt', keyFile: 'tls.key' }, (p) => resolve(dir, p), readText);
 */
export function loadTlsFiles(
  tls: { certFile: string; keyFile: string },
  resolvePath: (path: string) => string,
  readFile: (path: string) => string,
): { pem?: TlsPem; problems: RuleIssue[] } {
  const problems: RuleIssue[] = [];
  const certPath = resolvePath(tls.certFile);
  const keyPath = resolvePath(tls.keyFile);
  const read = (path: string, what: string, field: string): string | undefined => {
    try {
      return readFile(path);
    } catch (error) {
      problems.push({ path: ['server', 'tls', field], message: `cannot read ${what} ${path}: ${readFailure(error)}` });
      return undefined;
    }
  };

  const cert = read(certPath, 'certificate file', 'certFile');
  let certificate: X509Certificate | undefined;
  if (cert !== undefined) {
    if (!CERTIFICATE.test(cert)) {
      problems.push({ path: ['server', 'tls', 'certFile'], message: `${certPath} is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)` });
    } else {
      try {
        certificate = new X509Certificate(cert);
      } catch {
        problems.push({ path: ['server', 'tls', 'certFile'], message: `${certPath}: the certificate cannot be parsed` });
      }
    }
  }

  const key = read(keyPath, 'key file', 'keyFile');
  let privateKey: KeyObject | undefined;
  if (key !== undefined) {
    if (!PRIVATE_KEY.test(key)) {
      problems.push({ path: ['server', 'tls', 'keyFile'], message: `${keyPath} is not a PEM private key (no -----BEGIN … PRIVATE KEY----- line)` });
    } else {
      try {
        privateKey = createPrivateKey(key);
      } catch {
        // Errors from the parser are not echoed: they could quote part of the key.
        problems.push({ path: ['server', 'tls', 'keyFile'], message: `${keyPath}: the private key cannot be parsed (an encrypted key is not supported)` });
      }
    }
  }

  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push({ path: ['server', 'tls', 'keyFile'], message: `${keyPath} is not the private key of the certificate in ${certPath}` });
  }
  return problems.length === 0 && cert !== undefined && key !== undefined ? { pem: { cert, key }, problems } : { problems };
}
