// Checks the SD-JWT VC a wallet received with @sd-jwt/sd-jwt-vc: the issuer's signature (key from
// its did:web document), the Token Status List, the type metadata at the vct URL; then presents it
// disclosing only some claims, with a key binding JWT, and verifies that presentation.
//
//   node verify-sd-jwt.mjs --wallet DIR/wallet.json --disclose title,awardingBody --aud URL --nonce N
//
// Prints {issued: {...all claims}, presented: {...}, keyBinding: {...}, typeMetadata: {...}}.
import crypto from 'node:crypto'
import fs from 'node:fs'

import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'

import { decodePart, parseArgs, resolveIssuerKey, verifySignature } from './lib.mjs'

const args = parseArgs(process.argv.slice(2))
const wallet = JSON.parse(fs.readFileSync(args.wallet, 'utf8'))
const issued = wallet.credentials['dc+sd-jwt']
const holderKey = crypto.createPrivateKey({ key: wallet.holder.privateJwk, format: 'jwk' })

// The issuer's signature, of the SD-JWT VC and of its status list alike: the key is the `kid`.
async function issuerVerifier (data, signature) {
  const header = decodePart(data.split('.')[0])
  const jwk = await resolveIssuerKey(header.kid)
  return verifySignature(data, signature, jwk)
}

const sdJwtVc = new SDJwtVcInstance({
  hasher: (data, alg) => crypto.createHash(alg.replace('-', '')).update(data).digest(),
  hashAlg: 'sha-256',
  saltGenerator: () => crypto.randomBytes(16).toString('base64url'),
  verifier: issuerVerifier,
  kbSigner: (data) => crypto.sign(null, Buffer.from(data), holderKey).toString('base64url'),
  kbSignAlg: 'EdDSA',
  kbVerifier: (data, signature, payload) => verifySignature(data, signature, payload.cnf.jwk),
  loadTypeMetadataFormat: true
})

const full = await sdJwtVc.verify(issued)
const issuerKid = decodePart(issued.split('.')[0]).kid
if (full.payload.iss !== issuerKid.split('#')[0]) throw new Error('iss is not the DID of the signing key')

const claims = await sdJwtVc.getClaims(issued)
const frame = Object.fromEntries(args.disclose.split(',').map((name) => [name, true]))
const presentation = await sdJwtVc.present(issued, frame, {
  kb: { payload: { aud: args.aud, nonce: args.nonce, iat: Math.floor(Date.now() / 1000) } }
})
const presented = await sdJwtVc.verify(presentation, {
  keyBindingNonce: args.nonce,
  requiredClaimKeys: Object.keys(frame)
})
// The verifier's own checks of the key binding JWT's audience.
if (presented.kb.payload.aud !== args.aud) throw new Error('the key binding JWT names another audience')

const statusJwt = await (await fetch(full.payload.status.status_list.uri)).text()
console.log(JSON.stringify({
  issued: claims,
  presented: presented.payload,
  keyBinding: presented.kb,
  typeMetadata: full.typeMetadata?.mergedTypeMetadata,
  statusList: { header: decodePart(statusJwt.split('.')[0]), payload: decodePart(statusJwt.split('.')[1]) }
}))
