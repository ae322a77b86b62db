// Compiles LedgerAnchor.sol with the pinned solc from npm (tests/interop/package.json) and
// prints the creation bytecode as hex, or with --check FILE exits 1 unless FILE holds exactly
// that bytecode. Reproduce the committed bytecode with:
//   node contracts/compile.mjs > contracts/LedgerAnchor.bin
// Settings: EVM version paris (no PUSH0: runs on any chain since the Merge, ganache 7 included),
// optimizer on (200 runs), no metadata hash or CBOR trailer (so that the bytecode depends on the
// source and the compiler only, not on file paths).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/interop/package.json'));
const solc = require('solc');

export const kSolcVersion = '0.8.28+commit.7893614a';

export function compileLedgerAnchor() {
  const src = fs.readFileSync(path.join(here, 'LedgerAnchor.sol'), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'LedgerAnchor.sol': { content: src } },
    settings: {
      evmVersion: 'paris',
      optimizer: { enabled: true, runs: 200 },
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['evm.bytecode.object', 'abi'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  if (!solc.version().startsWith(kSolcVersion)) throw new Error(`solc ${solc.version()}, want ${kSolcVersion}`);
  const c = out.contracts['LedgerAnchor.sol'].LedgerAnchor;
  return { bytecode: c.evm.bytecode.object, abi: c.abi };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { bytecode } = compileLedgerAnchor();
  const i = process.argv.indexOf('--check');
  if (i > 0) {
    const committed = fs.readFileSync(process.argv[i + 1], 'utf8').trim();
    if (committed !== bytecode) {
      console.error('the committed bytecode differs from what solc builds from LedgerAnchor.sol');
      process.exit(1);
    }
    console.log('bytecode matches');
  } else {
    console.log(bytecode);
  }
}
