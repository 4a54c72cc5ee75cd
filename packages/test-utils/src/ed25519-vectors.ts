// Ed25519 test vectors for the project's one acceptance rule (docs/PROTOCOL.md
// 2; packages/protocol/src/ed25519.ts states the rule), shared by the
// wallet's tests (noble) and the node's (node:crypto / OpenSSL), so both
// verifiers are held to the same table.
//
// Every case records four expectations:
//   valid        the project rule (verifyEd25519, verifyEd25519Sync/Async, pool)
//   encoding     checkEd25519Encoding alone (the byte pre-checks)
//   openssl      node:crypto's raw crypto.verify WITHOUT the pre-checks
//                (OpenSSL 3.0 as bundled with Node 20; cofactorless equation)
//   nobleStrict  @noble/curves' raw ed25519.verify(sig, msg, pk, { zip215: false })
//                (cofactored equation, rejects small-order A)
// The two raw columns are asserted too: they show what each case guards
// against (where a raw verifier accepts and the rule rejects, or the two raw
// verifiers disagree), so a case that stopped exercising anything would fail.
//
// Sources, transcribed as hex:
//  - RFC 8032 section 7.1, TEST 1, 2, 3, 1024 and SHA(abc).
//  - ed25519-speccheck (Chalkias, Garillot, Nikolaenko, "Taming the many
//    EdDSAs", SSR 2020; github.com/novifinancial/ed25519-speccheck,
//    cases.json at commit d2b2ba58, the 15-vector set of its README table).
//    Their published results: OpenSSL-3.0 accepts 1, 3, 5, 6, 14; LibSodium
//    accepts only 6, as this rule does.
//  - C2SP CCTV ed25519vectors.json (github.com/C2SP/CCTV, ed25519/; vector
//    numbers as in the file), a few of its low-order and non-canonical cases.
//  - Constructed here with @noble/curves point arithmetic (recipes below),
//    so that each of the 8 small-order A and R the rule refuses is covered
//    (the published sets have only some): each is a signature a raw verifier
//    accepts.
//  - Derived from RFC 8032 TEST 1 by editing bytes (S + nL, high bits, ...).

/** One signature case; byte strings are lowercase hex without a prefix. */
export interface Ed25519Case {
  readonly name: string;
  readonly source: string;
  readonly pk: string;
  readonly msg: string;
  readonly sig: string;
  /** The project rule's verdict. */
  readonly valid: boolean;
  /** checkEd25519Encoding(pk, sig). */
  readonly encoding: boolean;
  /** Raw node:crypto verify (no pre-checks). */
  readonly openssl: boolean;
  /** Raw noble ed25519.verify with zip215: false (no pre-checks). */
  readonly nobleStrict: boolean;
}

