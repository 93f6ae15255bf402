/**
 * protocol/sealed.ts: HPKE (RFC 9180) from @hpke/core with node:crypto's X25519, HKDF and AES-GCM plugged in. The
 * suite must be HPKE, byte for byte: RFC 9180's test vector A.1.1 (base mode, DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-128-GCM), and in both directions against @hpke/core's own WebCrypto classes, which sealed
 * everything before; a key file's seed derives the same key pair as before; its HKDF (HMAC-SHA256 Extract and Expand,
 * the key schedule's PRK taken once) gives OpenSSL's hkdfSync bytes. Then what must fail: another key, another
 * context, an altered ciphertext, a low-order public key.
 */
import { hkdfSync, type webcrypto } from "node:crypto";

import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { expect } from "chai";
import { bytesToHex, hexToBytes, type Hex } from "viem";

import {
  encryptionKeysFrom,
  newEncryptionSeed,
  open,
  seal,
  SealedOpenError,
  sealContext,
  sealInfo,
  suite,
} from "../../../protocol/sealed.js";

const DOMAIN = {
  name: "AITBC Workflows",
  version: "1",
  chainId: 31337,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
} as const;

/** @hpke/core's WebCrypto classes: what protocol/sealed.ts used until it plugged in node:crypto. */
const webCrypto = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

/** A key pair as @hpke/core returns it (its CryptoKeyPair type names the DOM's, which this project's libs lack). */
interface Pair {
  publicKey: webcrypto.CryptoKey;
  privateKey: webcrypto.CryptoKey;
}
const derive = async (s: CipherSuite, ikm: Uint8Array) => (await s.kem.deriveKeyPair(ikm)) as unknown as Pair;

const bytes = (hex: string) => hexToBytes(`0x${hex}`);
const hex = (buffer: ArrayBuffer) => bytesToHex(new Uint8Array(buffer)).slice(2);

// RFC 9180, A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode, sequence number 0.
const A11 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  ikmE: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
  pkEm: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  ikmR: "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  aad: "436f756e742d30",
  ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
};

