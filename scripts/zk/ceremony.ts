/**
 * The multi-party phase 2 of a circuit's Groth16 setup, behind `npx hardhat zk ceremony init | contribute | verify |
 * seal`. Every cryptographic step is snarkjs's own (zKey.newZKey, zKey.contribute, zKey.beacon,
 * zKey.verifyFromR1cs); this module keeps the files in order and the transcript honest.
 *
 * A ceremony lives in a working folder (default .cache/ceremony/<circuit>, passed from participant to participant):
 *
 *   transcript.json        the record: circuit, constraint system and powers of tau hashes, then each step
 *   <circuit>.r1cs         the constraint system the ceremony is for (from `init`)
 *   <circuit>_0000.zkey    contribution 0: the initial key made from the r1cs and the powers of tau
 *   <circuit>_0001.zkey …  one per participant's contribution
 *   <circuit>_final.zkey   after the random beacon (`seal`), which also installs it in circuits/build
 *
 * Each step of the transcript records the contribution hash snarkjs printed, the previous step's hash, the SHA-256
 * of the key it was applied to and of the key it wrote, and the time. `verify` re-runs snarkjs's verification of
 * the whole chain from the r1cs and the powers of tau, and checks that the contributions snarkjs finds in the key
 * (their hashes, names, beacon) are exactly the transcript's. Groth16 stays sound if any one participant of the
 * chain destroyed their randomness; with one participant, that participant can forge every proof.
 *
 * A key's contributions are also read straight from its file (`readKeyContributions`, no cryptography: the zkey's
 * section 10, as snarkjs writes it) so that `zk check` can count them on every run without the powers of tau.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

import * as snarkjs from "snarkjs";
import { z } from "zod";

import { describe, ptauConcerns, fileHashes, PtauRecord } from "./ptau.js";
import type { ZkLayout } from "./layout.js";

/** Participant contributions a production key needs (Groth16 is sound if one of them was honest). */
export const MIN_CONTRIBUTIONS = 2;
/** snarkjs's bounds for the beacon's 2^n hash iterations. */
export const BEACON_ITERATIONS = { min: 10, max: 63 } as const;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes * 2} hex digits`);
/** snarkjs stores at most 64 characters of a name in the key; printable ASCII keeps bytes and characters equal. */
const participantName = z
  .string()
  .regex(/^[\x21-\x7e]([\x20-\x7e]{0,62}[\x21-\x7e])?$/, "1 to 64 printable ASCII characters, no outer spaces");
const beaconValue = z
  .string()
  .regex(/^([0-9a-f]{2}){1,255}$/, "1 to 255 bytes of lower-case hex (an even number of digits)");

const Step = z.object({
  /** The contribution hash snarkjs printed (BLAKE2b-512 of the contribution's public key). */
  hash: hex(64),
  /** The previous step's hash (null for the first step after contribution 0). */
  previousHash: hex(64).nullable(),
  /** SHA-256 of the key this step was applied to. */
  inputZkey: hex(32),
  /** SHA-256 of the key this step wrote. */
  zkey: hex(32),
  time: z.iso.datetime(),
});

const Contribution = Step.extend({
  index: z.number().int().min(1),
  participant: participantName,
  /** Where the randomness came from: the OS CSPRNG, typed at a prompt, or passed with --entropy (snarkjs always adds 64 bytes of its own). */
  entropy: z.enum(["os", "typed", "passed"]),
});
export type Contribution = z.infer<typeof Contribution>;

const Beacon = Step.extend({
  /** The public random value (e.g. a block hash chosen before it existed), hex. */
  value: beaconValue,
  /** snarkjs hashes the value 2^iterationsExp times. */
  iterationsExp: z.number().int().min(BEACON_ITERATIONS.min).max(BEACON_ITERATIONS.max),
  /** Where the value comes from, so that anyone can check it (e.g. "Ethereum mainnet block 21000000 hash"). */
  source: z.string().min(1),
});
export type Beacon = z.infer<typeof Beacon>;

export const Transcript = z.object({
  circuit: z.string().min(1),
  /** SHA-256 of the constraint system (what `zk check` compiles the sources to). */
  r1cs: hex(32),
  constraints: z.number().int().min(1),
  ptau: PtauRecord,
  /** Contribution 0: the key snarkjs derives from the r1cs and the powers of tau, before any randomness. */
  initial: z.object({ zkey: hex(32), time: z.iso.datetime() }),
  contributions: z.array(Contribution),
  beacon: Beacon.nullable(),
});
export type Transcript = z.infer<typeof Transcript>;

/** A contribution as the key itself records it (zkey section 10). */
export interface KeyContribution {
  /** snarkjs: 0 a participant's contribution, 1 a beacon. */
  readonly type: number;
  readonly name: string;
  readonly beacon?: { readonly value: string; readonly iterationsExp: number };
}

// ---------------------------------------------------------------- files

export interface CeremonyFiles {
  readonly dir: string;
  readonly transcript: string;
  readonly r1cs: string;
  /** The key after `step` contributions (0: the initial key). */
  readonly zkey: (step: number) => string;
  readonly final: string;
}

export function ceremonyFiles(dir: string, circuit: string): CeremonyFiles {
  return {
    dir,
    transcript: path.join(dir, "transcript.json"),
    r1cs: path.join(dir, `${circuit}.r1cs`),
    zkey: (step) => path.join(dir, `${circuit}_${String(step).padStart(4, "0")}.zkey`),
    final: path.join(dir, `${circuit}_final.zkey`),
  };
}

/** The key a transcript ends with: the final key once sealed, else the last contribution's. */
export function latestKey(files: CeremonyFiles, transcript: Transcript): string {
  return transcript.beacon !== null ? files.final : files.zkey(transcript.contributions.length);
}

/** The SHA-256 the transcript records for the key it ends with. */
export function latestKeyHash(transcript: Transcript): string {
  return (transcript.beacon ?? transcript.contributions.at(-1) ?? transcript.initial).zkey;
}

export async function readTranscript(file: string): Promise<Transcript> {
  if (!existsSync(file)) throw new Error(`${file}: no ceremony transcript here (run zk ceremony init first)`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = Transcript.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${describe(parsed.error)}`);
  return parsed.data;
}