/** Hex (no prefix) to bytes; throws on anything but an even run of hex digits. */
export function unhex(h: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(h)) throw new Error(`bad hex: ${h}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes to lowercase hex without a prefix. */
export const hexOf = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** ASCII text as hex, for the messages that the sources give as text. */
export const ascii = (s: string): string => hexOf(new TextEncoder().encode(s));

/** p = 2^255 − 19, the field prime (RFC 8032 5.1). */
export const P = 2n ** 255n - 19n;
/** L, the prime order of the base point (RFC 8032 5.1). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** 32-byte little-endian encoding of `x` (0 ≤ x < 2^256). */
export function le32(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** The little-endian integer of some bytes. */
export function fromLE(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

/**
 * The 8 points of small order in their canonical encodings ("Taming the many
 * EdDSAs" section 4; noble's ED25519_TORSION_SUBGROUP), with their orders.
 */
export const SMALL_ORDER_POINTS: readonly { readonly hex: string; readonly order: number }[] = [
  { hex: '0100000000000000000000000000000000000000000000000000000000000000', order: 1 },
  { hex: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', order: 2 },
  { hex: '0000000000000000000000000000000000000000000000000000000000000000', order: 4 },
  { hex: '0000000000000000000000000000000000000000000000000000000000000080', order: 4 },
  { hex: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', order: 8 },
  { hex: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', order: 8 },
  { hex: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', order: 8 },
  { hex: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', order: 8 },
];

/**
 * Non-canonical point encodings, for checkEd25519Encoding in both the A and
 * the R position: y + p for every y < 19 (the only y with a second encoding
 * below 2^255), with either sign bit; the largest 255-bit y; and the two
 * encodings of x = 0 with the sign bit set (y = 1 and y = p − 1). The y + p
 * with y ∈ {0, 1, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18} decode to curve points
 * under lax (ZIP-215 / OpenSSL) decoding, so they are not rejected by
 * accident.
 */
export const NON_CANONICAL_POINTS: readonly string[] = [
  ...Array.from({ length: 19 }, (_, y) => [
    hexOf(le32(P + BigInt(y))),
    hexOf(le32(P + BigInt(y) + 2n ** 255n)),
  ]).flat(),
  hexOf(le32(2n ** 255n - 1n)),
  hexOf(le32(2n ** 256n - 1n)),
  hexOf(le32(1n + 2n ** 255n)),
  hexOf(le32(P - 1n + 2n ** 255n)),
];

/** Canonical encodings at the boundaries, of no small order: byte checks pass. */
export const CANONICAL_BOUNDARY_POINTS: readonly string[] = [
  hexOf(le32(P - 2n)),
  hexOf(le32(P - 2n + 2n ** 255n)),
  hexOf(le32(2n)),
  hexOf(le32(2n + 2n ** 255n)),
];

/** RFC 8032 section 7.1 test vectors (secret key = the 32-byte seed). */
export const RFC8032_VECTORS: readonly {
  readonly name: string;
  readonly sk: string;
  readonly pk: string;
  readonly msg: string;
  readonly sig: string;
}[] = [
  {
    name: 'TEST 1',
    sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    sk: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST 1024',
    sk: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    pk: '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    msg: [
      '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1',
      'e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d',
      '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a',
      '7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e',
      '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10',
      '3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1',
      '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d',
      '502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270',
      '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b',
      'eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba',
      'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b',
      'e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7',
      '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d',
      'cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df',
      'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7',
      '984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4',
      '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09',
      '43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f',
      'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161',
      '0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d',
      'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca',
      'c60c905c15fc910840b94c00a0b9d0',
    ].join(''),
    sig: '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  },
  {
    name: 'TEST SHA(abc)',
    sk: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pk: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

const SPECCHECK = 'ed25519-speccheck cases.json (Chalkias et al. 2020)';
const CCTV = 'C2SP CCTV ed25519vectors.json';
const CONSTRUCTED = 'constructed here (see the recipes above EDGE_CASES)';
const DERIVED = 'derived from RFC 8032 TEST 1';

// Recipes of the constructed cases (T_j = SMALL_ORDER_POINTS[j], B the base
// point, k = SHA-512(R ‖ A ‖ M) mod L, a and r scalars from SHA-512 of a
// label); each message was the first "<name> #i" for which the condition holds:
//  - small-order A j: A = T_j, S fixed, R = [S]B − A (R = [S]B for j = 0),
//    condition [k]A = A (resp. any): then [S]B − [k]A = R, so OpenSSL
//    accepts a "signature" that needs no secret key at all.
//  - small-order R j: R = T_j; A = [a]B (j = 0) or [a]B + T8, where T8 is
//    the order-8 point c7176a…ac037a, condition −[k]T8 = T_j; S = k·a.
//    Both raw verifiers accept.
//  - mixed-order A: A = [a]B + T8, R = [r]B, S = r + k·a (an honest
//    signature under a key with a small-order component): the cofactorless
//    equation holds iff 8 | k, the cofactored one always.
//  - mixed-order R: A = [a]B, R = [r]B + T8, S = r + k·a.

/** Edge cases under the project rule (and the raw verifiers' verdicts). */
export const EDGE_CASES: readonly Ed25519Case[] = [
  // --- ed25519-speccheck, vectors 0..14 ------------------------------------
  {
    name: 'speccheck 0: S = 0, small A, small R (cofactored only)',
    source: SPECCHECK,
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    msg: '2a66241a42a9ee12994d8068dcf1bb7dfc6637b45450acd43711f637fa5080fc',
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 1: S = 0, small A, small R (both equations)',
    source: SPECCHECK,
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    msg: '8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6',
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'speccheck 2: small A, mixed R (cofactored only)',
    source: SPECCHECK,
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    msg: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    sig: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 3: small A, mixed R (both equations)',
    source: SPECCHECK,
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    msg: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    sig: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'speccheck 4: mixed A, small R (cofactored only)',
    source: SPECCHECK,
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    msg: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa182ef1a5b928da07fec769cc8a12db6bcf70dab3f3227fa315e9d5e3e01a3405',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: true,
  },
  {
    name: 'speccheck 5: mixed A, small R (both equations)',
    source: SPECCHECK,
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    msg: 'aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab',
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'speccheck 6: mixed A, mixed R (both equations)',
    source: SPECCHECK,
    pk: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    msg: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    sig: '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009',
    valid: true,
    encoding: true,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'speccheck 7: mixed A, mixed R (cofactored only)',
    source: SPECCHECK,
    pk: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    msg: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    sig: '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09',
    valid: false,
    encoding: true,
    openssl: false,
    nobleStrict: true,
  },
  {
    name: 'speccheck 8: mixed A, mixed R, pre-reduced scalar (cofactored only)',
    source: SPECCHECK,
    pk: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    msg: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    sig: '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405',
    valid: false,
    encoding: true,
    openssl: false,
    nobleStrict: true,
  },
  {
    name: 'speccheck 9: S > L',
    source: SPECCHECK,
    pk: '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    msg: '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    sig: 'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 10: S ≫ L (high bit set)',
    source: SPECCHECK,
    pk: '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    msg: '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    sig: '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 11: non-canonical R (x = 0, sign set), small',
    source: SPECCHECK,
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    msg: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    sig: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 12: non-canonical R (x = 0, sign set), small',
    source: SPECCHECK,
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    msg: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    sig: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 13: non-canonical A (x = 0, sign set), small',
    source: SPECCHECK,
    pk: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    msg: 'e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b',
    sig: 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'speccheck 14: non-canonical A (x = 0, sign set), small',
    source: SPECCHECK,
    pk: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    msg: '39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f',
    sig: 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  // --- C2SP CCTV ------------------------------------------------------------
  {
    name: 'CCTV 3: small A (y = 0), mixed R',
    source: CCTV,
    pk: '0000000000000000000000000000000000000000000000000000000000000000',
    msg: ascii('ed25519vectors 3'),
    sig: '36684ea91032ba5b1dbab2d02f4debc74c3327f2b3802e2e4d371aa42b12b56b05ba9a796274d80437afa36f1236563f2f3b0aa84cecddc3d20914615ba4fe02',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'CCTV 5: mixed A, small R (y = 0)',
    source: CCTV,
    pk: '10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f',
    msg: ascii('ed25519vectors 3'),
    sig: '00000000000000000000000000000000000000000000000000000000000000009472a69cd9a701a50d130ed52189e2455b23767db52cacb8716fb896ffeeac09',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'CCTV 6: mixed A, mixed R, low-order residue (cofactored only)',
    source: CCTV,
    pk: '10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f',
    msg: ascii('ed25519vectors 10'),
    sig: '36684ea91032ba5b1dbab2d02f4debc74c3327f2b3802e2e4d371aa42b12b56bc02e2b9e63e385c058bf62b14b3a2b29ccefe8e38ddb536bc3f9865320a3d801',
    valid: false,
    encoding: true,
    openssl: false,
    nobleStrict: true,
  },
  {
    name: 'CCTV 7: mixed A, mixed R, components cancel',
    source: CCTV,
    pk: '10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f',
    msg: ascii('ed25519vectors'),
    sig: '36684ea91032ba5b1dbab2d02f4debc74c3327f2b3802e2e4d371aa42b12b56bbbfd00bd9c259d8d222d15e67a3d8228585050dbb9b9585be20d8fadc721da03',
    valid: true,
    encoding: true,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'CCTV 9: non-canonical A (y = p), small, S = 0',
    source: CCTV,
    pk: 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    msg: ascii('ed25519vectors 6'),
    sig: '00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'CCTV 17: non-canonical R (y = p), mixed A',
    source: CCTV,
    pk: '10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f',
    msg: ascii('ed25519vectors 3'),
    sig: 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fad7a355469b5c87e550469f6b2de409ee723acd584bf35f86b80c384e8ceb702',
    valid: false,
    encoding: false,
    openssl: false,
    nobleStrict: false,
  },
  {
    name: 'CCTV 28: mixed A, mixed R, low-order residue (cofactored only)',
    source: CCTV,
    pk: '10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f',
    msg: ascii('ed25519vectors 9'),
    sig: 'b797b156efcd45a4e2454d2fd0b21438b3ccd80d4c7fd1d1b2c8e55bd4ed4a94639734cf989e314e9e049fc01a3864d191fed8f231b12fee6fa50aaadba44b0e',
    valid: false,
    encoding: true,
    openssl: false,
    nobleStrict: true,
  },
  {
    name: 'CCTV 29: mixed A, mixed R, components cancel',
    source: CCTV,
    pk: '10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f',
    msg: ascii('ed25519vectors 2'),
    sig: 'b797b156efcd45a4e2454d2fd0b21438b3ccd80d4c7fd1d1b2c8e55bd4ed4a94732d9e0279fe001d90327efa319816e3e4506b78432b8b4e1f2fdc4b960d700f',
    valid: true,
    encoding: true,
    openssl: true,
    nobleStrict: true,
  },
  // --- constructed (recipes above) -----------------------------------------
  {
    name: 'small-order A 0',
    source: CONSTRUCTED,
    pk: '0100000000000000000000000000000000000000000000000000000000000000',
    msg: ascii('small-order A 0 #0'),
    sig: '88b1f2b29e04304abe95bd0bcad9ad3e7b4ccb822d21ce5965c4155f0b11950063fed29271ba9b81c0ef54595cfe108fb441726876d33829cddb181cd100ae04',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 1',
    source: CONSTRUCTED,
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    msg: ascii('small-order A 1 #1'),
    sig: '61cf04de246b678c2135806083f5de9daa30955505ca108bf1eba5f6647f6b70278fd619f40187efc9a2aa956ded7b507a1c38e841bf6af9d0f3bdd6dfc8ed0e',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 2',
    source: CONSTRUCTED,
    pk: '0000000000000000000000000000000000000000000000000000000000000080',
    msg: ascii('small-order A 2 #3'),
    sig: 'e308e9f39c276e7b2f2a9591772db35cf4268b06a9cfa381718e10569018487432f2336cc0716c1aa89f232ea1458397e6f93dec84395810858057eb8f780d01',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 3',
    source: CONSTRUCTED,
    pk: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    msg: ascii('small-order A 3 #21'),
    sig: '43a21ebfa146f3e99ad73609c687c78d825cc3f807cbbef87e19403b7fe9f86591cc5463934482a685db5972bf18a36da7e2c0fdf63f08080e78d94234906d0b',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 4',
    source: CONSTRUCTED,
    pk: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    msg: ascii('small-order A 4 #0'),
    sig: 'cfee6f404a2f8d708e1748321e2552b7fd0e6fd112a776e4fc31ed9f8593b278900b30a8b01b2850e011e795d4711711a17c02ba92f18e6c83b7e15b6cd8b20f',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 5',
    source: CONSTRUCTED,
    pk: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
    msg: ascii('small-order A 5 #0'),
    sig: '381068ecb815ad66ef09ea7cb9825b11c605d3d6a3dd67389eb298ff2a97dd736c1f4d2c4b2e93410137ac3db7cf4c3fe5cc859c16b7991af6144751138f1a02',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 6',
    source: CONSTRUCTED,
    pk: '0000000000000000000000000000000000000000000000000000000000000000',
    msg: ascii('small-order A 6 #0'),
    sig: 'f627d4671afa8d677f87f3474dcf51109ee16bbe7e01ee600765640439af61ce49f658c036e902c8c7fc4394cc3ec38a47af3056694d51b43faa1397c3118503',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order A 7',
    source: CONSTRUCTED,
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    msg: ascii('small-order A 7 #4'),
    sig: '9aebe17904c4cd229e0af12a64975b62ac78f8f31f8b56bf41cf1ff82f44e0997cb4c5c9812a33e886f19998150e9a3078ad93d0ca2088d5e3663089470ea104',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: false,
  },
  {
    name: 'small-order R 0',
    source: CONSTRUCTED,
    pk: '22d1662dbf0b53448cbec1a2b98030927feb5194c6a766d310fa02a058448cff',
    msg: ascii('small-order R 0 #0'),
    sig: '0100000000000000000000000000000000000000000000000000000000000000ec95fa9a0ad5c012c8a96903aec4513de153f1a3aadc77fc8b61863ef84ec502',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 1',
    source: CONSTRUCTED,
    pk: 'c5f92452fef79d6c0824e85235427c51576ae41014f8b89a6c42fa8cb01badc3',
    msg: ascii('small-order R 1 #19'),
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a26b9836dfa220f069b3329eca8408605e53e032a7e096991409f873e9a7af50e',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 2',
    source: CONSTRUCTED,
    pk: '600cb6c54d018429b6a2301e39a386b66b8eb6202f7a8e53e0e86eae3214d85d',
    msg: ascii('small-order R 2 #13'),
    sig: '0000000000000000000000000000000000000000000000000000000000000080395b4f111934bdfd71024aa9e6a966d5695e541d6d00add19ecd91a7cba52406',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 3',
    source: CONSTRUCTED,
    pk: 'b297da9b8b367d69f42fcca98333ecee72eeb3a762e0701c5cfb240347000197',
    msg: ascii('small-order R 3 #1'),
    sig: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc053f2d5b80f5a8611ded9d48102d7241212707c8949046f70ef50318c479e01f00',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 4',
    source: CONSTRUCTED,
    pk: 'eb0c82bca30ddf219be459d9426a6d48b3d6837cde7020972f3382cbc2d0d870',
    msg: ascii('small-order R 4 #6'),
    sig: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f74058b604a3ebf698e202ee3b107da604b498a7908815ef7bfa135fae178e003',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 5',
    source: CONSTRUCTED,
    pk: '62139335eda8191afd23cc3a1ce28f05e91718d0c4a1c6ec01ea7cb002b18035',
    msg: ascii('small-order R 5 #4'),
    sig: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc8554daf106c3ed8729b051041333550767dacbcf1ebb6f7a0bb1938ef2dee88203',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 6',
    source: CONSTRUCTED,
    pk: '7603736778308aa2290de4bef7178aab4d1e194105ba398867fa9c21a06d7535',
    msg: ascii('small-order R 6 #0'),
    sig: '000000000000000000000000000000000000000000000000000000000000000077aa69683b6034d8d2d302818893fdeada3863fca56c9a959af3b92e1c5f180b',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'small-order R 7',
    source: CONSTRUCTED,
    pk: '8e8c40ba99f068cea023cb6a290f6ffd9a5cab513a5a0ddc2d7b5eb3192cb8c6',
    msg: ascii('small-order R 7 #8'),
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa0d78c1848c519172356cd68c96374e2399899225293ded0d86e8c70de3f61203',
    valid: false,
    encoding: false,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'mixed-order A, k ≡ 0 mod 8',
    source: CONSTRUCTED,
    pk: '35d1d0d8301f184aa9e0b8ac773bed71012296bf0eeefc7616318c5aad049eda',
    msg: ascii('mixed-order A #0'),
    sig: '861cd9be7ed9051712741bf30d8b01db47cd6bafba25fcc7a863d375e33b55a896cee3194f1859c67b4310b0ef61f7275f6e3492fe2fdede6ed418b5f0562a00',
    valid: true,
    encoding: true,
    openssl: true,
    nobleStrict: true,
  },
  {
    name: 'mixed-order A, k ≢ 0 mod 8',
    source: CONSTRUCTED,
    pk: '35d1d0d8301f184aa9e0b8ac773bed71012296bf0eeefc7616318c5aad049eda',
    msg: ascii('mixed-order A #1'),
    sig: '65b9d010324038fe0a7ade62b20a6516cfda9c6e72af2087b7c81e54bb963a38ee9612d6a4b28dd9588b1f8b1f7b42e7cdcf930cbab560500a3952461deed508',
    valid: false,
    encoding: true,
    openssl: false,
    nobleStrict: true,
  },
  {
    name: 'mixed-order R',
    source: CONSTRUCTED,
    pk: 'fa5c6d6097ecb96e8a9f3635b959c32af42c10ef5299299e3db13ab4c3b03ef6',
    msg: ascii('mixed-order R'),
    sig: '6000b1cc7f4062968f138014639f5d6145fc5d048e790ae807189180dc864777900f802b860a2394c45ff2cc518116a41db4e07374ea5ef19aceca4160fea30a',
    valid: false,
    encoding: true,
    openssl: false,
    nobleStrict: true,
  }, // --- derived from RFC 8032 TEST 1 ----------------------------------------
  ...derivedFromTest1(),
];

/**
 * Byte edits of RFC 8032 TEST 1 (a valid signature): S replaced by values
 * that a lax verifier would reduce or mask back to the valid S, S at the
 * boundary L, and sign-bit flips of R and A (canonical, wrong point).
 */
function derivedFromTest1(): Ed25519Case[] {
  const t = RFC8032_VECTORS[0]!;
  const r = t.sig.slice(0, 64);
  const s = fromLE(unhex(t.sig.slice(64)));
  const withS = (name: string, v: bigint, encoding = false): Ed25519Case => ({
    name: `TEST 1 with ${name}`,
    source: DERIVED,
    pk: t.pk,
    msg: t.msg,
    sig: r + hexOf(le32(v)),
    valid: false,
    encoding,
    openssl: false,
    nobleStrict: false,
  });
  const flipSign = (h: string) =>
    h.slice(0, 62) + (Number.parseInt(h.slice(62, 64), 16) ^ 0x80).toString(16).padStart(2, '0');
  return [
    withS('S + L (malleated: S mod L is valid)', s + L),
    withS('S + 2L (≥ 2^253)', s + 2n * L),
    withS('S + 8L (≥ 2^255)', s + 8n * L),
    withS('S + 2^253 (valid low 253 bits)', s + 2n ** 253n),
    withS('S + 2^254 (valid low 253 bits)', s + 2n ** 254n),
    withS('S + 2^255 (valid low 253 bits)', s + 2n ** 255n),
    withS('S = L', L),
    withS('S = L + 1', L + 1n),
    withS('S = 2^256 − 1', 2n ** 256n - 1n),
    withS('S = L − 1 (in range, wrong)', L - 1n, true),
    withS('S = 0 (in range, wrong)', 0n, true),
    {
      name: 'TEST 1 with the sign bit of R flipped (−R)',
      source: DERIVED,
      pk: t.pk,
      msg: t.msg,
      sig: flipSign(r) + t.sig.slice(64),
      valid: false,
      encoding: true,
      openssl: false,
      nobleStrict: false,
    },
    {
      name: 'TEST 1 with the sign bit of A flipped (−A)',
      source: DERIVED,
      pk: flipSign(t.pk),
      msg: t.msg,
      sig: t.sig,
      valid: false,
      encoding: true,
      openssl: false,
      nobleStrict: false,
    },
  ];
}

/** Every case of the table: the RFC 8032 vectors (all valid) and EDGE_CASES. */
export const ALL_CASES: readonly Ed25519Case[] = [
  ...RFC8032_VECTORS.map(
    (v): Ed25519Case => ({
      name: `RFC 8032 ${v.name}`,
      source: 'RFC 8032 section 7.1',
      pk: v.pk,
      msg: v.msg,
      sig: v.sig,
      valid: true,
      encoding: true,
      openssl: true,
      nobleStrict: true,
    }),
  ),
  ...EDGE_CASES,
];

// --- signatures with torsion components, made on demand -----------------------

/**
 * The parts of @noble/curves' ed25519 `Point` that {@link craftTorsionCase}
 * uses. Injected by the caller: this directory resolves no packages.
 */
export interface EdPoint {
  add(other: EdPoint): EdPoint;
  multiply(scalar: bigint): EdPoint;
  multiplyUnsafe(scalar: bigint): EdPoint;
  is0(): boolean;
  toBytes(): Uint8Array;
}
export interface EdPointStatic {
  readonly BASE: EdPoint;
  fromBytes(bytes: Uint8Array, zip215?: boolean): EdPoint;
}

/**
 * An "honest" signature, S = r + k·a, under A = [a]B + T_A with R = [r]B + T_R
 * (T_A, T_R ∈ SMALL_ORDER_POINTS by index): the signer knows a and r but adds
 * small-order components, which no byte check can see. `cofactorless` is
 * whether encode([S]B − [k]A) = R, computed independently of any verifier:
 * [S]B − [k]A = [r]B − [k]T_A, so it holds iff T_R + [k]T_A = O. The
 * cofactored equation holds always. 1 ≤ a, r < L, so neither A nor R is of
 * small order and the byte checks pass.
 */
export function craftTorsionCase(
  Point: EdPointStatic,
  sha512: (data: Uint8Array) => Uint8Array,
  c: { a: bigint; r: bigint; tA: number; tR: number; msg: Uint8Array },
): { pk: Uint8Array; msg: Uint8Array; sig: Uint8Array; cofactorless: boolean } {
  const torsion = (j: number) => Point.fromBytes(unhex(SMALL_ORDER_POINTS[j]!.hex));
  const tA = torsion(c.tA);
  const tR = torsion(c.tR);
  const pk = Point.BASE.multiply(c.a).add(tA).toBytes();
  const rBytes = Point.BASE.multiply(c.r).add(tR).toBytes();
  const h = new Uint8Array(64 + c.msg.length);
  h.set(rBytes, 0);
  h.set(pk, 32);
  h.set(c.msg, 64);
  const k = fromLE(sha512(h)) % L;
  const s = (c.r + k * c.a) % L;
  const sig = new Uint8Array(64);
  sig.set(rBytes, 0);
  sig.set(le32(s), 32);
  return { pk, msg: c.msg, sig, cofactorless: tR.add(tA.multiplyUnsafe(k)).is0() };
}
