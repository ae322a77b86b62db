// interop:anchoring — checkpoint anchoring on an EVM chain (docs/scale-out.md "Anchoring on an
// EVM chain") against independent implementations from npm: ganache (a local chain, started
// here on a free port and stopped at the end), ethers (keccak256, RLP, EIP-155 signing) and
// solc (the contract recompiled and compared with the committed bytecode).
//
//   node anchoring_interop.mjs path/to/medallion path/to/chain_tool
//
// 1. keccak256 of random inputs (lengths across the 136-byte rate) equals ethers';
// 2. a legacy transaction ethers signs decodes with our RLP and recovers ethers' sender and
//    hash; one we sign is accepted by ganache, which names our address as its sender;
// 3. `ledger anchor-deploy` deploys the contract; `ledger serve --anchor-*` anchors every 3
//    entries; `ledger anchors` finds the anchored
//    checkpoints (size and root equal to the log's); `ledger checkpoint --anchor-*` passes;
// 4. an anchor from another account is refused by the contract (NotWriter); a forged anchor
//    signed with the ledger's key — another root at an anchored size, or a root at a new size
//    that is no prefix of the log — makes `ledger checkpoint --anchor-*` fail with reason
//    split_view;
// 5. a ledger whose chain is down keeps appending and shows the failures in /metrics;
// 6. keys from a wallet key store (`wallet restore`): `ledger anchor-address` equals ethers'
//    HDNodeWallet at m/44'/60'/N'/0/0 (0xf39F...2266 for the Hardhat mnemonic), a node and
//    `ledger anchor-deploy` take their keys from stores, exactly one key source is required;
//    `ledger anchors --from-block --block-range` pages eth_getLogs.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import net from 'node:net';
import ganache from 'ganache';
import { ethers } from 'ethers';

const here = dirname(fileURLToPath(import.meta.url));
const [M, TOOL] = process.argv.slice(2).map((p) => resolve(p));
if (!M || !TOOL) {
  console.error('usage: anchoring_interop.mjs MEDALLION CHAIN_TOOL');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'mdl-anchor-'));
const children = [];
let server;
let passed = 0;
const ok = (what) => { passed++; console.log(`ok ${passed} - ${what}`); };

