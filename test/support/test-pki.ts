/**
 * Throwaway certificates for test servers, made with openssl: EC P-256, valid two days. Every test server
 * (the fake API server, the fault proxy) builds its PKI from these two steps.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

async function openssl(cwd: string, args: string[]): Promise<void> {
  const proc = Bun.spawn(['/usr/bin/openssl', ...args], { cwd, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`openssl ${args[0]} failed (${code}): ${stderr}`);
}

const serial = () => `0x${randomBytes(8).toString('hex')}`;

/** Extensions of a serving certificate for loopback (plus any extra DNS names). */
export const loopbackServerExt = (...dnsNames: string[]) =>
  `subjectAltName=IP:127.0.0.1,DNS:localhost${dnsNames.map((name) => `,DNS:${name}`).join('')}\nextendedKeyUsage=serverAuth\n`;

export interface PkiDir {
  /** A self-signed CA: `<name>.key`, `<name>.crt`. */
  makeCa(name: string, cn: string): Promise<void>;
  /** A leaf certificate signed by CA `ca`: `<name>.key`, `<name>.crt`. */
  makeLeaf(name: string, ca: string, subject: string, ext: string): Promise<void>;
  read(file: string): string;
}

/** Runs `build` in a fresh temporary directory and removes it afterwards, whatever happens. */
export async function withPkiDir<T>(build: (pki: PkiDir) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxgate-test-pki-'));
  const pki: PkiDir = {
    async makeCa(name, cn) {
      await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
      await openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', '2', '-subj', `/CN=${cn}`, '-set_serial', serial(), '-out', `${name}.crt`]);
    },
    async makeLeaf(name, ca, subject, ext) {
      await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
      await openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
      writeFileSync(join(dir, `${name}.ext`), ext);
      await openssl(dir, [
        'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', serial(),
        '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`,
      ]);
    },
    read: (file) => readFileSync(join(dir, file), 'utf8'),
  };
  try {
    return await build(pki);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
