#!/usr/bin/env node
/**
 * `posd`, the validator's command line (PROTOCOL.md section 10: `init`,
 * `start`, `keygen`, `status`). Built so far: `keygen`. Exit codes: 0 done,
 * 1 failed, 2 usage or refused input.
 */
import { parseArgs } from 'node:util';
import { toHex } from '@pos/merkle';
import { generateValidatorKey, KeyFileError, writeKeyFile } from './keyfile.js';

const USAGE = `usage: posd <command> [options]

commands:
  keygen [--out FILE] [--force] [--json]
      Generates a validator key (Ed25519). With --out, writes the key file
      (mode 0600; refuses to replace one unless --force); prints the public
      key and validatorId, never the secret unless no --out is given.
  help
      Prints this text.
`;

function fail(code: number, message: string): never {
  process.stderr.write(`posd: ${message}\n`);
  process.exit(code);
}

async function keygen(args: string[]): Promise<void> {
  let values: { out?: string; force?: boolean; json?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail(2, `keygen: ${(e as Error).message}`);
  }
  const key = generateValidatorKey();
  if (values.out) {
    try {
      await writeKeyFile(values.out, key, values.force === true);
    } catch (e) {
      if (e instanceof KeyFileError) fail(e.code === 'EXISTS' ? 2 : 1, e.message);
      throw e;
    }
  }
  const shown = {
    publicKey: toHex(key.publicKey),
    validatorId: toHex(key.validatorId),
    ...(values.out ? { keyFile: values.out } : { secretKey: toHex(key.secretKey) }),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(shown)}\n`);
  } else {
    for (const [k, v] of Object.entries(shown)) process.stdout.write(`${k.padEnd(12)}${v}\n`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'keygen':
      return keygen(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    case undefined:
      fail(2, `no command\n${USAGE}`);
      break;
    default:
      fail(2, `unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => fail(1, (e as Error).stack ?? String(e)));
