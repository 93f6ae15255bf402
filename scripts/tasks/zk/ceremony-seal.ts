import { required } from "../../lib/args.js";
import { ceremonyFiles, readTranscript } from "../../zk/ceremony.js";
import { findCircuit } from "../../zk/layout.js";
import { sealCircuitCeremony } from "../../zk/pipeline.js";
import { ceremonyPtau, guarded, layout, seconds, target, type Common } from "./ceremony-common.js";

/** Seals a ceremony with a public random beacon and installs its key, verifier and transcript. */
export default async function seal(
  args: Common & { ptau: string; beacon: string; beaconSource: string; iterations: string },
): Promise<void> {
  await guarded(async () => {
    const { circuit, dir } = target(args);
    const transcript = await readTranscript(ceremonyFiles(dir, circuit).transcript);
    if (!/^\d+$/.test(args.iterations)) throw new Error(`--iterations: "${args.iterations}" is not an integer`);
    const started = performance.now();
    const { entry, transcript: sealed } = await sealCircuitCeremony(layout, circuit, {
      dir,
      ptau: ceremonyPtau(args.ptau, transcript),
      beacon: required("beacon", args.beacon),
      source: required("beaconSource", args.beaconSource),
      iterationsExp: Number(args.iterations),
    });
    console.log(
      `${circuit}: sealed with the beacon of ${sealed.beacon?.source ?? ""} and verified (${seconds(started)}); ` +
        `final key, verification key, ${findCircuit(layout, circuit).contract}.sol and transcript.json installed, manifest updated.`,
    );
    console.log(`Commit ${Object.keys(entry.files).join(", ")} and circuits/build/manifest.json.`);
  });
}