async function writeTranscript(file: string, transcript: Transcript): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(transcript, null, 2)}\n`);
  await rename(tmp, file);
}

// ---------------------------------------------------------------- what a key says about itself

/**
 * The contributions recorded in a zkey (section 10 of snarkjs's binary format: the circuit hash, the count, then per
 * contribution its points, its transcript digest, its type and its parameters: name, beacon iterations, beacon).
 * Reads the format only; whether the contributions are valid is snarkjs's verification (`verifyKeyChain`).
 */
export async function readKeyContributions(zkey: string): Promise<KeyContribution[]> {
  const fd = await open(zkey, "r");
  try {
    const read = async (at: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await fd.read(buffer, 0, length, at);
      if (bytesRead !== length) throw new Error(`${zkey}: truncated at byte ${at}`);
      return buffer;
    };
    const head = await read(0, 12);
    if (head.toString("latin1", 0, 4) !== "zkey") throw new Error(`${zkey}: not a zkey file`);
    const sections = new Map<number, { at: number; size: number }>();
    const { size: fileSize } = await fd.stat();
    for (let at = 12, n = 0; n < head.readUInt32LE(8); n++) {
      const entry = await read(at, 12);
      const size = Number(entry.readBigUInt64LE(4));
      sections.set(entry.readUInt32LE(0), { at: at + 12, size });
      at += 12 + size;
      if (at > fileSize) throw new Error(`${zkey}: section ${entry.readUInt32LE(0)} runs past the end of the file`);
    }
    const header = sections.get(2);
    const mpc = sections.get(10);
    if (header === undefined || mpc === undefined) throw new Error(`${zkey}: not a Groth16 key with contributions`);
    const n8q = (await read(header.at, 4)).readUInt32LE(0);
    const data = await read(mpc.at, mpc.size);
    // Points are stored uncompressed: G1 two coordinates, G2 four; per contribution deltaAfter, g1_s, g1_sx, g2_spx.
    const points = 3 * 2 * n8q + 4 * n8q;
    const count = data.readUInt32LE(64);
    const out: KeyContribution[] = [];
    let at = 68;
    for (let i = 0; i < count; i++) {
      at += points + 64; // points, then the contribution's transcript digest
      const type = data.readUInt32LE(at);
      const paramsLength = data.readUInt32LE(at + 4);
      at += 8;
      const end = at + paramsLength;
      let name = "";
      let iterationsExp: number | undefined;
      let value: string | undefined;
      while (at < end) {
        const param = data.readUInt8(at);
        if (param === 1) {
          const length = data.readUInt8(at + 1);
          name = data.toString("utf8", at + 2, at + 2 + length);
          at += 2 + length;
        } else if (param === 2) {
          iterationsExp = data.readUInt8(at + 1);
          at += 2;
        } else if (param === 3) {
          const length = data.readUInt8(at + 1);
          value = data.toString("hex", at + 2, at + 2 + length);
          at += 2 + length;
        } else {
          throw new Error(`${zkey}: contribution ${i + 1} has an unknown parameter ${param}`);
        }
      }
      if (at !== end) throw new Error(`${zkey}: contribution ${i + 1}'s parameters do not add up`);
      out.push({
        type,
        name,
        ...(value !== undefined && iterationsExp !== undefined ? { beacon: { value, iterationsExp } } : {}),
      });
    }
    return out;
  } finally {
    await fd.close();
  }
}

