// The original's SDK (@tatumio/tatum 1.37.68, what tatum-kms 6.x signs with)
// timing the same operations as `cargo run -p kms-chain-signers --example ops`.
// Usage: node original.js VECTORS_DIR ITERATIONS  → {op: µs of CPU per op}
const fs = require('fs');
const path = require('path');
const t = require('@tatumio/tatum');

const [dir, n] = [process.argv[2], Number(process.argv[3] || 50)];
const signing = JSON.parse(fs.readFileSync(path.join(dir, 'signing.json')));
const derivation = JSON.parse(fs.readFileSync(path.join(dir, 'derivation.json')));

async function perOp(iterations, f) {
  await f(0); // warm
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await f(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

// The vectors the original signs without a network request. (TRON's vector
// comes from @tatumio/tron v2, which the v1 SDK here does not reproduce; the
// EVM chains, SOL, EGLD and VET ask the network for fields first.)
const signers = {
  'btc-mainnet-p2wpkh-1in-2out': (tx, k) => t.signBitcoinKMSTransaction(tx, k.map(x => x.privateKey), false),
  'ltc-mainnet-p2pkh-2in': (tx, k) => t.signLitecoinKMSTransaction(tx, k.map(x => x.privateKey), false),
  'doge-mainnet-p2pkh-2in': (tx, k) => t.signDogecoinKMSTransaction(tx, k.map(x => x.privateKey), false),
  'bch-mainnet-1in': (tx, k) => t.signBitcoinCashKMSTransaction(tx, k.map(x => x.privateKey), false),
  'xlm-mainnet-payment': (tx, k) => t.signXlmKMSTransaction(tx, k[0].secret, false),
  'algo-mainnet-payment': (tx, k) => t.signAlgoKMSTransaction(tx, k[0].secret, false),
  'xrp-payment-ed25519': (tx, k) => t.signXrpKMSTransaction(tx, k[0].secret),
};

(async () => {
  const out = {};
  for (const [name, sign] of Object.entries(signers)) {
    const v = signing.vectors.find(x => x.name === name);
    let same = true;
    try {
      out[`sign ${name}`] = await perOp(n, async () => {
        const tx = JSON.parse(JSON.stringify(v.pendingTransaction));
        const signed = await sign(tx, v.signingKeys);
        same = same && signed === v.expectedTxData;
      });
      if (!same) out[`sign ${name}`] = `differs from the vector`;
    } catch (e) {
      out[`sign ${name}`] = `error: ${e.message}`;
    }
  }
  for (const chain of ['BTC', 'ETH']) {
    const v = derivation.vectors.find(x => x.chain === chain && !x.testnet);
    out[`address from xpub ${chain}`] = await perOp(n, i => t.generateAddressFromXPub(chain, false, v.wallet.xpub, i));
    out[`private key from mnemonic ${chain}`] = await perOp(Math.min(n, 20), i =>
      t.generatePrivateKeyFromMnemonic(chain, false, v.wallet.mnemonic, i));
  }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
