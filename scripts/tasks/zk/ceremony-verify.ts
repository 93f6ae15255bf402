import { ceremonyFiles, readTranscript, verifyCeremony } from "../../zk/ceremony.js";
import { ceremonyPtau, guarded, layout, seconds, target, type Common } from "./ceremony-common.js";

/** Verifies a ceremony's whole contribution chain with snarkjs and checks it against the transcript. */
export default async function verify(args: Common & { ptau: string }): Promise<void> {
  await guarded(async () => {
    const { circuit, dir } = target(args);
    const transcript = await readTranscript(ceremonyFiles(dir, circuit).transcript);
    const started = performance.now();
    const result = await verifyCeremony(layout, { circuit, dir, ptau: ceremonyPtau(args.ptau, transcript) });
    console.log(
      `${circuit}: the contribution chain verifies (snarkjs, ${seconds(started)}) and matches the transcript: ` +
        `${result.transcript.contributions.length} contribution(s)` +
        `${result.sealed ? ` and a beacon (${result.transcript.beacon?.source ?? ""})` : ", not sealed yet"}.`,
    );
    for (const c of result.transcript.contributions) console.log(`  #${c.index} ${c.participant} ${c.time} ${c.hash}`);
  });
}
