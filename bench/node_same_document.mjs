#!/usr/bin/env node
// node bench/node_same_document.mjs --interop-dir DIR --credential FILE [--n 200] [--warmup 20]
//
// bench.mjs of the interop tool, pointed at another credential: vc-js issue / verifyCredential
// (eddsa-rdfc-2022) of FILE, one operation at a time on one thread, contexts in memory, did:key
// resolved in-process. It imports the interop tool's own lib.mjs and node_modules, so it runs
// the very same stack; FILE's issuer must be the did:key of the W3C test vector's key pair.
// Prints the same JSON report as bench.mjs.

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = p => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const total = ms.reduce((a, b) => a + b, 0);
  const median = s.length % 2 ? s[(s.length - 1) / 2] :
    (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return {
    n: ms.length,
    median_ms: +median.toFixed(3),
    p90_ms: +q(0.9).toFixed(3),
    min_ms: +s[0].toFixed(3),
    median_ops_per_s: +(1000 / median).toFixed(1),
    loop_ops_per_s: +(ms.length * 1000 / total).toFixed(1)
  };
}

async function timeLoop(n, warmup, fn) {
  for(let i = 0; i < warmup; ++i) {
    await fn();
  }
  const ms = [];
  for(let i = 0; i < n; ++i) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(ms);
}

async function main() {
  const interop = path.resolve(option('interop-dir', '/tmp/meshe-interop'));
  const file = option('credential');
  const n = Number(option('n', 200));
  const warmup = Number(option('warmup', 20));
  if(!file) {
    throw new Error('--credential FILE is required');
  }
  const lib = await import(pathToFileURL(path.join(interop, 'lib.mjs')));
  const vc = await import(pathToFileURL(
    path.join(interop, 'node_modules', '@digitalbazaar', 'vc', 'lib', 'index.js')));
  const documentLoader = lib.makeDocumentLoader();
  const keyPair = await lib.loadKeyPair(
    path.join(lib.STANDARDS_DIR, 'vectors', 'vc-di-eddsa', 'keyPair.json'));
  const credential = JSON.parse(readFileSync(file, 'utf8'));
  const suite = lib.verifyingSuites(['eddsa-rdfc-2022']);
  let signed;
  const sign = await timeLoop(n, warmup, async () => {
    signed = await vc.issue({
      credential: structuredClone(credential),
      suite: lib.signingSuite({keyPair}),
      documentLoader
    });
  });
  const verify = await timeLoop(n, warmup, async () => {
    const r = await vc.verifyCredential({
      credential: signed, suite, documentLoader,
      checkStatus: async () => ({verified: true})
    });
    if(!r.verified) {
      throw new Error(`verification failed: ${r.error?.message}`);
    }
  });
  process.stdout.write(JSON.stringify({
    node: process.version,
    n, warmup,
    results: [{
      example: path.basename(file),
      credential_bytes: Buffer.byteLength(JSON.stringify(signed)),
      sign, verify
    }]
  }, null, 2) + '\n');
}

main().catch(e => {
  process.stderr.write(`node_same_document.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
