#!/usr/bin/env node
// node bench/node_same_document.mjs --interop-dir DIR --credential FILE [--n 200] [--warmup 20]
//
// bench.mjs of MESHE's vc-js harness (tests/vcjs, installed by `make interop` in var/interop),
// pointed at another credential: vc-js issue / verifyCredential (eddsa-rdfc-2022) of FILE, one
// operation at a time on one thread, contexts in memory, did:key resolved in-process. It imports
// the harness's own lib.mjs, bench.mjs and node_modules, so it runs the very same stack; FILE's
// issuer must be the did:key of the W3C test vector's key pair.
// Prints the same JSON report as bench.mjs.

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
}

async function main() {
  const interop = path.resolve(option('interop-dir', path.join(REPOSITORY, 'var', 'interop')));
  const file = option('credential');
  const n = Number(option('n', 200));
  const warmup = Number(option('warmup', 20));
  if(!file) {
    throw new Error('--credential FILE is required');
  }
  const lib = await import(pathToFileURL(path.join(interop, 'lib.mjs')));
  const {benchmark} = await import(pathToFileURL(path.join(interop, 'bench.mjs')));
  const keyPair = await lib.loadKeyPair(
    path.join(lib.STANDARDS_DIR, 'vectors', 'vc-di-eddsa', 'keyPair.json'));
  const credential = JSON.parse(readFileSync(file, 'utf8'));
  const figures = await benchmark(credential, {
    n, warmup, keyPair, documentLoader: lib.makeDocumentLoader()});
  process.stdout.write(JSON.stringify({
    node: process.version,
    n, warmup,
    results: [{example: path.basename(file), ...figures}]
  }, null, 2) + '\n');
}

main().catch(e => {
  process.stderr.write(`node_same_document.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
