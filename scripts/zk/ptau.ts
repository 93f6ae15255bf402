/**
 * Powers-of-tau files: which ones the tooling accepts as public ceremony files, and how a file is recorded.
 *
 * A file counts as a ceremony file only if its BLAKE2b-512 hash (what `b2sum` prints, and what the Hermez/Polygon
 * ceremony publishes) is in the layout's table, circuits/ptau-known.json. Any other file is refused, unless the
 * caller says it is for development (`--dev-ptau`): then the keys made from it are recorded as development keys,
 * which `zk check` warns about and the deployment guard refuses on any network other than a local one.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

import { z } from "zod";

import type { ZkLayout } from "./layout.js";

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes * 2} hex digits`);

const KnownPtauTable = z.object({
  $comment: z.string().optional(),
  ptau: z.array(
    z.object({
      file: z.string().min(1),
      power: z.number().int().min(1).max(28),
      blake2b: hex(64),
      ceremony: z.string().min(1),
    }),
  ),
});
export type KnownPtau = z.infer<typeof KnownPtauTable>["ptau"][number];

/** How a powers-of-tau file is recorded in the manifest and in a ceremony transcript. */
export const PtauRecord = z.object({
  /** The file's name when it was used (its hashes are what counts). */
  file: z.string().min(1),
  sha256: hex(32),
  blake2b: hex(64),
  /** Made locally or accepted with --dev-ptau: whoever made it could forge proofs. */
  development: z.boolean(),
  /** The known table's name for it (a public ceremony file), if it is one. */
  known: z.string().optional(),
});
export type PtauRecord = z.infer<typeof PtauRecord>;

/** The layout's table of public ceremony files; a malformed table is an error naming the file and the field. */
export async function knownPtau(layout: ZkLayout): Promise<KnownPtau[]> {
  const file = layout.knownPtauFile;
  if (!existsSync(file)) return [];
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`${path.relative(layout.root, file)}: not JSON (${(error as Error).message})`);
  }
  const parsed = KnownPtauTable.safeParse(json);
  if (!parsed.success) throw new Error(`${path.relative(layout.root, file)}: ${describe(parsed.error)}`);
  return parsed.data.ptau;
}

/** SHA-256 and BLAKE2b-512 of a file, in one pass (ptau files reach gigabytes). */
export async function fileHashes(file: string): Promise<{ sha256: string; blake2b: string }> {
  const sha = createHash("sha256");
  const blake = createHash("blake2b512");
  for await (const chunk of createReadStream(file)) {
    sha.update(chunk as Buffer);
    blake.update(chunk as Buffer);
  }
  return { sha256: sha.digest("hex"), blake2b: blake.digest("hex") };
}

/**
 * Records `file` as the powers of tau of a build or a ceremony: a known public ceremony file, or, with
 * `development`, any file marked as development. Throws, naming the file and the table, for an unknown file
 * offered as a ceremony file.
 */
export async function resolvePtau(layout: ZkLayout, file: string, development: boolean): Promise<PtauRecord> {
  if (!existsSync(file)) throw new Error(`--ptau: ${file} does not exist`);
  const hashes = await fileHashes(file);
  const match = (await knownPtau(layout)).find((k) => k.blake2b === hashes.blake2b);
  if (match === undefined && !development) {
    throw new Error(
      `--ptau: ${file} is not a known public ceremony file: its blake2b (${hashes.blake2b.slice(0, 16)}...) is not in ` +
        `${path.relative(layout.root, layout.knownPtauFile)}. Add the file's published hash there (see circuits/README.md), ` +
        "or pass --dev-ptau to use it for development keys only.",
    );
  }
  return {
    file: path.basename(file),
    ...hashes,
    development,
    ...(match === undefined ? {} : { known: match.file }),
  };
}

/** Why a recorded powers of tau does not make production keys (empty: it is a known public ceremony file). */
export async function ptauConcerns(
  layout: ZkLayout,
  record: Pick<PtauRecord, "file" | "development"> & { blake2b?: string | undefined },
): Promise<string[]> {
  if (record.development) return [`made over a development powers of tau (${record.file})`];
  const known = await knownPtau(layout);
  if (record.blake2b === undefined || !known.some((k) => k.blake2b === record.blake2b)) {
    return [`powers of tau ${record.file} is not in ${path.relative(layout.root, layout.knownPtauFile)}`];
  }
  return [];
}

/** A zod error as "field.path: message; ...". */
export function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}
