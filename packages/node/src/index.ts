export {
  CONFIG_ENV,
  CONFIG_FLAGS,
  ConfigError,
  type ConfigSource,
  type ConfigSources,
  configFlagOptions,
  defaultNodeConfig,
  LOG_LEVELS,
  type LogLevel,
  type NodeConfig,
  resolveConfig,
} from './config.js';
