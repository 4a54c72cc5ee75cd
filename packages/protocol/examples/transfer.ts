// The README's example: a transfer signed, encoded, decoded once with its id.
// Run: npx tsx examples/transfer.ts (after `pnpm build`).
import {
  ed25519PublicKey,
  encodeTx,
  ownerPrefix,
  randomEd25519SecretKey,
  readTx,
  signEd25519,
  signTx,
  toHex,
  txToJSON,
} from '@pos/protocol';

const sk = randomEd25519SecretKey();
const me = ed25519PublicKey(sk);
const chainId = new Uint8Array(32).fill(7);
const signed = signTx(
  {
    chainId,
    inputs: [{ txHash: chainId, index: 0 }],
    outputs: [{ amount: 990n, owner: me, host: new Uint8Array(32).fill(1) }],
    fee: 10n,
    memo: new TextEncoder().encode('rent'),
  },
  [sk],
  { sign: signEd25519, publicKey: ed25519PublicKey },
);
const bytes = encodeTx(signed);
const tx = readTx(bytes); // decoded and hashed once; throws ProtocolError on any other encoding
console.log(toHex(tx.txHash), bytes.length, 'bytes');
console.log(JSON.stringify(txToJSON(tx)));
console.log('my outputs live under', toHex(ownerPrefix(me)));