describe("sealed payloads: HPKE from @hpke/core over node:crypto (protocol/sealed.ts)", function () {
  it("matches RFC 9180's test vector A.1.1 (key derivation, encapsulation, key schedule, AES-128-GCM)", async function () {
    for (const s of [suite, webCrypto]) {
      const recipient = await derive(s, bytes(A11.ikmR));
      expect(hex(await s.kem.serializePublicKey(recipient.publicKey))).to.equal(A11.pkRm);
      const { enc, ct } = await s.seal(
        { recipientPublicKey: recipient.publicKey, info: bytes(A11.info), ekm: bytes(A11.ikmE).buffer as ArrayBuffer },
        bytes(A11.pt),
        bytes(A11.aad),
      );
      expect([hex(enc), hex(ct)]).to.deep.equal([A11.pkEm, A11.ct]);
      const pt = await s.open({ recipientKey: recipient, enc, info: bytes(A11.info) }, ct, bytes(A11.aad));
      expect(hex(pt)).to.equal(A11.pt);
    }
  });

  it("interoperates with @hpke/core's WebCrypto classes both ways, and derives the same key pair from a seed", async function () {
    const seed = newEncryptionSeed();
    const keys = await encryptionKeysFrom(seed);
    const theirs = await derive(webCrypto, hexToBytes(seed));
    expect(bytesToHex(new Uint8Array(await webCrypto.kem.serializePublicKey(theirs.publicKey)))).to.equal(
      keys.publicKey,
    );
    const context = sealContext(DOMAIN, "step-input", "7/2");
    const info = sealInfo(context);
    const value = { input: { features: [5.1, 3.5, 1.4, 0.2] }, blind: "0x01" };
    // Sealed by this module, opened by @hpke/core's WebCrypto classes.
    const sealed = await seal(keys.publicKey, value, context);
    const opened = await webCrypto.open(
      { recipientKey: theirs, enc: hexToBytes(sealed.enc), info },
      Buffer.from(sealed.ct, "base64"),
    );
    expect(JSON.parse(new TextDecoder().decode(opened))).to.deep.equal(value);
    // Sealed by @hpke/core's WebCrypto classes (what every stored value was sealed with), opened by this module.
    const { enc, ct } = await webCrypto.seal(
      { recipientPublicKey: theirs.publicKey, info },
      new TextEncoder().encode(JSON.stringify(value)),
    );
    const back = { enc: bytesToHex(new Uint8Array(enc)), ct: Buffer.from(ct).toString("base64") };
    expect(await open(keys, back, context)).to.deep.equal(value);
  });

  it("takes HKDF-SHA256 as OpenSSL's hkdfSync does, whether its last Extract is reused or not", async function () {
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const ours = (salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, len: number) =>
      suite.kdf.extractAndExpand(salt, ikm, info, len).then((b) => hex(b));
    const openssl = (salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, len: number) =>
      Buffer.from(hkdfSync("sha256", ikm, salt, info, len)).toString("hex");
    for (let i = 0; i < 40; i++) {
      // HPKE's lengths (32, 16, 12), and others up to several blocks; an empty salt (HashLen zeros) every few.
      const salt = i % 4 === 0 ? new Uint8Array(0) : random(32);
      const ikm = random(1 + (i % 90));
      // The key schedule's pattern: three secrets from one (salt, IKM), then a new pair.
      for (const len of [32, 16, 12, 1 + ((i * 37) % 200)]) {
        const info = random(i % 70);
        expect(await ours(salt, ikm, info, len), `${i} ${len}`).to.equal(openssl(salt, ikm, info, len));
      }
      // Same IKM under another salt, and the same salt with another IKM: no stale PRK.
      const info = random(8);
      const salt2 = random(32);
      expect(await ours(salt2, ikm, info, 32)).to.equal(openssl(salt2, ikm, info, 32));
      const ikm2 = Uint8Array.from(ikm, (b, k) => (k === 0 ? b ^ 1 : b));
      expect(await ours(salt2, ikm2, info, 32)).to.equal(openssl(salt2, ikm2, info, 32));
    }
    // RFC 5869 test case 3 (SHA-256, no salt, no info): its PRK, and its 42-byte OKM (two blocks).
    const ikm = bytes("0b".repeat(22));
    expect(hex(await suite.kdf.extract(new Uint8Array(0), ikm))).to.equal(
      "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
    );
    expect(await ours(new Uint8Array(0), ikm, new Uint8Array(0), 42)).to.equal(
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    );
  });

  it("does not open under another key, another context, or altered; refuses a low-order public key", async function () {
    const keys = await encryptionKeysFrom(newEncryptionSeed());
    const other = await encryptionKeysFrom(newEncryptionSeed());
    const context = sealContext(DOMAIN, "result", "7/0xabc");
    const sealed = await seal(keys.publicKey, { result: 1 }, context);
    expect(await open(keys, sealed, context)).to.deep.equal({ result: 1 });
    const fails = async (p: Promise<unknown>) => {
      const error = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(SealedOpenError);
    };
    await fails(open(other, sealed, context));
    await fails(open(keys, sealed, { ...context, subject: "7/0xabd" }));
    await fails(open(keys, sealed, { ...context, purpose: "step-output" }));
    await fails(open(keys, sealed, { ...context, chainId: 1 }));
    const ct = Buffer.from(sealed.ct, "base64");
    ct[0] = (ct[0] ?? 0) ^ 1;
    await fails(open(keys, { ...sealed, ct: ct.toString("base64") }, context));
    const tag = Buffer.from(sealed.ct, "base64");
    tag[tag.length - 1] = (tag[tag.length - 1] ?? 0) ^ 1;
    await fails(open(keys, { ...sealed, ct: tag.toString("base64") }, context));
    await fails(open(keys, { ...sealed, enc: other.publicKey }, context));
    // A point of small order: the X25519 output is all zeros, which RFC 9180 7.1.4 says to refuse.
    const lowOrder: Hex = `0x01${"00".repeat(31)}`;
    const error = await seal(lowOrder, { result: 1 }, context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, "a seal to a low-order point").to.be.instanceOf(Error);
    await fails(open(keys, { ...sealed, enc: lowOrder }, context));
  });
});