// ---------------------------------------------------------------- cheap checks (no powers of tau needed)

/** Inconsistencies inside a transcript: the chain of hashes and keys, the numbering. */
export function chainProblems(t: Transcript): string[] {
  const problems: string[] = [];
  let previousHash: string | null = null;
  let previousKey = t.initial.zkey;
  const seen = new Map<string, number>();
  t.contributions.forEach((c, i) => {
    const where = `contributions[${i}]`;
    if (c.index !== i + 1) problems.push(`${where}.index is ${c.index}, expected ${i + 1}`);
    if (c.previousHash !== previousHash) {
      problems.push(`${where}.previousHash does not match the hash of the step before it`);
    }
    if (c.inputZkey !== previousKey) problems.push(`${where}.inputZkey is not the key the step before it wrote`);
    const earlier = seen.get(c.hash);
    if (earlier !== undefined) problems.push(`${where}.hash repeats contributions[${earlier}].hash`);
    seen.set(c.hash, i);
    previousHash = c.hash;
    previousKey = c.zkey;
  });
  if (t.beacon !== null) {
    if (t.beacon.previousHash !== previousHash)
      problems.push("beacon.previousHash is not the last contribution's hash");
    if (t.beacon.inputZkey !== previousKey)
      problems.push("beacon.inputZkey is not the key the last contribution wrote");
  }
  return problems;
}

/** Differences between what a transcript records and the contributions a key holds. */
export function keyMatchProblems(t: Transcript, key: readonly KeyContribution[]): string[] {
  const expected = t.contributions.length + (t.beacon === null ? 0 : 1);
  if (key.length !== expected) {
    return [
      `the key holds ${key.length} contribution(s), the transcript records ${t.contributions.length}` +
        (t.beacon === null ? "" : " and a beacon"),
    ];
  }
  const problems: string[] = [];
  t.contributions.forEach((c, i) => {
    const k = key[i];
    if (k?.type !== 0) problems.push(`contribution ${i + 1} of the key is not a participant's contribution`);
    else if (k.name !== c.participant) {
      problems.push(`contribution ${i + 1} of the key is named "${k.name}", the transcript says "${c.participant}"`);
    }
  });
  if (t.beacon !== null) {
    const k = key.at(-1);
    if (k?.type !== 1 || k.beacon === undefined) problems.push("the key's last contribution is not a beacon");
    else if (k.beacon.value !== t.beacon.value || k.beacon.iterationsExp !== t.beacon.iterationsExp) {
      problems.push(
        `the key's beacon is ${k.beacon.value} with 2^${k.beacon.iterationsExp} iterations, the transcript's ` +
          `${t.beacon.value} with 2^${t.beacon.iterationsExp}`,
      );
    }
  }
  return problems;
}

