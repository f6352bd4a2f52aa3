#!/usr/bin/env node
// node verify.mjs FILE.json [--map PREFIX=http://127.0.0.1:PORT/...]...
//
// Verifies a VC 2.0 credential secured with an embedded DataIntegrityProof (eddsa-rdfc-2022)
// with vc-js's verifyCredential: the data model, validFrom / validUntil against now, the proof
// (assertionMethod, the key listed by its controller), the issuer being the controller of the
// signing key, and credentialStatus. A BitstringStatusListEntry is checked against its status
// list credential (itself verified; fetched through --map), and a set revocation or suspension
// bit fails; any other status type fails.
//
// --map PREFIX=URL (repeatable): fetch any URL that starts with PREFIX from the loopback URL
// instead. did:key is resolved in-process; did:web only on a loopback host.
//
// Prints {verified, mode, id, issuer, proofs, status, errors, warnings} as JSON and exits 0 only
// when the credential verified (1 when not, 2 on a usage error).

import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {errorMessages, makeDocumentLoader, parseArgs, verifyingSuite} from './lib.mjs';

const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const SET_BIT_FAILS = ['revocation', 'suspension'];

function usage(message) {
  process.stderr.write(`verify.mjs: ${message}\n` +
    'usage: node verify.mjs FILE.json [--map PREFIX=URL]...\n');
  process.exit(2);
}

// vc-js's status check, narrowed to Bitstring Status List entries whose set bit means "no".
async function statusOf(doc, options, suite) {
  const types = [].concat(doc.credentialStatus).map(entry => entry && entry.type);
  const other = types.filter(type => type !== 'BitstringStatusListEntry');
  if(other.length) {
    return {verified: false, error: new Error(
      `unsupported credentialStatus type(s) ${other.join(', ')}; ` +
      'only BitstringStatusListEntry is checked')};
  }
  const result = await checkStatus({...options, suite});
  if(!result.verified) {
    return result;
  }
  const set = (result.results || []).filter(entry => entry.status === true &&
    SET_BIT_FAILS.includes(entry.credentialStatus.statusPurpose));
  if(set.length) {
    return {...result, verified: false, error: new Error(
      'credential status bit is set for purpose(s): ' +
      set.map(entry => entry.credentialStatus.statusPurpose).join(', '))};
  }
  return result;
}

export async function verifyDocument(doc, {maps = []} = {}) {
  const verdict = {
    verified: false,
    mode: 'credential',
    id: doc?.id,
    issuer: typeof doc?.issuer === 'object' ? doc.issuer?.id : doc?.issuer,
    proofs: [],
    status: null,
    errors: [],
    warnings: []
  };
  if(!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    verdict.errors.push('document is not a JSON object');
    return verdict;
  }
  const first = [].concat(doc['@context'] || [])[0];
  if(first !== VC_V2) {
    verdict.errors.push(`first @context must be "${VC_V2}", got ${JSON.stringify(first)}`);
  }
  const proofs = [].concat(doc.proof || []);
  if(!proofs.length) {
    verdict.errors.push('no embedded "proof"');
  }
  for(const proof of proofs) {
    verdict.proofs.push({
      type: proof.type, cryptosuite: proof.cryptosuite,
      verificationMethod: proof.verificationMethod, proofPurpose: proof.proofPurpose,
      created: proof.created
    });
    if(proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-rdfc-2022') {
      verdict.errors.push(`unsupported proof ${proof.type} / ${proof.cryptosuite} ` +
        '(accepted: DataIntegrityProof / eddsa-rdfc-2022)');
    }
  }
  if(verdict.errors.length) {
    return verdict;
  }

  const suite = verifyingSuite();
  let result;
  try {
    result = await vc.verifyCredential({
      credential: doc,
      suite,
      documentLoader: makeDocumentLoader({maps}),
      checkStatus: options => statusOf(doc, options, suite)
    });
  } catch(e) {
    verdict.errors.push(`verifier threw: ${errorMessages(e).join('; ')}`);
    return verdict;
  }

  for(const outcome of result.results || []) {
    const entry = verdict.proofs.find(proof => proof.verified === undefined &&
      proof.verificationMethod === outcome.proof?.verificationMethod);
    if(entry) {
      entry.verified = !!outcome.verified;
      if(outcome.error) {
        entry.errors = errorMessages(outcome.error);
      }
    }
  }
  if(result.statusResult) {
    const status = result.statusResult;
    verdict.status = {
      verified: !!status.verified,
      results: (status.results || []).map(entry => ({
        statusPurpose: entry.credentialStatus?.statusPurpose,
        statusListCredential: entry.credentialStatus?.statusListCredential,
        statusListIndex: entry.credentialStatus?.statusListIndex,
        status: entry.status
      }))
    };
    if(!status.verified) {
      verdict.errors.push(...errorMessages(status.error ||
        new Error('credential status check failed')));
    }
  }
  if(result.error) {
    verdict.errors.push(...errorMessages(result.error));
  }
  for(const proof of verdict.proofs) {
    verdict.errors.push(...(proof.errors || []));
  }
  verdict.errors = [...new Set(verdict.errors)];
  verdict.verified = !!result.verified && verdict.errors.length === 0;
  return verdict;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), {repeatable: ['map']});
  } catch(e) {
    usage(e.message);
  }
  if(args._.length !== 1) {
    usage('exactly one FILE.json is required');
  }
  const maps = (args.map || []).map(map => {
    const at = map.indexOf('=');
    if(at < 1) {
      usage(`--map needs PREFIX=URL, got "${map}"`);
    }
    return {prefix: map.slice(0, at), target: map.slice(at + 1)};
  });
  let verdict;
  try {
    verdict = await verifyDocument(JSON.parse(readFileSync(args._[0], 'utf8')), {maps});
  } catch(e) {
    verdict = {verified: false, errors: errorMessages(e)};
  }
  process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
  process.exit(verdict.verified ? 0 : 1);
}

main();
