import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface TestCa {
  /** The CA's certificate (PEM file): what OURO_INGEST_CA_FILE points at. */
  caFile: string;
  /** A server certificate signed by that CA, and its key (PEM text). */
  cert: string;
  key: string;
}

/**
 * A throwaway private CA and one server certificate it signs, made by openssl in `dir` (EC
 * keys, valid two days): a corporate CA in miniature. `altNames` is the certificate's
 * subjectAltName, e.g. "IP:127.0.0.2,DNS:data.internal.test".
 */
export function makeTestCa(dir: string, altNames: string): TestCa {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ecKey, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Ouro test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", ...ecKey, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=ouro-test-server");
  writeFileSync(file("server.ext"), `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
    "-extfile", "server.ext", "-out", "server.pem");
  return { caFile: file("ca.pem"), cert: readFileSync(file("server.pem"), "utf8"), key: readFileSync(file("server.key"), "utf8") };
}