/** Participants whose contributions count: distinct names (one person contributing twice adds nothing). */
export function participants(t: Transcript): number {
  return new Set(t.contributions.map((c) => c.participant)).size;
}

/**
 * Why a key is not a production key (empty: it is one). `transcript` undefined: a key made by `zk build`, which
 * holds the contributions `key` lists and no record of who made them.
 */
export async function developmentReasons(
  layout: ZkLayout,
  key: readonly KeyContribution[],
  transcript: Transcript | undefined,
  ptau: Pick<PtauRecord, "file" | "development"> & { blake2b?: string | undefined },
): Promise<string[]> {
  const reasons: string[] = [];
  const made = key.filter((k) => k.type === 0).length;
  if (transcript === undefined) {
    reasons.push(
      `${made} contribution${made === 1 ? "" : "s"} (needs >= ${MIN_CONTRIBUTIONS} in a ceremony): no ceremony transcript, made by zk build`,
    );
  } else {
    const n = participants(transcript);
    if (n < MIN_CONTRIBUTIONS) {
      reasons.push(`${n} contribution${n === 1 ? "" : "s"} from distinct participants (needs >= ${MIN_CONTRIBUTIONS})`);
    }
    if (transcript.beacon === null) reasons.push("not sealed with a random beacon");
  }
  reasons.push(...(await ptauConcerns(layout, ptau)));
  return reasons;
}

// ---------------------------------------------------------------- snarkjs