function tool(...args) { return execFileSync(TOOL, args, { encoding: 'utf8' }).trim(); }
// Asynchronous: ganache answers from this very process, so its event loop must keep running.
function medallion(args, { allowFail = false, env } = {}) {
  return new Promise((done, fail) => {
    execFile(M, args, { encoding: 'utf8', timeout: 60000, env: env ? { ...process.env, ...env } : process.env }, (e, stdout, stderr) => {
      if (!e) return done({ code: 0, out: stdout });
      if (!allowFail) return fail(new Error(`medallion ${args.join(' ')} failed (${e.code}): ${stderr}`));
      done({ code: e.code, out: stdout, err: stderr });
    });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startLedger(name, extra) {
  const out = join(work, `${name}.out`);
  rmSync(out, { force: true });
  const child = spawn('bash', ['-c', `exec "${M}" ledger serve --db ${name}.db --key-file ${name}.key --origin anchoring.test/${name} --listen 127.0.0.1:0 --json ${extra} >${name}.out 2>${name}.err`], { cwd: work, stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    try { const t = readFileSync(out, 'utf8'); if (t.includes('\n')) return { child, banner: JSON.parse(t.split('\n')[0]) }; } catch {}
    if (child.exitCode !== null) break;
  }
  throw new Error(`ledger ${name} did not start: ${readFileSync(join(work, `${name}.err`), 'utf8')}`);
}

async function append(url, n, tag) {
  for (let i = 0; i < n; i++) {
    const hash = createHash('sha256').update(`${tag}-${i}`).digest('hex');
    const r = await fetch(`${url}/ledger/v1/entries`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'anchor', v: 1, hash, kind: 'document', ts: 1700000000 + i }),
    });
    assert.equal(r.status, 200, await r.text());
  }
}

async function main() {
  // The contract: the committed bytecode is what the pinned solc builds from the source.
  const { compileLedgerAnchor } = await import(join(here, '../../contracts/compile.mjs'));
  const { bytecode, abi } = compileLedgerAnchor();
  assert.equal(readFileSync(join(here, '../../contracts/LedgerAnchor.bin'), 'utf8').trim(), bytecode);
  ok('contracts/LedgerAnchor.bin is what solc 0.8.28 builds from LedgerAnchor.sol');

  // 1. Keccak-256 against ethers.
  for (const len of [0, 1, 31, 32, 55, 56, 135, 136, 137, 271, 272, 273, 1000]) {
    const b = randomBytes(len);
    assert.equal(tool('keccak', b.toString('hex') || '0x'), ethers.keccak256(b).slice(2), `length ${len}`);
  }
  ok('keccak256 equals ethers for 13 lengths across the rate');

  // A local chain: ganache on a free port, deterministic accounts, chain id 1337.
  server = ganache.server({ logging: { quiet: true }, wallet: { deterministic: true, totalAccounts: 3 }, chain: { chainId: 1337 } });
  await server.listen(0, '127.0.0.1');
  const rpc = `http://127.0.0.1:${server.address().port}`;
  const provider = new ethers.JsonRpcProvider(rpc, 1337, { staticNetwork: true, cacheTimeout: -1 });
  const accounts = await provider.send('eth_accounts', []);
  const funder = await provider.getSigner(accounts[0]);
  const stranger = await provider.getSigner(accounts[1]);

  // The ledger's anchoring key, made here so that its address is known before deployment.
  const anchorKey = '0x' + randomBytes(32).toString('hex');
  writeFileSync(join(work, 'anchor.key'), anchorKey.slice(2) + '\n', { mode: 0o600 });
  const ledgerWallet = new ethers.Wallet(anchorKey, provider);
  assert.equal(tool('address', anchorKey), ledgerWallet.address);
  ok('our address of a key equals ethers\'');
  await (await funder.sendTransaction({ to: ledgerWallet.address, value: ethers.parseEther('10') })).wait();

  // 2. ethers signs, we decode; we sign, ganache accepts.
  const unsigned = { type: 0, nonce: 7, gasPrice: 20000000000n, gasLimit: 21000n, to: accounts[2], value: 123456789n, data: '0xc0ffee', chainId: 1337n };
  const theirs = await ledgerWallet.signTransaction(unsigned);
  const decoded = JSON.parse(tool('decode-tx', theirs));
  assert.equal(decoded.from, ledgerWallet.address);
  assert.equal(decoded.hash, ethers.keccak256(theirs));
  assert.equal(decoded.chainId, 1337);
  assert.equal(decoded.nonce, 7);
  assert.equal(decoded.to, ethers.getAddress(accounts[2]));
  assert.equal(BigInt(decoded.value), 123456789n);
  assert.equal(decoded.data, '0xc0ffee');
  const parsed = ethers.Transaction.from(theirs);
  assert.equal(decoded.r, parsed.signature.r);
  assert.equal(decoded.s, parsed.signature.s);
  ok('a legacy EIP-155 transaction signed by ethers decodes with our RLP to its sender and hash');

  const nonce = await provider.getTransactionCount(ledgerWallet.address, 'pending');
  const ours = JSON.parse(tool('sign-tx', anchorKey, JSON.stringify({ nonce, gasPrice: 2000000000, gas: 21000, to: accounts[2], value: '0x01', data: '0x', chainId: 1337 })));
  const ethersView = ethers.Transaction.from(ours.raw);
  assert.equal(ethersView.from, ledgerWallet.address);
  assert.equal(ethersView.hash, ours.hash);
  const sentHash = await provider.send('eth_sendRawTransaction', [ours.raw]);
  assert.equal(sentHash, ours.hash);
  const receipt = await provider.waitForTransaction(sentHash);
  assert.equal(receipt.status, 1);
  assert.equal(receipt.from, ledgerWallet.address);
  ok('a transaction we sign is accepted by ganache, sender and hash as ethers computes them');

  // Deployment with `ledger anchor-deploy` (a contract-creation transaction we sign), paid by
  // ganache's first account; the ledger's address is the contract's one writer.
  const initial = server.provider.getInitialAccounts();
  writeFileSync(join(work, 'funder.key'), initial[accounts[0].toLowerCase()].secretKey.slice(2) + '\n', { mode: 0o600 });
  const deployedOut = JSON.parse((await medallion(['ledger', 'anchor-deploy', '--rpc', rpc, '--key', join(work, 'funder.key'), '--writer', ledgerWallet.address, '--bytecode', join(here, '../../contracts/LedgerAnchor.bin'), '--json'])).out);
  const contractAddress = deployedOut.contract;
  assert.equal(contractAddress, ethers.getCreateAddress({ from: accounts[0], nonce: await provider.getTransactionCount(accounts[0]) - 1 }));
  const contract = new ethers.Contract(contractAddress, abi, provider);
  assert.equal(await contract.writer(), ledgerWallet.address);
  ok('ledger anchor-deploy deploys the contract (address as ethers derives it, writer() the ledger\'s)');

  // 3. A ledger node anchoring every 3 entries.
  const anchorOpts = `--anchor-rpc ${rpc} --anchor-contract ${contractAddress} --anchor-key anchor.key --anchor-every-entries 3`;
  let { child: ledger, banner } = await startLedger('ledger', anchorOpts);
  assert.equal(banner.anchor_address, ledgerWallet.address);
  let url = banner.url;
  const origin = banner.origin;
  const originHash = '0x' + createHash('sha256').update(origin).digest('hex');
  let listing;
  const waitAnchored = async (size) => {
    for (let i = 0; i < 200; i++) {
      listing = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', contractAddress, '--origin', origin, '--writer', ledgerWallet.address, '--json'])).out);
      if (listing.anchors.some((a) => a.size === size)) return;
      await sleep(100);
    }
    throw new Error(`size ${size} never anchored: ${JSON.stringify(listing)}`);
  };
  await append(url, 3, 'first');
  await waitAnchored(3);
  await append(url, 3, 'more');
  await waitAnchored(6);
  const sizes = listing.anchors.map((a) => a.size);
  assert.deepEqual(sizes, [3, 6]);
  for (const a of listing.anchors) {
    assert.equal(a.sender, ledgerWallet.address);
    assert.equal(a.by_writer, true);
    assert.equal('0x' + a.origin_hash, originHash);
    const tx = await provider.getTransaction(a.tx);
    assert.equal(tx.from, ledgerWallet.address);
    assert.equal(tx.type, 0);
    assert.equal(tx.chainId, 1337n);
    assert.equal((await provider.getTransactionReceipt(a.tx)).blockNumber, a.block);
  }
  const cp = JSON.parse((await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--json'])).out);
  const latest = listing.anchors.find((a) => a.size === 6);
  assert.equal(cp.size, 6);
  assert.equal(latest.root, cp.root);
  // The same anchors as the contract's state says, through ethers' ABI decoding.
  assert.equal(Number(await contract.anchorCount()), listing.anchors.length);
  const last = await contract.anchorAt(latest.index);
  assert.equal(last.root, '0x' + cp.root);
  assert.equal(Number(last.size), 6);
  ok(`ledger anchors lists the anchored checkpoints (sizes ${sizes.join(', ')}), the latest equal to the log's checkpoint`);

  const anchorArgs = ['--anchor-rpc', rpc, '--anchor-contract', contractAddress, '--anchor-writer', ledgerWallet.address];
  const checked = (await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--json', ...anchorArgs]));
  const report = JSON.parse(checked.out);
  assert.equal(report.anchored.anchors_checked, listing.anchors.length);
  assert.equal(report.anchored.latest_anchor.size, 6);
  ok('ledger checkpoint --anchor-* verifies the checkpoint against every anchor');

  // Growth after an anchor is still consistent with it.
  await append(url, 2, 'second');
  (await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--json', ...anchorArgs]));
  ok('a grown log (size 8, not yet anchored) is consistent with the anchors');

  // A restarted node learns from the chain what it anchored: nothing new at size 8 (8 - 6 < 3),
  // an anchor at 9.
  ledger.kill('SIGTERM');
  await new Promise((r) => ledger.once('exit', r));
  const countBefore = Number(await contract.anchorCount());
  ({ child: ledger, banner } = await startLedger('ledger', anchorOpts));
  url = banner.url;
  await sleep(1500);
  assert.equal(Number(await contract.anchorCount()), countBefore);
  await append(url, 1, 'after-restart');
  await waitAnchored(9);
  assert.deepEqual(listing.anchors.map((a) => a.size), [3, 6, 9]);
  ok('a restarted node resumes from the anchors on the chain (no anchor at 8, one at 9)');

  // Unusable options are refused with exit 2 and a clear message.
  for (const [args, msg] of [
    [['ledger', 'anchors', '--rpc', rpc, '--contract', '0x1234'], /0x and 40 hex digits/],
    // EIP-55's example address with its last letter's case flipped: a wrong checksum.
    [['ledger', 'anchors', '--rpc', rpc, '--contract', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'], /checksum|EIP-55/],
    [['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--anchor-contract', contractAddress], /go together/],
  ]) {
    const bad = await medallion(args, { allowFail: true });
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.err}`);
    assert.match(bad.err, msg);
  }
  ok('malformed addresses and partial --anchor-* options are refused (exit 2)');

  // The wrong writer is refused.
  const wrongWriter = (await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--json', '--anchor-rpc', rpc, '--anchor-contract', contractAddress, '--anchor-writer', ethers.getAddress(accounts[1])], { allowFail: true }));
  assert.equal(wrongWriter.code, 1);
  assert.equal(JSON.parse(wrongWriter.out).reason, 'anchor_writer');
  ok('a verifier expecting another writer is refused (anchor_writer)');

  // 4. Forgeries. Another account cannot anchor at all.
  const fakeRoot = '0x' + randomBytes(32).toString('hex');
  await assert.rejects(contract.connect(stranger).anchor(originHash, 3, fakeRoot), /NotWriter|revert/);
  (await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, ...anchorArgs]));
  ok('an anchor from another account reverts (NotWriter); verification still passes');

  // The ledger's own key anchoring a root at a new size that is no prefix of the log.
  const asLedger = contract.connect(ledgerWallet);
  await (await asLedger.anchor(originHash, 4, fakeRoot)).wait();
  let r = (await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--json', ...anchorArgs], { allowFail: true }));
  assert.equal(r.code, 1, r.out);
  let j = JSON.parse(r.out);
  assert.equal(j.reason, 'split_view');
  assert.match(j.problem, /size 4 .* not consistent/);
  ok('a forged anchor at size 4 (signed with the ledger key) is reported as a split view');

  // Another root at a size the ledger anchored.
  const otherRoot = '0x' + randomBytes(32).toString('hex');
  await (await asLedger.anchor(originHash, 6, otherRoot)).wait();
  r = (await medallion(['ledger', 'checkpoint', '--url', url, '--log-key', banner.verifier_key, '--json', ...anchorArgs], { allowFail: true }));
  assert.equal(r.code, 1);
  j = JSON.parse(r.out);
  assert.equal(j.reason, 'split_view');
  assert.match(j.problem, /two roots for size 6/);
  listing = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', contractAddress, '--origin', origin, '--json'])).out);
  assert.deepEqual(listing.anchors.filter((a) => a.size === 6).map((a) => '0x' + a.root).sort(), ['0x' + cp.root, otherRoot].sort());
  ok('another root at the anchored size 6 is listed by ledger anchors and reported as a split view');

  // Metrics: the restarted node counted its one anchor (size 9) and shows the size anchored.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const anchorLines = metrics.split('\n').filter((l) => l.includes('anchor')).join('\n');
  assert.match(metrics, /medallion_anchor_submissions_total\{outcome="ok"\} 1\n/, anchorLines);
  assert.match(metrics, /medallion_anchor_last_size 9\n/, anchorLines);
  ledger.kill('SIGTERM');

  // Keys from a wallet key store (`wallet restore`): BIP-44 m/44'/60'/N'/0/0, the account
  // ethers' HDNodeWallet (and any Ethereum wallet) derives from the same mnemonic.
  writeFileSync(join(work, 'store-pass.txt'), 'anchoring interop passphrase\n', { mode: 0o600 });
  const restore = async (name, phrase) => {
    writeFileSync(join(work, `${name}.mnemonic`), phrase + '\n', { mode: 0o600 });
    await medallion(['wallet', 'restore', '--store', join(work, `${name}.db`), '--mnemonic-file', join(work, `${name}.mnemonic`), '--kdf', 'test', '--passphrase-file', join(work, 'store-pass.txt')], { env: { MEDALLION_ALLOW_TEST_KDF: '1' } });
    return join(work, `${name}.db`);
  };
  const storeArgs = (store, account) => ['--anchor-store', store, '--anchor-passphrase-file', join(work, 'store-pass.txt'), '--anchor-account', String(account)];
  const hardhatPhrase = 'test test test test test test test test test test test junk';
  const hardhat = await restore('hardhat', hardhatPhrase);
  const hd0 = ethers.HDNodeWallet.fromPhrase(hardhatPhrase, undefined, "m/44'/60'/0'/0/0");
  assert.equal(hd0.address, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  const addr0 = JSON.parse((await medallion(['ledger', 'anchor-address', ...storeArgs(hardhat, 0), '--json'])).out);
  assert.equal(addr0.address, hd0.address);
  assert.equal(addr0.path, "m/44'/60'/0'/0/0");
  const randomPhrase = ethers.Wallet.createRandom().mnemonic.phrase;
  const randomStore = await restore('random', randomPhrase);
  for (const n of [0, 5]) {
    const mine = (await medallion(['ledger', 'anchor-address', ...storeArgs(randomStore, n)])).out.trim();
    assert.equal(mine, ethers.HDNodeWallet.fromPhrase(randomPhrase, undefined, `m/44'/60'/${n}'/0/0`).address);
  }
  ok('ledger anchor-address of a key store equals ethers\' HDNodeWallet at m/44\'/60\'/N\'/0/0 (0xf39F...2266 for the Hardhat mnemonic)');

  // ganache's deterministic accounts are m/44'/60'/0'/0/i of its mnemonic: account 0 (index 0)
  // pays for a deployment from a key store.
  const ganacheStore = await restore('ganache', 'myth like bonus scare over problem client lizard pioneer submit female collect');
  const ganacheStoreArgs = ['--store', ganacheStore, '--passphrase-file', join(work, 'store-pass.txt')];
  assert.equal((await medallion(['ledger', 'anchor-address', '--anchor-store', ganacheStore, '--anchor-passphrase-file', join(work, 'store-pass.txt')])).out.trim(), ethers.getAddress(accounts[0]));

  // Exactly one key source; nothing is created when the options are refused.
  for (const [args, msg] of [
    [['ledger', 'serve', '--db', join(work, 'refused.db'), '--key-file', join(work, 'refused.key'), '--origin', 'anchoring.test/refused', '--anchor-rpc', rpc, '--anchor-contract', contractAddress, '--anchor-every-entries', '1'], /exactly one of a key file \(--anchor-key\) and a wallet key store \(--anchor-store\)/],
    [['ledger', 'serve', '--db', join(work, 'refused.db'), '--key-file', join(work, 'refused.key'), '--origin', 'anchoring.test/refused', '--anchor-rpc', rpc, '--anchor-contract', contractAddress, '--anchor-every-entries', '1', '--anchor-key', join(work, 'anchor.key'), ...storeArgs(hardhat, 0)], /exactly one/],
    [['ledger', 'serve', '--db', join(work, 'refused.db'), '--key-file', join(work, 'refused.key'), '--origin', 'anchoring.test/refused', '--anchor-rpc', rpc, '--anchor-contract', contractAddress, '--anchor-every-entries', '1', '--anchor-key', join(work, 'anchor.key'), '--anchor-account', '1'], /need --anchor-store/],
    [['ledger', 'anchor-deploy', '--rpc', rpc, '--writer', hd0.address, '--bytecode', join(here, '../../contracts/LedgerAnchor.bin')], /exactly one of a key file \(--key\) and a wallet key store \(--store\)/],
    [['ledger', 'anchor-address', ...storeArgs(hardhat, 2147483648)], /below 2\^31/],
  ]) {
    const bad = await medallion(args, { allowFail: true });
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.err}`);
    assert.match(bad.err, msg);
  }
  assert.throws(() => readFileSync(join(work, 'refused.db')));
  assert.throws(() => readFileSync(join(work, 'refused.key')));
  ok('ledger serve / anchor-deploy without exactly one key source are refused (exit 2), creating nothing');

  // By time: a second log anchoring every 2 seconds (its own key, account 1 of the Hardhat
  // mnemonic's key store, funded, and its own contract deployed from ganache's key store)
  // anchors a single entry that no entry count would.
  const timedAddress = ethers.HDNodeWallet.fromPhrase(hardhatPhrase, undefined, "m/44'/60'/1'/0/0").address;
  await (await funder.sendTransaction({ to: timedAddress, value: ethers.parseEther('1') })).wait();
  const timedDeploy = JSON.parse((await medallion(['ledger', 'anchor-deploy', '--rpc', rpc, ...ganacheStoreArgs, '--writer', timedAddress, '--bytecode', join(here, '../../contracts/LedgerAnchor.bin'), '--json'])).out);
  const timedContract = timedDeploy.contract;
  const deployBlock = await provider.getBlockNumber();  // ganache mines each transaction at once
  const { child: timed, banner: bt } = await startLedger('timed', `--anchor-rpc ${rpc} --anchor-contract ${timedContract} ${storeArgs(hardhat, 1).join(' ')} --anchor-every-seconds 2 --anchor-from-block ${deployBlock} --anchor-block-range 2`);
  assert.equal(bt.anchor_address, timedAddress);
  assert.equal(bt.anchor_path, "m/44'/60'/1'/0/0");
  await append(bt.url, 1, 'timed');
  const t0 = Date.now();
  let timedList;
  for (let i = 0; i < 100; i++) {
    timedList = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', timedContract, '--json'])).out);
    if (timedList.anchors.length > 0) break;
    await sleep(100);
  }
  assert.deepEqual(timedList.anchors.map((a) => a.size), [1]);
  assert.equal(timedList.anchors[0].sender, timedAddress);
  assert.equal((await provider.getTransaction(timedList.anchors[0].tx)).from, timedAddress);
  timed.kill('SIGTERM');
  ok(`a node whose key is account 1 of a key store (ethers' address) anchors by time: --anchor-every-seconds 2, one entry (after ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  // Paging: one block per eth_getLogs query, from the deployment block or from one after the
  // anchor; the listing from 0 in 1-block pages equals the one query of the default.
  const anchorBlock = timedList.anchors[0].block;
  const paged = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', timedContract, '--from-block', String(deployBlock), '--block-range', '1', '--json'])).out);
  assert.deepEqual(paged.anchors, timedList.anchors);
  const pagedAll = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', contractAddress, '--block-range', '1', '--json'])).out);
  const defaultAll = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', contractAddress, '--json'])).out);
  assert.deepEqual(pagedAll.anchors, defaultAll.anchors);
  const later = JSON.parse((await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', timedContract, '--from-block', String(anchorBlock + 1), '--json'])).out);
  assert.deepEqual(later.anchors, []);
  const badRange = await medallion(['ledger', 'anchors', '--rpc', rpc, '--contract', timedContract, '--block-range', '0'], { allowFail: true });
  assert.equal(badRange.code, 2, badRange.err);
  ok(`ledger anchors --from-block/--block-range page eth_getLogs (${pagedAll.anchors.length} anchors in 1-block pages equal the default listing)`);

  // 5. A chain that is down never stops the ledger.
  // A port nothing listens on: taken from the kernel, then released.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const deadUrl = `http://127.0.0.1:${probe.address().port}`;
  await new Promise((r) => probe.close(r));
  const { child: lonely, banner: b2 } = await startLedger('lonely', `--anchor-rpc ${deadUrl} --anchor-contract ${contractAddress} --anchor-key anchor2.key --anchor-every-entries 1`);
  await append(b2.url, 3, 'lonely');
  let m2 = '';
  for (let i = 0; i < 100 && !/medallion_anchor_submissions_total\{outcome="unavailable"\} [1-9]/.test(m2); i++) {
    await sleep(100);
    m2 = await (await fetch(`${b2.url}/metrics`)).text();
  }
  assert.match(m2, /medallion_anchor_submissions_total\{outcome="unavailable"\} [1-9]/,
    m2.split('\n').filter((l) => l.includes('anchor')).join('\n'));
  const cp2 = JSON.parse((await medallion(['ledger', 'checkpoint', '--url', b2.url, '--log-key', b2.verifier_key, '--json'])).out);
  assert.equal(cp2.size, 3);
  lonely.kill('SIGTERM');
  ok('with the chain down the ledger appends and /metrics counts the failed attempts');
}

try {
  await main();
  console.log(`${passed} passed, 0 failed`);
} catch (e) {
  console.error(e);
  for (const f of ['ledger.err', 'timed.err', 'lonely.err']) { try { console.error(f + ':\n' + readFileSync(join(work, f), 'utf8').slice(-2000)); } catch {} }
  console.log(`${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (server) await server.close();
  if (!process.exitCode) rmSync(work, { recursive: true, force: true });
}
