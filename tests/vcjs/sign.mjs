#!/usr/bin/env node
// node sign.mjs FILE.json --key keyPair.json [--created ISO8601] [--out FILE]
//
// Adds an embedded DataIntegrityProof (eddsa-rdfc-2022) made by vc-js to the credential in
// FILE.json, under the key's did:key (verificationMethod did:key:<pub>#<pub>), and prints the
// signed credential or writes it to --out. The document is signed as given: nothing is added
// to it, and a proof already there is replaced. Exits 1 when signing fails (an undefined term,
// a context that is not bundled, a key whose halves do not match), 2 on a usage error.

import {readFileSync, writeFileSync} from 'node:fs';
import jsigs from 'jsonld-signatures';
import {errorMessages, loadKeyPair, makeDocumentLoader, parseArgs, signingSuite} from './lib.mjs';

function usage(message) {
  process.stderr.write(`sign.mjs: ${message}\n` +
    'usage: node sign.mjs FILE.json --key keyPair.json [--created ISO8601] [--out FILE]\n');
  process.exit(2);
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch(e) {
    usage(e.message);
  }
  if(args._.length !== 1 || !args.key) {
    usage('FILE.json and --key are required');
  }
  const date = args.created === undefined ? undefined : new Date(args.created);
  if(date && Number.isNaN(date.getTime())) {
    usage(`--created is not a date: ${args.created}`);
  }
  try {
    const unsigned = JSON.parse(readFileSync(args._[0], 'utf8'));
    delete unsigned.proof;
    const keyPair = await loadKeyPair(args.key);
    const signed = await jsigs.sign(unsigned, {
      suite: signingSuite({keyPair, date}),
      purpose: new jsigs.purposes.AssertionProofPurpose(),
      documentLoader: makeDocumentLoader()
    });
    const text = JSON.stringify(signed, null, 2) + '\n';
    if(args.out) {
      writeFileSync(args.out, text);
    } else {
      process.stdout.write(text);
    }
  } catch(e) {
    process.stderr.write(`sign.mjs: ${errorMessages(e).join('; ')}\n`);
    process.exit(1);
  }
}

main();