interface Logger {
  debug: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

/** A snarkjs logger that keeps every message and echoes the info lines of interest to `echo`. */
function recorder(echo?: (message: string) => void): Logger & { infos: string[]; errors: string[] } {
  const infos: string[] = [];
  const errors: string[] = [];
  return {
    infos,
    errors,
    debug: () => undefined,
    info: (message) => {
      infos.push(message);
      echo?.(message);
    },
    warn: (message) => errors.push(message),
    error: (message) => errors.push(message),
  };
}

/** snarkjs's `formatHash` text (four lines of four 32-bit words) back to hex. */
function unformatHash(text: string): string {
  return text.replace(/\s+/g, "");
}

interface VerifiedContribution {
  readonly name: string;
  readonly hash: string;
  readonly beacon?: { readonly value: string; readonly iterationsExp: number };
}

/** The contributions snarkjs lists after a successful verification (it prints them last to first). */
function parseVerification(infos: readonly string[]): VerifiedContribution[] {
  const found = new Map<number, { name: string; hash: string; value?: string; iterationsExp?: number }>();
  let current: number | undefined;
  for (const message of infos) {
    const contribution = /^contribution #(\d+) (.*):\n([\s0-9a-f]+)$/.exec(message);
    if (contribution !== null) {
      current = Number(contribution[1]);
      found.set(current, { name: contribution[2] ?? "", hash: unformatHash(contribution[3] ?? "") });
      continue;
    }
    const entry = current === undefined ? undefined : found.get(current);
    const value = /^Beacon generator: ([0-9a-f]+)$/.exec(message);
    if (value !== null && entry !== undefined) entry.value = value[1] ?? "";
    const exp = /^Beacon iterations Exp: (\d+)$/.exec(message);
    if (exp !== null && entry !== undefined) entry.iterationsExp = Number(exp[1]);
  }
  return [...found.keys()]
    .sort((a, b) => a - b)
    .map((i) => {
      const e = found.get(i) ?? { name: "", hash: "" };
      return {
        name: e.name,
        hash: e.hash,
        ...(e.value !== undefined && e.iterationsExp !== undefined
          ? { beacon: { value: e.value, iterationsExp: e.iterationsExp } }
          : {}),
      };
    });
}

export interface ChainVerification {
  /** Participant contributions (distinct names). */
  readonly participants: number;
  readonly sealed: boolean;
}

/**
 * The full check of a key made by a ceremony: snarkjs verifies the chain of contributions from the constraint
 * system and the powers of tau (zKey.verifyFromR1cs: each contribution's proof of knowledge, the beacon's
 * derivation, delta, every section), then the contributions it lists must be exactly the transcript's, hash by
 * hash. Throws with every problem found.
 */
export async function verifyKeyChain(
  layout: ZkLayout,
  input: { r1cs: string; ptau: string; zkey: string; transcript: Transcript; label: string },
): Promise<ChainVerification> {
  const { r1cs, ptau, zkey, transcript: t, label } = input;
  const problems = [...chainProblems(t), ...keyMatchProblems(t, await readKeyContributions(zkey))];
  const hashes = await fileHashes(ptau);
  if (hashes.blake2b !== t.ptau.blake2b) {
    problems.push(
      `${ptau} is not the powers of tau of the ceremony (${t.ptau.file}, blake2b ${t.ptau.blake2b.slice(0, 16)}...)`,
    );
  }
  if (!t.ptau.development) problems.push(...(await ptauConcerns(layout, t.ptau)));
  if ((await fileHashes(r1cs)).sha256 !== t.r1cs)
    problems.push(`${r1cs} is not the constraint system of the transcript`);
  const { sha256 } = await fileHashes(zkey);
  if (sha256 !== latestKeyHash(t)) problems.push(`${zkey} is not the key the transcript ends with`);
  if (problems.length > 0) throw new Error(`${label}: ${problems.join("; ")}`);

  const log = recorder();
  if (!(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, log))) {
    const why = log.errors.length > 0 ? log.errors.join("; ") : "a contribution is invalid";
    throw new Error(`${label}: snarkjs does NOT verify the key's contribution chain (${why})`);
  }
  const verified = parseVerification(log.infos);
  const expected = [
    ...t.contributions.map((c) => ({ name: c.participant, hash: c.hash, beacon: undefined })),
    ...(t.beacon === null
      ? []
      : [
          {
            name: "beacon",
            hash: t.beacon.hash,
            beacon: { value: t.beacon.value, iterationsExp: t.beacon.iterationsExp },
          },
        ]),
  ];
  if (verified.length !== expected.length) {
    problems.push(`snarkjs verified ${verified.length} contribution(s), the transcript records ${expected.length}`);
  } else {
    expected.forEach((e, i) => {
      const v = verified[i];
      const step = t.beacon !== null && i === expected.length - 1 ? "beacon" : `contributions[${i}]`;
      if (v?.hash !== e.hash) problems.push(`${step}.hash is not the hash snarkjs computes for contribution #${i + 1}`);
      if (v?.name !== e.name) problems.push(`${step}: snarkjs names contribution #${i + 1} "${v?.name ?? ""}"`);
      if (
        e.beacon !== undefined &&
        (v?.beacon?.value !== e.beacon.value || v.beacon.iterationsExp !== e.beacon.iterationsExp)
      ) {
        problems.push("beacon: value or iterations differ from the key's");
      }
    });
  }
  if (problems.length > 0) throw new Error(`${label}: ${problems.join("; ")}`);
  return { participants: participants(t), sealed: t.beacon !== null };
}

// ---------------------------------------------------------------- the steps

const now = (): string => new Date().toISOString();
const sha256Of = async (file: string): Promise<string> => (await fileHashes(file)).sha256;
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/**
 * Contribution 0: the initial key from the constraint system and the powers of tau (snarkjs zKey.newZKey), and a
 * new transcript. Refuses a folder that already holds a ceremony.
 */
