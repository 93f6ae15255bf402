import path from "node:path";

import { ceremonyFiles } from "../../zk/ceremony.js";
import { initCircuitCeremony } from "../../zk/pipeline.js";
import { guarded, layout, seconds, target, type Common } from "./ceremony-common.js";

/** Contribution 0 of a circuit's ceremony: compiles the circuit and makes the initial key over the powers of tau. */
export default async function init(args: Common & { ptau: string; devPtau: boolean }): Promise<void> {
  await guarded(async () => {
    const { circuit, dir } = target(args);
    const started = performance.now();
    const t = await initCircuitCeremony(layout, circuit, { dir, ptau: args.ptau, devPtau: args.devPtau });
    const files = ceremonyFiles(dir, circuit);
    console.log(
      `${circuit}: ceremony started in ${dir} (${seconds(started)}): contribution 0 is ${path.basename(files.zkey(0))}, ` +
        `${t.constraints} constraints, powers of tau ${t.ptau.known ?? t.ptau.file}` +
        `${t.ptau.development ? " (DEVELOPMENT: the keys will be development keys)" : ""}.`,
    );
    console.log("Next: each participant runs `npx hardhat zk ceremony contribute` on this folder, in turn.");
  });
}
