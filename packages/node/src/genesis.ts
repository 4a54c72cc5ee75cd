/**
 * The genesis document (PROTOCOL.md sections 2, 5 and 6) is defined in
 * `@pos/wallet-client`, because a thin wallet's trust anchor is the genesis
 * (section 1) and the wallet must derive the chainId and the validator set
 * from it without the node. The node's modules import it from here.
 */
export {
  chainIdOf,
  createGenesis,
  decodeGenesis,
  defaultGenesisParams,
  encodeGenesis,
  GENESIS_LIMITS,
  GENESIS_TAG,
  GENESIS_VERSION,
  type Genesis,
  GenesisError,
  type GenesisErrorCode,
  type GenesisInput,
  type GenesisJSON,
  type GenesisParams,
  type GenesisStake,
  type GenesisValidator,
  genesisFromJSON,
  genesisOutpoint,
  genesisStakes,
  genesisSupply,
  genesisToJSON,
  VALIDATOR_TAG,
  validatorIdOf,
} from '@pos/wallet-client';
