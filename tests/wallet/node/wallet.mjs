// A wallet that no one at MESHE wrote, built from @openid4vc/openid4vci: it takes a credential
// offer and its PIN, redeems the pre-authorised code, and for each offered configuration fetches
// a c_nonce, proves possession of its own Ed25519 key and receives the credential.
//
//   node wallet.mjs --offer 'openid-credential-offer://?credential_offer=…' --pin 123456 --out DIR
//
// Writes DIR/wallet.json ({holder: {publicJwk, privateJwk}, credentials: {<format>: …}}) and
// DIR/ldp_vc.json. --insecure allows http:// issuers (loopback tests only).
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

import { parseArgs, signCompact } from './lib.mjs'

const args = parseArgs(process.argv.slice(2))
if (!args.offer || !args.pin || !args.out) {
  console.error('usage: node wallet.mjs --offer URI --pin PIN --out DIR [--insecure true]')
  process.exit(2)
}
if (args.insecure === 'true') setGlobalConfig({ allowInsecureUrls: true })

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
const publicJwk = publicKey.export({ format: 'jwk' })

const client = new Openid4vciClient({
  callbacks: {
    fetch: globalThis.fetch,
    hash: (data, alg) => crypto.createHash(alg.replace('-', '')).update(data).digest(),
    generateRandom: (length) => crypto.randomBytes(length),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk') throw new Error(`cannot sign for ${signer.method}`)
      return { jwt: signCompact(header, payload, privateKey), signerJwk: publicJwk }
    }
  }
})

const credentialOffer = await client.resolveCredentialOffer(args.offer)
const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer)
const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer,
  issuerMetadata,
  txCode: args.pin
})

const credentials = {}
for (const id of credentialOffer.credential_configuration_ids) {
  const format = issuerMetadata.credentialIssuer.credential_configurations_supported[id].format
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: id,
    signer: { method: 'jwk', publicJwk, alg: 'EdDSA' },
    nonce
  })
  const result = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: id,
    proofs: { jwt: [jwt] }
  })
  credentials[format] = result.credentialResponse.credentials[0].credential
}

fs.mkdirSync(args.out, { recursive: true })
const holder = { publicJwk, privateJwk: privateKey.export({ format: 'jwk' }) }
fs.writeFileSync(path.join(args.out, 'wallet.json'), JSON.stringify({
  issuer: credentialOffer.credential_issuer,
  version: issuerMetadata.originalDraftVersion,
  holder,
  credentials
}, null, 2))
if (credentials.ldp_vc) {
  fs.writeFileSync(path.join(args.out, 'ldp_vc.json'), JSON.stringify(credentials.ldp_vc, null, 2))
}
console.log(JSON.stringify({ received: Object.keys(credentials), version: issuerMetadata.originalDraftVersion }))
