/**
 * Entry of `npm run testnet` (the root package runs `node testnet/dist/cli.js`
 * after installing and building).
 *
 * The local testnet starts several posd validators and drives them with a
 * wallet, so it needs `packages/node` and `packages/wallet-client`, which
 * hold only their first modules today. Until it lands (issue 5) this entry
 * says so and fails: a command that exited 0 without a network would make a
 * script or a reader believe one is running.
 */

const message = `proof-of-share local testnet: NOT BUILT YET.

It lands with issue 5. It runs several posd validators (packages/node) and
drives them with packages/wallet-client; both must exist first, and today they
hold only their first modules (configuration resolution and JSON codecs).
Already here: the genesis stake split (parseStakes in testnet/src/stakes.ts).

Nothing was started.
`;

process.stderr.write(message);
process.exitCode = 1;