export async function initCeremony(input: {
  circuit: string;
  dir: string;
  r1cs: string;
  constraints: number;
  ptau: string;
  ptauRecord: PtauRecord;
}): Promise<Transcript> {
  const files = ceremonyFiles(input.dir, input.circuit);
  if (existsSync(files.transcript)) {
    throw new Error(`${files.transcript}: a ceremony is already in progress here (remove the folder to start over)`);
  }
  await mkdir(files.dir, { recursive: true });
  await copyFile(input.r1cs, files.r1cs);
  const log = recorder();
  const result: unknown = await snarkjs.zKey.newZKey(files.r1cs, input.ptau, files.zkey(0), log);
  if (result === -1 || !existsSync(files.zkey(0))) {
    throw new Error(
      `${input.circuit}: snarkjs could not make the initial key (${log.errors.join("; ") || "unknown error"})`,
    );
  }
  const transcript: Transcript = {
    circuit: input.circuit,
    r1cs: await sha256Of(files.r1cs),
    constraints: input.constraints,
    ptau: input.ptauRecord,
    initial: { zkey: await sha256Of(files.zkey(0)), time: now() },
    contributions: [],
    beacon: null,
  };
  await writeTranscript(files.transcript, transcript);
  return transcript;
}

/** Where a participant's randomness comes from. */
export type Entropy = { readonly kind: "os" } | { readonly kind: "typed" | "passed"; readonly text: string };

/** Checks a ceremony folder before a step: a valid transcript whose chain holds and whose latest key is on disk, unchanged. */
async function openCeremony(dir: string, circuit: string): Promise<{ files: CeremonyFiles; transcript: Transcript }> {
  const files = ceremonyFiles(dir, circuit);
  const transcript = await readTranscript(files.transcript);
  if (transcript.circuit !== circuit) {
    throw new Error(`${files.transcript}: the ceremony is for circuit "${transcript.circuit}", not "${circuit}"`);
  }
  const problems = chainProblems(transcript);
  if (problems.length > 0) throw new Error(`${files.transcript}: ${problems.join("; ")}`);
  const latest = latestKey(files, transcript);
  if (!existsSync(latest)) throw new Error(`${latest}: missing (the key the transcript ends with)`);
  if ((await sha256Of(latest)) !== latestKeyHash(transcript)) {
    throw new Error(`${latest}: not the key the transcript ends with (replaced or damaged since it was written)`);
  }
  const problemsInKey = keyMatchProblems(transcript, await readKeyContributions(latest));
  if (problemsInKey.length > 0) throw new Error(`${latest}: ${problemsInKey.join("; ")}`);
  return { files, transcript };
}

/**
 * One participant's contribution (snarkjs zKey.contribute): the next key and a transcript entry. snarkjs prints
 * the contribution hash, which the participant publishes so that anyone can find it in the transcript.
 */
export async function contribute(input: {
  circuit: string;
  dir: string;
  participant: string;
  entropy: Entropy;
  echo?: (message: string) => void;
}): Promise<Contribution> {
  const { files, transcript } = await openCeremony(input.dir, input.circuit);
  if (transcript.beacon !== null) throw new Error(`${files.transcript}: the ceremony is sealed; no more contributions`);
  const name = participantName.safeParse(input.participant);
  if (!name.success) throw new Error(`--name: ${name.error.issues[0]?.message ?? "invalid"}`);
  if (input.entropy.kind !== "os" && input.entropy.text.length < 16) {
    throw new Error("--entropy: give at least 16 characters (or none: the OS random generator)");
  }
  const text = input.entropy.kind === "os" ? randomBytes(64).toString("hex") : input.entropy.text;
  const index = transcript.contributions.length + 1;
  const previous = latestKey(files, transcript);
  const next = files.zkey(index);
  const hash: unknown = await snarkjs.zKey.contribute(previous, next, input.participant, text, recorder(input.echo));
  if (!(hash instanceof Uint8Array)) throw new Error(`${input.circuit}: snarkjs did not contribute`);
  const entry: Contribution = {
    index,
    participant: input.participant,
    hash: toHex(hash),
    previousHash: transcript.contributions.at(-1)?.hash ?? null,
    inputZkey: latestKeyHash(transcript),
    zkey: await sha256Of(next),
    entropy: input.entropy.kind,
    time: now(),
  };
  transcript.contributions.push(entry);
  await writeTranscript(files.transcript, transcript);
  return entry;
}

/** Verifies a ceremony in progress (or sealed) in its folder: the whole chain, with snarkjs, against the transcript. */
export async function verifyCeremony(
  layout: ZkLayout,
  input: { circuit: string; dir: string; ptau: string },
): Promise<ChainVerification & { transcript: Transcript; zkey: string }> {
  const files = ceremonyFiles(input.dir, input.circuit);
  const transcript = await readTranscript(files.transcript);
  const zkey = latestKey(files, transcript);
  if (!existsSync(zkey)) throw new Error(`${zkey}: missing (the key the transcript ends with)`);
  const result = await verifyKeyChain(layout, {
    r1cs: files.r1cs,
    ptau: input.ptau,
    zkey,
    transcript,
    label: input.circuit,
  });
  return { ...result, transcript, zkey };
}

/** The beacon value as snarkjs takes it: hex without 0x, lower case. */
function beaconHex(value: string): string {
  return value.replace(/^0x/i, "").toLowerCase();
}

/**
 * Checks everything a seal needs before any work: the beacon's value, iterations and source, a valid ceremony
 * not yet sealed, at least MIN_CONTRIBUTIONS distinct participants.
 */
export async function readyToSeal(input: {
  circuit: string;
  dir: string;
  value: string;
  iterationsExp: number;
  source: string;
}): Promise<{ files: CeremonyFiles; transcript: Transcript }> {
  const valueCheck = beaconValue.safeParse(beaconHex(input.value));
  if (!valueCheck.success) throw new Error(`--beacon: ${valueCheck.error.issues[0]?.message ?? "invalid"}`);
  const { min, max } = BEACON_ITERATIONS;
  if (!Number.isInteger(input.iterationsExp) || input.iterationsExp < min || input.iterationsExp > max) {
    throw new Error(`--iterations: an exponent from ${min} to ${max} (snarkjs hashes the beacon 2^n times)`);
  }
  if (input.source.trim() === "") throw new Error("--beacon-source: say where the beacon value comes from");
  const { files, transcript } = await openCeremony(input.dir, input.circuit);
  if (transcript.beacon !== null) throw new Error(`${files.transcript}: the ceremony is already sealed`);
  const n = participants(transcript);
  if (n < MIN_CONTRIBUTIONS) {
    throw new Error(
      `${input.circuit}: ${n} contribution(s) from distinct participants; a seal needs >= ${MIN_CONTRIBUTIONS}`,
    );
  }
  return { files, transcript };
}

/**
 * Applies the public random beacon (snarkjs zKey.beacon) after at least MIN_CONTRIBUTIONS participants, then
 * verifies the whole chain. Returns the final key and transcript; installing them is the pipeline's part.
 */
export async function applyBeacon(
  layout: ZkLayout,
  input: { circuit: string; dir: string; ptau: string; value: string; iterationsExp: number; source: string },
): Promise<{ transcript: Transcript; zkey: string }> {
  const { files, transcript } = await readyToSeal(input);
  if ((await fileHashes(input.ptau)).blake2b !== transcript.ptau.blake2b) {
    throw new Error(`--ptau: ${input.ptau} is not the powers of tau of the ceremony (${transcript.ptau.file})`);
  }
  const value = beaconHex(input.value);
  const previous = latestKey(files, transcript);
  const log = recorder();
  const hash: unknown = await snarkjs.zKey.beacon(previous, files.final, "beacon", value, input.iterationsExp, log);
  if (!(hash instanceof Uint8Array)) throw new Error(`--beacon: snarkjs refused it (${log.errors.join("; ")})`);
  transcript.beacon = {
    value,
    iterationsExp: input.iterationsExp,
    source: input.source.trim(),
    hash: toHex(hash),
    previousHash: transcript.contributions.at(-1)?.hash ?? null,
    inputZkey: latestKeyHash(transcript),
    zkey: await sha256Of(files.final),
    time: now(),
  };
  await verifyKeyChain(layout, {
    r1cs: files.r1cs,
    ptau: input.ptau,
    zkey: files.final,
    transcript,
    label: input.circuit,
  });
  await writeTranscript(files.transcript, transcript);
  return { transcript, zkey: files.final };
}
